package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/registry/registrytest"
	"github.com/runlens/runlens/internal/result"
)

// readReport parses a JSON report file.
func readReport(t *testing.T, path string) result.Document {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no report written: %v", err)
	}
	var doc result.Document
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, b)
	}
	return doc
}

// statuses maps each result's tags (or reference) to "status: error".
func statuses(doc result.Document) map[string]string {
	out := map[string]string{}
	for _, r := range doc.Images {
		k := strings.Join(r.Tags, ",")
		if k == "" {
			k = r.Target.Reference
		}
		out[k] = r.Status + ": " + r.Error
	}
	return out
}

// endlessCatalogServer pages through new repository names forever; every
// repository has no tags.
func endlessCatalogServer(t *testing.T) (host string, pages *atomic.Int64) {
	pages = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
		case r.URL.Path == "/v2/_catalog":
			p := pages.Add(1)
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			if n <= 0 || n > 1000 {
				n = 1000
			}
			var b strings.Builder
			b.WriteString(`{"repositories":[`)
			last := ""
			for i := 0; i < n; i++ {
				last = fmt.Sprintf("org%06d/service-with-a-longish-name-%04d", p, i)
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strconv.Quote(last))
			}
			b.WriteString("]}")
			w.Header().Set("Link", fmt.Sprintf(`</v2/_catalog?n=%d&last=%s>; rel="next"`, n, last))
			w.Write([]byte(b.String()))
		case strings.HasSuffix(r.URL.Path, "/tags/list"):
			w.Write([]byte(`{"tags":[]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), pages
}

// A catalog that never ends costs bounded memory: the scan stops at the
// repository cap, reports the registry partial with the reason, and exits
// 2. (The cap is lowered to keep the test short; the default of 100,000 is
// covered in internal/registry and peaks at about 70 MiB here.)
func TestHostileRegistryEndlessCatalogBoundedMemory(t *testing.T) {
	if raceDetector {
		t.Skip("the race detector multiplies memory use; the plain run checks the bound")
	}
	host, pages := endlessCatalogServer(t)
	c := newCLI(t)
	out := filepath.Join(t.TempDir(), "out.json")
	const bound = 150 << 10 // KiB
	start := time.Now()
	p := startChild(t, c, "scan", "registry", host, "--insecure", "--max-repositories", "10000", "-f", "json", "-o", out)
	code, peak := p.wait(2*time.Minute, bound)
	t.Logf("endless catalog: %d pages read in %v, peak RSS %d MiB", pages.Load(), time.Since(start).Round(time.Millisecond), peak>>10)
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	if peak > bound {
		t.Errorf("peak RSS %d MiB, bound %d MiB", peak>>10, bound>>10)
	}
	doc := readReport(t, out)
	want := map[string]string{host: "partial: listing repositories stopped early; only what was listed before was scanned: catalog of " + host +
		" truncated at the cap of 10000 repositories (10000 kept; the rest were not read)"}
	if got := statuses(doc); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("results %v\nwant %v", got, want)
	}
	if doc.Summary.Partial != 1 || pages.Load() != 10 {
		t.Errorf("summary %+v after %d pages; want 1 partial after 10 pages", doc.Summary, pages.Load())
	}
}

// slowRegistry holds fast/a:1 and fast/b:1, which answer at once, and
// slow/c:1, whose manifest trickles a byte every 50ms for ever (never idle,
// never done). trickles gets a value each time a trickle begins.
func slowRegistry(t *testing.T) (reg *registrytest.Server, trickles chan struct{}) {
	reg = registrytest.New(t, registrytest.Config{})
	for _, repo := range []string{"fast/a", "fast/b", "slow/c"} {
		reg.Push(t, repo+":1", registrytest.Image(t, "linux/amd64", map[string]string{"etc/os-release": "ID=debian\nVERSION_ID=\"12\"\n", repo: repo}))
	}
	trickles = make(chan struct{}, 16)
	reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasPrefix(r.URL.Path, "/v2/slow/c/manifests/") || r.Method != http.MethodGet {
			return false
		}
		select {
		case trickles <- struct{}{}:
		default:
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		for {
			if _, err := w.Write([]byte(" ")); err != nil {
				return true
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return true
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	return reg, trickles
}

// waitTrickle waits for a trickle to begin.
func waitTrickle(t *testing.T, trickles chan struct{}) {
	t.Helper()
	select {
	case <-trickles:
	case <-time.After(30 * time.Second):
		t.Error("the slow repository was never asked for")
	}
}

// --timeout ends a scan held by a trickling repository with the report
// written: the two fast images scanned, the slow one failed with the reason.
func TestHostileRegistryDeadlineWritesReport(t *testing.T) {
	reg, _ := slowRegistry(t)
	c := newCLI(t)
	dir := t.TempDir()

	out := filepath.Join(dir, "registry.json")
	start := time.Now()
	code, _, stderr := c.run("", "scan", "registry", reg.Host, "--timeout", "2s", "-f", "json", "-o", out)
	took := time.Since(start)
	t.Logf("scan registry --timeout 2s: report written after %v", took.Round(time.Millisecond))
	if code != exitError || !strings.Contains(stderr, "scan interrupted: deadline exceeded") {
		t.Errorf("exit %d, stderr %s; want %d and the reason", code, stderr, exitError)
	}
	if took > 4*time.Second {
		t.Errorf("took %v with --timeout 2s", took)
	}
	doc := readReport(t, out)
	want := map[string]string{
		reg.Ref("fast/a:1"): "scanned: ",
		reg.Ref("fast/b:1"): "scanned: ",
		reg.Ref("slow/c:1"): "failed: resolving tag: scan interrupted: deadline exceeded (the scan's time limit of 2s ran out)",
	}
	if got := statuses(doc); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("results %v\nwant %v", got, want)
	}
	if s := doc.Summary; s.Scanned != 2 || s.Failed != 1 {
		t.Errorf("summary %+v, want 2 scanned and 1 failed", s)
	}

	out = filepath.Join(dir, "image.json")
	code, _, stderr = c.run("", "scan", "image", reg.Ref("slow/c:1"), "--timeout", "1s", "-f", "json", "-o", out)
	if code != exitError || !strings.Contains(stderr, "scan interrupted") {
		t.Errorf("scan image: exit %d, stderr %s", code, stderr)
	}
	want = map[string]string{reg.Ref("slow/c:1"): "failed: scan interrupted: deadline exceeded (the scan's time limit of 1s ran out)"}
	if got := statuses(readReport(t, out)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("scan image results %v\nwant %v", got, want)
	}
}

// SIGTERM ends a scan with the report written.
func TestHostileRegistrySignalWritesReport(t *testing.T) {
	reg, trickles := slowRegistry(t)
	c := newCLI(t)
	t.Run("scan registry", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out.json")
		p := startChild(t, c, "-v", "scan", "registry", reg.Host, "-f", "json", "-o", out)
		if !p.waitFor(`msg="image scanned"`, 2, 30*time.Second) {
			t.Error("the child did not log two scanned images")
		}
		waitTrickle(t, trickles)
		sent := time.Now()
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		code, _ := p.wait(30*time.Second, 0)
		t.Logf("scan registry: report written %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
		if code != exitError {
			t.Errorf("exit %d, want %d", code, exitError)
		}
		want := map[string]string{
			reg.Ref("fast/a:1"): "scanned: ",
			reg.Ref("fast/b:1"): "scanned: ",
			reg.Ref("slow/c:1"): "failed: resolving tag: scan interrupted by signal terminated",
		}
		if got := statuses(readReport(t, out)); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("results %v\nwant %v", got, want)
		}
	})
	t.Run("scan image", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out.json")
		for len(trickles) > 0 {
			<-trickles
		}
		p := startChild(t, c, "scan", "image", reg.Ref("slow/c:1"), "-f", "json", "-o", out)
		waitTrickle(t, trickles)
		_ = p.cmd.Process.Signal(syscall.SIGINT)
		if code, _ := p.wait(30*time.Second, 0); code != exitError {
			t.Errorf("exit %d, want %d", code, exitError)
		}
		want := map[string]string{reg.Ref("slow/c:1"): "failed: scan interrupted by signal interrupt"}
		if got := statuses(readReport(t, out)); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("results %v\nwant %v", got, want)
		}
	})
}

// A registry that stops sending fails that request after --idle-timeout,
// long before --timeout.
func TestHostileRegistryIdleTimeout(t *testing.T) {
	reg := registrytest.New(t, registrytest.Config{})
	reg.Push(t, "stall/app:1", registrytest.Image(t, "linux/amd64", map[string]string{"a": "b"}))
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/blobs/") {
			return false
		}
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-release
		return true
	})
	c := newCLI(t)
	start := time.Now()
	code, out, stderr := c.run("", "scan", "image", reg.Ref("stall/app:1"), "--idle-timeout", "300ms", "--timeout", "1m", "-f", "json")
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("a stalled registry held the scan for %v with --idle-timeout 300ms", took)
	}
	if code != exitError || !strings.Contains(out, "idle timeout") || !strings.Contains(out, "sent nothing for 300ms") {
		t.Errorf("exit %d; want %d and a failed result naming the idle timeout:\n%s\n%s", code, exitError, out, stderr)
	}
	if code, _, _ := c.run("", "scan", "image", reg.Ref("stall/app:1"), "--idle-timeout", "-1s"); code != exitUsage {
		t.Errorf("--idle-timeout -1s: exit %d, want %d", code, exitUsage)
	}
}

// A catalog that cannot be listed still gives a JSON document, with the
// failure in it.
func TestHostileRegistryCatalogFailureWritesJSON(t *testing.T) {
	reg := registrytest.New(t, registrytest.Config{Auth: registrytest.BasicAuth, Username: "scanner", Password: "pw"})
	c := newCLI(t)
	doc := c.json("", exitError, "scan", "registry", reg.Host)
	r := statuses(doc)[reg.Host]
	if len(doc.Images) != 1 || !strings.HasPrefix(r, "failed: listing repositories: ") || !strings.Contains(r, "UNAUTHORIZED") {
		t.Errorf("results %v; want one failed result for the registry", statuses(doc))
	}

	// So does a --running-in that cannot reach its clusters, with exit 2.
	open := registrytest.New(t, registrytest.Config{})
	open.Push(t, "app:1", registrytest.Image(t, "linux/amd64", map[string]string{"a": "b"}))
	kubeconfig := filepath.Join(t.TempDir(), "missing")
	doc = c.json("", exitError, "scan", "registry", open.Host, "--running-in", "prod", "--kubeconfig", kubeconfig)
	if got := statuses(doc); fmt.Sprint(got) != fmt.Sprint(map[string]string{open.Ref("app:1"): "scanned: "}) {
		t.Errorf("--running-in failing: results %v", got)
	}
}

// Credentials written into a reference or registry URL are used and never
// appear in the report, errors, logs or progress.
func TestHostileRegistryCredentialsRedacted(t *testing.T) {
	const token = "tok3n-Sup3r-S3cret-0042"
	reg := registrytest.New(t, registrytest.Config{Auth: registrytest.BasicAuth, Username: "scanner", Password: token, PaginateCatalog: true})
	reg.Push(t, "shop/web:1.0", registrytest.Image(t, "linux/amd64", map[string]string{"etc/os-release": "ID=debian\n"}))
	c := newCLI(t)
	for _, tc := range []struct {
		code int
		args []string
	}{
		{exitOK, []string{"scan", "image", "scanner:" + token + "@" + reg.Ref("shop/web:1.0"), "-f", "json"}},
		{exitOK, []string{"scan", "image", "scanner:" + token + "@" + reg.Ref("shop/web:1.0")}},
		{exitOK, []string{"scan", "registry", "http://scanner:" + token + "@" + reg.Host, "-f", "json"}},
		{exitOK, []string{"scan", "registry", "scanner:" + token + "@" + reg.Host + "/shop/web"}},
		{exitError, []string{"scan", "image", "scanner:x" + token + "@" + reg.Ref("shop/web:1.0"), "-f", "json"}},
		{exitError, []string{"scan", "registry", "scanner:x" + token + "@" + reg.Host, "-f", "json"}},
		{exitError, []string{"scan", "image", "scanner:" + token + "@" + reg.Host + "/shop/web:-bad", "-f", "json"}},
		{exitUsage, []string{"scan", "registry", "scanner:" + token + "@" + reg.Host + "/Bad Repo"}},
	} {
		args := append([]string{"-vv", "--no-progress"}, tc.args...)
		code, out, stderr := c.run("", args...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d\n%s%s", tc.args, code, tc.code, out, stderr)
		}
		if strings.Contains(out+stderr, token) {
			t.Errorf("%v: the token leaked:\n%s%s", tc.args, out, stderr)
		}
		if tc.code == exitOK && !strings.Contains(out, reg.Host+"/shop/web") {
			t.Errorf("%v: the report does not name the image:\n%s", tc.args, out)
		}
	}
}

// --allow-token-realm lets credentials go to a token service on another
// host; without it the refusal says how to allow it; metadata addresses
// are refused whatever the flag says.
func TestHostileRegistryAllowTokenRealm(t *testing.T) {
	reg := registrytest.New(t, registrytest.Config{Auth: registrytest.BearerAuth, Username: "scanner", Password: "pw-realm-123"})
	reg.Push(t, "app:1", registrytest.Image(t, "linux/amd64", map[string]string{"a": "b"}))
	tokens := httptest.NewServer(reg.TokenHandler())
	defer tokens.Close()
	realm := "localhost:" + tokens.URL[strings.LastIndex(tokens.URL, ":")+1:]
	reg.SetRealm("http://" + realm + "/token")
	c := newCLI(t)
	auth := []string{"--username", "scanner", "--password-stdin", "-f", "json"}

	code, out, _ := c.run("pw-realm-123\n", append([]string{"scan", "image", reg.Ref("app:1")}, auth...)...)
	if code != exitError || !strings.Contains(out, "allow it with --allow-token-realm "+realm) {
		t.Errorf("exit %d; want %d and advice naming the flag:\n%s", code, exitError, out)
	}
	doc := c.json("pw-realm-123\n", exitOK, append([]string{"scan", "image", reg.Ref("app:1"), "--allow-token-realm", realm}, auth...)...)
	if doc.Images[0].Status != result.StatusScanned {
		t.Errorf("with --allow-token-realm: %s %s", doc.Images[0].Status, doc.Images[0].Error)
	}
	doc = c.json("pw-realm-123\n", exitOK, append([]string{"scan", "registry", reg.Host + "/app", "--allow-token-realm", realm}, auth...)...)
	if doc.Images[0].Status != result.StatusScanned {
		t.Errorf("scan registry with --allow-token-realm: %s %s", doc.Images[0].Status, doc.Images[0].Error)
	}
	for _, bad := range []string{"169.254.169.254", "metadata.google.internal", "http://" + realm} {
		if code, _, stderr := c.run("", "scan", "image", reg.Ref("app:1"), "--allow-token-realm", bad); code != exitUsage {
			t.Errorf("--allow-token-realm %s: exit %d, want %d: %s", bad, code, exitUsage, stderr)
		}
	}
}
