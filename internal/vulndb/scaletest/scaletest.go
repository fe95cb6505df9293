// Package scaletest builds the 600k-advisory scale set: real OSV records
// replicated under new ids and package names into the OSV export layout
// (<out>/osv/<Ecosystem>/all.zip), plus a large EPSS file, so import time,
// size and lookup speed can be measured at full-database scale offline.
package scaletest

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Options controls the generated set.
type Options struct {
	// Templates is a directory of real OSV JSON records (recursive).
	Templates string
	// Advisories is how many records to write (e.g. 600,000).
	Advisories int
	// EPSSRows is how many rows the EPSS file gets (e.g. 250,000); rows
	// for the generated CVE aliases come first.
	EPSSRows int
	// Seed makes the output reproducible.
	Seed uint64
}

// Result says what was written.
type Result struct {
	OSVDir     string         // <out>/osv, in the OSV export layout
	EPSSFile   string         // <out>/epss.csv.gz
	Ecosystems map[string]int // advisories per ecosystem
	// Lookups is a sample of (ecosystem, package name) pairs that have
	// advisories, for lookup benchmarks; also written to <out>/lookups.tsv.
	Lookups [][2]string
}

// target is one ecosystem of the set with its share of advisories and
// whether it draws OS-distribution or language templates.
type target struct {
	eco    string
	weight int
	distro bool
}

// The shares loosely follow the real OSV export, where distributions
// dominate the count.
var targets = []target{
	{"Debian:12", 10, true}, {"Debian:11", 7, true}, {"Ubuntu:22.04:LTS", 9, true},
	{"Ubuntu:24.04:LTS", 6, true}, {"Alpine:v3.20", 4, true}, {"Red Hat", 7, true},
	{"AlmaLinux:9", 4, true}, {"Rocky Linux:9", 3, true}, {"SUSE", 5, true},
	{"Wolfi", 3, true}, {"Chainguard", 3, true}, {"Photon OS:5.0", 2, true},
	{"Go", 6, false}, {"npm", 8, false}, {"PyPI", 7, false}, {"Maven", 6, false},
	{"RubyGems", 2, false}, {"crates.io", 2, false}, {"NuGet", 2, false},
	{"Packagist", 2, false}, {"Hex", 1, false}, {"Pub", 1, false},
}

// Generate writes the scale set under out.
func Generate(ctx context.Context, out string, opt Options) (Result, error) {
	var distro, lang []map[string]any
	err := filepath.WalkDir(opt.Templates, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if isDistro(m) {
			distro = append(distro, m)
		} else {
			lang = append(lang, m)
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	if len(distro) == 0 || len(lang) == 0 {
		return Result{}, fmt.Errorf("templates in %s need both distribution and language records", opt.Templates)
	}
	res := Result{OSVDir: filepath.Join(out, "osv"), EPSSFile: filepath.Join(out, "epss.csv.gz"), Ecosystems: map[string]int{}}
	rng := rand.New(rand.NewPCG(opt.Seed, 42))
	total := 0
	for _, t := range targets {
		total += t.weight
	}
	var cves []string
	sampleEvery := max(1, opt.Advisories/20000)
	n := 0
	for ti, t := range targets {
		count := opt.Advisories * t.weight / total
		if ti == len(targets)-1 {
			count = opt.Advisories - n
		}
		zw, closeZip, err := createZip(filepath.Join(res.OSVDir, t.eco, "all.zip"))
		if err != nil {
			return Result{}, err
		}
		// About four advisories per package, as real databases have many
		// per package (openssl, the kernel) and one for most.
		pkgPool := max(1, count/4)
		for i := range count {
			if i%1024 == 0 && ctx.Err() != nil {
				closeZip()
				return Result{}, ctx.Err()
			}
			pool := lang
			if t.distro {
				pool = distro
			}
			tmpl := pool[rng.IntN(len(pool))]
			rec, names, recCVEs := replicate(tmpl, t.eco, n, rng.IntN(pkgPool))
			cves = append(cves, recCVEs...)
			w, err := zw.Create(rec["id"].(string) + ".json")
			if err != nil {
				closeZip()
				return Result{}, err
			}
			if err := json.NewEncoder(w).Encode(rec); err != nil {
				closeZip()
				return Result{}, err
			}
			if n%sampleEvery == 0 && len(names) > 0 {
				res.Lookups = append(res.Lookups, [2]string{t.eco, names[0]})
			}
			n++
		}
		res.Ecosystems[t.eco] = count
		if err := closeZip(); err != nil {
			return Result{}, err
		}
	}
	if err := writeEcosystems(res.OSVDir, res.Ecosystems); err != nil {
		return Result{}, err
	}
	if err := writeEPSS(res.EPSSFile, cves, opt.EPSSRows, rng); err != nil {
		return Result{}, err
	}
	return res, writeLookups(filepath.Join(out, "lookups.tsv"), res.Lookups)
}

func isDistro(m map[string]any) bool {
	aff, _ := m["affected"].([]any)
	for _, a := range aff {
		pkg, _ := a.(map[string]any)["package"].(map[string]any)
		eco, _ := pkg["ecosystem"].(string)
		for _, d := range []string{"Debian", "Ubuntu", "Alpine"} {
			if strings.HasPrefix(eco, d) {
				return true
			}
		}
	}
	return false
}

// replicate deep-copies tmpl under a new id, ecosystem and package names.
// CVE aliases get new numbers so EPSS rows can join on them.
func replicate(tmpl map[string]any, eco string, n, pkg int) (map[string]any, []string, []string) {
	rec := deepCopy(tmpl).(map[string]any)
	suffix := fmt.Sprintf("-r%d", n)
	rec["id"] = fmt.Sprint(rec["id"]) + suffix
	var cves []string
	rename := func(key string) {
		list, _ := rec[key].([]any)
		for i, a := range list {
			s, _ := a.(string)
			if strings.HasPrefix(s, "CVE-") && len(s) > 9 {
				s = fmt.Sprintf("CVE-%s-%d", s[4:8], 1_000_000+n*3+i)
				if key == "aliases" {
					cves = append(cves, s)
				}
			} else {
				s += suffix
			}
			list[i] = s
		}
	}
	rename("aliases")
	rename("related")
	rename("upstream")
	var names []string
	aff, _ := rec["affected"].([]any)
	for _, a := range aff {
		am, _ := a.(map[string]any)
		p, _ := am["package"].(map[string]any)
		if p == nil {
			continue
		}
		name := fmt.Sprintf("%v-p%d", p["name"], pkg)
		p["name"], p["ecosystem"] = name, eco
		delete(p, "purl")
		names = append(names, name)
	}
	return rec, names, cves
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

func createZip(path string) (*zip.Writer, func() error, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	zw := zip.NewWriter(bw)
	// A flate writer holds ~1 MB of state: reuse one instead of one per entry.
	var fw *flate.Writer
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		if fw == nil {
			var err error
			if fw, err = flate.NewWriter(w, flate.BestSpeed); err != nil {
				return nil, err
			}
		} else {
			fw.Reset(w)
		}
		return fw, nil
	})
	return zw, func() error {
		err := zw.Close()
		if e := bw.Flush(); err == nil {
			err = e
		}
		if e := f.Close(); err == nil {
			err = e
		}
		return err
	}, nil
}

func writeEcosystems(dir string, ecos map[string]int) error {
	names := make([]string, 0, len(ecos))
	for e := range ecos {
		names = append(names, e)
	}
	sort.Strings(names)
	return os.WriteFile(filepath.Join(dir, "ecosystems.txt"), []byte(strings.Join(names, "\n")+"\n"), 0o644)
}

func writeEPSS(path string, cves []string, rows int, rng *rand.Rand) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	w := bufio.NewWriter(zw)
	fmt.Fprintln(w, "#model_version:v2026.06.15,score_date:2026-09-29T12:00:22Z")
	fmt.Fprintln(w, "cve,epss,percentile")
	seen := map[string]bool{}
	row := func(c string) {
		if !seen[c] {
			seen[c] = true
			p := rng.Float64() * rng.Float64()
			fmt.Fprintf(w, "%s,%.5f,%.5f\n", c, p, rng.Float64())
		}
	}
	for _, c := range cves {
		if len(seen) >= rows {
			break
		}
		row(c)
	}
	for i := 0; len(seen) < rows; i++ {
		row(fmt.Sprintf("CVE-%d-%d", 1999+i%27, 10000+i))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func writeLookups(path string, l [][2]string) error {
	var b strings.Builder
	for _, p := range l {
		b.WriteString(p[0] + "\t" + p[1] + "\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// ReadLookups reads the lookups.tsv written by Generate.
func ReadLookups(path string) ([][2]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][2]string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if eco, name, ok := strings.Cut(l, "\t"); ok {
			out = append(out, [2]string{eco, name})
		}
	}
	return out, nil
}
