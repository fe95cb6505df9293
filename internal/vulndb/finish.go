package vulndb

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
)

// finish writes the indexes, the metadata and finally the header. Tables
// are streamed from compact sorted arrays (ids as uint32, pairs as uint64),
// never materialized whole: this phase sets the import's peak memory.
func (b *builder) finish(ctx context.Context) (Metadata, error) {
	if err := b.flushPending(ctx); err != nil {
		return Metadata{}, err
	}
	if enc := b.enc.Swap(nil); enc != nil {
		enc.Close()
	}
	b.hdr.sections = append(b.hdr.sections, section{kind: secRecords, crc: b.crc, off: headerSize, len: b.pos - headerSize})

	recs := make([]*recInfo, 0, len(b.recs))
	for _, r := range b.recs {
		recs = append(recs, r)
	}
	b.recs = nil
	slices.SortFunc(recs, func(x, y *recInfo) int { return cmp.Compare(x.id, y.id) })
	m := &b.meta
	m.Advisories = len(recs)
	m.BuiltAt = b.im.now()

	b.begin()
	if err := b.emit(b.dict); err != nil {
		return Metadata{}, err
	}
	b.end(secDict)

	var ref [12]byte
	err := b.writeTable(secIDs, len(recs), func(i int) string { return recs[i].id }, func(i int, dst []byte) []byte {
		binary.LittleEndian.PutUint64(ref[:], recs[i].off)
		binary.LittleEndian.PutUint32(ref[8:], recs[i].n)
		return append(dst, ref[:]...)
	})
	if err != nil {
		return Metadata{}, err
	}
	if err := b.writePkgs(ctx, recs); err != nil {
		return Metadata{}, err
	}
	for _, l := range []struct {
		kind uint32
		get  func(*recInfo) string
	}{{secAliases, func(r *recInfo) string { return r.aliases }}, {secWeak, func(r *recInfo) string { return r.weak }}} {
		if err := ctx.Err(); err != nil {
			return Metadata{}, err
		}
		if err := b.writeLinks(l.kind, recs, l.get); err != nil {
			return Metadata{}, err
		}
	}

	cves := make([]string, 0, len(b.threat))
	for c := range b.threat {
		cves = append(cves, c)
	}
	slices.Sort(cves)
	err = b.writeTable(secThreat, len(cves), func(i int) string { return cves[i] }, func(i int, dst []byte) []byte {
		return append(dst, b.threat[cves[i]].marshal()...)
	})
	if err != nil {
		return Metadata{}, err
	}

	if err := b.writeMetrics(ctx); err != nil {
		return Metadata{}, err
	}

	mj, err := json.Marshal(m)
	if err != nil {
		return Metadata{}, err
	}
	b.begin()
	if err := b.emit(mj); err != nil {
		return Metadata{}, err
	}
	b.end(secMeta)
	if err := b.w.Flush(); err != nil {
		return Metadata{}, err
	}
	b.hdr.fileSize = b.pos
	if _, err := b.f.WriteAt(b.hdr.marshal(), 0); err != nil {
		return Metadata{}, fmt.Errorf("write header: %w", err)
	}
	return *m, nil
}

// writePkgs indexes (ecosystem, name) keys to record numbers and counts
// advisories per ecosystem.
func (b *builder) writePkgs(ctx context.Context, recs []*recInfo) error {
	keys := make([]string, 0, len(b.intern))
	for k := range b.intern {
		keys = append(keys, k)
	}
	b.intern = nil
	slices.Sort(keys)
	var pairs []uint64 // key index << 32 | record index
	var ecos []string
	for ri, r := range recs {
		if ri%65536 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		ecos = ecos[:0]
		for _, k := range r.pkgs {
			ki, _ := slices.BinarySearch(keys, k)
			pairs = append(pairs, uint64(ki)<<32|uint64(ri))
			if eco, _, _ := strings.Cut(k, "\x00"); !slices.Contains(ecos, eco) {
				ecos = append(ecos, eco)
				b.meta.Ecosystems[eco]++
			}
		}
		if r.withdrawn {
			b.meta.Withdrawn++
		}
	}
	slices.Sort(pairs)
	b.meta.Packages = len(keys)
	starts := runStarts(pairs, len(keys))
	return b.writeTable(secPkgs, len(keys), func(i int) string { return keys[i] }, func(i int, dst []byte) []byte {
		for _, p := range pairs[starts[i]:starts[i+1]] {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(p))
		}
		return dst
	})
}

// runStarts returns, for sorted pairs keyed by their high 32 bits, where
// the run of each key 0..n-1 begins (and n+1 entries in all).
func runStarts(pairs []uint64, n int) []int {
	starts := make([]int, n+1)
	j := 0
	for i := range n {
		starts[i] = j
		for j < len(pairs) && int(pairs[j]>>32) == i {
			j++
		}
	}
	starts[n] = j
	return starts
}

// writeLinks indexes links in both directions: every id that names another
// (and every id named) becomes a key whose value lists its partners as
// indexes of the table's own keys.
func (b *builder) writeLinks(kind uint32, recs []*recInfo, get func(*recInfo) string) error {
	var names []string
	for _, r := range recs {
		if l := get(r); l != "" {
			names = append(names, r.id)
			names = append(names, strings.Split(l, "\n")...)
		}
	}
	slices.Sort(names)
	names = slices.Clip(slices.Compact(names))
	if len(names) > math.MaxUint32 {
		return fmt.Errorf("too many linked ids: %d", len(names))
	}
	var pairs []uint64
	for _, r := range recs {
		l := get(r)
		if l == "" {
			continue
		}
		a, _ := slices.BinarySearch(names, r.id)
		for o := range strings.SplitSeq(l, "\n") {
			c, _ := slices.BinarySearch(names, o)
			pairs = append(pairs, uint64(a)<<32|uint64(c), uint64(c)<<32|uint64(a))
		}
	}
	slices.Sort(pairs)
	pairs = slices.Compact(pairs)
	starts := runStarts(pairs, len(names))
	return b.writeTable(kind, len(names), func(i int) string { return names[i] }, func(i int, dst []byte) []byte {
		for _, p := range pairs[starts[i]:starts[i+1]] {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(p))
		}
		return dst
	})
}

func (b *builder) begin() {
	b.secStart = b.pos
	b.crc = 0
}

func (b *builder) end(kind uint32) {
	b.hdr.sections = append(b.hdr.sections, section{kind: kind, crc: b.crc, off: b.secStart, len: b.pos - b.secStart})
}

// writeTable streams a table (see format.go) in two passes over its
// entries: the first computes the offset arrays, the second writes the
// keys and values. Keys must come sorted and distinct.
func (b *builder) writeTable(kind uint32, n int, key func(int) string, val func(int, []byte) []byte) error {
	keyOffs := make([]byte, 4*(n+1))
	valOffs := make([]byte, 4*(n+1))
	var ko, vo uint64
	var scratch []byte
	for i := range n {
		k := key(i)
		if i > 0 && k <= key(i-1) {
			return fmt.Errorf("table %d: keys out of order: %q after %q", kind, k, key(i-1))
		}
		scratch = val(i, scratch[:0])
		ko += uint64(len(k))
		vo += uint64(len(scratch))
		if ko > math.MaxUint32 || vo > math.MaxUint32 {
			return fmt.Errorf("table %d larger than 4 GiB", kind)
		}
		binary.LittleEndian.PutUint32(keyOffs[4*(i+1):], uint32(ko))
		binary.LittleEndian.PutUint32(valOffs[4*(i+1):], uint32(vo))
	}
	b.begin()
	for _, p := range [][]byte{binary.LittleEndian.AppendUint32(nil, uint32(n)), keyOffs, valOffs} {
		if err := b.emit(p); err != nil {
			return err
		}
	}
	for i := range n {
		scratch = append(scratch[:0], key(i)...)
		if err := b.emit(scratch); err != nil {
			return err
		}
	}
	for i := range n {
		if err := b.emit(val(i, scratch[:0])); err != nil {
			return err
		}
	}
	b.end(kind)
	return nil
}
