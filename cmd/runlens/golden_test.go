package main

import (
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/registry/registrytest"
	"github.com/runlens/runlens/internal/testing/testimage"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// The golden files hold what users see: the quickstart's table, the
// sample's JSON, a registry scan's JSON and a saved cluster result
// rendered again. What changes from run to run is normalised first.
var normalisers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`"(created_at|built_at)": "[^"]*"`), `"$1": "TIME"`},
	{regexp.MustCompile(`"(age_seconds|duration_ms)": \d+`), `"$1": 0`},
	{regexp.MustCompile(`Database: built \S+ \(\S+ old\)`), "Database: built TIME (AGE old)"},
	{regexp.MustCompile(`database built in \S+:`), "database built in DURATION:"},
	{regexp.MustCompile(`(127\.0\.0\.1|localhost):\d+`), "REGISTRY"},
	{regexp.MustCompile(`(?m)^time=\S+ `), "time=TIME "},
}

func normalise(t *testing.T, s string) string {
	t.Helper()
	for _, n := range normalisers {
		s = n.re.ReplaceAllString(s, n.with)
	}
	if dir := os.TempDir(); dir != "" {
		s = strings.ReplaceAll(s, dir, "TMP")
	}
	return s
}

// golden compares got (normalised) with testdata/golden/name; -update
// rewrites the file instead.
func golden(t *testing.T, name, got string) {
	t.Helper()
	got = normalise(t, got)
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/runlens -run Golden -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, diff)
	}
}

// step runs one command line and records it, its exit code and both
// streams, the way a terminal session shows them.
func (c *cli) step(b *strings.Builder, args ...string) {
	c.t.Helper()
	code, out, stderr := c.run("", args...)
	b.WriteString("$ runlens " + strings.Join(args, " ") + "\n")
	b.WriteString(stderr)
	b.WriteString(out)
	b.WriteString("[exit " + itoa(code) + "]\n\n")
}

// TestGoldenQuickstart is what ./hack/quickstart.sh shows: the database
// import, then the sample scanned as a table.
func TestGoldenQuickstart(t *testing.T) {
	c := &cli{t: t, dbDir: filepath.Join(t.TempDir(), "db"), cacheDir: filepath.Join(t.TempDir(), "cache")}
	var b strings.Builder
	c.step(&b, "db", "import", sampleAdvisories)
	c.step(&b, "scan", "image", "--no-cache", "--archive", sampleImage)
	golden(t, "quickstart.txt", b.String())
}

// TestGoldenSampleJSON is the bundled sample's JSON result.
func TestGoldenSampleJSON(t *testing.T) {
	c := newCLI(t)
	code, out, stderr := c.run("", "scan", "image", "--archive", sampleImage, "-f", "json", "--list-packages")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden(t, "sample.json", out)
}

// TestGoldenRegistryJSON pushes the sample into an in-process registry
// beside a tiny image and a repository whose manifests fail, and records
// the registry scan's JSON; a second scan stops the catalog at two
// repositories, which makes the registry a partial entry.
func TestGoldenRegistryJSON(t *testing.T) {
	reg := registrytest.New(t, registrytest.Config{})
	pushSample(t, reg, "shop/web:1.0", "shop/web:latest")
	reg.Push(t, "base/tiny:1", testimage.Image(t, "linux/amd64", map[string]string{"etc/os-release": "ID=debian\nVERSION_ID=\"12\"\n"}))
	reg.Push(t, "broken/app:1", testimage.Image(t, "linux/amd64", map[string]string{"a": "b"}))
	// Manifests of broken/app fail; the catalog lists in a fixed order (the
	// in-process registry's own order is a map's), so a cap keeps the same
	// repositories every run.
	reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case strings.Contains(r.URL.Path, "/broken/app/manifests/"):
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Path == "/v2/_catalog":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"repositories":["shop/web","base/tiny","broken/app"]}`)
		default:
			return false
		}
		return true
	})
	c := newCLI(t)
	code, out, stderr := c.run("", "scan", "registry", reg.Host, "-f", "json")
	if code != exitError {
		t.Fatalf("exit %d, want %d (one repository fails): %s", code, exitError, stderr)
	}
	golden(t, "registry.json", out)

	code, out, stderr = c.run("", "scan", "registry", reg.Host, "-f", "json", "--max-repositories", "2")
	if code != exitError {
		t.Fatalf("--max-repositories 2: exit %d, want %d: %s", code, exitError, stderr)
	}
	golden(t, "registry-partial.json", out)
}

// TestGoldenClusterReplay renders a saved cluster result again, whole and
// narrowed to CRITICAL, as a table and as JSON.
func TestGoldenClusterReplay(t *testing.T) {
	c := newCLI(t)
	var b strings.Builder
	c.step(&b, "report", "--input", "testdata/cluster.json")
	c.step(&b, "report", "--input", "testdata/cluster.json", "--severity", "CRITICAL")
	golden(t, "cluster-replay.txt", b.String())

	code, out, stderr := c.run("", "report", "--input", "testdata/cluster.json", "--severity", "CRITICAL", "-f", "json")
	if code != exitError {
		t.Fatalf("exit %d, want %d (one image failed): %s", code, exitError, stderr)
	}
	golden(t, "cluster-critical.json", out)
}
