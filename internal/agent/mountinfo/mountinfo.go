// Package mountinfo reads a process's mount table, /proc/<pid>/mountinfo:
// the agent finds the cgroup2 mount with it, and the mounts of a
// container that are not its image (volumes, secrets, /proc).
package mountinfo

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Mount is one line of a mount table.
type Mount struct {
	// Point is where it is mounted, as the process sees it, unescaped.
	Point string
	// FSType is the file system type ("cgroup2", "proc", "overlay").
	FSType string
}

// maxLine bounds one line: a mount point is at most a PATH_MAX path,
// escaped.
const maxLine = 1 << 20

// Read parses a mount table; lines it cannot read are skipped.
func Read(r io.Reader) ([]Mount, error) {
	var out []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional…] - fstype source super
		fields := strings.Fields(sc.Text())
		if len(fields) < 7 {
			continue
		}
		sep := -1
		for i := 6; i < len(fields); i++ {
			if fields[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+1 >= len(fields) {
			continue
		}
		out = append(out, Mount{Point: Unescape(fields[4]), FSType: fields[sep+1]})
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("mountinfo: %w", err)
	}
	return out, nil
}

// Unescape undoes mountinfo's octal escapes (\040 for a space, \011,
// \012, \134).
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
