package layerfs_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/layerfs"
)

// TestCorruptLayers covers broken layer streams: each yields a
// LayerError and an Issue, entries read before the damage stay, and the
// other layers are still applied.
func TestCorruptLayers(t *testing.T) {
	good := rawTar(t, reg("one"), reg("two"), reg("three"))
	gz := gzipBytes(t, good)
	corruptGz := append([]byte(nil), gz...)
	for i := len(corruptGz) / 3; i < len(corruptGz)/3+8; i++ {
		corruptGz[i] ^= 0xff
	}
	garbage := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}

	tests := []struct {
		name  string
		layer layerfs.Layer
		kept  []string // entries of the broken layer that must survive
	}{
		{name: "truncated in file data", layer: memLayer("bad", good[:512+512+10]), kept: []string{"one"}},
		{name: "truncated in padding", layer: memLayer("bad", good[:512+512+512+100]), kept: []string{"one", "two"}},
		{name: "cut between entries, no end marker", layer: memLayer("bad", good[:1024]), kept: []string{"one"}},
		{name: "truncated in header", layer: memLayer("bad", good[:1024+100]), kept: []string{"one"}},
		{name: "corrupt gzip", layer: gzLayer(t, "bad", corruptGz)},
		{name: "truncated gzip", layer: gzLayer(t, "bad", gz[:len(gz)/2])},
		{name: "random bytes", layer: memLayer("bad", garbage)},
		{name: "open fails", layer: layerfs.Layer{DiffID: "bad", Open: func(context.Context) (io.ReadCloser, error) {
			return nil, os.ErrPermission
		}}},
		{name: "no open func", layer: layerfs.Layer{DiffID: "bad"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys, err := flatten(t, layerfs.Options{}, tarLayer(t, "base", F("base", "b")), tc.layer, tarLayer(t, "top", F("top", "t")))
			var le *layerfs.LayerError
			if !errors.As(err, &le) || le.Index != 1 || le.DiffID != "bad" {
				t.Fatalf("err = %v; want LayerError for layer 1", err)
			}
			if errors.Is(err, layerfs.ErrLimit) {
				t.Errorf("corruption reported as a limit: %v", err)
			}
			if fsys == nil {
				t.Fatal("no partial view")
			}
			for _, p := range append([]string{"base", "top"}, tc.kept...) {
				if _, err := fsys.Stat(p); err != nil {
					t.Errorf("Stat(%s): %v", p, err)
				}
			}
			var issue bool
			for _, is := range fsys.Issues() {
				issue = issue || is.Layer == "bad"
			}
			if !issue {
				t.Errorf("issues %+v; want one for layer bad", fsys.Issues())
			}
		})
	}
}

// slowZeros yields zeros slowly and forever.
type slowZeros struct{}

func (slowZeros) Read(p []byte) (int, error) {
	time.Sleep(time.Millisecond)
	return zeros{}.Read(p[:min(len(p), 512)])
}

// TestEmptyStream: a zero-byte layer is an empty layer, not an error: alone
// it gives an empty root with no issue, and between two layers it adds and
// removes nothing, so both still apply with their attribution.
func TestEmptyStream(t *testing.T) {
	alone, err := flatten(t, layerfs.Options{}, memLayer("empty", nil))
	if err != nil {
		t.Fatal(err)
	}
	if d := dump(t, alone); len(d) != 0 || len(alone.Issues()) != 0 {
		t.Errorf("empty layer alone: view %v, issues %+v; want an empty root and no issue", d, alone.Issues())
	}
	between, err := flatten(t, layerfs.Options{},
		tarLayer(t, "base", F("a", "A")), memLayer("empty", nil), tarLayer(t, "top", F("b", "B")))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "file base A", "b": "file top B"}
	if diff := cmp.Diff(want, dump(t, between)); diff != "" {
		t.Errorf("view around an empty layer (-want +got):\n%s", diff)
	}
	if is := between.Issues(); len(is) != 0 {
		t.Errorf("issues %+v; want none", is)
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	layer := layerfs.Layer{DiffID: "slow", Open: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(slowZeros{}), nil
	}}
	start := time.Now()
	fsys, err := layerfs.Flatten(ctx, []layerfs.Layer{layer}, layerfs.Options{TempDir: t.TempDir()})
	if !errors.Is(err, context.DeadlineExceeded) || fsys != nil {
		t.Fatalf("Flatten = %v, %v; want nil, DeadlineExceeded", fsys, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancel took %v", d)
	}
}

func TestWantAndProgress(t *testing.T) {
	type call struct {
		Path string
		Size int64
		Mode fs.FileMode
	}
	var calls []call
	want := func(p string, fi fs.FileInfo) bool {
		calls = append(calls, call{p, fi.Size(), fi.Mode()})
		return strings.HasPrefix(p, "etc/")
	}
	var progress []int64
	l0 := tarLayer(t, "L0", F("etc/os-release", "ID=x"), F("bin/sh", strings.Repeat("s", 100)), L("etc/l", "os-release"))
	l1 := tarLayer(t, "L1", F("var/lib/dpkg/status", "Package: x"))
	fsys := mustFlatten(t, layerfs.Options{Want: want, Progress: func(i int, n int64) { progress = append(progress, n) }}, l0, l1)

	wantCalls := []call{
		{"etc/os-release", 4, 0o644},
		{"bin/sh", 100, 0o644},
		{"var/lib/dpkg/status", 10, 0o644},
		// The symlink, with its target's info, then the target under its
		// own name: wanted there too, so nothing to read again.
		{"etc/l", 4, 0o644},
		{"etc/os-release", 4, 0o644},
	}
	if diff := cmp.Diff(wantCalls, calls); diff != "" {
		t.Errorf("Want calls (-want +got):\n%s", diff)
	}
	if b, err := fs.ReadFile(fsys, "etc/l"); err != nil || string(b) != "ID=x" {
		t.Errorf("ReadFile(etc/l) = %q, %v", b, err)
	}
	for _, p := range []string{"bin/sh", "var/lib/dpkg/status"} {
		if _, err := fsys.Open(p); !errors.Is(err, layerfs.ErrNotKept) {
			t.Errorf("Open(%s) = %v; want ErrNotKept", p, err)
		}
	}
	if len(progress) == 0 || progress[len(progress)-1] < 3*1024 {
		t.Errorf("progress = %v; want a final total of both layers", progress)
	}
	for i := 1; i < len(progress); i++ {
		if progress[i] < progress[i-1] {
			t.Errorf("progress went backwards: %v", progress)
		}
	}
}

func TestCloseAndTempDir(t *testing.T) {
	dir := t.TempDir()
	fsys, err := layerfs.Flatten(context.Background(), []layerfs.Layer{tarLayer(t, "L", F("a", "a"))}, layerfs.Options{TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("spool visible in TempDir: %v", ents)
	}
	if err := fsys.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fsys.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := layerfs.Flatten(context.Background(), []layerfs.Layer{tarLayer(t, "L", F("a", "a"))}, layerfs.Options{TempDir: dir + "/missing"}); err == nil {
		t.Error("Flatten with a missing TempDir succeeded")
	}
}
