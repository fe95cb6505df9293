package registry

import (
	"encoding/json"
	"fmt"
	"io"
)

// decodeList streams a catalog or tags page ({"<field>": ["a", "b"], ...})
// from r, calling each for every string of the field's array without
// holding the page in memory; other fields are skipped. It stops early,
// without error, when each returns false.
func decodeList(r io.Reader, field string, each func(string) bool) error {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if key != field {
			if err := skipValue(dec); err != nil {
				return err
			}
			continue
		}
		tok, err = dec.Token()
		if err != nil {
			return err
		}
		if tok == nil {
			continue // "tags": null, as distribution sends for no tags
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return fmt.Errorf("%q is not an array", field)
		}
		for dec.More() {
			var s string
			if err := dec.Decode(&s); err != nil {
				return fmt.Errorf("%q entry: %w", field, err)
			}
			if !each(s) {
				return nil
			}
		}
		if err := expectDelim(dec, ']'); err != nil {
			return err
		}
	}
	return expectDelim(dec, '}')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, tok)
	}
	return nil
}

// skipValue reads one value token by token, so a large field that is not
// needed is never held whole.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}
