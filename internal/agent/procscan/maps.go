package procscan

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// mapsResult is what parseMaps found in one maps file.
type mapsResult struct {
	maps      []Mapping
	lines     int  // lines read
	malformed int  // lines that did not parse
	cut       bool // stopped at the cap with more to read
}

// maxMapsLine bounds one maps line: the kernel prints at most a PATH_MAX
// path after the fixed fields.
const maxMapsLine = 8 << 10

// parseMaps reads /proc/<pid>/maps lines
//
//	7f1c2a000000-7f1c2a022000 r-xp 00000000 fd:01 1835099    /usr/lib/x86_64-linux-gnu/libc.so.6
//
// and returns the distinct file-backed mappings (inode not 0, a path),
// merged by path, device and inode, in the order first seen; Exec is set
// when any mapping of the file is executable. It reads at most maxLines
// lines.
func parseMaps(r io.Reader, maxLines int) (mapsResult, error) {
	var res mapsResult
	br := getReader(r)
	defer putReader(br)
	index := map[fileKey]int{}
	for {
		line, err := readLine(br)
		if err == io.EOF {
			return res, nil
		}
		if err != nil && err != errLongLine {
			return res, err
		}
		if res.lines >= maxLines {
			res.cut = true
			return res, nil
		}
		res.lines++
		if err == errLongLine {
			res.malformed++
			continue
		}
		m, ok, perr := parseMapsLine(line)
		if perr != nil {
			res.malformed++
			continue
		}
		if !ok {
			continue
		}
		k := m.key()
		if i, seen := index[k]; seen {
			res.maps[i].Exec = res.maps[i].Exec || m.Exec
			continue
		}
		index[k] = len(res.maps)
		res.maps = append(res.maps, m)
	}
}

// readers are the line readers of maps and socket tables, reused: each
// buffer is large so one read takes what the kernel gives at once.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

// getReader returns a pooled reader over r.
func getReader(r io.Reader) *bufio.Reader {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

// putReader returns br to the pool.
func putReader(br *bufio.Reader) {
	br.Reset(nil)
	readers.Put(br)
}

// errLongLine reports a line longer than maxMapsLine (skipped whole).
var errLongLine = errors.New("line too long")

// readLine returns the next line without its newline. A line longer than
// maxMapsLine is consumed and reported as errLongLine; io.EOF ends the
// input (a last line without a newline is returned first).
func readLine(br *bufio.Reader) (string, error) {
	var buf []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			if err == io.EOF && buf != nil {
				break
			}
			return "", err
		}
		if buf == nil && !isPrefix && len(chunk) <= maxMapsLine {
			return string(chunk), nil
		}
		if len(buf)+len(chunk) > maxMapsLine {
			for isPrefix {
				if _, isPrefix, err = br.ReadLine(); err != nil {
					break
				}
			}
			return "", errLongLine
		}
		buf = append(buf, chunk...)
		if !isPrefix {
			break
		}
	}
	return string(buf), nil
}

// parseMapsLine parses one maps line; ok is false for an anonymous or
// pseudo mapping ([heap], [stack], [vdso]).
func parseMapsLine(line string) (m Mapping, ok bool, err error) {
	var f [5]string
	rest := line
	for i := range f {
		rest = strings.TrimLeft(rest, " ")
		var found bool
		f[i], rest, found = strings.Cut(rest, " ")
		if f[i] == "" || (!found && i < 4) {
			return Mapping{}, false, fmt.Errorf("maps line %q: too few fields", line)
		}
	}
	if !strings.Contains(f[0], "-") || len(f[1]) != 4 {
		return Mapping{}, false, fmt.Errorf("maps line %q: bad address or permissions", line)
	}
	dev, good := parseMapsDev(f[3])
	if !good {
		return Mapping{}, false, fmt.Errorf("maps line %q: bad device", line)
	}
	ino, perr := strconv.ParseUint(f[4], 10, 64)
	if perr != nil {
		return Mapping{}, false, fmt.Errorf("maps line %q: bad inode", line)
	}
	path := strings.TrimLeft(rest, " ")
	if ino == 0 || !strings.HasPrefix(path, "/") {
		return Mapping{}, false, nil
	}
	path, deleted := cutDeleted(path)
	// The kernel escapes a newline in a mapped path as \012.
	path = strings.ReplaceAll(path, `\012`, "\n")
	m = Mapping{FileID: FileID{Path: path, Dev: dev, Inode: ino, Deleted: deleted}, Exec: f[1][2] == 'x'}
	return m, true, nil
}

// ReadMaps reads the file-backed mappings of one process,
// <procRoot>/<pid>/maps, at most maxLines lines (0: 100,000): the agent
// reads a process again soon after it execs, to see libraries mapped
// without an open it traced.
func ReadMaps(procRoot string, pid, maxLines int) ([]Mapping, error) {
	if maxLines <= 0 {
		maxLines = 100_000
	}
	f, err := os.Open(filepath.Join(procRoot, strconv.Itoa(pid), "maps"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := parseMaps(f, maxLines)
	return res.maps, err
}
