package result

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/match"
)

// maxDocumentBytes bounds what Read decodes.
const maxDocumentBytes = 1 << 30

// NewHeader returns the header of a run of command by runlens version,
// created now, with the database it matched against (nil when none).
// Filters are recorded by Document.Filter.
func NewHeader(command, version string, db *Database) Header {
	return Header{
		SchemaVersion: SchemaVersion,
		Scanner:       Scanner{Name: "runlens", Version: version},
		CreatedAt:     time.Now().UTC(),
		Command:       command,
		Database:      db,
	}
}

// New assembles a document from a run's results: the images, and for
// cluster scans the workloads and the clusters' funnels. It orders them
// (images by reference then digest, workloads by Ref), gives every image a
// non-nil findings list and derives the counts (Recount). The document
// keeps the slices it is given.
func New(h Header, images []*Image, workloads []*Workload, clusters []Cluster) *Document {
	d := &Document{Header: h, Images: images, Workloads: workloads}
	d.Summary.Clusters = clusters
	d.normalise()
	d.Recount()
	return d
}

// Read decodes a document written as JSON (by `--format json`), ordered
// and normalised as New does. The counts are kept as written until Filter
// or Recount derives them again. A document of an older schema is read
// into this one (fields it lacks stay empty) and says SchemaVersion from
// then on; one of a newer major version is refused.
func Read(r io.Reader) (*Document, error) {
	var d Document
	if err := json.NewDecoder(io.LimitReader(r, maxDocumentBytes)).Decode(&d); err != nil {
		return nil, fmt.Errorf("reading saved result: %w", err)
	}
	if d.SchemaVersion == "" {
		return nil, errors.New("reading saved result: no schema_version: not a runlens JSON result")
	}
	if major(d.SchemaVersion) > major(SchemaVersion) {
		return nil, fmt.Errorf("reading saved result: schema %s is newer than this runlens reads (%s)", d.SchemaVersion, SchemaVersion)
	}
	d.SchemaVersion = SchemaVersion
	d.normalise()
	return &d, nil
}

// major is the MAJOR of a "MAJOR.MINOR" version, 0 when it has none.
func major(version string) int {
	m, _, _ := strings.Cut(version, ".")
	n, _ := strconv.Atoi(m)
	return n
}

// normalise drops nil entries, orders images and workloads, and makes
// every findings list non-nil, so the JSON always has an array.
func (d *Document) normalise() {
	d.Images = compact(d.Images)
	d.Workloads = compact(d.Workloads)
	if d.Images == nil {
		d.Images = []*Image{}
	}
	for _, img := range d.Images {
		if img.Findings == nil {
			img.Findings = []match.Finding{}
		}
	}
	sort.SliceStable(d.Images, func(a, b int) bool {
		x, y := d.Images[a].Target, d.Images[b].Target
		if x.Reference != y.Reference {
			return x.Reference < y.Reference
		}
		return x.Digest < y.Digest
	})
	sort.SliceStable(d.Workloads, func(a, b int) bool { return d.Workloads[a].Ref() < d.Workloads[b].Ref() })
	d.CompleteFacts()
}

// compact removes nil entries in place; an empty list becomes nil.
func compact[T any](list []*T) []*T {
	out := list[:0]
	for _, v := range list {
		if v != nil {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Incomplete returns the result of an image, or of a registry listing,
// that could not be scanned completely: status StatusFailed or
// StatusPartial (any other status is taken as failed), the reason, and
// an empty findings list. Every failed or partial result that is not
// built by a scan of the image's contents is made here.
func Incomplete(target image.Descriptor, status string, reason error) *Image {
	if status != StatusPartial {
		status = StatusFailed
	}
	r := &Image{Target: target, Status: status, Findings: []match.Finding{}}
	if reason != nil {
		r.Error = reason.Error()
	}
	return r
}
