package layerfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrNotRegular is wrapped when a path that must name a regular file (or a
// directory) names something else: a named pipe, a socket or a device.
// Opening those could block forever (a fifo with no writer) or have side
// effects (a tape or a terminal), so they are refused before any read.
var ErrNotRegular = errors.New("not a regular file")

// ErrNotDir is wrapped when a path that must name a directory does not.
var ErrNotDir = errors.New("not a directory")

// OpenFile opens the host file name for reading, refusing anything but a
// regular file without ever blocking: the type is checked before opening,
// the open itself uses O_NONBLOCK (so a fifo swapped in meanwhile cannot
// hang it), the opened descriptor is checked again and then put back in
// blocking mode. Symlinks are followed: name is what the user gave.
func OpenFile(name string) (*os.File, error) {
	return openRegular(name, os.Stat, func(flag int) (*os.File, error) { return os.OpenFile(name, flag, 0) })
}

// OpenFileIn is OpenFile for a name inside root; os.Root keeps symlinks
// and ".." from leaving it.
func OpenFileIn(root *os.Root, name string) (*os.File, error) {
	return openRegular(name, root.Stat, func(flag int) (*os.File, error) { return root.OpenFile(name, flag, 0) })
}

// OpenRoot opens the host directory dir as an os.Root, refusing a fifo or
// device in its place: os.OpenRoot itself opens without O_DIRECTORY and
// would block forever on a fifo.
func OpenRoot(dir string) (*os.Root, error) {
	before, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !before.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: fmt.Errorf("%w (%s)", ErrNotDir, TypeName(before.Mode()))}
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	after, err := r.Stat(".")
	if err != nil || !os.SameFile(before, after) {
		r.Close()
		return nil, &fs.PathError{Op: "open", Path: dir, Err: errChanged}
	}
	return r, nil
}

var errChanged = errors.New("file changed while opening")

// openRegular is the common body of OpenFile and OpenFileIn.
func openRegular(name string, stat func(string) (fs.FileInfo, error), open func(flag int) (*os.File, error)) (*os.File, error) {
	before, err := stat(name)
	if err != nil {
		return nil, err
	}
	if !before.Mode().IsRegular() {
		return nil, notRegular(name, before.Mode())
	}
	f, err := open(os.O_RDONLY | openFlags)
	if err != nil {
		return nil, err
	}
	after, err := f.Stat()
	if err == nil && !after.Mode().IsRegular() {
		err = notRegular(name, after.Mode())
	} else if err == nil && !os.SameFile(before, after) {
		err = &fs.PathError{Op: "open", Path: name, Err: errChanged}
	}
	if err == nil {
		err = clearNonblock(f)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func notRegular(name string, m fs.FileMode) error {
	return &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w (%s)", ErrNotRegular, TypeName(m))}
}

// TypeName says what kind of file a mode describes ("named pipe",
// "socket", ...), for error messages.
func TypeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m.IsDir():
		return "directory"
	case m&fs.ModeIrregular != 0:
		return "irregular file"
	}
	return "regular file"
}
