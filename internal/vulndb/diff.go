package vulndb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
)

// PackageKey names one (ecosystem, name) entry of the package index: the
// ecosystem as the advisories spell it ("Debian:12"), the name in
// osv.NormalizeName form.
type PackageKey struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
}

// Diff returns the package keys whose advisories differ between old and
// new: a key present in one only, a record added to or dropped from its
// list, or a listed record whose content changed. old may be nil
// (every key of new). Records are compared by their stored frames when
// both files share the compression dictionary, by their decoded bytes
// otherwise; nothing is parsed. Keys are in index order.
func Diff(ctx context.Context, old, new *DB) ([]PackageKey, error) {
	if new == nil {
		return nil, fmt.Errorf("vulndb: diff: no new database")
	}
	if new.closed.Load() || (old != nil && old.closed.Load()) {
		return nil, errClosed
	}
	if old == nil {
		out := make([]PackageKey, 0, new.pkgs.n)
		for i := range new.pkgs.n {
			out = append(out, splitKey(new.pkgs.key(i)))
		}
		return out, nil
	}
	raw := !bytes.Equal(old.sectionBytes(secDict), new.sectionBytes(secDict))
	oh, nh := newRecordHasher(old, raw), newRecordHasher(new, raw)
	var out []PackageKey
	i, j := 0, 0
	for i < old.pkgs.n || j < new.pkgs.n {
		if (i+j)%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		var ok, nk string
		if i < old.pkgs.n {
			ok = old.pkgs.key(i)
		}
		if j < new.pkgs.n {
			nk = new.pkgs.key(j)
		}
		switch {
		case j >= new.pkgs.n || (i < old.pkgs.n && ok < nk):
			out = append(out, splitKey(ok))
			i++
		case i >= old.pkgs.n || nk < ok:
			out = append(out, splitKey(nk))
			j++
		default:
			same, err := sameRecords(oh, old.pkgs.val(i), nh, new.pkgs.val(j))
			if err != nil {
				return nil, err
			}
			if !same {
				out = append(out, splitKey(nk))
			}
			i++
			j++
		}
	}
	return out, nil
}

// splitKey copies an index key out of the mapped file as a PackageKey.
func splitKey(k string) PackageKey {
	eco, name, _ := strings.Cut(k, "\x00")
	return PackageKey{Ecosystem: strings.Clone(eco), Name: strings.Clone(name)}
}

// sectionBytes is a section's content, nil when absent.
func (db *DB) sectionBytes(kind uint32) []byte {
	s, ok := db.hdr.find(kind)
	if !ok {
		return nil
	}
	return db.data[s.off : s.off+s.len]
}

// recordHasher names each record of one DB by its id and a hash of its
// frame (or, raw, of its decoded bytes), computing each once.
type recordHasher struct {
	db     *DB
	raw    bool
	hashes map[uint32][32]byte
}

func newRecordHasher(db *DB, raw bool) *recordHasher {
	return &recordHasher{db: db, raw: raw, hashes: map[uint32][32]byte{}}
}

// record returns record i's id and content hash.
func (h *recordHasher) record(i uint32) (string, [32]byte, error) {
	db := h.db
	if int(i) >= db.ids.n {
		return "", [32]byte{}, corrupt("record index %d out of range", i)
	}
	id := db.ids.key(int(i))
	if sum, ok := h.hashes[i]; ok {
		return id, sum, nil
	}
	ref := db.ids.val(int(i))
	if len(ref) != 12 {
		return "", [32]byte{}, corrupt("record reference of %d bytes", len(ref))
	}
	off, n := binary.LittleEndian.Uint64(ref), uint64(binary.LittleEndian.Uint32(ref[8:]))
	if off > uint64(len(db.records)) || n > uint64(len(db.records))-off {
		return "", [32]byte{}, corrupt("record %s lies outside the file", id)
	}
	b := db.records[off : off+n]
	if h.raw {
		dec, err := db.dec.DecodeAll(b, nil)
		if err != nil {
			return "", [32]byte{}, corrupt("record %s: %v", id, err)
		}
		b = dec
	}
	sum := sha256.Sum256(b)
	h.hashes[i] = sum
	return id, sum, nil
}

// sameRecords reports whether two index values list the same records
// (by id, in order) with the same content.
func sameRecords(oh *recordHasher, ov []byte, nh *recordHasher, nv []byte) (bool, error) {
	if len(ov) != len(nv) {
		return false, nil
	}
	for k := 0; k+4 <= len(ov); k += 4 {
		oid, osum, err := oh.record(binary.LittleEndian.Uint32(ov[k:]))
		if err != nil {
			return false, err
		}
		nid, nsum, err := nh.record(binary.LittleEndian.Uint32(nv[k:]))
		if err != nil {
			return false, err
		}
		if oid != nid || osum != nsum {
			return false, nil
		}
	}
	return true, nil
}
