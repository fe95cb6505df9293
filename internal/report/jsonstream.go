// Streaming JSON for the interchange formats: a large document is written
// element by element instead of being marshalled, indented and copied
// whole, with the same bytes json.MarshalIndent would give.

package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
)

// indentWriter re-indents the compact JSON written to it the way
// json.Indent does with an empty prefix (whitespace outside strings is
// dropped, empty objects and arrays stay "{}" and "[]"), so a document
// written to it in pieces comes out as if indented whole.
type indentWriter struct {
	w      io.Writer
	indent string
	buf    []byte
	err    error
	depth  int
	// needIndent is set after "{" or "[": the newline waits for the next
	// byte, so that an empty object or array stays on one line.
	needIndent, inString, escaped bool
}

// newIndentWriter indents with indent per level onto w.
func newIndentWriter(w io.Writer, indent string) *indentWriter {
	return &indentWriter{w: w, indent: indent, buf: make([]byte, 0, 64<<10)}
}

// Write re-indents p; a JSON value may be split anywhere between calls.
func (iw *indentWriter) Write(p []byte) (int, error) {
	if iw.err != nil {
		return 0, iw.err
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if iw.inString {
			if iw.escaped {
				iw.escaped = false
				iw.buf = append(iw.buf, c)
				continue
			}
			// Copy the run of plain string bytes at once.
			j := i
			for j < len(p) && p[j] != '"' && p[j] != '\\' {
				j++
			}
			iw.buf = append(iw.buf, p[i:j]...)
			if j == len(p) {
				break
			}
			i = j
			c = p[i]
			if c == '\\' {
				iw.escaped = true
			} else {
				iw.inString = false
			}
			iw.buf = append(iw.buf, c)
			continue
		}
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			continue
		}
		if iw.needIndent && c != '}' && c != ']' {
			iw.needIndent = false
			iw.depth++
			iw.newline()
		}
		switch c {
		case '"':
			iw.inString = true
			iw.buf = append(iw.buf, c)
		case '{', '[':
			iw.needIndent = true
			iw.buf = append(iw.buf, c)
		case ',':
			iw.buf = append(iw.buf, c)
			iw.newline()
		case ':':
			iw.buf = append(iw.buf, c, ' ')
		case '}', ']':
			if iw.needIndent {
				iw.needIndent = false
			} else {
				iw.depth--
				iw.newline()
			}
			iw.buf = append(iw.buf, c)
		default:
			iw.buf = append(iw.buf, c)
		}
	}
	if len(iw.buf) >= 32<<10 {
		iw.flushBuf()
	}
	return len(p), iw.err
}

// newline starts a line at the current depth.
func (iw *indentWriter) newline() {
	iw.buf = append(iw.buf, '\n')
	for range iw.depth {
		iw.buf = append(iw.buf, iw.indent...)
	}
}

// flushBuf writes what is buffered.
func (iw *indentWriter) flushBuf() {
	if iw.err == nil && len(iw.buf) > 0 {
		_, iw.err = iw.w.Write(iw.buf)
	}
	iw.buf = iw.buf[:0]
}

// Flush writes what is buffered and reports the first error.
func (iw *indentWriter) Flush() error {
	iw.flushBuf()
	return iw.err
}

// jsonArray is a large array of a streamed document: the skeleton holds
// marker, a one-element stand-in, where the array goes; the array's n
// elements are made one at a time by elem. n must be at least 1 (an empty
// array is left in the skeleton as it is).
type jsonArray struct {
	marker any
	n      int
	elem   func(i int) any
}

// streamJSON writes skeleton as indented JSON (indent "  ", no trailing
// newline) with each array's marker replaced by its elements, each
// marshalled on its own: the bytes are those of marshalling the whole
// document, without holding it.
func streamJSON(w io.Writer, skeleton any, escapeHTML bool, arrays ...jsonArray) error {
	var skel bytes.Buffer
	enc := json.NewEncoder(&skel)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(skeleton); err != nil {
		return err
	}
	return streamJSONBody(w, skel.Bytes(), escapeHTML, arrays...)
}

// streamJSONBody is streamJSON of a skeleton marshalled already (compact,
// as json.Marshal or an Encoder without indent gives it).
func streamJSONBody(w io.Writer, body []byte, escapeHTML bool, arrays ...jsonArray) error {
	iw := newIndentWriter(w, "  ")
	if err := spliceJSON(iw, body, escapeHTML, arrays); err != nil {
		return err
	}
	return iw.Flush()
}

// streamCompactJSON writes skeleton with its arrays as json.Marshal
// would, compact (for a hash of the document).
func streamCompactJSON(w io.Writer, skeleton any, arrays ...jsonArray) error {
	body, err := json.Marshal(skeleton)
	if err != nil {
		return err
	}
	return spliceJSON(w, body, true, arrays)
}

// spliceJSON writes body with each array's marker replaced by its
// elements, compact.
func spliceJSON(w io.Writer, body []byte, escapeHTML bool, arrays []jsonArray) error {
	body = bytes.TrimSuffix(body, []byte("\n"))
	type cut struct {
		at, end int
		a       jsonArray
	}
	var cuts []cut
	for _, a := range arrays {
		var m bytes.Buffer
		me := json.NewEncoder(&m)
		me.SetEscapeHTML(escapeHTML)
		if err := me.Encode(a.marker); err != nil {
			return err
		}
		marker := bytes.TrimSuffix(m.Bytes(), []byte("\n"))
		at := bytes.Index(body, marker)
		if at < 0 || bytes.Contains(body[at+len(marker):], marker) {
			return fmt.Errorf("streaming JSON: the array marker %s is not in the document once", marker)
		}
		cuts = append(cuts, cut{at: at, end: at + len(marker), a: a})
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].at < cuts[j].at })
	var eb bytes.Buffer
	elems := json.NewEncoder(&eb)
	elems.SetEscapeHTML(escapeHTML)
	prev := 0
	for _, c := range cuts {
		if _, err := w.Write(body[prev:c.at]); err != nil {
			return err
		}
		for i := range c.a.n {
			eb.Reset()
			if i > 0 {
				eb.WriteByte(',')
			}
			if err := elems.Encode(c.a.elem(i)); err != nil {
				return err
			}
			// Encode ends each value with a newline; Marshal does not.
			if _, err := w.Write(bytes.TrimSuffix(eb.Bytes(), []byte("\n"))); err != nil {
				return err
			}
		}
		prev = c.end
	}
	_, err := w.Write(body[prev:])
	return err
}
