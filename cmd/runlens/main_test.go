package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/runlens/runlens/internal/registry/registrytest"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/testing/testimage"
)

const (
	sampleImage      = "../../testdata/sample/image.tar"
	sampleAdvisories = "../../testdata/sample/advisories"
)

// cli runs runlens in-process and returns its exit code and streams.
type cli struct {
	t        *testing.T
	dbDir    string
	cacheDir string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	c := &cli{t: t, dbDir: filepath.Join(t.TempDir(), "db"), cacheDir: filepath.Join(t.TempDir(), "cache")}
	if code, _, stderr := c.run("", "db", "import", sampleAdvisories); code != 0 {
		t.Fatalf("db import: exit %d: %s", code, stderr)
	}
	return c
}

func (c *cli) run(stdin string, args ...string) (int, string, string) {
	c.t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{"--db-dir", c.dbDir, "--cache-dir", c.cacheDir}, args...)
	code := run(context.Background(), full, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func (c *cli) json(stdin string, wantCode int, args ...string) result.Document {
	c.t.Helper()
	code, out, stderr := c.run(stdin, append(args, "--format", "json")...)
	if code != wantCode {
		c.t.Fatalf("runlens %s: exit %d, want %d; stderr:\n%s", strings.Join(args, " "), code, wantCode, stderr)
	}
	var doc result.Document
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		c.t.Fatalf("stdout is not a JSON report: %v\n%s", err, out)
	}
	return doc
}

// expectedPairs reads testdata/sample/expected.json: the package x advisory
// pairs the sample must produce.
func expectedPairs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/sample/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Findings []struct {
			Package, Version, Advisory string
		} `json:"findings"`
	}
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range exp.Findings {
		out = append(out, f.Package+"@"+f.Version+" "+f.Advisory)
	}
	sort.Strings(out)
	return out
}

func pairs(r *result.Image) []string {
	var out []string
	for _, f := range r.Findings {
		for _, a := range f.Advisories {
			out = append(out, f.Package.Name+"@"+f.Package.Version+" "+a)
		}
	}
	sort.Strings(out)
	return out
}

func TestScanSampleArchiveFindsExactlyTheExpectedAdvisories(t *testing.T) {
	c := newCLI(t)
	doc := c.json("", 0, "scan", "image", "--archive", sampleImage)
	if len(doc.Images) != 1 {
		t.Fatalf("got %d images, want 1", len(doc.Images))
	}
	img := doc.Images[0]
	if img.Status != result.StatusScanned || img.Cached {
		t.Fatalf("status %q cached %v: %s", img.Status, img.Cached, img.Error)
	}
	if diff := cmp.Diff(expectedPairs(t), pairs(img)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	threat := map[string]string{}
	for _, f := range img.Findings {
		if f.KEV != nil {
			threat[f.ID] += "KEV "
		}
		if f.EPSS != nil {
			threat[f.ID] += fmt.Sprintf("EPSS %.5f", f.EPSS.Probability)
		}
	}
	// Real CISA KEV and FIRST EPSS rows from testdata/sample/advisories.
	for id, want := range map[string]string{
		"CVE-2021-44228": "KEV EPSS 0.99999",
		"CVE-2021-45046": "KEV EPSS 0.99977",
		"CVE-2021-44906": "EPSS 0.04581",
		"CVE-2020-28500": "EPSS 0.07336",
	} {
		if threat[id] != want {
			t.Errorf("%s threat data = %q, want %q", id, threat[id], want)
		}
	}
	if doc.Database == nil || doc.Database.Advisories == 0 || doc.Scanner.Version == "" || img.Target.ConfigDigest == "" {
		t.Errorf("inputs not recorded: database %+v scanner %+v target %+v", doc.Database, doc.Scanner, img.Target)
	}

	// The same image again comes from the inventory cache with the same findings.
	warm := c.json("", 0, "scan", "image", "--archive", sampleImage)
	if !warm.Images[0].Cached {
		t.Error("second scan of the same image did not use the cache")
	}
	if diff := cmp.Diff(pairs(img), pairs(warm.Images[0])); diff != "" {
		t.Errorf("warm findings differ (-cold +warm):\n%s", diff)
	}
}

func TestExitCodesAndFilters(t *testing.T) {
	c := newCLI(t)
	if code, _, _ := c.run("", "scan", "image", "--archive", sampleImage, "--fail-on", "critical"); code != exitFindings {
		t.Errorf("--fail-on critical: exit %d, want %d", code, exitFindings)
	}
	if code, _, _ := c.run("", "scan", "image", "--archive", sampleImage, "--exit-code", "7"); code != 7 {
		t.Errorf("--exit-code 7: exit %d", code)
	}
	doc := c.json("", 0, "scan", "image", "--archive", sampleImage, "--severity", "CRITICAL", "--fail-on", "LOW", "--ignore-unfixed", "--exit-code", "0", "--fail-on", "")
	for _, f := range doc.Images[0].Findings {
		if f.Severity != "CRITICAL" || len(f.FixedVersions) == 0 {
			t.Errorf("filter let through %s %s fixed=%v", f.ID, f.Severity, f.FixedVersions)
		}
	}
	if len(doc.Images[0].Findings) == 0 {
		t.Error("the sample has critical findings with fixes (log4j, minimist); none reported")
	}
	for _, args := range [][]string{
		{"scan", "image"},
		{"scan", "image", "a", "--archive", sampleImage},
		{"scan", "image", "--archive", sampleImage, "--severity", "urgent"},
		{"scan", "image", "--archive", sampleImage, "--format", "xml"},
		{"scan", "image", "--bogus"},
	} {
		if code, _, _ := c.run("", args...); code != exitUsage {
			t.Errorf("runlens %v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestMissingDatabaseIsAnErrorThatSaysWhatToRun(t *testing.T) {
	c := &cli{t: t, dbDir: t.TempDir(), cacheDir: t.TempDir()}
	code, out, stderr := c.run("", "scan", "image", "--archive", sampleImage)
	if code != exitError || out != "" {
		t.Fatalf("exit %d stdout %q; want exit %d and no report", code, out, exitError)
	}
	if !strings.Contains(stderr, "runlens db update") {
		t.Errorf("stderr does not tell the user what to run: %s", stderr)
	}
}

func TestMaxDBAge(t *testing.T) {
	c := newCLI(t)
	if code, _, stderr := c.run("", "scan", "image", "--archive", sampleImage, "--max-db-age", "1ns"); code != exitStaleDB {
		t.Errorf("stale DB: exit %d, want %d: %s", code, exitStaleDB, stderr)
	}
	if code, _, _ := c.run("", "db", "status", "--max-db-age", "1h"); code != 0 {
		t.Errorf("fresh DB status: exit %d", code)
	}
}

func TestReplaySavedResult(t *testing.T) {
	c := newCLI(t)
	saved := filepath.Join(t.TempDir(), "result.json")
	if code, _, stderr := c.run("", "scan", "image", "--archive", sampleImage, "-f", "json", "-o", saved); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	code, out, stderr := c.run("", "report", "--input", saved, "--severity", "CRITICAL")
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "CVE-2021-44228") || strings.Contains(out, "CVE-2020-28500") {
		t.Errorf("replayed table wrong (want log4shell, no MEDIUM lodash):\n%s", out)
	}
}

// pushSample pushes the bundled sample image under the given repo:tag names.
func pushSample(t *testing.T, reg *registrytest.Server, names ...string) string {
	t.Helper()
	img, err := tarball.ImageFromPath(sampleImage, nil)
	if err != nil {
		t.Fatal(err)
	}
	var digest string
	for _, n := range names {
		digest = reg.Push(t, n, img).String()
	}
	return digest
}

func TestScanImageFromRegistryWithBasicAuth(t *testing.T) {
	reg := registrytest.New(t, registrytest.Config{Auth: registrytest.BasicAuth, Username: "scanner", Password: "s3cret-pw"})
	digest := pushSample(t, reg, "shop/web:1.0")
	c := newCLI(t)

	doc := c.json("s3cret-pw\n", 0, "scan", "image", reg.Host+"/shop/web:1.0", "--username", "scanner", "--password-stdin")
	img := doc.Images[0]
	if img.Status != result.StatusScanned || img.Target.Digest != digest {
		t.Fatalf("status %q digest %q (want %s): %s", img.Status, img.Target.Digest, digest, img.Error)
	}
	if diff := cmp.Diff(expectedPairs(t), pairs(img)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}

	// By digest, the cache answers.
	byDigest := c.json("s3cret-pw\n", 0, "scan", "image", reg.Host+"/shop/web@"+digest, "--username", "scanner", "--password-stdin")
	if !byDigest.Images[0].Cached {
		t.Error("scan by digest of an already scanned image did not use the cache")
	}

	// A wrong password fails the scan, and the password appears nowhere.
	code, out, stderr := c.run("wrong-pw-123\n", "scan", "image", reg.Host+"/shop/web:1.0", "--username", "scanner", "--password-stdin", "--no-cache", "-f", "json")
	if code != exitError {
		t.Errorf("wrong password: exit %d, want %d", code, exitError)
	}
	if !strings.Contains(out, `"status": "failed"`) {
		t.Errorf("wrong password must be reported as a failed scan:\n%s", out)
	}
	if strings.Contains(out+stderr, "wrong-pw-123") || strings.Contains(out+stderr, "s3cret-pw") {
		t.Error("a password leaked into the output")
	}
}

func TestScanRegistryScansEachDigestOnceAndReportsFailures(t *testing.T) {
	reg := registrytest.New(t, registrytest.Config{})
	digest := pushSample(t, reg, "shop/web:1.0", "shop/web:latest", "mirror/web:1.0")
	other := reg.Push(t, "base/tiny:1", testimage.Image(t, "linux/amd64", map[string]string{"etc/os-release": "ID=debian\nVERSION_ID=\"12\"\n"})).String()
	reg.Push(t, "broken/app:1", testimage.Image(t, "linux/amd64", map[string]string{"a": "b"}))
	// Every manifest request for broken/app fails with 503: bounded retries, then failed.
	reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/broken/app/manifests/") {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	c := newCLI(t)
	doc := c.json("", exitError, "scan", "registry", reg.Host)

	byDigest := map[string]*result.Image{}
	var failedRefs []string
	for _, img := range doc.Images {
		if img.Status == result.StatusFailed {
			failedRefs = append(failedRefs, img.Target.Reference)
			continue
		}
		byDigest[img.Target.Digest] = img
	}
	if len(byDigest) != 2 {
		t.Fatalf("scanned %d digests, want 2 (sample + tiny): %+v", len(byDigest), doc.Images)
	}
	web := byDigest[digest]
	wantTags := []string{reg.Host + "/mirror/web:1.0", reg.Host + "/shop/web:1.0", reg.Host + "/shop/web:latest"}
	if diff := cmp.Diff(wantTags, web.Tags); diff != "" {
		t.Errorf("tags of the sample digest (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(expectedPairs(t), pairs(web)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if len(byDigest[other].Findings) != 0 {
		t.Errorf("tiny image has findings: %v", byDigest[other].Findings)
	}
	if diff := cmp.Diff([]string{reg.Host + "/broken/app:1"}, failedRefs); diff != "" {
		t.Errorf("failed entries (-want +got):\n%s", diff)
	}
	s := doc.Summary
	if s.Images != 3 || s.Scanned != 2 || s.Failed != 1 || s.Tags != 5 {
		t.Errorf("summary %+v; want 3 images (2 scanned, 1 failed), 5 tags", s)
	}
}
