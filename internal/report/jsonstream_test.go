package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// streamDoc is a document with two large arrays and the awkward bytes of
// JSON: escapes, quotes and brackets inside strings, empty objects and
// arrays, HTML characters.
type streamDoc struct {
	Name  string         `json:"name"`
	Items []streamItem   `json:"items,omitempty"`
	Empty []string       `json:"empty"`
	Meta  map[string]any `json:"meta"`
	Tail  []streamItem   `json:"tail,omitempty"`
}

type streamItem struct {
	ID   string   `json:"id"`
	Tags []string `json:"tags"`
	Sub  struct{} `json:"sub"`
	N    float64  `json:"n"`
}

func streamFixture() streamDoc {
	d := streamDoc{Name: `a "quoted" \ name, with {braces} and [brackets]: <b>&`, Empty: []string{},
		Meta: map[string]any{"k": []any{}, "z": map[string]any{}, "u": "é\u2028\t"}}
	for i := range 5 {
		d.Items = append(d.Items, streamItem{ID: strings.Repeat(`\"`, i) + "x", Tags: []string{"t,", `"]`}, N: float64(i) / 3})
	}
	d.Tail = []streamItem{{ID: "only", Tags: []string{}}}
	return d
}

// streamArrays replaces the document's arrays by markers and streams them.
func streamArrays(d *streamDoc) (streamDoc, []jsonArray) {
	skel := *d
	skel.Items = []streamItem{{ID: "\x00items"}}
	skel.Tail = []streamItem{{ID: "\x00tail"}}
	return skel, []jsonArray{
		{marker: skel.Tail[0], n: len(d.Tail), elem: func(i int) any { return d.Tail[i] }},
		{marker: skel.Items[0], n: len(d.Items), elem: func(i int) any { return d.Items[i] }},
	}
}

// TestStreamJSONMatchesMarshalIndent: the streamed document has the bytes
// of json.MarshalIndent of the whole, with HTML escaped or not.
func TestStreamJSONMatchesMarshalIndent(t *testing.T) {
	d := streamFixture()
	for _, escape := range []bool{true, false} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(escape)
		enc.SetIndent("", "  ")
		if err := enc.Encode(&d); err != nil {
			t.Fatal(err)
		}
		skel, arrays := streamArrays(&d)
		var got bytes.Buffer
		if err := streamJSON(&got, &skel, escape, arrays...); err != nil {
			t.Fatal(err)
		}
		if got.String()+"\n" != want.String() {
			t.Errorf("escape %v: streamed\n%s\nwant\n%s", escape, got.String(), want.String())
		}
	}
}

// TestStreamCompactJSONMatchesMarshal: the compact stream (what the
// content hashes are taken of) has the bytes of json.Marshal.
func TestStreamCompactJSONMatchesMarshal(t *testing.T) {
	d := streamFixture()
	want, err := json.Marshal(&d)
	if err != nil {
		t.Fatal(err)
	}
	skel, arrays := streamArrays(&d)
	var got bytes.Buffer
	if err := streamCompactJSON(&got, &skel, arrays...); err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("streamed\n%s\nwant\n%s", got.String(), want)
	}
}

// TestIndentWriterSplitAnywhere: compact JSON written a byte at a time
// (a piece may end inside a string or an escape) is indented as
// json.Indent indents it whole.
func TestIndentWriterSplitAnywhere(t *testing.T) {
	d := streamFixture()
	compact, err := json.Marshal(&d)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := json.Indent(&want, compact, "", "  "); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	iw := newIndentWriter(&got, "  ")
	for i := range compact {
		if _, err := iw.Write(compact[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := iw.Flush(); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("indented\n%s\nwant\n%s", got.String(), want.String())
	}
}

// TestStreamJSONMissingMarker: a marker the skeleton does not hold is an
// error, not a document without the array.
func TestStreamJSONMissingMarker(t *testing.T) {
	d := streamFixture()
	arr := jsonArray{marker: streamItem{ID: "\x00absent"}, n: 1, elem: func(int) any { return d.Items[0] }}
	if err := streamJSON(&bytes.Buffer{}, &d, true, arr); err == nil {
		t.Error("a missing marker was not reported")
	}
}
