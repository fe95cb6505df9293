package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/runlens/runlens/internal/result"
)

// writeJSON writes the whole document as indented JSON
// (docs/json-schema.md); result.Read reads it back.
func writeJSON(w io.Writer, doc *result.Document, _ Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}
