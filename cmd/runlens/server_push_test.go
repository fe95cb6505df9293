package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/registry/registrytest"
	"github.com/runlens/runlens/internal/server"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

// pushServer is an in-process runlens server on loopback with an admin
// token and a write-cluster token for cluster "ci".
type pushServer struct {
	st          store.Store
	url         string
	admin, push string
}

func newPushServer(t *testing.T) *pushServer {
	t.Helper()
	st := storetest.SQLite(t).Store
	ts := httptest.NewServer(server.New(st, server.Options{}).Handler())
	t.Cleanup(ts.Close)
	p := &pushServer{st: st, url: ts.URL}
	var err error
	if _, p.admin, err = server.CreateToken(context.Background(), st, "admin", store.ScopeAdmin, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, p.push, err = server.CreateToken(context.Background(), st, "ci-push", store.ScopeWriteCluster, "ci", time.Now()); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *pushServer) get(t *testing.T, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", p.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+p.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// `runlens scan image … --push` sends the result to the server: its
// risks and inventory are visible through the API; the token is never
// printed.
func TestPushScanImageToServer(t *testing.T) {
	c := newCLI(t)
	srv := newPushServer(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(srv.push+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := registrytest.New(t, registrytest.Config{})
	digest := pushSample(t, reg, "shop/web:1.0")
	code, out, stderr := c.run("", "scan", "image", reg.Host+"/shop/web:1.0", "-f", "json", "--push", srv.url, "--push-token-file", tokenFile, "--push-cluster", "ci")
	if code != exitOK {
		t.Fatalf("scan --push: exit %d: %s", code, stderr)
	}
	if strings.Contains(out+stderr, srv.push) {
		t.Error("the token was printed")
	}
	var local struct {
		Images []struct {
			Target   struct{ Digest string } `json:"target"`
			Findings []json.RawMessage       `json:"findings"`
		} `json:"images"`
	}
	if err := json.Unmarshal([]byte(out), &local); err != nil || len(local.Images) != 1 {
		t.Fatalf("the local report: %v", err)
	}
	var page store.RiskPage
	srv.get(t, "/api/v1/risks?cluster=ci&suppressed=true&limit=1000", &page)
	if len(page.Risks) == 0 || len(page.Risks) != len(local.Images[0].Findings) {
		t.Errorf("the server holds %d risks of ci, the scan found %d findings", len(page.Risks), len(local.Images[0].Findings))
	}
	var img store.ImageDetail
	srv.get(t, "/api/v1/images/"+digest, &img)
	if img.Image == nil || len(img.Image.Packages) == 0 || img.Reference != reg.Host+"/shop/web:1.0" {
		t.Errorf("the pushed image's inventory is not stored: %+v", img.ImageInfo)
	}

	// RUNLENS_TOKEN works too; a wrong one fails the command with the
	// server's reason and without the token.
	t.Setenv("RUNLENS_TOKEN", srv.push)
	if code, _, stderr := c.run("", "scan", "image", "--archive", sampleImage, "--push", srv.url, "--push-cluster", "ci"); code != exitOK {
		t.Errorf("push with RUNLENS_TOKEN: exit %d: %s", code, stderr)
	}
	t.Setenv("RUNLENS_TOKEN", "rl_wrongwrongwrong")
	code, _, stderr = c.run("", "scan", "image", "--archive", sampleImage, "--push", srv.url, "--push-cluster", "ci")
	if code != exitError || !strings.Contains(stderr, "401") || strings.Contains(stderr, "rl_wrongwrongwrong") {
		t.Errorf("push with a wrong token: exit %d, stderr %q", code, stderr)
	}
	t.Setenv("RUNLENS_TOKEN", srv.push)
	code, _, stderr = c.run("", "scan", "image", "--archive", sampleImage, "--push", srv.url, "--push-cluster", "prod")
	if code != exitError || !strings.Contains(stderr, "403") {
		t.Errorf("push to another cluster: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = c.run("", "scan", "image", "--archive", sampleImage, "--push", srv.url)
	if code != exitError || !strings.Contains(stderr, "--push-cluster") {
		t.Errorf("image scan pushed without --push-cluster: exit %d, stderr %q", code, stderr)
	}
	fifo := filepath.Join(t.TempDir(), "token-fifo") // no writer: reading it would hang
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{
		{"--push", "ftp://x"},
		{"--push-cluster", "ci"},
		{"--push", srv.url, "--push-token-file", "/nonexistent/token"},
		{"--push", srv.url, "--push-cluster", "ci", "--push-token-file", fifo},
	} {
		args := append([]string{"scan", "image", "--archive", sampleImage}, bad...)
		if code, _, stderr := c.run("", args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", bad, code, exitUsage, stderr)
		}
	}
}

// syncBuf is a stderr the server goroutine writes while the test reads.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// `runlens server` on an empty store prints an admin token once; the
// token commands and backup work on the same data directory.
func TestServerCommand(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuf
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"server", "--listen", "127.0.0.1:0", "--data-dir", data, "--log-format", "json"}, strings.NewReader(""), &strings.Builder{}, &stderr)
	}()
	token := regexp.MustCompile(`rl_[A-Za-z0-9_-]{43}`)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "runlens server listening") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("the server did not start: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Fatalf("server: exit %d: %s", code, stderr.String())
	}
	secret := token.FindString(stderr.String())
	if secret == "" || strings.Count(stderr.String(), secret) != 1 {
		t.Fatalf("the initial admin token is not printed once: %s", stderr.String())
	}
	st, err := store.Open(context.Background(), "sqlite:"+filepath.Join(data, "runlens.db"))
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := st.Authenticate(context.Background(), server.HashSecret(secret)); err != nil || tok.Scope != store.ScopeAdmin {
		t.Errorf("the printed token: %+v %v", tok, err)
	}
	st.Close()

	c := &cli{t: t, dbDir: t.TempDir(), cacheDir: t.TempDir()}
	code, out, errs := c.run("", "server", "token", "create", "--data-dir", data, "--name", "ci-prod", "--scope", "write-cluster", "--cluster", "prod")
	if code != exitOK || !token.MatchString(strings.TrimSpace(out)) {
		t.Fatalf("token create: exit %d %q %s", code, out, errs)
	}
	code, out, _ = c.run("", "server", "token", "list", "--data-dir", data)
	if code != exitOK || !strings.Contains(out, "ci-prod") || !strings.Contains(out, "initial-admin") || token.MatchString(out) {
		t.Errorf("token list: exit %d\n%s", code, out)
	}
	if code, _, errs := c.run("", "server", "token", "revoke", "2", "--data-dir", data); code != exitOK {
		t.Errorf("token revoke: exit %d %s", code, errs)
	}
	if _, out, _ := c.run("", "server", "token", "list", "--data-dir", data); strings.Contains(out, "ci-prod") {
		t.Errorf("the revoked token is still listed:\n%s", out)
	}
	for _, bad := range [][]string{
		{"server", "token", "create", "--data-dir", data, "--name", "x", "--scope", "write-cluster"},
		{"server", "token", "create", "--data-dir", data, "--name", "x", "--scope", "root"},
		{"server", "token", "revoke", "abc", "--data-dir", data},
		{"server", "--insecure-no-auth", "--listen", "0.0.0.0:0", "--data-dir", data},
		{"server", "--retention", "forever", "--data-dir", data},
		{"server", "--database", "mysql://x", "--data-dir", data},
	} {
		if code, _, errs := c.run("", bad...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", bad, code, exitUsage, errs)
		}
	}
	backup := filepath.Join(t.TempDir(), "copy.db")
	if code, _, errs := c.run("", "server", "backup", backup, "--data-dir", data); code != exitOK {
		t.Fatalf("backup: exit %d %s", code, errs)
	}
	cp, err := store.Open(context.Background(), "sqlite:"+backup)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if list, err := cp.Tokens(context.Background()); err != nil || len(list) != 1 {
		t.Errorf("the backup's tokens: %d %v", len(list), err)
	}
}

func TestServerDSNRedacted(t *testing.T) {
	dsn := "postgres://runlens:s3cr3t-pw@db.invalid:5432/runlens?sslmode=disable"
	if r := redactDSN(dsn); strings.Contains(r, "s3cr3t-pw") {
		t.Errorf("redactDSN: %s", r)
	}
	if m := scrub("dial "+dsn+": failed for password s3cr3t-pw", dsn); strings.Contains(m, "s3cr3t-pw") {
		t.Errorf("scrub: %s", m)
	}
	c := &cli{t: t, dbDir: t.TempDir(), cacheDir: t.TempDir()}
	code, _, stderr := c.run("", "server", "token", "list", "--database", "postgres://runlens:s3cr3t-pw@127.0.0.1:1/runlens?connect_timeout=2")
	if code == exitOK || strings.Contains(stderr, "s3cr3t-pw") {
		t.Errorf("a store that cannot be reached: exit %d, stderr %q", code, stderr)
	}
}
