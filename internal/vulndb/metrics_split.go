package vulndb

import (
	"errors"
	"fmt"
	"io"
)

// maxMetricsNest bounds the nesting of NVD and CVE 5 JSON: real records
// nest about 8 deep (CVE 5 containers.adp[].metrics[].other.content.options[]).
const maxMetricsNest = 64

// splitJSON reads one JSON document from r and hands its records to emit:
// each element of a top-level "vulnerabilities" array (NVD API 2.0 pages
// and the yearly feed files hold up to tens of thousands, so they are
// streamed, never held whole), or else the whole document as one record
// (a single NVD cve object or a CVE 5 record). It returns the envelope —
// the top-level object with the array's elements left out, e.g. an API
// page's totalResults — and how many records it emitted.
//
// It checks structure only (strings, escapes and bracket depth); each
// record is decoded by its consumer. Every record must fit in maxRecord
// bytes and nest at most maxMetricsNest deep: a larger or deeper
// document, a document cut short, or text after it is an error, so a
// truncated feed can never pass for a short one.
func splitJSON(r io.Reader, maxRecord int64, emit func([]byte) error) (envelope []byte, n int, err error) {
	s := splitter{max: maxRecord, emit: emit}
	buf := make([]byte, 256<<10)
	for {
		k, rerr := r.Read(buf)
		if k > 0 {
			if err := s.feed(buf[:k]); err != nil {
				return nil, s.n, err
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return nil, s.n, rerr
		}
	}
	if err := s.finish(); err != nil {
		return nil, s.n, err
	}
	return s.env, s.n, nil
}

type splitter struct {
	max  int64
	emit func([]byte) error
	n    int

	depth         int
	inStr, esc    bool
	started, done bool
	// Depth-1 keys: expectKey is set where an object key may start; key
	// collects the current key, lastKey the one whose value comes next.
	expectKey, inKey, afterColon bool
	key, lastKey                 []byte
	// array is set inside the top-level "vulnerabilities" array; elem
	// captures its current element.
	array, hadArray bool
	elem            []byte
	// env is the whole document, or its envelope once the array began.
	env []byte
}

func (s *splitter) feed(b []byte) error {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if s.done {
			if !isSpace(c) {
				return errors.New("text after the end of the JSON document")
			}
			continue
		}
		if s.inStr && !s.esc && !s.inKey && c != '"' && c != '\\' {
			// Fast path: the rest of a string's plain run in one append.
			j := i + 1
			for j < len(b) && b[j] != '"' && b[j] != '\\' {
				j++
			}
			if err := s.capture(b[i:j]); err != nil {
				return err
			}
			i = j - 1
			continue
		}
		inElem := s.array && s.depth >= 3
		if inElem || !(s.array && s.depth == 2 && c != ']') {
			if err := s.capture(b[i : i+1]); err != nil {
				return err
			}
		}
		if s.inStr {
			switch {
			case s.esc:
				s.esc = false
			case c == '\\':
				s.esc = true
			case c == '"':
				s.inStr = false
				if s.inKey {
					s.inKey, s.lastKey = false, append(s.lastKey[:0], s.key...)
				}
			default:
				if s.inKey && len(s.key) < 64 {
					s.key = append(s.key, c)
				}
			}
			continue
		}
		if isSpace(c) {
			continue
		}
		if !s.started {
			if c != '{' {
				return errors.New("not a JSON object")
			}
			s.started = true
		}
		if s.array && s.depth == 2 && c != '{' && c != ',' && c != ']' {
			return errors.New(`an element of "vulnerabilities" is not an object`)
		}
		if s.depth == 1 && s.afterColon {
			s.afterColon = false
			if c == '[' && string(s.lastKey) == "vulnerabilities" && !s.hadArray {
				s.array, s.hadArray = true, true
				s.depth = 2
				continue
			}
		}
		switch c {
		case '"':
			s.inStr = true
			if s.depth == 1 && s.expectKey {
				s.expectKey, s.inKey, s.key = false, true, s.key[:0]
			}
		case ':':
			if s.depth == 1 {
				s.afterColon = true
			}
		case ',':
			if s.depth == 1 {
				s.expectKey = true
			}
		case '{', '[':
			s.depth++
			if s.depth > maxMetricsNest {
				return fmt.Errorf("JSON nested deeper than %d levels", maxMetricsNest)
			}
			if s.depth == 1 {
				s.expectKey = true
			}
			if s.array && s.depth == 3 {
				s.elem = append(s.elem[:0], c)
			}
		case '}', ']':
			s.depth--
			switch {
			case s.depth < 0:
				return errors.New("unbalanced JSON brackets")
			case s.array && s.depth == 2 && inElem:
				rec := make([]byte, len(s.elem))
				copy(rec, s.elem)
				s.n++
				if err := s.emit(rec); err != nil {
					return err
				}
			case s.array && s.depth == 1:
				s.array = false // the rest of the envelope follows
			case s.depth == 0:
				s.done = true
			}
		}
	}
	return nil
}

// capture appends bytes to the element being read, or else to the
// envelope (the whole document until an array begins), within the cap.
func (s *splitter) capture(p []byte) error {
	dst := &s.env
	if s.array && s.depth >= 3 {
		dst = &s.elem
	}
	*dst = append(*dst, p...)
	if int64(len(*dst)) > s.max {
		return fmt.Errorf("record larger than %d bytes", s.max)
	}
	return nil
}

func (s *splitter) finish() error {
	switch {
	case !s.started:
		return errors.New("empty JSON document")
	case !s.done:
		return errors.New("truncated JSON document")
	}
	if !s.hadArray {
		// The document is the record.
		rec := s.env
		s.env = nil
		s.n++
		return s.emit(rec)
	}
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }
