package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/runlens/runlens/internal/agent/caps"
	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/testing/cluster"
)

// TestMain keeps the in-process agent from dropping this process's
// capabilities: the tests still tear clusters down after it.
func TestMain(m *testing.M) {
	dropCapabilities = false
	os.Exit(m.Run())
}

// TestAgentLeastPrivilege runs the built runlens binary's `agent --once`
// on a full local cluster three ways: as root with every capability
// (it drops to the kept set at start and says so), under capsh with only
// caps.Keep() (the same records and drift as root), and under capsh
// without CAP_SYS_PTRACE, then without CAP_DAC_READ_SEARCH (a non-zero
// exit naming the capability, no evidence written).
func TestAgentLeastPrivilege(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("runs the agent as root with fewer capabilities: run as root")
	}
	capsh := capshPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin := buildAgentBinary(ctx, t)
	c := cluster.Start(t, cluster.ModeFull, cluster.WithName("agentcaps"))
	sample, err := tarball.ImageFromPath(sampleImage, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.PushImage(ctx, t, cluster.WithApp(ctx, t, sample), "agent/app", "1")
	manifest := strings.ReplaceAll(agentManifest, "{{IMAGE}}", c.Registry+"/agent/app:1")
	if _, err := cluster.Apply(ctx, cluster.RESTConfig(t, c.Kubeconfig), []byte(manifest)); err != nil {
		t.Fatal(err)
	}
	agentWaitRunning(ctx, t, c, 3*time.Minute)

	// A binary written at runtime into a 0700 directory of another user
	// in web's root: drift must name it, and only CAP_DAC_READ_SEARCH
	// lets root without CAP_DAC_OVERRIDE look inside.
	pid := appPID(t, "-hold")
	private := fmt.Sprintf("/proc/%d/root/home-app", pid)
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	bin0, err := os.ReadFile(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(private+"/tool", bin0, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(private+"/tool", 1000, 1000); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(private, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	// What each required capability guards, on this node: a shell with
	// the kept set but one cannot do what the agent does.
	for _, probe := range []struct {
		drop  caps.Cap
		shell string
	}{
		{caps.CapSysPtrace, fmt.Sprintf("readlink /proc/%d/exe", pid)},
		{caps.CapSysPtrace, fmt.Sprintf("ls /proc/%d/root/", pid)},
		{caps.CapDacReadSearch, "ls " + private},
	} {
		shell := func(keep caps.Set) error {
			return exec.CommandContext(ctx, capsh, "--drop="+dropAllBut(keep), "--", "-c", probe.shell+" >/dev/null").Run()
		}
		if err := shell(caps.Keep()); err != nil {
			t.Errorf("%q with %s: %v", probe.shell, caps.Keep(), err)
		}
		if err := shell(caps.Keep() &^ caps.Of(probe.drop)); err == nil {
			t.Errorf("%q works without %s: it is not what needs it", probe.shell, probe.drop)
		}
	}

	dir := t.TempDir()
	agentArgs := func(out string) []string {
		return []string{"--db-dir", filepath.Join(dir, "db"), "--cache-dir", filepath.Join(dir, "cache"), "-v", "agent", "--once", "-o", out,
			"--cri-socket", c.ContainerdSocket, "--containerd-root", filepath.Join(c.Dir, "containerd", "root"), "--node", c.NodeName}
	}
	run := func(name string, keep caps.Set) (string, string, error) {
		out := filepath.Join(dir, name+".json")
		var cmd *exec.Cmd
		if keep == 0 {
			cmd = exec.CommandContext(ctx, bin, agentArgs(out)...)
		} else {
			args := append([]string{"--drop=" + dropAllBut(keep), "--", "-c", `exec "$@"`, "runlens", bin}, agentArgs(out)...)
			cmd = exec.CommandContext(ctx, capsh, args...)
		}
		t0 := time.Now()
		b, err := cmd.CombinedOutput()
		t.Logf("%s: %s in %s", name, keepName(keep), time.Since(t0).Round(time.Millisecond))
		return out, string(b), err
	}

	rootOut, log, err := run("root", 0)
	if err != nil {
		t.Fatalf("agent as root: %v\n%s", err, log)
	}
	if want := "effective=" + caps.Keep().String(); !strings.Contains(log, want) {
		t.Errorf("the agent did not say it dropped to %s:\n%s", want, log)
	}
	asRoot := agentReadEvidence(t, rootOut)
	if len(asRoot.Problems) > 0 || len(agentFacts(asRoot)) == 0 {
		t.Fatalf("as root: problems %q, %d records", asRoot.Problems, len(asRoot.Records))
	}
	if facts := strings.Join(agentFacts(asRoot), "\n"); !strings.Contains(facts, "added:/home-app/tool") {
		t.Errorf("as root, drift does not name /home-app/tool:\n%s", facts)
	}

	for _, keep := range []caps.Set{caps.Keep(), caps.Of(caps.CapSysPtrace, caps.CapDacReadSearch)} {
		out, log, err := run("capsh", keep)
		if err != nil {
			t.Fatalf("agent with %s: %v\n%s", keep, err, log)
		}
		ev := agentReadEvidence(t, out)
		if len(ev.Problems) > 0 {
			t.Errorf("with %s: problems %q", keep, ev.Problems)
		}
		if got, want := agentFacts(ev), agentFacts(asRoot); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("with %s the agent saw\n%s\nas root\n%s", keep, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}

	for _, drop := range []caps.Cap{caps.CapSysPtrace, caps.CapDacReadSearch} {
		out, log, err := run("without-"+drop.String(), caps.Keep()&^caps.Of(drop))
		if err == nil {
			t.Fatalf("without %s the agent succeeded:\n%s", drop, log)
		}
		if want := "missing capability " + strings.ToUpper(drop.String()) + ": needed to"; !strings.Contains(log, want) {
			t.Errorf("without %s: %q not in\n%s", drop, want, log)
		}
		if strings.Contains(log, "panic") {
			t.Errorf("without %s: a crash\n%s", drop, log)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("without %s: evidence written anyway", drop)
		}
		t.Logf("without %s: %s", drop, strings.TrimSpace(log))
	}

	// --listen traces: with the kept set the tracer attaches and the
	// window is complete; without CAP_BPF or CAP_PERFMON it does not,
	// and the agent says so and serves partial windows.
	listen := func(keep caps.Set) (*evidence.Document, string) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		args := append([]string{"--drop=" + dropAllBut(keep), "--", "-c", `exec "$@"`, "runlens", bin}, agentArgs("")...)
		args = slices.DeleteFunc(args, func(a string) bool { return a == "--once" || a == "-o" || a == "" })
		args = append(args, "--listen", addr, "--interval", "1s")
		cmd := exec.CommandContext(ctx, capsh, args...)
		var logBuf strings.Builder
		cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			time.Sleep(2 * time.Second) // a snapshot after the tracer's start
			resp, err := http.Get("http://" + addr + "/v1/evidence")
			if err != nil {
				continue
			}
			var d evidence.Document
			err = json.NewDecoder(resp.Body).Decode(&d)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK {
				return &d, logBuf.String()
			}
		}
		t.Fatalf("--listen with %s served nothing:\n%s", keep, logBuf.String())
		return nil, ""
	}
	d, log := listen(caps.Keep())
	if strings.Contains(log, "no tracer") || !d.Window.Complete || len(d.Records) == 0 {
		t.Errorf("--listen with %s: window %+v, %d records, log:\n%s", caps.Keep(), d.Window, len(d.Records), log)
	}
	for _, drop := range []caps.Cap{caps.CapBPF, caps.CapPerfmon} {
		d, log := listen(caps.Keep() &^ caps.Of(drop))
		if !strings.Contains(log, "no tracer") || d.Window.Complete {
			t.Errorf("--listen without %s: window %+v, log:\n%s", drop, d.Window, log)
		}
		t.Logf("--listen without %s: %s", drop, firstLine(log, "no tracer"))
	}
}

// firstLine is the first line of s holding sub.
func firstLine(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// appPID finds the e2e app process whose command line holds arg.
func appPID(t *testing.T, arg string) int {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err := os.ReadFile(d + "/cmdline")
		if err != nil || !strings.Contains(string(cmd), cluster.RiskAppPath) || !strings.Contains(string(cmd), arg) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(d))
		if err == nil {
			return pid
		}
	}
	t.Fatalf("no %s process with %s", cluster.RiskAppPath, arg)
	return 0
}

// agentFacts are what an evidence document says of the containers, as
// comparable lines: each record's pod, digest, package, state, pids,
// files and ports, and each container's drift.
func agentFacts(d *evidence.Document) []string {
	var out []string
	for _, r := range d.Records {
		out = append(out, fmt.Sprintf("%s/%s %s %s@%s %s pids=%v files=%v ports=%v", r.PodNamespace, r.PodName, r.Digest, r.Package.Name, r.Package.Version, r.State, r.PIDs, r.Files, r.Ports))
	}
	for _, c := range d.Containers {
		if c.Drift == nil {
			out = append(out, fmt.Sprintf("%s/%s drift not checked", c.PodNamespace, c.PodName))
			continue
		}
		var files []string
		for _, f := range c.Drift.Files {
			files = append(files, f.Change+":"+f.Path)
		}
		out = append(out, fmt.Sprintf("%s/%s drift packages=%v files=%v complete=%v", c.PodNamespace, c.PodName, c.Drift.Packages, files, c.Drift.Complete))
	}
	sort.Strings(out)
	return out
}

// capshPath finds capsh, installing libcap2-bin when it is missing.
func capshPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("capsh"); err == nil {
		return p
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("capsh missing and no apt-get to install libcap2-bin")
	}
	if out, err := exec.Command("apt-get", "install", "-y", "-q", "libcap2-bin").CombinedOutput(); err != nil {
		t.Skipf("capsh missing; installing libcap2-bin failed: %v\n%s", err, out)
	}
	p, err := exec.LookPath("capsh")
	if err != nil {
		t.Skip("capsh missing after installing libcap2-bin")
	}
	return p
}

// buildAgentBinary builds runlens as its image does (no cgo, so the
// agent can drop capabilities on every thread).
func buildAgentBinary(ctx context.Context, t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "runlens")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// dropAllBut lists every capability this kernel knows except keep, for
// capsh --drop.
func dropAllBut(keep caps.Set) string {
	last := 40
	if b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		fmt.Sscan(strings.TrimSpace(string(b)), &last)
	}
	var names []string
	for c := caps.Cap(0); int(c) <= last; c++ {
		if !keep.Has(c) {
			names = append(names, c.String())
		}
	}
	return strings.Join(names, ",")
}

func keepName(keep caps.Set) string {
	if keep == 0 {
		return "every capability"
	}
	return keep.String()
}
