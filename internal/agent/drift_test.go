package agent

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/runlens/runlens/internal/agent/contentstore"
	"github.com/runlens/runlens/internal/agent/mountinfo"
	"github.com/runlens/runlens/internal/cache"
	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
)

// driftFile is one file of the test image and of the live root.
type driftFile struct {
	name, text string
	mode       int64
}

var driftMTime = time.Date(2026, 11, 2, 3, 4, 5, 0, time.UTC)

// driftImageFiles is the image: Debian with one dpkg package and its
// library, and an app binary.
var driftImageFiles = []driftFile{
	{"etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n", 0o644},
	{"var/lib/dpkg/status", "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u2\nSource: openssl\n\n", 0o644},
	{"var/lib/dpkg/info/libssl3:amd64.list", "/.\n/usr\n/usr/lib/x86_64-linux-gnu/libssl.so.3\n", 0o644},
	{"usr/lib/x86_64-linux-gnu/libssl.so.3", "\x7fELF-libssl", 0o644},
	{"app/server", "\x7fELF-server", 0o755},
	{"app/config.yaml", "port: 8080\n", 0o644},
}

// driftStore writes the image into a containerd content store and
// returns the store and the manifest digest.
func driftStore(t *testing.T) (*contentstore.Store, string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, f := range driftImageFiles {
		for d := filepath.Dir(f.name); d != "." && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	for d := range dirs {
		must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: driftMTime}))
	}
	for _, f := range driftImageFiles {
		must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.text)), ModTime: driftMTime}))
		_, err := tw.Write([]byte(f.text))
		must(t, err)
	}
	must(t, tw.Close())
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	must(t, err)
	img, err := mutate.AppendLayers(empty.Image, layer)
	must(t, err)
	root := t.TempDir()
	blobs := filepath.Join(root, contentstore.ContentDir, "blobs", "sha256")
	must(t, os.MkdirAll(blobs, 0o755))
	put := func(h v1.Hash, b []byte) { must(t, os.WriteFile(filepath.Join(blobs, h.Hex), b, 0o644)) }
	raw, err := img.RawManifest()
	must(t, err)
	d, err := img.Digest()
	must(t, err)
	put(d, raw)
	cfg, err := img.RawConfigFile()
	must(t, err)
	cd, err := img.ConfigName()
	must(t, err)
	put(cd, cfg)
	ld, err := layer.Digest()
	must(t, err)
	rc, err := layer.Compressed()
	must(t, err)
	b, err := io.ReadAll(rc)
	must(t, err)
	put(ld, b)
	s, err := contentstore.Open(root)
	must(t, err)
	t.Cleanup(func() { s.Close() })
	return s, d.String()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// driftLiveRoot writes pid 42's root as containerd would have unpacked
// the image (same modes and times), then changes it the way a running
// container is changed: apt-get installs curl (dpkg status, its list,
// its binary), a binary is dropped into /tmp and run, the config is
// rewritten; a file on a volume and the container's /proc are mounts.
func driftLiveRoot(t *testing.T) string {
	t.Helper()
	proc := t.TempDir()
	root := filepath.Join(proc, "42", "root")
	write := func(name, text string, mode os.FileMode, at time.Time) {
		p := filepath.Join(root, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(text), mode))
		must(t, os.Chmod(p, mode))
		must(t, os.Chtimes(p, at, at))
	}
	for _, f := range driftImageFiles {
		write(f.name, f.text, os.FileMode(f.mode), driftMTime)
	}
	now := time.Now()
	write("var/lib/dpkg/status", driftImageFiles[1].text+"Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u5\n\n", 0o644, now)
	write("var/lib/dpkg/info/curl.list", "/.\n/usr\n/usr/bin/curl\n", 0o644, now)
	write("usr/bin/curl", "\x7fELF-curl", 0o755, now)
	write("tmp/dropped", "\x7fELF-dropped", 0o644, now)          // not even executable by mode: its magic says
	write("app/config.yaml", "port: 19090\n", 0o644, driftMTime) // another size, the old time
	write("data/cache.bin", "volume data", 0o644, now)
	write("proc/fake/site-packages/evil-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n", 0o644, now)
	mountinfo := strings.Join([]string{
		`1 0 0:50 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w`,
		`2 1 0:51 / /proc rw,nosuid - proc proc rw`,
		`3 1 0:52 / /data rw - tmpfs tmpfs rw`,
		`4 1 0:53 /etc/hosts /etc/host\040s rw - ext4 /dev/vda rw`,
	}, "\n") + "\n"
	must(t, os.WriteFile(filepath.Join(proc, "42", "mountinfo"), []byte(mountinfo), 0o644))
	return proc
}

// TestDriftFindsWhatTheRunningContainerAdded: the image is read from a
// content store, the live root through a fake /proc/42/root holding the
// same files plus an apt-installed package and a dropped binary; the
// snapshot's container names curl (a package the image has not), the
// dropped binary first (its process runs it), curl's binary with its
// owner, the rewritten config as modified, nothing of the image's own
// files, nothing on a volume and nothing from the container's /proc.
func TestDriftFindsWhatTheRunningContainerAdded(t *testing.T) {
	store, digest := driftStore(t)
	proc := driftLiveRoot(t)
	d := &Drifter{Store: store, ProcRoot: proc, Scanner: &scan.Scanner{}}
	src := Sources{
		Node: "n",
		Containers: func(context.Context) ([]evidence.Container, error) {
			return []evidence.Container{{ID: "c1", PodUID: "p1", Digest: digest, PIDs: []int{42}}}, nil
		},
		Processes: func(context.Context) (map[string][]Process, error) {
			return map[string][]Process{"c1": {
				{PID: 42, Exe: "/app/server", Mapped: []string{"/usr/lib/x86_64-linux-gnu/libssl.so.3"}},
				{PID: 43, Exe: "/tmp/dropped"},
				{PID: 44, Exe: "/data/run/gone"},
			}}, nil
		},
		Inventory: d.Inventory,
		Drift:     d.Drift,
	}
	doc, err := Snapshot(context.Background(), src)
	must(t, err)
	if len(doc.Problems) > 0 || len(doc.Containers) != 1 {
		t.Fatalf("problems %q, containers %+v", doc.Problems, doc.Containers)
	}
	dr := doc.Containers[0].Drift
	if dr == nil {
		t.Fatal("no drift")
	}
	if !dr.Complete || dr.Reason != "" {
		t.Errorf("complete %v: %s", dr.Complete, dr.Reason)
	}
	if len(dr.Packages) != 1 || dr.Packages[0].Name != "curl" || dr.Packages[0].Version != "7.88.1-10+deb12u5" || dr.Packages[0].Type != "deb" {
		t.Errorf("packages %+v, want curl 7.88.1-10+deb12u5 (deb) only: not libssl3, not evil from /proc", dr.Packages)
	}
	got := map[string]evidence.DriftFile{}
	var order []string
	for _, f := range dr.Files {
		got[f.Path] = f
		order = append(order, f.Path)
	}
	want := []string{"/data/run/gone", "/tmp/dropped", "/usr/bin/curl", "/app/config.yaml", "/var/lib/dpkg/info/curl.list", "/var/lib/dpkg/status"}
	if strings.Join(order, " ") != strings.Join(want, " ") || dr.FilesChanged != len(want) {
		t.Fatalf("files %q (%d changed), want %q", order, dr.FilesChanged, want)
	}
	if f := got["/tmp/dropped"]; f.Change != evidence.DriftAdded || f.State != result.RuntimeExecuted || len(f.PIDs) != 1 || f.PIDs[0] != 43 || !f.Executable || f.Owner != "" || f.Size != 12 {
		t.Errorf("dropped: %+v", f)
	}
	if f := got["/data/run/gone"]; !f.Gone || f.State != result.RuntimeExecuted {
		t.Errorf("a running file missing from the live root: %+v", f)
	}
	if f := got["/usr/bin/curl"]; f.Change != evidence.DriftAdded || f.Owner != "curl" || !f.Executable || f.State != "" {
		t.Errorf("curl: %+v", f)
	}
	if f := got["/app/config.yaml"]; f.Change != evidence.DriftModified || f.Executable {
		t.Errorf("config: %+v", f)
	}
	if dr.Compared < len(driftImageFiles) {
		t.Errorf("compared %d entries", dr.Compared)
	}

	// Caps: one file listed, all counted.
	d2 := &Drifter{Store: store, ProcRoot: proc, Scanner: &scan.Scanner{}, Limits: DriftLimits{MaxReported: 1}}
	src.Inventory, src.Drift = d2.Inventory, d2.Drift
	doc, err = Snapshot(context.Background(), src)
	must(t, err)
	if dr = doc.Containers[0].Drift; dr == nil || len(dr.Files) != 1 || dr.Files[0].Path != "/data/run/gone" || dr.FilesChanged != len(want) || !dr.Complete {
		t.Fatalf("drift listing one file: %+v", dr)
	}
	// A file cap that cuts the image's listing: files are not compared
	// (a file missing from a cut listing may be the image's), and the
	// drift says it is incomplete and why.
	d3 := &Drifter{Store: store, ProcRoot: proc, Scanner: &scan.Scanner{}, Limits: DriftLimits{MaxFiles: 5}}
	src.Inventory, src.Drift = d3.Inventory, d3.Drift
	doc, err = Snapshot(context.Background(), src)
	must(t, err)
	if dr = doc.Containers[0].Drift; dr == nil || len(dr.Files) != 0 || dr.Complete || !strings.Contains(dr.Reason, "file limit (5) reached") || len(dr.Packages) != 1 {
		t.Fatalf("drift against a cut listing %+v", dr)
	}
	// A cap that the image's 15 entries fit in and the live root's do
	// not: what was walked is compared, and the cut is said.
	d4 := &Drifter{Store: store, ProcRoot: proc, Scanner: &scan.Scanner{}, Limits: DriftLimits{MaxFiles: 20}}
	src.Inventory, src.Drift = d4.Inventory, d4.Drift
	doc, err = Snapshot(context.Background(), src)
	must(t, err)
	if dr = doc.Containers[0].Drift; dr == nil || dr.Complete || !strings.Contains(dr.Reason, "live root walk: file limit (20) reached") || dr.Compared != 20 {
		t.Fatalf("drift with a cut walk %+v", dr)
	}
}

// TestDriftNeedsTheImageFromTheStore: an image read from the live root
// has nothing to compare with, so no drift is claimed.
func TestDriftNeedsTheImageFromTheStore(t *testing.T) {
	proc := driftLiveRoot(t)
	d := &Drifter{ProcRoot: proc, Scanner: &scan.Scanner{}}
	c := &evidence.Container{ID: "c1", Digest: "sha256:0000000000000000000000000000000000000000000000000000000000000000", PIDs: []int{42}}
	inv, err := d.Inventory(context.Background(), c)
	must(t, err)
	dr, err := d.Drift(context.Background(), c, inv, nil)
	if err != nil || dr != nil {
		t.Fatalf("drift %+v, %v: want none", dr, err)
	}
}

func TestUnescapeMount(t *testing.T) {
	if got := mountinfo.Unescape(`/etc/host\040s\134x\0`); got != `/etc/host s\x\0` {
		t.Errorf("%q", got)
	}
}

// TestDriftWithoutAListClaimsNothing: an inventory answered from the
// scan cache never flattened the image, so there is no file list to
// compare with: no drift rather than every file "added".
func TestDriftWithoutAListClaimsNothing(t *testing.T) {
	store, digest := driftStore(t)
	proc := driftLiveRoot(t)
	cch, err := cache.Open(t.TempDir())
	must(t, err)
	s := &scan.Scanner{Cache: cch}
	c := &evidence.Container{ID: "c1", Digest: digest, PIDs: []int{42}}
	first := &Drifter{Store: store, ProcRoot: proc, Scanner: s}
	inv, err := first.Inventory(context.Background(), c)
	must(t, err)
	if dr, err := first.Drift(context.Background(), c, inv, nil); err != nil || dr == nil || dr.FilesChanged == 0 {
		t.Fatalf("first read: %+v %v", dr, err)
	}
	again := &Drifter{Store: store, ProcRoot: proc, Scanner: s}
	inv, err = again.Inventory(context.Background(), c)
	must(t, err)
	if dr, err := again.Drift(context.Background(), c, inv, nil); err != nil || dr != nil {
		t.Fatalf("from the cache: %+v %v, want no drift", dr, err)
	}
}

func TestDrifterKeepsAtMostMaxImages(t *testing.T) {
	d := &Drifter{Limits: DriftLimits{MaxImages: 2}}
	for _, k := range []string{"a", "b", "a", "c"} {
		d.keep(k, &fileSet{})
	}
	if len(d.images) != 2 || d.images["b"] != nil || d.images["a"] == nil || d.images["c"] == nil {
		t.Errorf("kept %v, want a (read again) and c", d.order)
	}
}
