package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/vulndb"
	"github.com/runlens/runlens/internal/vulndb/vulndbtest"
)

// secret is the mirror credential; no output, file or metadata may hold it.
const secret = "s3cret-mirror-token-7f1c"

// mirror serves the OSV export layout (<base>/<Ecosystem>/all.zip and
// <base>/ecosystems.txt) built from the sample's real advisories, with the
// real EPSS rows (gzipped) and KEV catalog beside it, on loopback.
type mirror struct {
	*httptest.Server
	files map[string][]byte // path -> body

	mu       sync.Mutex
	auth     string            // required Authorization value; "" = none
	throttle map[string]int    // path -> 429 answers still to give
	cut      map[string]bool   // path -> send half the body, then drop the connection
	hits     map[string]int    // path -> requests served 200
	seenAuth map[string]string // path -> last Authorization received
}

func newMirror(t *testing.T) *mirror {
	t.Helper()
	m := &mirror{files: map[string][]byte{}, throttle: map[string]int{}, cut: map[string]bool{}, hits: map[string]int{}, seenAuth: map[string]string{}}
	for rel, b := range vulndbtest.ExportLayout(t, filepath.Join(sampleAdvisories, "osv")) {
		m.files["/osv/"+rel] = b
	}
	csv, err := os.ReadFile(filepath.Join(sampleAdvisories, "epss", "epss_sample.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(csv)
	zw.Close()
	m.files["/epss/epss_scores-current.csv.gz"] = gz.Bytes()
	if m.files["/kev/kev.json"], err = os.ReadFile(filepath.Join(sampleAdvisories, "kev", "known_exploited_vulnerabilities.json")); err != nil {
		t.Fatal(err)
	}
	m.Server = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.Close)
	return m
}

func (m *mirror) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := r.URL.Path
	m.seenAuth[p] = r.Header.Get("Authorization")
	if m.auth != "" && r.Header.Get("Authorization") != m.auth {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mirror"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if m.throttle[p] > 0 {
		m.throttle[p]--
		w.Header().Set("Retry-After", "1")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	}
	body, ok := m.files[p]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if m.cut[p] {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	m.hits[p]++
	w.Write(body)
}

func (m *mirror) updateArgs() []string {
	return []string{"db", "update", "--source", m.URL + "/osv", "--epss-url", m.URL + "/epss/epss_scores-current.csv.gz", "--kev-url", m.URL + "/kev/kev.json"}
}

// noSecret fails when the secret, or its basic-auth form, is in any text.
func noSecret(t *testing.T, where string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		for _, bad := range []string{secret, "czNjcmV0"} { // base64 prefix of "s3cret"
			if strings.Contains(s, bad) {
				t.Errorf("%s contains the mirror secret:\n%s", where, s)
			}
		}
	}
}

func dbFileText(t *testing.T, c *cli) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dbDir, vulndb.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDBUpdateFromMirror(t *testing.T) {
	m := newMirror(t)
	m.auth = "Bearer " + secret
	m.throttle["/osv/ecosystems.txt"] = 1 // one 429 with Retry-After: 1, then served
	t.Setenv(vulndb.EnvToken, secret)
	c := &cli{t: t, dbDir: filepath.Join(t.TempDir(), "db"), cacheDir: filepath.Join(t.TempDir(), "cache")}

	code, out, stderr := c.run("", m.updateArgs()...)
	if code != 0 {
		t.Fatalf("db update: exit %d: %s", code, stderr)
	}
	noSecret(t, "db update output", out, stderr)
	if m.hits["/osv/ecosystems.txt"] != 1 || m.throttle["/osv/ecosystems.txt"] != 0 {
		t.Errorf("429 not retried: hits %v", m.hits)
	}

	code, status, stderr := c.run("", "db", "status")
	if code != 0 {
		t.Fatalf("db status: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"Advisories: ", "EPSS:       ", "KEV:        ", "Debian:9", "npm", "Maven", "osv-export " + m.URL + "/osv"} {
		if !strings.Contains(status, want) {
			t.Errorf("db status lacks %q:\n%s", want, status)
		}
	}
	_, statusJSON, _ := c.run("", "db", "status", "--format", "json")
	var md vulndb.Metadata
	if err := json.Unmarshal([]byte(statusJSON), &md); err != nil {
		t.Fatal(err)
	}
	if md.Advisories == 0 || md.EPSS == nil || md.EPSS.Rows == 0 || md.KEV == nil || md.KEV.Count == 0 || len(md.Ecosystems) < 5 {
		t.Errorf("metadata: %+v", md)
	}
	noSecret(t, "db status", status, statusJSON, dbFileText(t, c))

	doc := c.json("", 0, "scan", "image", "--archive", sampleImage)
	img := doc.Images[0]
	if diff := cmp.Diff(expectedPairs(t), pairs(img)); diff != "" {
		t.Errorf("findings with the downloaded DB (-want +got):\n%s", diff)
	}
	kev := false
	for _, f := range img.Findings {
		if f.ID == "CVE-2021-44228" && f.KEV != nil && f.EPSS != nil {
			kev = true
		}
	}
	if !kev {
		t.Error("CVE-2021-44228 lacks KEV/EPSS data")
	}
}

// TestDBUpdateFailuresKeepOldDB: every failed update leaves the working
// database byte-for-byte and never shows the secret.
func TestDBUpdateFailuresKeepOldDB(t *testing.T) {
	headerFile := filepath.Join(t.TempDir(), "headers")
	if err := os.WriteFile(headerFile, []byte("# mirror\nAuthorization: Bearer "+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badHeaderFile := filepath.Join(t.TempDir(), "bad-headers")
	if err := os.WriteFile(badHeaderFile, []byte("Authorization Bearer "+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		cut      string // path cut mid-body
		wantCode int
		want     string // in stderr
	}{
		{"wrong token", map[string]string{vulndb.EnvToken: secret + "-wrong"}, nil, "", exitError, "401 Unauthorized"},
		{"basic auth is not what the mirror wants", map[string]string{vulndb.EnvUsername: "mirror", vulndb.EnvPassword: secret}, nil, "", exitError, "401 Unauthorized"},
		{"download dies mid-way", nil, []string{"--header-file", headerFile}, "/osv/npm/all.zip", exitError, "unexpected EOF"},
		{"EPSS dies mid-way", nil, []string{"--header-file", headerFile}, "/epss/epss_scores-current.csv.gz", exitError, "epss"},
		{"malformed header file", nil, []string{"--header-file", badHeaderFile}, "", exitUsage, "line 1 is not"},
		{"token and header file both", map[string]string{vulndb.EnvToken: secret}, []string{"--header-file", headerFile}, "", exitUsage, "both"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMirror(t)
			m.auth = "Bearer " + secret
			if tc.cut != "" {
				m.cut[tc.cut] = true
			}
			for _, k := range []string{vulndb.EnvToken, vulndb.EnvUsername, vulndb.EnvPassword} {
				t.Setenv(k, tc.env[k])
			}
			c := newCLI(t)
			before := dbFileText(t, c)
			code, out, stderr := c.run("", append(m.updateArgs(), tc.args...)...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d; stderr lacks %q:\n%s", code, tc.wantCode, tc.want, stderr)
			}
			noSecret(t, "failed update output", out, stderr)
			if dbFileText(t, c) != before {
				t.Error("the database changed")
			}
			if code, _, stderr := c.run("", "scan", "image", "--archive", sampleImage, "--format", "json"); code != 0 {
				t.Errorf("scan after the failed update: exit %d: %s", code, stderr)
			}
			if left, _ := filepath.Glob(filepath.Join(c.dbDir, vulndb.FileName+".tmp-*")); len(left) != 0 {
				t.Errorf("temp files left: %v", left)
			}
		})
	}
}

// TestDBUpdateCredentialsStayOnTheMirror: the mirror redirects the KEV
// download to another host; that host must receive no credentials.
func TestDBUpdateCredentialsStayOnTheMirror(t *testing.T) {
	m := newMirror(t)
	m.auth = "Bearer " + secret
	foreign := newMirror(t) // the redirect target: must never see the token
	m.mu.Lock()
	delete(m.files, "/kev/kev.json")
	m.mu.Unlock()
	redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/kev/kev.json" && r.Header.Get("Authorization") == "Bearer "+secret {
			http.Redirect(w, r, foreign.URL+"/kev/kev.json", http.StatusFound)
			return
		}
		m.serve(w, r)
	})
	m.Config.Handler = redirect
	t.Setenv(vulndb.EnvToken, secret)
	c := &cli{t: t, dbDir: filepath.Join(t.TempDir(), "db"), cacheDir: filepath.Join(t.TempDir(), "cache")}
	if code, _, stderr := c.run("", m.updateArgs()...); code != 0 {
		t.Fatalf("db update: exit %d: %s", code, stderr)
	}
	foreign.mu.Lock()
	defer foreign.mu.Unlock()
	if got, ok := foreign.seenAuth["/kev/kev.json"]; !ok || got != "" {
		t.Errorf("redirect target: requested %v, Authorization %q", ok, got)
	}
}

func TestDBExportImportBundle(t *testing.T) {
	src := newCLI(t)
	bundle := filepath.Join(t.TempDir(), "runlens-db.tar.zst")
	if code, _, stderr := src.run("", "db", "export", bundle); code != 0 || !strings.Contains(stderr, "exported") {
		t.Fatalf("db export: exit %d: %s", code, stderr)
	}
	// Detected by content, whatever its name.
	renamed := filepath.Join(t.TempDir(), "transfer.bin")
	if err := os.Rename(bundle, renamed); err != nil {
		t.Fatal(err)
	}
	dst := &cli{t: t, dbDir: filepath.Join(t.TempDir(), "db2"), cacheDir: filepath.Join(t.TempDir(), "cache2")}
	code, _, stderr := dst.run("", "db", "import", renamed)
	if code != 0 || !strings.Contains(stderr, "bundle imported") {
		t.Fatalf("db import bundle: exit %d: %s", code, stderr)
	}
	_, s1, _ := src.run("", "db", "status", "--format", "json")
	_, s2, _ := dst.run("", "db", "status", "--format", "json")
	if s1 != s2 {
		t.Errorf("status differs:\n%s\n%s", s1, s2)
	}
	a := src.json("", 0, "scan", "image", "--archive", sampleImage)
	b := dst.json("", 0, "scan", "image", "--archive", sampleImage)
	if diff := cmp.Diff(a.Images[0].Findings, b.Images[0].Findings); diff != "" {
		t.Errorf("findings differ after the round trip (-source +imported):\n%s", diff)
	}

	// A truncated bundle is refused with a clear error; the DB keeps working.
	raw, err := os.ReadFile(renamed)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.tar.zst")
	os.WriteFile(cut, raw[:len(raw)*2/3], 0o644)
	before := dbFileText(t, dst)
	code, _, stderr = dst.run("", "db", "import", cut)
	if code != exitError || !strings.Contains(stderr, "invalid database bundle") || !strings.Contains(stderr, "current database is kept") {
		t.Errorf("truncated bundle: exit %d: %s", code, stderr)
	}
	if dbFileText(t, dst) != before {
		t.Error("the database changed")
	}
	if code, _, _ := dst.run("", "db", "import", renamed, sampleAdvisories); code != exitUsage {
		t.Errorf("bundle mixed with other sources: exit %d, want %d", code, exitUsage)
	}
}

// TestDamagedDatabaseIsNeverAQuietScan damages the database in place, as a
// disk or a stray write would: a flipped byte in a package key must make
// `db status` name the package index and every scan exit 2 (the key's
// findings would otherwise vanish with exit 0); a flipped byte in an
// advisory record must make `db status` name the record and the scan fail.
// A fresh import repairs the directory.
func TestDamagedDatabaseIsNeverAQuietScan(t *testing.T) {
	dbFile := func(c *cli) string { return filepath.Join(c.dbDir, vulndb.FileName) }

	t.Run("package key", func(t *testing.T) {
		c := newCLI(t)
		code, out, stderr := c.run("", "db", "status")
		if code != 0 {
			t.Fatalf("intact DB: status exit %d: %s", code, stderr)
		}
		if !strings.Contains(out, "Integrity:  ok") {
			t.Errorf("intact DB: status does not say it was verified:\n%s", out)
		}
		key := vulndbtest.KeySpan(t, dbFile(c), vulndbtest.SectionPkgs, "Debian:9\x00openssl")
		vulndbtest.FlipByte(t, dbFile(c), key.Off+key.Len-1, 0x01) // "openssl" -> "openssm"
		code, _, stderr = c.run("", "db", "status")
		if code != exitError || !strings.Contains(stderr, "section 4 (package index) checksum mismatch") || !strings.Contains(stderr, "runlens db update") {
			t.Errorf("db status: exit %d, want %d naming the package index: %s", code, exitError, stderr)
		}
		code, out, stderr = c.run("", "scan", "image", "--archive", sampleImage, "--format", "json")
		if code != exitError || out != "" || !strings.Contains(stderr, "section 4 (package index) checksum mismatch") {
			t.Errorf("scan: exit %d, stdout %q, stderr %s; want exit %d, no report, the section named", code, out, stderr, exitError)
		}

		// A new import replaces the damaged file.
		if code, _, stderr := c.run("", "db", "import", sampleAdvisories); code != 0 {
			t.Fatalf("re-import over the damaged DB: exit %d: %s", code, stderr)
		}
		c.json("", 0, "scan", "image", "--archive", sampleImage)
	})

	t.Run("advisory record", func(t *testing.T) {
		c := newCLI(t)
		rec := vulndbtest.RecordSpan(t, dbFile(c), "DLA-3008-1")
		vulndbtest.FlipByte(t, dbFile(c), rec.Off+rec.Len/2, 0x08)
		code, out, stderr := c.run("", "db", "status")
		if code != exitError {
			t.Errorf("db status: exit %d, want %d", code, exitError)
		}
		for _, want := range []string{"section 1 (records) checksum mismatch", "1 of ", "records unreadable: DLA-3008-1"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("db status stderr lacks %q: %s", want, stderr)
			}
		}
		if !strings.Contains(out, "Integrity:  DAMAGED") {
			t.Errorf("db status output does not say the DB is damaged:\n%s", out)
		}
		doc := c.json("", exitError, "scan", "image", "--archive", sampleImage)
		if img := doc.Images[0]; img.Status != result.StatusFailed || !strings.Contains(img.Error, "DLA-3008-1") {
			t.Errorf("scan with a damaged record: status %q error %q, want failed naming DLA-3008-1", img.Status, img.Error)
		}
	})
}
