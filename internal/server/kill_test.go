package server

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/store/storetest"
)

// killChildEnv names the store the child server of
// TestServerPushSurvivesSIGKILL serves.
const killChildEnv = "RUNLENS_TEST_KILL_CHILD_DSN"

// TestServerKillChild is the child process: a server on the store the
// parent names, on a loopback port it prints, until it is killed.
func TestServerKillChild(t *testing.T) {
	dsn := os.Getenv(killChildEnv)
	if dsn == "" {
		t.Skip("the child of TestServerPushSurvivesSIGKILL")
	}
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("LISTEN " + ln.Addr().String() + "\n")
	log := slog.New(slog.NewTextHandler(os.Stdout, nil))
	New(st, Options{NoAuth: true, Log: log}).Run(context.Background(), ln)
}

// startChild runs the child server on dsn and returns it with its URL
// and a channel closed when it logs that it is ingesting.
func startChild(t *testing.T, dsn string) (*exec.Cmd, string, chan struct{}) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServerKillChild$", "-test.v")
	cmd.Env = append(os.Environ(), killChildEnv+"="+dsn)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "LISTEN "); ok {
			ingesting := make(chan struct{})
			go func() {
				for sc.Scan() {
					if strings.Contains(sc.Text(), "push: ingesting") {
						close(ingesting)
						break
					}
				}
				io.Copy(io.Discard, out)
			}()
			return cmd, "http://" + addr, ingesting
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatal("the child server never listened")
	return nil, "", nil
}

// TestServerPushSurvivesSIGKILL kills the server with SIGKILL while a
// big result is being pushed (during the upload, and at several moments
// after it, during the ingest) and opens the store again each time: it
// opens, and the result is either wholly there or absent.
func TestServerPushSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "runlens.db")
	doc := storetest.Document("big", 3000, storetest.DocOptions{Images: 600, FindingsPerImage: 6})
	body := gzipJSON(t, doc)
	want := len(doc.Risks)
	// The second result replaces the first: fewer workloads, other findings.
	doc2 := storetest.Document("big", 2000, storetest.DocOptions{Images: 500, FindingsPerImage: 6, Variant: 1})
	body2, want2 := gzipJSON(t, doc2), len(doc2.Risks)
	t.Logf("pushing %d risks, %d bytes gzip, then %d risks", want, len(body), want2)
	for _, tc := range []struct {
		name   string
		after  int           // bytes of the body sent before the kill (0: all)
		ingest bool          // wait until the server says it is ingesting
		wait   time.Duration // then wait this long
		second bool          // push the second result over the first
	}{
		{"mid-upload", len(body) / 2, false, 0, false},
		{"body sent", 0, false, 0, false},
		{"ingesting", 0, true, 0, false},
		{"ingesting+100ms", 0, true, 100 * time.Millisecond, false},
		{"ingesting+300ms", 0, true, 300 * time.Millisecond, false},
		{"ingesting+700ms", 0, true, 700 * time.Millisecond, false},
		{"answered", 0, true, -1, false},
		{"replacing, ingesting+200ms", 0, true, 200 * time.Millisecond, true},
		{"replacing, answered", 0, true, -1, true},
	} {
		body, want := body, want
		if tc.second {
			body = body2
		}
		cmd, url, ingesting := startChild(t, dsn)
		pr, pw := io.Pipe()
		answered := make(chan int, 1)
		go func() {
			req, _ := http.NewRequest("POST", url+"/api/v1/clusters/big/results", pr)
			req.Header.Set("Content-Encoding", "gzip")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				answered <- 0
				return
			}
			resp.Body.Close()
			answered <- resp.StatusCode
		}()
		n := tc.after
		if n == 0 {
			n = len(body)
		}
		pw.Write(body[:n])
		if tc.after == 0 {
			pw.Close()
		}
		code := -1
		if tc.ingest {
			select {
			case <-ingesting:
			case <-time.After(60 * time.Second):
				t.Fatalf("%s: the server never began ingesting", tc.name)
			}
		}
		if tc.wait < 0 {
			code = <-answered
		} else {
			time.Sleep(tc.wait)
		}
		cmd.Process.Kill() // SIGKILL
		cmd.Wait()
		pw.CloseWithError(io.ErrClosedPipe)
		if code < 0 {
			code = <-answered
		}

		st, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatalf("%s: the store does not open after SIGKILL: %v", tc.name, err)
		}
		clusters, err := st.Clusters(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := 0
		if len(clusters) > 0 {
			got = countRisks(t, st, "big")
		}
		t.Logf("%s: answer %d, %d clusters, %d risks", tc.name, code, len(clusters), got)
		switch {
		case code == http.StatusOK && got != map[bool]int{false: want, true: want2}[tc.second]:
			t.Errorf("%s: the push was answered 200 but the store holds %d risks", tc.name, got)
		case tc.second && got != want && got != want2:
			t.Errorf("%s: after SIGKILL the cluster holds %d risks, want the first result's %d or the second's %d", tc.name, got, want, want2)
		case !tc.second && len(clusters) > 0 && got != want:
			t.Errorf("%s: after SIGKILL the cluster holds %d risks, want all %d or none", tc.name, got, want)
		}
		st.Close()
	}
}

// countRisks counts every current risk of a cluster.
func countRisks(t *testing.T, st store.Store, c string) int {
	t.Helper()
	n, cursor := 0, ""
	for {
		p, err := st.Risks(context.Background(), store.RiskQuery{Cluster: c, Suppressed: true, Cursor: cursor, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		n += len(p.Risks)
		if p.Next == "" {
			return n
		}
		cursor = p.Next
	}
}
