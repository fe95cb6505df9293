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
func splitJSON(r io.Reader, maxRecord int64, buf []byte, emit func([]byte) error) (envelope []byte, n int, err error) {
	s := splitter{max: maxRecord, emit: emit}
	if len(buf) == 0 {
		buf = make([]byte, 256<<10)
	}
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

// Where the bytes being scanned go.
const (
	toEnv  = iota // the envelope, or the whole document
	toElem        // the current element of the array
	toNone        // between elements
)

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
	// dst is where the bytes from seg on (in the chunk being fed) go.
	dst, seg int
}

// flush appends the chunk's bytes from seg up to end to dst.
func (s *splitter) flush(b []byte, end int) error {
	p := b[s.seg:end]
	s.seg = end
	switch s.dst {
	case toEnv:
		s.env = append(s.env, p...)
		if int64(len(s.env)) > s.max {
			return fmt.Errorf("record larger than %d bytes", s.max)
		}
	case toElem:
		s.elem = append(s.elem, p...)
		if int64(len(s.elem)) > s.max {
			return fmt.Errorf("record larger than %d bytes", s.max)
		}
	}
	return nil
}

// route sends the bytes from position at on to dst.
func (s *splitter) route(b []byte, at, dst int) error {
	if err := s.flush(b, at); err != nil {
		return err
	}
	s.dst = dst
	return nil
}

func (s *splitter) feed(b []byte) error {
	s.seg = 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if s.done {
			if !isSpace(c) {
				return errors.New("text after the end of the JSON document")
			}
			continue
		}
		if s.inStr {
			if !s.esc && !s.inKey && c != '"' && c != '\\' {
				// The rest of a plain run of the string at once.
				for i+1 < len(b) && b[i+1] != '"' && b[i+1] != '\\' {
					i++
				}
				continue
			}
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
				if err := s.route(b, i+1, toNone); err != nil { // the '[' stays in the envelope
					return err
				}
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
				s.elem = s.elem[:0]
				if err := s.route(b, i, toElem); err != nil {
					return err
				}
			}
		case '}', ']':
			s.depth--
			switch {
			case s.depth < 0:
				return errors.New("unbalanced JSON brackets")
			case s.array && s.depth == 2:
				if err := s.route(b, i+1, toNone); err != nil {
					return err
				}
				rec := make([]byte, len(s.elem))
				copy(rec, s.elem)
				s.n++
				if err := s.emit(rec); err != nil {
					return err
				}
			case s.array && s.depth == 1:
				s.array = false // the rest of the envelope follows, from this ']'
				if err := s.route(b, i, toEnv); err != nil {
					return err
				}
			case s.depth == 0:
				s.done = true
			}
		}
	}
	return s.flush(b, len(b))
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
