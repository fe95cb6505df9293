package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/runlens/runlens/internal/result"
)

// writeJSON writes the whole document as indented JSON
// (docs/json-schema.md); result.Read reads it back. It is written a
// piece at a time — the header, then each image, workload, action and
// risk as it is encoded — so a result of hundreds of thousands of
// entries is never held twice in memory. The risks come last, one compact
// entry per line; the rest is indented as json.MarshalIndent would.
func writeJSON(w io.Writer, doc *result.Document, _ Options) error {
	s := &jsonStream{w: bufio.NewWriterSize(w, 1<<16)}
	s.object(doc.Header)
	s.array("images", len(doc.Images), true, func(i int) any { return doc.Images[i] })
	if len(doc.Workloads) > 0 {
		s.array("workloads", len(doc.Workloads), true, func(i int) any { return doc.Workloads[i] })
	}
	if len(doc.Remediation) > 0 {
		s.array("remediation", len(doc.Remediation), true, func(i int) any { return &doc.Remediation[i] })
	}
	s.field("summary", &doc.Summary)
	if len(doc.Risks) > 0 {
		s.array("risks", len(doc.Risks), false, func(i int) any { return &doc.Risks[i] })
	}
	s.raw("\n}\n")
	if s.err == nil {
		s.err = s.w.Flush()
	}
	if s.err != nil {
		return fmt.Errorf("writing JSON report: %w", s.err)
	}
	return nil
}

// jsonStream writes one JSON object field by field.
type jsonStream struct {
	w   *bufio.Writer
	buf bytes.Buffer
	err error
}

// encode writes v as JSON, indented under prefix (or compact).
func (s *jsonStream) encode(v any, prefix string, indent bool) []byte {
	if s.err != nil {
		return nil
	}
	s.buf.Reset()
	enc := json.NewEncoder(&s.buf)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent(prefix, "  ")
	}
	if s.err = enc.Encode(v); s.err != nil {
		return nil
	}
	return bytes.TrimSuffix(s.buf.Bytes(), []byte("\n"))
}

func (s *jsonStream) raw(text string) {
	if s.err == nil {
		_, s.err = s.w.WriteString(text)
	}
}

func (s *jsonStream) bytes(b []byte) {
	if s.err == nil {
		_, s.err = s.w.Write(b)
	}
}

// object opens the document with the fields of v (a struct that encodes
// to a non-empty object), leaving it open for more.
func (s *jsonStream) object(v any) {
	b := s.encode(v, "", true)
	s.bytes(bytes.TrimSuffix(b, []byte("\n}")))
}

// field adds "name": v.
func (s *jsonStream) field(name string, v any) {
	s.raw(",\n  \"" + name + "\": ")
	s.bytes(s.encode(v, "  ", true))
}

// array adds "name": [...] of n elements, each indented or on a line of
// its own.
func (s *jsonStream) array(name string, n int, indent bool, elem func(int) any) {
	s.raw(",\n  \"" + name + "\": ")
	if n == 0 {
		s.raw("[]")
		return
	}
	s.raw("[\n")
	for i := range n {
		if i > 0 {
			s.raw(",\n")
		}
		s.raw("    ")
		s.bytes(s.encode(elem(i), "    ", indent))
	}
	s.raw("\n  ]")
}
