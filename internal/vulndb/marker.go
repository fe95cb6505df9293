package vulndb

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// The verified marker, <db-dir>/runlens.db.verified, records that the index
// sections of one database file were checksummed, so that later opens of
// that same, unchanged file skip the checksums (about 12 ms at 600k
// advisories). It is bound to the file's identity as the filesystem keeps
// it (device, inode, size, mtime, ctime) and to the header checksum, which
// covers every section's CRC: a new generation (a new inode) or any later
// write to the file through the filesystem (which moves its ctime, even if
// mtime is restored) makes the marker stale and the next Open verifies
// again. It cannot see damage below the filesystem (a flipped bit on the
// disk or in the page cache): `runlens db status` checksums everything
// regardless of the marker, and every record read checks its own frame.
const markerName = FileName + ".verified"

const markerVersion = 1

// maxMarkerBytes bounds what is read of a marker file.
const maxMarkerBytes = 4096

// racyMargin is how much older than the start of a verification the file's
// last change must be for a marker to be written. Timestamps are coarse
// (jiffies on Linux, 2 s on FAT): without the margin a write landing in the
// same tick as the verified state would keep the same ctime and mtime, and
// the marker would vouch for bytes nobody checked. Tests shorten it.
var racyMargin = 2 * time.Second

// fileID is what the filesystem changes whenever a file is written.
type fileID struct {
	Dev     uint64 `json:"dev"`
	Ino     uint64 `json:"ino"`
	Size    int64  `json:"size"`
	MtimeNS int64  `json:"mtime_ns"`
	CtimeNS int64  `json:"ctime_ns"`
}

// marker is the content of the verified-marker file.
type marker struct {
	Version    int       `json:"version"`
	File       fileID    `json:"file"`
	HeaderCRC  uint32    `json:"header_crc"`
	BuiltAt    time.Time `json:"built_at"`
	Sections   []string  `json:"sections"`
	VerifiedAt time.Time `json:"verified_at"`
}

// headerCRC is the stored checksum of the header, which covers the CRC of
// every section: it names one generation of the file's content.
func headerCRC(data []byte) uint32 {
	return binary.LittleEndian.Uint32(data[headerCRCAt:])
}

// covers reports whether m vouches for every section in kinds of the file
// identified by id whose header checksum is hcrc.
func (m *marker) covers(id fileID, hcrc uint32, kinds []uint32) bool {
	if m.Version != markerVersion || m.File != id || m.HeaderCRC != hcrc {
		return false
	}
	for _, k := range kinds {
		if !slices.Contains(m.Sections, sectionName(k)) {
			return false
		}
	}
	return true
}

// readMarker returns the marker in dir; a missing, unreadable or
// malformed one is (nil, false): the caller verifies instead.
func readMarker(dir string) (*marker, bool) {
	f, err := os.Open(filepath.Join(dir, markerName))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxMarkerBytes+1))
	if err != nil || len(b) > maxMarkerBytes {
		return nil, false
	}
	var m marker
	if json.Unmarshal(b, &m) != nil {
		return nil, false
	}
	return &m, true
}

// errRacy is returned by recordVerified for a file changed too recently.
var errRacy = errors.New("file changed too recently to vouch for")

// recordVerified writes a marker for f after its sections in kinds were
// verified, starting at start. before is f's identity from before the
// verification; if f changed meanwhile, or changed within racyMargin of
// start, no marker is written. The write is atomic (temp file + rename);
// concurrent writers write the same content. A read-only directory only
// means the next Open verifies again.
func recordVerified(dir string, f *os.File, before fileID, hcrc uint32, built time.Time, kinds []uint32, start time.Time) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	after, ok := identify(st)
	if !ok || after != before {
		return errors.New("file changed during verification")
	}
	limit := start.Add(-racyMargin).UnixNano()
	if after.CtimeNS >= limit || after.MtimeNS >= limit {
		return errRacy
	}
	m := marker{Version: markerVersion, File: after, HeaderCRC: hcrc, BuiltAt: built, VerifiedAt: start.UTC()}
	for _, k := range kinds {
		m.Sections = append(m.Sections, sectionName(k))
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	// tempPrefix: the next import removes a leftover of a killed reader.
	tmp, err := os.CreateTemp(dir, tempPrefix+"verified-*")
	if err != nil {
		return fmt.Errorf("write verified marker: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write verified marker: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write verified marker: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write verified marker: %w", err)
	}
	// No fsync: a marker lost or torn by a crash fails to parse or to match,
	// and the next Open verifies again.
	if err := os.Rename(tmp.Name(), filepath.Join(dir, markerName)); err != nil {
		return fmt.Errorf("write verified marker: %w", err)
	}
	return nil
}
