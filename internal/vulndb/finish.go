package vulndb

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
)

// finish writes the indexes, the metadata and finally the header.
func (b *builder) finish(ctx context.Context) (Metadata, error) {
	if err := b.flushPending(ctx); err != nil {
		return Metadata{}, err
	}
	if enc := b.enc.Load(); enc != nil {
		enc.Close()
	}
	b.hdr.sections = append(b.hdr.sections, section{kind: secRecords, crc: b.crc, off: headerSize, len: b.pos - headerSize})

	ids := make([]string, 0, len(b.recs))
	for id := range b.recs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	m := &b.meta
	m.Advisories = len(ids)
	m.BuiltAt = b.im.now()

	if err := b.section(secDict, b.dict); err != nil {
		return Metadata{}, err
	}

	// ids: id -> (offset, length); pkgs: key -> record numbers.
	tw := newTableWriter()
	pkgs := make(map[string][]uint32)
	var ref [12]byte
	for i, id := range ids {
		r := b.recs[id]
		binary.LittleEndian.PutUint64(ref[:], r.off)
		binary.LittleEndian.PutUint32(ref[8:], r.n)
		if err := tw.add(id, ref[:]); err != nil {
			return Metadata{}, err
		}
		for _, k := range r.pkgs {
			pkgs[k] = append(pkgs[k], uint32(i))
		}
		for _, e := range r.ecos {
			m.Ecosystems[e]++
		}
		if r.withdrawn {
			m.Withdrawn++
		}
	}
	if err := b.section(secIDs, tw.bytes()...); err != nil {
		return Metadata{}, err
	}
	if err := ctx.Err(); err != nil {
		return Metadata{}, err
	}

	keys := make([]string, 0, len(pkgs))
	for k := range pkgs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	m.Packages = len(keys)
	tw = newTableWriter()
	for _, k := range keys {
		if err := tw.add(k, u32bytes(pkgs[k])); err != nil {
			return Metadata{}, err
		}
	}
	pkgs = nil
	if err := b.section(secPkgs, tw.bytes()...); err != nil {
		return Metadata{}, err
	}

	for _, l := range []struct {
		kind uint32
		get  func(*recInfo) []string
	}{{secAliases, func(r *recInfo) []string { return r.aliases }}, {secWeak, func(r *recInfo) []string { return r.weak }}} {
		if err := ctx.Err(); err != nil {
			return Metadata{}, err
		}
		if err := b.section(l.kind, linkTable(ids, b.recs, l.get).bytes()...); err != nil {
			return Metadata{}, err
		}
	}

	cves := make([]string, 0, len(b.threat))
	for c := range b.threat {
		cves = append(cves, c)
	}
	slices.Sort(cves)
	tw = newTableWriter()
	for _, c := range cves {
		if err := tw.add(c, b.threat[c].marshal()); err != nil {
			return Metadata{}, err
		}
	}
	if err := b.section(secThreat, tw.bytes()...); err != nil {
		return Metadata{}, err
	}

	mj, err := json.Marshal(m)
	if err != nil {
		return Metadata{}, err
	}
	if err := b.section(secMeta, mj); err != nil {
		return Metadata{}, err
	}
	if err := b.w.Flush(); err != nil {
		return Metadata{}, err
	}
	b.hdr.fileSize = b.pos
	if _, err := b.f.WriteAt(b.hdr.marshal(), 0); err != nil {
		return Metadata{}, fmt.Errorf("write header: %w", err)
	}
	return *m, nil
}

// linkTable indexes links in both directions: every id that names another
// (and every id named) becomes a key whose value lists its partners as
// indexes of the table's own keys.
func linkTable(ids []string, recs map[string]*recInfo, get func(*recInfo) []string) *tableWriter {
	type pair struct{ a, b string }
	var pairs []pair
	for _, id := range ids {
		for _, o := range get(recs[id]) {
			pairs = append(pairs, pair{id, o}, pair{o, id})
		}
	}
	slices.SortFunc(pairs, func(x, y pair) int {
		if c := cmp.Compare(x.a, y.a); c != 0 {
			return c
		}
		return cmp.Compare(x.b, y.b)
	})
	pairs = slices.Compact(pairs)
	var keys []string
	for i, p := range pairs {
		if i == 0 || p.a != pairs[i-1].a {
			keys = append(keys, p.a)
		}
	}
	tw := newTableWriter()
	var val []byte
	for i := 0; i < len(pairs); {
		j := i
		val = val[:0]
		for ; j < len(pairs) && pairs[j].a == pairs[i].a; j++ {
			k, _ := slices.BinarySearch(keys, pairs[j].b) // present: links are symmetric
			val = binary.LittleEndian.AppendUint32(val, uint32(k))
		}
		tw.add(pairs[i].a, val) // keys come sorted and distinct
		i = j
	}
	return tw
}
