package evidence

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/workload"
)

const digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

var (
	t0      = time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	full    = result.Window{Start: t0, End: t0.Add(48 * time.Hour), Complete: true}
	partial = result.Window{Start: t0, End: t0.Add(48 * time.Hour), Complete: false, Drops: 7}
	libssl  = match.PackageRef{Name: "libssl3", Version: "3.0.11-1~deb12u2"}
	curl    = match.PackageRef{Name: "curl", Version: "7.88.1-10+deb12u5"}
)

func agentDoc(containers []Container, records ...Record) *Document {
	return &Document{SchemaVersion: SchemaVersion, Node: "node-1", CreatedAt: t0.Add(48 * time.Hour), Window: full, Containers: containers, Records: records}
}

func container(pod string, w result.Window) Container {
	return Container{ID: "c-" + pod, PodUID: pod, PodNamespace: "shop", PodName: "web-" + pod, Digest: digest, Window: w}
}

func web(pods ...string) *result.Workload {
	return &result.Workload{Workload: workload.Workload{Cluster: "prod", Namespace: "shop", Kind: "Deployment", Name: "web", Pods: len(pods), PodUIDs: pods}}
}

func TestRuntimeJoinsPodsOfAWorkload(t *testing.T) {
	loaded := Record{Digest: digest, Package: Package{Name: "libssl3", Version: "3.0.11-1~deb12u2"}, PodUID: "p1", PodNamespace: "shop", PodName: "web-p1",
		State: result.RuntimeLoaded, PIDs: []int{42}, Files: []string{"/usr/lib/x86_64-linux-gnu/libssl.so.3"}, LastSeen: t0.Add(time.Hour), Window: full}
	executed := loaded
	executed.PodUID, executed.State, executed.Files = "p2", result.RuntimeExecuted, []string{"/usr/bin/openssl"}
	ix := NewIndex([]*Document{agentDoc([]Container{container("p1", full), container("p2", full)}, loaded, executed)})

	rt := ix.Runtime(web("p1", "p2"), digest, libssl)
	if rt.State != result.RuntimeExecuted || len(rt.Evidence) != 2 || !strings.Contains(strings.Join(rt.Evidence, "|"), "loaded by pid 42 (/usr/lib/x86_64-linux-gnu/libssl.so.3) in shop/web-p1") {
		t.Errorf("in use: %+v", rt)
	}
	if rt := ix.Runtime(web("p1", "p2"), digest, curl); rt.State != result.RuntimeNotObserved || rt.Window == nil || !rt.Window.Complete || !rt.Window.Proves(0) {
		t.Errorf("watched in every pod, never used: %+v", rt)
	}
	// One pod of three unwatched: not observed, but the window is not
	// complete, so it proves nothing.
	if rt := ix.Runtime(web("p1", "p2", "p3"), digest, curl); rt.State != result.RuntimeNotObserved || rt.Window.Complete || rt.Evidence[0] != "2 of 3 pods watched" {
		t.Errorf("partly watched: %+v", rt)
	}
	if rt := ix.Runtime(web("p9"), digest, curl); rt.State != result.RuntimeUnknown {
		t.Errorf("never watched: %+v", rt)
	}
	// Dropped events make the window partial and are counted.
	ix = NewIndex([]*Document{agentDoc([]Container{container("p1", partial)})})
	if rt := ix.Runtime(web("p1"), digest, curl); rt.Window.Complete || rt.Window.Drops != 7 {
		t.Errorf("drops: %+v", rt.Window)
	}
	// An agent that was down for part of the time makes every window
	// partial.
	down := agentDoc([]Container{container("p1", full)})
	down.Window.Complete = false
	if rt := NewIndex([]*Document{down}).Runtime(web("p1"), digest, curl); rt.Window.Complete {
		t.Errorf("agent gap: %+v", rt.Window)
	}
}

func TestLoadFilesAndAgentURLs(t *testing.T) {
	good := `{"schema_version":"1.0","node":"n1","window":{"start":"2026-11-29T00:00:00Z","end":"2026-12-01T00:00:00Z","complete":true},"containers":[],"records":[]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/evidence":
			w.Write([]byte(good))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "n2.json")
	os.WriteFile(file, []byte(strings.Replace(good, "n1", "n2", 1)), 0o644)
	docs, err := Load(context.Background(), srv.Client(), []string{srv.URL + "/v1/evidence", file})
	if err != nil || len(docs) != 2 || docs[0].Node != "n1" || docs[1].Node != "n2" {
		t.Fatalf("Load: %v %+v", err, docs)
	}
	for name, src := range map[string]string{
		"404":       srv.URL + "/nope",
		"missing":   filepath.Join(dir, "missing.json"),
		"not JSON":  writeTemp(t, dir, "x.json", "hello"),
		"no schema": writeTemp(t, dir, "y.json", `{"node":"n"}`),
		"newer":     writeTemp(t, dir, "z.json", `{"schema_version":"2.0"}`),
	} {
		if _, err := Load(context.Background(), srv.Client(), []string{src}); err == nil || !strings.Contains(err.Error(), src) {
			t.Errorf("%s: error %v, want one naming %s", name, err, src)
		}
	}
}

func writeTemp(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadErrorsHideURLPasswords(t *testing.T) {
	_, err := Load(context.Background(), http.DefaultClient, []string{"http://agent:s3cret@127.0.0.1:1/v1/evidence"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v shows the password", err)
	}
}
