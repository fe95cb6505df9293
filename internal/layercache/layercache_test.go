package layercache_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/layercache"
)

func put(t *testing.T, c *layercache.Cache, key, body string) {
	t.Helper()
	w, err := c.Put(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, body); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
}

// get returns the entry's contents, or "<miss>" / "<read error>".
func get(t *testing.T, c *layercache.Cache, key string) string {
	t.Helper()
	rc, ok := c.Get(context.Background(), key)
	if !ok {
		return "<miss>"
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return "<read error>"
	}
	return string(b)
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range des {
		out = append(out, filepath.Join(dir, d.Name()))
	}
	return out
}

func TestRoundTripAndAbort(t *testing.T) {
	dir := t.TempDir()
	c, err := layercache.Open(dir, layercache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("replay bytes ", 10000)
	put(t, c, "sha256:aa|v1", body)
	put(t, c, "sha256:aa|v2", "other")
	w, err := c.Put(context.Background(), "sha256:bb|v1")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "half")
	w.Abort()
	w2, _ := c.Put(context.Background(), "sha256:cc|v1")
	io.WriteString(w2, "never committed")
	got := map[string]string{}
	for _, k := range []string{"sha256:aa|v1", "sha256:aa|v2", "sha256:bb|v1", "sha256:cc|v1"} {
		got[k] = get(t, c, k)
	}
	want := map[string]string{"sha256:aa|v1": body, "sha256:aa|v2": "other", "sha256:bb|v1": "<miss>", "sha256:cc|v1": "<miss>"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	w2.Abort()
	if n := len(entries(t, dir)); n != 2 {
		t.Errorf("%d files left, want 2 (aborted writes leave nothing)", n)
	}
}

func TestDamagedEntriesAreMisses(t *testing.T) {
	body := strings.Repeat("0123456789", 5000)
	tests := []struct {
		name   string
		damage func(t *testing.T, dir, file string)
		opts   layercache.Options
		want   string
	}{
		{"flipped byte", func(t *testing.T, _, f string) {
			b, _ := os.ReadFile(f)
			b[len(b)/2] ^= 1
			os.WriteFile(f, b, 0o644)
		}, layercache.Options{}, "<miss>"},
		{"truncated", func(t *testing.T, _, f string) {
			b, _ := os.ReadFile(f)
			os.WriteFile(f, b[:len(b)-7], 0o644)
		}, layercache.Options{}, "<miss>"},
		{"empty", func(t *testing.T, _, f string) { os.WriteFile(f, nil, 0o644) }, layercache.Options{}, "<miss>"},
		{"another key's file", func(t *testing.T, dir, f string) {
			c, _ := layercache.Open(dir, layercache.Options{})
			put(t, c, "k2", "k2 body")
			for _, g := range entries(t, dir) {
				if g != f {
					os.Rename(g, f)
				}
			}
		}, layercache.Options{}, "<miss>"},
		{"a directory", func(t *testing.T, _, f string) { os.Remove(f); os.Mkdir(f, 0o755) }, layercache.Options{}, "<miss>"},
		{"file over MaxFileBytes", func(*testing.T, string, string) {}, layercache.Options{MaxFileBytes: 60}, "<miss>"},
		{"replay over MaxReplayBytes", func(*testing.T, string, string) {}, layercache.Options{MaxReplayBytes: 1000}, "<read error>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c, _ := layercache.Open(dir, layercache.Options{})
			put(t, c, "k", body)
			if got := get(t, c, "k"); got != body {
				t.Fatalf("intact entry read back %d bytes", len(got))
			}
			tt.damage(t, dir, entries(t, dir)[0])
			c2, _ := layercache.Open(dir, tt.opts)
			if got := get(t, c2, "k"); got != tt.want {
				t.Errorf("Get = %.40q, want %s", got, tt.want)
			}
		})
	}
}

func TestWriteCapped(t *testing.T) {
	c, _ := layercache.Open(t.TempDir(), layercache.Options{MaxReplayBytes: 10})
	w, err := c.Put(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bytes.Repeat([]byte("x"), 11)); err == nil {
		t.Error("write past MaxReplayBytes succeeded")
	}
	w.Abort()
	if got := get(t, c, "k"); got != "<miss>" {
		t.Errorf("Get = %q", got)
	}
}

// TestConcurrentWritersAndReaders: scans running in parallel share one
// cache; a reader sees a whole entry or none, never a mix.
func TestConcurrentWritersAndReaders(t *testing.T) {
	c, _ := layercache.Open(t.TempDir(), layercache.Options{})
	bodies := []string{strings.Repeat("a", 300000), strings.Repeat("b", 200000)}
	done := make(chan string, 64)
	for i := 0; i < 8; i++ {
		go func() {
			w, err := c.Put(context.Background(), "k")
			if err != nil {
				done <- err.Error()
				return
			}
			io.WriteString(w, bodies[i%2])
			if err := w.Commit(); err != nil {
				done <- err.Error()
				return
			}
			done <- ""
		}()
		go func() {
			rc, ok := c.Get(context.Background(), "k")
			if !ok {
				done <- ""
				return
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil || (string(b) != bodies[0] && string(b) != bodies[1]) {
				done <- "reader saw a partial or mixed entry"
				return
			}
			done <- ""
		}()
	}
	for i := 0; i < 16; i++ {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}
