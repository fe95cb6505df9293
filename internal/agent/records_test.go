package agent

import (
	"testing"
	"time"

	"github.com/runlens/runlens/internal/agent/attribute"
	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/result"
)

// TestRecordsOfAPythonHTTPServer: python3 -m http.server 8080 in a
// Debian image — python executed, libssl loaded by the listening process,
// so "listening" on its port; curl in the image never used: no record.
func TestRecordsOfAPythonHTTPServer(t *testing.T) {
	ix := attribute.New([]inventory.Package{
		{Name: "python3.11-minimal", Version: "3.11.2-6", Type: "deb", Files: []string{"/usr/bin/python3.11"}},
		{Name: "libssl3", Version: "3.0.11-1~deb12u2", Type: "deb", Files: []string{"/usr/lib/x86_64-linux-gnu/libssl.so.3"}},
		{Name: "libc6", Version: "2.36-9", Type: "deb", Files: []string{"/lib/x86_64-linux-gnu/libc.so.6"}},
		{Name: "curl", Version: "7.88.1-10", Type: "deb", Files: []string{"/usr/bin/curl"}},
		{Name: "tzdata", Version: "2024a-0", Type: "deb", Files: []string{"/usr/share/zoneinfo/UTC"}},
	})
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s := &Seen{
		Container: evidence.Container{ID: "c1", PodUID: "uid-1", PodNamespace: "shop", PodName: "web-1", Digest: "sha256:abc",
			Window: result.Window{Start: at, End: at, Complete: true}},
		Processes: []Process{
			{PID: 42, Exe: "/usr/bin/python3.11", Ports: []string{"tcp/8080"},
				Mapped:   []string{"/usr/bin/python3.11", "/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libc.so.6"},
				BuildIDs: map[string]string{"/usr/lib/x86_64-linux-gnu/libssl.so.3": "6ff1b0a1c3bd0e6d9b5d4c3b0e1c8f0a27e53c1d"}},
			{PID: 43, Exe: "/bin/sh", Opened: []string{"/usr/share/zoneinfo/UTC"}},
		},
		At: at,
	}
	got := map[string]evidence.Record{}
	for _, r := range Records(s, ix) {
		got[r.Package.Name] = r
	}
	for name, want := range map[string]string{
		"python3.11-minimal": result.RuntimeExecuted,  // its exe, and mapped too: executed is the stronger
		"libssl3":            result.RuntimeListening, // mapped by the process on tcp/8080
		"libc6":              result.RuntimeListening,
		"tzdata":             result.RuntimeLoaded, // opened by a process that listens on nothing
	} {
		r, ok := got[name]
		if !ok || r.State != want {
			t.Errorf("%s: %+v, want state %s", name, r, want)
		}
	}
	if _, ok := got["curl"]; ok {
		t.Error("curl was never used but has a record")
	}
	ssl := got["libssl3"]
	if ssl.PodUID != "uid-1" || ssl.Digest != "sha256:abc" || len(ssl.PIDs) != 1 || ssl.PIDs[0] != 42 || len(ssl.Ports) != 1 || ssl.Ports[0] != "tcp/8080" ||
		ssl.Files[0] != "/usr/lib/x86_64-linux-gnu/libssl.so.3" || ssl.Package.Version != "3.0.11-1~deb12u2" {
		t.Errorf("libssl3 record %+v", ssl)
	}
	if id := ssl.BuildIDs["/usr/lib/x86_64-linux-gnu/libssl.so.3"]; id != "6ff1b0a1c3bd0e6d9b5d4c3b0e1c8f0a27e53c1d" || len(ssl.BuildIDs) != 1 {
		t.Errorf("libssl3 build IDs = %v, want the mapped file's", ssl.BuildIDs)
	}
	if got["tzdata"].BuildIDs != nil {
		t.Errorf("tzdata has build IDs %v; none were known", got["tzdata"].BuildIDs)
	}
	// The records and the container, read back by the ranking's index,
	// give the workload's runtime state.
	doc := &evidence.Document{SchemaVersion: evidence.SchemaVersion, Window: s.Container.Window, Containers: []evidence.Container{s.Container}, Records: Records(s, ix)}
	if len(doc.Records) != 4 {
		t.Errorf("%d records, want 4", len(doc.Records))
	}
}
