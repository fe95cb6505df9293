package layerfs

import (
	"io/fs"
	"strings"
)

// resolveLinks returns name with every symlink replaced by its target (the
// last component's only if follow), read as if the root were "/": absolute
// targets restart at the root and ".." never climbs above it. It follows at
// most maxHops symlinks. lstat and readlink read the tree being resolved, so
// the same walk serves every view (a flattened image, a directory behind
// os.Root).
func resolveLinks(name string, follow bool, lstat func(string) (fs.FileInfo, error), readlink func(string) (string, error)) (string, error) {
	var parts []string
	hops := 0
	rest := name
	if rest == "." {
		rest = ""
	}
	for rest != "" {
		if rest[0] == '/' {
			parts = parts[:0]
			rest = strings.TrimLeft(rest, "/")
			continue
		}
		comp, tail, _ := strings.Cut(rest, "/")
		rest = tail
		switch comp {
		case "", ".":
			continue
		case "..":
			if len(parts) > 0 {
				parts = parts[:len(parts)-1]
			}
			continue
		}
		p := strings.Join(append(parts, comp), "/")
		fi, err := lstat(p)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 || (!follow && strings.Trim(rest, "/") == "") {
			parts = append(parts, comp)
			continue
		}
		if hops++; hops > maxHops {
			return "", ErrSymlinkLoop
		}
		target, err := readlink(p)
		if err != nil {
			return "", err
		}
		if target == "" {
			return "", fs.ErrNotExist
		}
		if rest != "" {
			target += "/" + rest
		}
		rest = target
	}
	if len(parts) == 0 {
		return ".", nil
	}
	return strings.Join(parts, "/"), nil
}
