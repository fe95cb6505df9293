// Package cluster brings up runlens's real-Kubernetes test cluster
// (hack/cluster/cluster.sh) from Go tests and hands them its kubeconfigs, registry
// and runtime paths.
//
// Tests that call Start are skipped unless RUNLENS_E2E=1, so `go test ./...` stays
// fast; with RUNLENS_E2E=1 a bring-up failure fails the test loudly (with the
// components' log tails), it never skips. RUNLENS_CLUSTER_REUSE=1 reuses a cluster
// that is already up under the same name and leaves it running afterwards, for quick
// iterations; see hack/cluster/README.md.
package cluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// Mode selects which parts of Kubernetes run.
type Mode string

const (
	// ModeAPI runs etcd, kube-apiserver, kube-controller-manager and the registry:
	// seconds to start, no pods ever run.
	ModeAPI Mode = "api"
	// ModeFull adds kube-scheduler, containerd, runc, CNI and a kubelet: pods run.
	ModeFull Mode = "full"
)

// EnvE2E is the variable that enables cluster tests.
const EnvE2E = "RUNLENS_E2E"

// EnvReuse, when "1", reuses a running cluster of the same name and keeps it up.
const EnvReuse = "RUNLENS_CLUSTER_REUSE"

// Cluster describes one running test cluster. Its fields come from the cluster.env
// file the script writes.
type Cluster struct {
	// Name is the cluster's --name; Dir holds all its state.
	Name, Dir string
	// Mode is api or full.
	Mode Mode
	// Server is the apiserver URL (https://127.0.0.1:PORT).
	Server string
	// Kubeconfig authenticates as an admin (system:masters).
	Kubeconfig string
	// ScannerKubeconfig authenticates as the read-only "runlens-scanner" user,
	// bound to deploy/rbac/runlens-scanner.yaml's ClusterRole.
	ScannerKubeconfig string
	// Registry is the loopback registry's host:port ("localhost:PORT"), the host
	// containerd pulls from.
	Registry string
	// RegistryUser and RegistryPassword open repositories under PrivatePrefix.
	RegistryUser, RegistryPassword string
	// PrivatePrefix is the repository prefix ("private/") that needs basic auth.
	PrivatePrefix string
	// ContainerdSocket is containerd's gRPC socket (full mode).
	ContainerdSocket string
	// CgroupRoot is the kubelet's cgroup root name, e.g. "runlens-NAME" (full mode).
	CgroupRoot string
	// Bridge is the CNI bridge interface (full mode); PodCIDR its subnet.
	Bridge, PodCIDR string
	// NodeName is the kubelet's node name (full mode).
	NodeName string
	// BinDir holds the cached binaries: kubectl, crictl, etcd, kube-*.
	BinDir string
	// LogDir holds one log per component.
	LogDir string

	script string
	keep   bool
}

type options struct {
	name string
}

// Option adjusts Start.
type Option func(*options)

// WithName sets the cluster's name ([a-z0-9-], at most 20); the default is
// "e2e-<mode>". Clusters with different names run side by side.
func WithName(name string) Option { return func(o *options) { o.name = name } }

// Start brings up (or, with RUNLENS_CLUSTER_REUSE=1, reuses) a cluster and tears it
// down when the test ends, printing the component logs first if the test failed.
func Start(t testing.TB, mode Mode, opts ...Option) *Cluster {
	t.Helper()
	if os.Getenv(EnvE2E) != "1" {
		t.Skipf("real-cluster test: set %s=1 to run it (needs root; see hack/cluster/README.md)", EnvE2E)
	}
	o := options{name: "e2e-" + string(mode)}
	for _, opt := range opts {
		opt(&o)
	}
	script, err := scriptPath()
	if err != nil {
		t.Fatalf("cluster: %v", err)
	}
	c := &Cluster{Name: o.name, Mode: mode, script: script, keep: os.Getenv(EnvReuse) == "1"}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute) // includes a cold build
	defer cancel()
	if !c.keep {
		// A fresh cluster every time: a leftover one of the same name (an aborted
		// run) would carry stale objects into this test.
		if out, err := c.run(ctx, "down", "--name", o.name); err != nil {
			t.Fatalf("cluster %s: removing a previous cluster failed: %v\n%s", o.name, err, out)
		}
	}
	t0 := time.Now()
	out, err := c.run(ctx, "up", "--mode", string(mode), "--name", o.name)
	if err != nil {
		t.Fatalf("cluster %s: bring-up (%s mode) failed: %v\n%s", o.name, mode, err, out)
	}
	t.Logf("cluster %s (%s) up in %s", o.name, mode, time.Since(t0).Round(100*time.Millisecond))
	if err := c.load(); err != nil {
		t.Fatalf("cluster %s: %v\n%s", o.name, err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("cluster %s: component logs follow\n%s", c.Name, c.LogTails(60))
		}
		if c.keep {
			t.Logf("cluster %s kept running (%s=1)", c.Name, EnvReuse)
			return
		}
		if err := c.Down(context.Background()); err != nil {
			t.Errorf("cluster %s: down: %v", c.Name, err)
		}
	})
	return c
}

// Down tears the cluster down: every process it started, its mounts, network
// namespaces, bridge, cgroups and directory. It is safe to call twice.
func (c *Cluster) Down(ctx context.Context) error {
	out, err := c.run(ctx, "down", "--name", c.Name)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	return nil
}

// Status runs `cluster.sh status` and reports whether every component is up.
func (c *Cluster) Status(ctx context.Context) (string, error) {
	out, err := c.run(ctx, "status", "--name", c.Name)
	return string(out), err
}

func (c *Cluster) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "bash", append([]string{c.script}, args...)...)
	cmd.Dir = filepath.Dir(c.script)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	return buf.Bytes(), err
}

// load reads the cluster.env the script wrote.
func (c *Cluster) load() error {
	runRoot := os.Getenv("RUNLENS_CLUSTER_RUN")
	if runRoot == "" {
		runRoot = "/tmp/runlens-cluster"
	}
	env, err := ReadEnvFile(filepath.Join(runRoot, c.Name, "cluster.env"))
	if err != nil {
		return err
	}
	c.Dir = env["DIR"]
	c.Mode = Mode(env["MODE"])
	c.Server = env["SERVER"]
	c.Kubeconfig = env["KUBECONFIG"]
	c.ScannerKubeconfig = env["SCANNER_KUBECONFIG"]
	c.Registry = env["REGISTRY"]
	c.RegistryUser = env["REGISTRY_USER"]
	c.RegistryPassword = env["REGISTRY_PASS"]
	c.PrivatePrefix = env["REGISTRY_PRIVATE_PREFIX"]
	c.ContainerdSocket = env["CONTAINERD_SOCK"]
	c.CgroupRoot = env["CGROUP_ROOT_NAME"]
	c.Bridge = env["BRIDGE"]
	c.PodCIDR = env["POD_CIDR"]
	c.NodeName = env["NODE_NAME"]
	c.BinDir = env["BIN"]
	c.LogDir = env["LOGS"]
	for k, v := range map[string]string{"DIR": c.Dir, "KUBECONFIG": c.Kubeconfig, "REGISTRY": c.Registry, "BIN": c.BinDir} {
		if v == "" {
			return fmt.Errorf("cluster.env lacks %s", k)
		}
	}
	return nil
}

// ReadEnvFile parses the KEY=VALUE lines of a cluster.env file.
func ReadEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cluster env: %w", err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("cluster env %s: malformed line %q", path, line)
		}
		env[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cluster env %s: %w", path, err)
	}
	return env, nil
}

// LogTails returns the last n lines of every component log.
func (c *Cluster) LogTails(n int) string {
	files, _ := filepath.Glob(filepath.Join(c.LogDir, "*.log"))
	sort.Strings(files)
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(&b, "===== %s: %v\n", f, err)
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "===== %s (last %d lines)\n%s\n", f, len(lines), strings.Join(lines, "\n"))
	}
	return b.String()
}

// Crictl runs the cached crictl against the cluster's containerd.
func (c *Cluster) Crictl(ctx context.Context, args ...string) ([]byte, error) {
	if c.ContainerdSocket == "" {
		return nil, errors.New("crictl: no containerd in this cluster (api mode)")
	}
	full := append([]string{"--runtime-endpoint", "unix://" + c.ContainerdSocket, "--timeout", "30s"}, args...)
	cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir, "crictl"), full...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("crictl %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// scriptPath finds hack/cluster/cluster.sh above the working directory (go test
// runs in the package directory).
func scriptPath() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		p := filepath.Join(dir, "hack", "cluster", "cluster.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("hack/cluster/cluster.sh not found above the working directory")
		}
		dir = parent
	}
}
