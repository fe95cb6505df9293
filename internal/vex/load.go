package vex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Limits of what Load reads.
const (
	// MaxFileBytes bounds one VEX file.
	MaxFileBytes = 64 << 20
	// MaxFiles bounds the files of one Load, directories' included.
	MaxFiles = 1000
)

// Load reads the VEX documents at paths: each a file, or a directory
// whose *.json files (not its subdirectories) are read in name order. The
// format, OpenVEX (v0.2.0 and later) or CycloneDX VEX (1.4 and later), is
// told from the content. A file that cannot be read, is not one of them,
// or holds a statement runlens cannot read fails the whole load with an
// error naming the file: a VEX file is never skipped. No paths give an
// empty set.
func Load(ctx context.Context, paths []string) (*Set, error) {
	files, err := listFiles(paths)
	if err != nil {
		return nil, err
	}
	set := &Set{}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("reading VEX: %w", err)
		}
		data, err := readFile(f)
		if err != nil {
			return nil, fmt.Errorf("VEX file %s: %w", f, err)
		}
		doc, stmts, err := parse(f, data)
		if err != nil {
			return nil, fmt.Errorf("VEX file %s: %w", f, err)
		}
		set.documents = append(set.documents, doc)
		for _, st := range stmts {
			set.add(st)
		}
	}
	return set, nil
}

// listFiles expands paths into the files to read, in order.
func listFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("VEX path: %w", err)
		}
		switch {
		case fi.IsDir():
			entries, err := os.ReadDir(p)
			if err != nil {
				return nil, fmt.Errorf("VEX directory %s: %w", p, err)
			}
			n := 0
			for _, e := range entries {
				if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".json") {
					continue
				}
				files = append(files, filepath.Join(p, e.Name()))
				n++
			}
			if n == 0 {
				return nil, fmt.Errorf("VEX directory %s: no *.json file in it", p)
			}
		case fi.Mode().IsRegular():
			files = append(files, p)
		default:
			return nil, fmt.Errorf("VEX file %s: not a regular file or a directory", p)
		}
		if len(files) > MaxFiles {
			return nil, fmt.Errorf("VEX: more than %d files", MaxFiles)
		}
	}
	return files, nil
}

// readFile reads one regular file of at most MaxFileBytes. It looks
// before it opens, so that a FIFO or a device is refused rather than
// waited on.
func readFile(path string) ([]byte, error) {
	if fi, err := os.Stat(path); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if fi.Size() > MaxFileBytes {
		return nil, fmt.Errorf("%d bytes, more than the %d a VEX file may have", fi.Size(), MaxFileBytes)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("more than the %d bytes a VEX file may have", MaxFileBytes)
	}
	return data, nil
}

// parse tells the document's format from its content and reads its
// statements; doc names the document for Set.Documents.
func parse(path string, data []byte) (string, []*statement, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) || !json.Valid(data) {
			return "", nil, fmt.Errorf("not JSON: %w", err)
		}
		return "", nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if top == nil {
		return "", nil, errors.New("not a JSON object (null)")
	}
	if raw, ok := top["@context"]; ok {
		var ctx string
		if err := json.Unmarshal(raw, &ctx); err != nil {
			return "", nil, errors.New("@context is not a string: not an OpenVEX document")
		}
		if strings.HasPrefix(ctx, openVEXContext) {
			return parseOpenVEX(path, ctx, data)
		}
	}
	if raw, ok := top["bomFormat"]; ok && bytes.Equal(bytes.TrimSpace(raw), []byte(`"CycloneDX"`)) {
		return parseCycloneDX(path, data)
	}
	return "", nil, fmt.Errorf("neither OpenVEX (@context %s/v…) nor CycloneDX (bomFormat \"CycloneDX\")", openVEXContext)
}

// docName names a document as its file and, when it has one, its id.
func docName(path, id string) string {
	if id == "" {
		return path
	}
	return path + " (" + id + ")"
}
