package vulndb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// sectionNames are the names errors and `runlens db status` use.
var sectionNames = map[uint32]string{
	secRecords: "records",
	secDict:    "dictionary",
	secIDs:     "advisory index",
	secPkgs:    "package index",
	secAliases: "alias index",
	secWeak:    "upstream/related index",
	secThreat:  "EPSS/KEV table",
	secMeta:    "metadata",
	secStrings: "CVSS strings",
	secMetrics: "CVE metrics",
}

func sectionName(kind uint32) string {
	if n, ok := sectionNames[kind]; ok {
		return n
	}
	return fmt.Sprintf("section %d", kind)
}

// openCheckedKinds lists the sections Open checksums: all but records,
// which are decoded lazily and checked frame by frame on every read.
func openCheckedKinds(h *header) []uint32 {
	var kinds []uint32
	for _, s := range h.sections {
		if s.kind != secRecords {
			kinds = append(kinds, s.kind)
		}
	}
	return kinds
}

// sectionCRC computes the CRC-32C of section s, reading through r in 1 MiB
// chunks (reads, not the mapping, so a check does not make the whole file
// part of the process's RSS).
func sectionCRC(ctx context.Context, r io.ReaderAt, s section, buf []byte) (uint32, error) {
	c := uint32(0)
	for off := s.off; off < s.off+s.len; {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, err := r.ReadAt(buf[:min(uint64(len(buf)), s.off+s.len-off)], int64(off))
		if n == 0 && err != nil {
			return 0, fmt.Errorf("read section %d (%s): %w", s.kind, sectionName(s.kind), err)
		}
		c = crc32.Update(c, castagnoli, buf[:n])
		off += uint64(n)
	}
	return c, nil
}

func checksumMismatch(kind uint32) error {
	return corrupt("section %d (%s) checksum mismatch", kind, sectionName(kind))
}

// verifySections checks the CRC of every section of h whose kind is in
// kinds (all sections when kinds is nil).
func verifySections(ctx context.Context, r io.ReaderAt, h *header, kinds []uint32) error {
	buf := make([]byte, 1<<20)
	for _, s := range h.sections {
		if kinds != nil && !slices.Contains(kinds, s.kind) {
			continue
		}
		c, err := sectionCRC(ctx, r, s, buf)
		if err != nil {
			return err
		}
		if c != s.crc {
			return checksumMismatch(s.kind)
		}
	}
	return nil
}

// checkAtOpen checksums every section but records before a reader trusts
// the indexes, unless the verified marker in dir vouches for this very
// file (see marker.go). It reports whether the marker was trusted.
func checkAtOpen(ctx context.Context, dir string, f *os.File, st os.FileInfo, data []byte, h *header) (trusted bool, err error) {
	kinds := openCheckedKinds(h)
	hcrc := headerCRC(data)
	id, idOK := identify(st)
	if idOK {
		if m, ok := readMarker(dir); ok && m.covers(id, hcrc, kinds) {
			return true, nil
		}
	}
	start := time.Now()
	if err := verifySections(ctx, f, h, kinds); err != nil {
		return false, err
	}
	if idOK {
		// Best effort: without a marker the next Open verifies again.
		_ = recordVerified(dir, f, id, hcrc, metaBuiltAt(f, h), kinds, start)
	}
	return false, nil
}

// metaBuiltAt reads BuiltAt from the (already checksummed) metadata, for
// the marker, which shows it to a human; zero if it does not parse.
func metaBuiltAt(r io.ReaderAt, h *header) time.Time {
	s, ok := h.find(secMeta)
	if !ok || s.len > maxRecordBytes {
		return time.Time{}
	}
	b := make([]byte, s.len)
	if _, err := r.ReadAt(b, int64(s.off)); err != nil && !errors.Is(err, io.EOF) {
		return time.Time{}
	}
	var m struct {
		BuiltAt time.Time `json:"built_at"`
	}
	if json.Unmarshal(b, &m) != nil {
		return time.Time{}
	}
	return m.BuiltAt
}

// MaxUnreadableShown is how many unreadable advisory ids Integrity lists.
const MaxUnreadableShown = 20

// Integrity is the outcome of Check: every section's checksum and, when
// the records section is damaged, which advisories can no longer be read.
type Integrity struct {
	// Path is the database file checked.
	Path string
	// Sections lists every section of the file, in file order.
	Sections []SectionCheck
	// RecordsChecked is how many records were decoded one by one; it is
	// zero unless the records section failed its checksum.
	RecordsChecked int
	// Unreadable counts the records that failed to decode or verify;
	// UnreadableIDs holds the first MaxUnreadableShown of their ids.
	Unreadable    int
	UnreadableIDs []string
	// RecordsNote says why records could not be checked one by one (their
	// index or the dictionary is itself damaged); empty otherwise.
	RecordsNote string
}

// SectionCheck is the checksum verdict for one section.
type SectionCheck struct {
	Kind   uint32
	Name   string
	Offset int64
	Length int64
	OK     bool
}

// OK reports whether every section and record is intact.
func (in *Integrity) OK() bool {
	for _, s := range in.Sections {
		if !s.OK {
			return false
		}
	}
	return in.Unreadable == 0
}

// Err is nil for an intact file, else an ErrCorrupt error naming every
// damaged section and the unreadable records.
func (in *Integrity) Err() error {
	if in.OK() {
		return nil
	}
	var parts []string
	for _, s := range in.Sections {
		if !s.OK {
			parts = append(parts, fmt.Sprintf("section %d (%s) checksum mismatch", s.Kind, s.Name))
		}
	}
	if in.Unreadable > 0 {
		p := fmt.Sprintf("%d of %d records unreadable: %s", in.Unreadable, in.RecordsChecked, strings.Join(in.UnreadableIDs, ", "))
		if more := in.Unreadable - len(in.UnreadableIDs); more > 0 {
			p += fmt.Sprintf(" and %d more", more)
		}
		parts = append(parts, p)
	} else if in.RecordsNote != "" {
		parts = append(parts, in.RecordsNote)
	}
	return fmt.Errorf("%w: %s: %s", ErrCorrupt, in.Path, strings.Join(parts, "; "))
}

// Check verifies the database file in dir completely, whatever the
// verified marker says: the header, every section's checksum (records
// included) and, if the records section is damaged, every record, to name
// the advisories affected. An error means the file could not be checked at
// all (missing, unreadable, or a damaged header); damage found in sections
// or records is reported in the Integrity. An intact file gets a fresh
// verified marker.
func Check(ctx context.Context, dir string) (*Integrity, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, FileName)
	f, err := openFile(dir, "check")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("check vulnerability database: %w", err)
	}
	hb := make([]byte, headerSize)
	n, err := f.ReadAt(hb, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("check vulnerability database %s: %w", path, err)
	}
	hb = hb[:n]
	h, err := parseHeader(hb, st.Size())
	if err != nil {
		return nil, fmt.Errorf("check vulnerability database %s: %w", path, err)
	}
	start := time.Now()
	in := &Integrity{Path: path}
	buf := make([]byte, 1<<20)
	bad := map[uint32]bool{}
	for _, s := range h.sections {
		c, err := sectionCRC(ctx, f, s, buf)
		if err != nil {
			return nil, fmt.Errorf("check vulnerability database %s: %w", path, err)
		}
		in.Sections = append(in.Sections, SectionCheck{Kind: s.kind, Name: sectionName(s.kind), Offset: int64(s.off), Length: int64(s.len), OK: c == s.crc})
		bad[s.kind] = c != s.crc
	}
	switch {
	case !bad[secRecords]:
	case bad[secIDs] || bad[secDict]:
		in.RecordsNote = "records not checked one by one: the advisory index or the dictionary is damaged too"
	default:
		if err := checkRecords(ctx, f, st.Size(), in); err != nil {
			return nil, fmt.Errorf("check vulnerability database %s: %w", path, err)
		}
	}
	if in.OK() {
		if id, ok := identify(st); ok {
			var kinds []uint32
			for _, s := range h.sections {
				kinds = append(kinds, s.kind)
			}
			_ = recordVerified(dir, f, id, headerCRC(hb), metaBuiltAt(f, h), kinds, start)
		}
	}
	return in, nil
}

// checkRecords decodes every record of a file whose records section failed
// its checksum, on every CPU, and lists those that do not decode or verify
// (in index order).
func checkRecords(ctx context.Context, f *os.File, size int64, in *Integrity) error {
	data, unmap, err := mapFile(f, size)
	if err != nil {
		return err
	}
	defer unmap()
	db, err := openRecords(data)
	if err != nil {
		in.RecordsNote = fmt.Sprintf("records not checked one by one: %v", err)
		return nil
	}
	defer db.dec.Close()
	workers := runtime.GOMAXPROCS(0)
	bad := make([][]int, workers)
	g, gctx := errgroup.WithContext(ctx)
	for w := range workers {
		g.Go(func() error {
			for k, i := 0, w; i < db.ids.n; k, i = k+1, i+workers {
				if k%4096 == 0 {
					if err := gctx.Err(); err != nil {
						return err
					}
				}
				if _, err := db.decodeRecord(i); err != nil {
					bad[w] = append(bad[w], i)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	all := slices.Concat(bad...)
	slices.Sort(all)
	in.RecordsChecked, in.Unreadable = db.ids.n, len(all)
	for _, i := range all[:min(len(all), MaxUnreadableShown)] {
		in.UnreadableIDs = append(in.UnreadableIDs, strings.Clone(db.ids.key(i)))
	}
	return nil
}
