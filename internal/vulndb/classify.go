package vulndb

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// InputError is a path ClassifyInputs will not import: one it cannot tell
// the kind of, or a bundle given with other paths. It is the caller's
// mistake, not a failure to read.
type InputError struct {
	Path string
	msg  string
}

// Error implements error.
func (e *InputError) Error() string { return e.msg }

// Inputs is what the paths given to `db import` are: one database bundle
// (written by ExportBundle), or sources to build a database from.
type Inputs struct {
	// Bundle is the path of a bundle; Sources is then empty.
	Bundle  string
	Sources []Source
}

// ClassifyInputs tells what each path is by its content and name: a bundle
// (which must come alone), an http(s) URL of an OSV export, a directory
// (ClassifyDir), an EPSS CSV (.csv, .csv.gz), an OSV zip, or the KEV JSON
// catalog. An *InputError names a path it will not import.
func ClassifyInputs(paths []string) (Inputs, error) {
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && IsBundle(p) {
			if len(paths) > 1 {
				return Inputs{}, &InputError{Path: p, msg: p + " is a database bundle; import it on its own"}
			}
			return Inputs{Bundle: p}, nil
		}
	}
	var in Inputs
	for _, p := range paths {
		s, err := classify(p)
		if err != nil {
			return Inputs{}, err
		}
		in.Sources = append(in.Sources, s...)
	}
	return in, nil
}

// classify turns one path that is not a bundle into sources.
func classify(p string) ([]Source, error) {
	if strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") {
		return []Source{OSVExport(p)}, nil
	}
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if st.IsDir() {
		return ClassifyDir(p), nil
	}
	lower := strings.ToLower(p)
	switch {
	case strings.HasSuffix(lower, ".csv"), strings.HasSuffix(lower, ".csv.gz"):
		return []Source{EPSS(p)}, nil
	case strings.HasSuffix(lower, ".zip"):
		if s, ok := MetricsFile(p); ok {
			return []Source{s}, nil
		}
		return []Source{OSVZip(p)}, nil
	case strings.HasSuffix(lower, ".json"), strings.HasSuffix(lower, ".json.gz"):
		if s, ok := MetricsFile(p); ok {
			return []Source{s}, nil
		}
		if isKEV(p) {
			return []Source{KEV(p)}, nil
		}
		return nil, &InputError{Path: p, msg: p + " is a JSON file but not the KEV catalog, NVD or CVE 5 JSON; put OSV records in a directory"}
	}
	return nil, &InputError{Path: p, msg: "cannot tell what " + p + " is (want a directory, .zip, .csv[.gz], KEV, NVD or CVE 5 .json)"}
}

// ClassifyDir treats a directory with osv/, epss/, kev/, nvd/ or cve/
// subdirectories as a set of those parts (the OSV records under osv/, EPSS
// CSVs under epss/, the KEV catalog under kev/, NVD JSON under nvd/, CVE 5
// records under cve/), a directory of NVD or CVE 5 records (MetricsDir) as
// that, and any other directory as OSV records.
func ClassifyDir(dir string) []Source {
	var sources []Source
	if st, err := os.Stat(filepath.Join(dir, "osv")); err == nil && st.IsDir() {
		sources = append(sources, OSVDir(filepath.Join(dir, "osv")))
	}
	sources = append(sources, metricsParts(dir)...)
	for _, part := range []string{"epss", "kev"} {
		entries, err := os.ReadDir(filepath.Join(dir, part))
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			p := filepath.Join(dir, part, e.Name())
			switch {
			case part == "epss" && (strings.HasSuffix(e.Name(), ".csv") || strings.HasSuffix(e.Name(), ".csv.gz")):
				sources = append(sources, EPSS(p))
			case part == "kev" && strings.HasSuffix(e.Name(), ".json") && isKEV(p):
				sources = append(sources, KEV(p))
			}
		}
	}
	if len(sources) == 0 {
		if s, ok := MetricsDir(dir); ok {
			return []Source{s}
		}
		sources = append(sources, OSVDir(dir))
	}
	return sources
}

// isKEV peeks at a JSON file for the KEV catalog's fields.
func isKEV(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	return bytes.Contains(head[:n], []byte(`"catalogVersion"`))
}
