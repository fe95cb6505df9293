package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
)

// JSON writes the whole Document as indented JSON when the run ends. Images
// are sorted by reference and digest so the output is stable no matter in
// which order concurrent scans finish.
type JSON struct {
	w      io.Writer
	header Header
	images []ImageResult
	wls    []WorkloadResult
}

// NewJSON returns a JSON handler writing to w.
func NewJSON(w io.Writer) *JSON { return &JSON{w: w} }

// Start implements Handler.
func (j *JSON) Start(h Header) error { j.header = h; return nil }

// Image implements Handler.
func (j *JSON) Image(r *ImageResult) error {
	j.images = append(j.images, *r)
	return nil
}

// Workload implements Handler.
func (j *JSON) Workload(w *WorkloadResult) error {
	j.wls = append(j.wls, *w)
	return nil
}

// End implements Handler.
func (j *JSON) End(s Summary) error {
	SortImages(j.images)
	SortWorkloads(j.wls)
	doc := Document{Header: j.header, Images: j.images, Workloads: j.wls, Summary: s}
	if doc.Images == nil {
		doc.Images = []ImageResult{}
	}
	enc := json.NewEncoder(j.w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}

// SortImages orders results by reference, then digest.
func SortImages(images []ImageResult) {
	sort.SliceStable(images, func(a, b int) bool {
		x, y := images[a].Target, images[b].Target
		if x.Reference != y.Reference {
			return x.Reference < y.Reference
		}
		return x.Digest < y.Digest
	})
}

// SortWorkloads orders workloads by cluster, namespace, kind and name.
func SortWorkloads(ws []WorkloadResult) {
	sort.SliceStable(ws, func(a, b int) bool { return ws[a].Ref() < ws[b].Ref() })
}

// Replay reads a JSON document written by the JSON handler and feeds it to h,
// so a saved result can be turned into any format.
func Replay(r io.Reader, h Handler) error {
	var doc Document
	dec := json.NewDecoder(io.LimitReader(r, 1<<30))
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("reading saved result: %w", err)
	}
	if doc.SchemaVersion == "" {
		return fmt.Errorf("reading saved result: no schema_version: not a runlens JSON result")
	}
	if err := h.Start(doc.Header); err != nil {
		return err
	}
	for i := range doc.Images {
		if err := h.Image(&doc.Images[i]); err != nil {
			return err
		}
	}
	for i := range doc.Workloads {
		if err := h.Workload(&doc.Workloads[i]); err != nil {
			return err
		}
	}
	return h.End(doc.Summary)
}
