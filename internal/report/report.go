// Package report writes a result.Document in one of runlens's output
// formats. The model, its filters, counts and verdict are in
// internal/result; this package only renders a finished document.
//
// Adding a format is one file with its Write function and one line in
// formats below; commands ask Lookup and Names, never a format's name.
package report

import (
	"fmt"
	"io"
	"time"

	"github.com/runlens/runlens/internal/result"
)

// Options tune how a document is written.
type Options struct {
	// View picks the table sections of a cluster scan: "workloads",
	// "images", or "" for both. Other formats ignore it.
	View string
	// Top is how many ranked risks the table lists (0: all).
	Top int
	// ShowSuppressed lists the risks set aside by VEX or policy.
	ShowSuppressed bool
	// ListPackages asks for the per-image sections of a cluster scan's
	// table.
	ListPackages bool
	// MinObservation is how long a complete runtime window must be for
	// OpenVEX to call a package not affected (0: the default, 24 h).
	MinObservation time.Duration
}

// Format is one output format.
type Format struct {
	// Name is what --format takes.
	Name string
	// Write renders doc to w.
	Write func(w io.Writer, doc *result.Document, opts Options) error
}

// formats lists every output format, the default first.
var formats = []Format{
	{Name: "table", Write: writeTable},
	{Name: "json", Write: writeJSON},
	{Name: "sarif", Write: writeSARIF},
	{Name: "cyclonedx", Write: writeCycloneDX},
	{Name: "spdx", Write: writeSPDX},
	{Name: "html", Write: writeHTML},
	{Name: "openvex", Write: writeOpenVEX},
}

// Names returns the format names, the default first.
func Names() []string {
	out := make([]string, len(formats))
	for i, f := range formats {
		out[i] = f.Name
	}
	return out
}

// Lookup returns the format called name.
func Lookup(name string) (Format, error) {
	for _, f := range formats {
		if f.Name == name {
			write := f.Write
			f.Write = func(w io.Writer, doc *result.Document, opts Options) error {
				doc.CompleteFacts()
				return write(w, doc, opts)
			}
			return f, nil
		}
	}
	return Format{}, fmt.Errorf("unknown format %q", name)
}
