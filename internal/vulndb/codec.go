package vulndb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/runlens/runlens/internal/osv"
)

// The store keeps each advisory in a compact binary form rather than JSON:
// encoding/json needs ~13 µs to decode an average record, this codec about a
// tenth of that, which is what makes a warm Lookup fit in the 10 µs budget.
// The layout follows osv.Vulnerability field by field; a leading version byte
// lets a later release change it.

const codecVersion = 1

// maxAnyDepth bounds nesting inside database_specific / ecosystem_specific
// values, both when encoding and when decoding untrusted bytes.
const maxAnyDepth = 64

var errCodec = errors.New("malformed record encoding")

type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }

func (e *encoder) strs(ss []string) {
	e.uvarint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.b = append(e.b, 0)
		return
	}
	e.b = append(e.b, 1)
	e.varint(t.Unix())
	e.uvarint(uint64(t.Nanosecond()))
}

func (e *encoder) severities(ss []osv.Severity) {
	e.uvarint(uint64(len(ss)))
	for _, s := range ss {
		e.str(s.Type)
		e.str(s.Score)
	}
}

// Tags for values decoded from JSON into `any`.
const (
	tagNil byte = iota
	tagFalse
	tagTrue
	tagNumber
	tagString
	tagArray
	tagObject
)

func (e *encoder) anyValue(v any, depth int) error {
	if depth > maxAnyDepth {
		return fmt.Errorf("%w: nesting deeper than %d", errCodec, maxAnyDepth)
	}
	switch x := v.(type) {
	case nil:
		e.b = append(e.b, tagNil)
	case bool:
		if x {
			e.b = append(e.b, tagTrue)
		} else {
			e.b = append(e.b, tagFalse)
		}
	case float64:
		e.b = append(e.b, tagNumber)
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(x))
	case string:
		e.b = append(e.b, tagString)
		e.str(x)
	case []any:
		e.b = append(e.b, tagArray)
		e.uvarint(uint64(len(x)))
		for _, it := range x {
			if err := e.anyValue(it, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		e.b = append(e.b, tagObject)
		return e.object(x, depth+1)
	default:
		return fmt.Errorf("%w: unsupported value type %T", errCodec, v)
	}
	return nil
}

func (e *encoder) object(m map[string]any, depth int) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic output: the same record gives the same bytes
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		if err := e.anyValue(m[k], depth); err != nil {
			return err
		}
	}
	return nil
}

// encodeVuln appends the binary form of v to dst.
func encodeVuln(dst []byte, v *osv.Vulnerability) ([]byte, error) {
	e := &encoder{b: append(dst, codecVersion)}
	e.str(v.SchemaVersion)
	e.str(v.ID)
	e.time(v.Modified)
	e.time(v.Published)
	if v.Withdrawn != nil {
		e.b = append(e.b, 1)
		e.time(*v.Withdrawn)
	} else {
		e.b = append(e.b, 0)
	}
	e.strs(v.Aliases)
	e.strs(v.Related)
	e.strs(v.Upstream)
	e.str(v.Summary)
	e.str(v.Details)
	e.severities(v.Severity)
	e.uvarint(uint64(len(v.Affected)))
	for i := range v.Affected {
		a := &v.Affected[i]
		e.str(a.Package.Ecosystem)
		e.str(a.Package.Name)
		e.str(a.Package.PURL)
		e.severities(a.Severity)
		e.uvarint(uint64(len(a.Ranges)))
		for _, r := range a.Ranges {
			e.str(r.Type)
			e.str(r.Repo)
			e.uvarint(uint64(len(r.Events)))
			for _, ev := range r.Events {
				e.event(ev)
			}
		}
		e.strs(a.Versions)
		if err := e.object(a.EcosystemSpecific, 1); err != nil {
			return nil, err
		}
		if err := e.object(a.DatabaseSpecific, 1); err != nil {
			return nil, err
		}
	}
	e.uvarint(uint64(len(v.References)))
	for _, r := range v.References {
		e.str(r.Type)
		e.str(r.URL)
	}
	if err := e.object(v.DatabaseSpecific, 1); err != nil {
		return nil, err
	}
	return e.b, nil
}

// event writes a bitmask of the set fields, then those fields; OSV says one
// is set, but a record that sets several still round-trips.
func (e *encoder) event(ev osv.Event) {
	var mask byte
	for i, s := range [4]string{ev.Introduced, ev.Fixed, ev.LastAffected, ev.Limit} {
		if s != "" {
			mask |= 1 << i
		}
	}
	e.b = append(e.b, mask)
	for _, s := range [4]string{ev.Introduced, ev.Fixed, ev.LastAffected, ev.Limit} {
		if s != "" {
			e.str(s)
		}
	}
}

// decoder reads from a string so that every decoded string is a substring
// of one allocation instead of one allocation each.
type decoder struct {
	s   string
	i   int
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCodec
	}
	d.i = len(d.s)
}

func (d *decoder) byte() byte {
	if d.i >= len(d.s) {
		d.fail()
		return 0
	}
	c := d.s[d.i]
	d.i++
	return c
}

func (d *decoder) uvarint() uint64 {
	var x uint64
	var shift uint
	for n := 0; n < binary.MaxVarintLen64; n++ {
		c := d.byte()
		if d.err != nil {
			return 0
		}
		x |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return x
		}
		shift += 7
	}
	d.fail()
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// count reads a length and rejects one that cannot fit in what is left,
// so corrupt input can never make the decoder allocate huge slices.
func (d *decoder) count() int {
	n := d.uvarint()
	if n > uint64(len(d.s)-d.i) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) str() string {
	n := d.count()
	s := d.s[d.i : d.i+n]
	d.i += n
	return s
}

func (d *decoder) strs() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func (d *decoder) time() time.Time {
	if d.byte() == 0 {
		return time.Time{}
	}
	sec := d.varint()
	nsec := d.uvarint()
	if nsec >= 1e9 {
		d.fail()
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (d *decoder) severities() []osv.Severity {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]osv.Severity, n)
	for i := range out {
		out[i] = osv.Severity{Type: d.str(), Score: d.str()}
	}
	return out
}

func (d *decoder) anyValue(depth int) any {
	if depth > maxAnyDepth {
		d.fail()
		return nil
	}
	switch d.byte() {
	case tagNil:
		return nil
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagNumber:
		if len(d.s)-d.i < 8 {
			d.fail()
			return nil
		}
		var b [8]byte
		copy(b[:], d.s[d.i:d.i+8])
		d.i += 8
		return math.Float64frombits(binary.LittleEndian.Uint64(b[:]))
	case tagString:
		return d.str()
	case tagArray:
		n := d.count()
		out := make([]any, n)
		for i := range out {
			out[i] = d.anyValue(depth + 1)
		}
		return out
	case tagObject:
		return d.object(depth + 1)
	default:
		d.fail()
		return nil
	}
}

func (d *decoder) object(depth int) map[string]any {
	n := d.count()
	if n == 0 {
		return nil
	}
	m := make(map[string]any, n)
	for range n {
		k := d.str()
		m[k] = d.anyValue(depth)
		if d.err != nil {
			return nil
		}
	}
	return m
}

// decodeVuln parses the binary form produced by encodeVuln.
func decodeVuln(s string) (*osv.Vulnerability, error) {
	d := &decoder{s: s}
	if d.byte() != codecVersion {
		return nil, fmt.Errorf("%w: unknown codec version", errCodec)
	}
	v := &osv.Vulnerability{
		SchemaVersion: d.str(),
		ID:            d.str(),
		Modified:      d.time(),
		Published:     d.time(),
	}
	if d.byte() == 1 {
		t := d.time()
		v.Withdrawn = &t
	}
	v.Aliases = d.strs()
	v.Related = d.strs()
	v.Upstream = d.strs()
	v.Summary = d.str()
	v.Details = d.str()
	v.Severity = d.severities()
	if n := d.count(); n > 0 {
		v.Affected = make([]osv.Affected, n)
		for i := range v.Affected {
			a := &v.Affected[i]
			a.Package = osv.Package{Ecosystem: d.str(), Name: d.str(), PURL: d.str()}
			a.Severity = d.severities()
			if nr := d.count(); nr > 0 {
				a.Ranges = make([]osv.Range, nr)
				for j := range a.Ranges {
					r := &a.Ranges[j]
					r.Type = d.str()
					r.Repo = d.str()
					if ne := d.count(); ne > 0 {
						r.Events = make([]osv.Event, ne)
						for k := range r.Events {
							r.Events[k] = d.event()
						}
					}
				}
			}
			a.Versions = d.strs()
			a.EcosystemSpecific = d.object(1)
			a.DatabaseSpecific = d.object(1)
		}
	}
	if n := d.count(); n > 0 {
		v.References = make([]osv.Reference, n)
		for i := range v.References {
			v.References[i] = osv.Reference{Type: d.str(), URL: d.str()}
		}
	}
	v.DatabaseSpecific = d.object(1)
	if d.err != nil {
		return nil, d.err
	}
	if d.i != len(d.s) {
		return nil, fmt.Errorf("%w: trailing bytes", errCodec)
	}
	return v, nil
}

func (d *decoder) event() osv.Event {
	mask := d.byte()
	var f [4]string
	for i := range f {
		if mask&(1<<i) != 0 {
			f[i] = d.str()
		}
	}
	return osv.Event{Introduced: f[0], Fixed: f[1], LastAffected: f[2], Limit: f[3]}
}
