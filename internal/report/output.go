package report

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/usage"
)

// Choice is the format names as help text says them: "table or json".
func Choice() string {
	names := Names()
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Choose returns the format --format names; an unknown one is a
// *usage.Error listing the formats.
func Choose(name string) (Format, error) {
	f, err := Lookup(name)
	if err != nil {
		return f, usage.Errorf("--format: %v (want %s)", err, Choice())
	}
	return f, nil
}

// WriteOut writes doc in format f to the file path, or to stdout when
// path is empty.
func (f Format) WriteOut(stdout io.Writer, path string, doc *result.Document, opts Options) error {
	if path == "" {
		return f.Write(stdout, doc, opts)
	}
	file, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating report file: %w", err)
	}
	err = f.Write(file, doc, opts)
	if cerr := file.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("writing report: %w", cerr)
	}
	return err
}
