package procscan

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// pfKthread is the kernel-thread bit of the flags in /proc/<pid>/stat.
const pfKthread = 0x00200000

// testHookAfterStat, when set by a test, runs after a process's stat was
// read (to make it vanish mid-scan).
var testHookAfterStat func(dir string)

// processReader reads one pid's directory.
type processReader struct {
	opts     Options
	pid      int
	dir      string
	proc     Process
	problems []string
	vanished bool
}

// read reads the process; it never fails, it reports an outcome.
func (r *processReader) read() result {
	r.dir = filepath.Join(r.opts.ProcRoot, strconv.Itoa(r.pid))
	r.proc.PID = r.pid
	kernel, err := r.readStat()
	if err != nil {
		if isGone(err) {
			return result{outcome: readVanished}
		}
		r.problem("stat", err)
		return result{outcome: readSkipped, problems: r.problems}
	}
	if kernel {
		return result{outcome: readKernel}
	}
	if testHookAfterStat != nil {
		testHookAfterStat(r.dir)
	}
	steps := []struct {
		field string
		read  func() error
	}{
		{"cgroup", r.readCgroup},
		{"exe", r.readExe},
		{"cwd", r.readCwd},
		{"ns/net", r.readNetNS},
		{"maps", r.readMaps},
		{"fd", r.readFDs},
	}
	for _, s := range steps {
		if err := s.read(); err != nil && !r.fieldFailed(s.field, err) {
			break
		}
		if r.vanished {
			break
		}
		if s.field == "cgroup" && r.opts.ContainersOnly && r.proc.Attribution.ContainerID == "" {
			break // a host process: its stat and cgroup are enough
		}
	}
	if r.vanished || !r.same() {
		return result{outcome: readVanished}
	}
	return result{proc: r.proc, problems: r.problems}
}

// same reads stat again and reports the same process is still there: not
// exited, its pid not taken by a new one (another start time) meanwhile.
func (r *processReader) same() bool {
	again := processReader{opts: r.opts, pid: r.pid, dir: r.dir}
	if _, err := again.readStat(); err != nil {
		return !isGone(err)
	}
	return again.proc.StartTime == r.proc.StartTime
}

// fieldFailed handles an error reading one field: gone (the process
// exited, or a zombie or kernel thread has no such link) is quiet, and
// marks the process vanished if its directory is gone; anything else is a
// problem. It reports whether to go on with the next field.
func (r *processReader) fieldFailed(field string, err error) bool {
	if isGone(err) {
		if _, serr := os.Lstat(filepath.Join(r.dir, "stat")); serr != nil && isGone(serr) {
			r.vanished = true
			return false
		}
		return true
	}
	r.problem(field, err)
	return true
}

// problem records that field could not be read.
func (r *processReader) problem(field string, err error) {
	reason := err.Error()
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe) && errors.Is(err, fs.ErrPermission):
		reason = "permission denied"
	case errors.Is(err, errMalformed):
		reason = strings.TrimPrefix(err.Error(), errMalformed.Error()+": ")
	}
	r.problems = append(r.problems, fmt.Sprintf("pid %d (%s): %s: %s", r.pid, r.proc.Comm, field, reason))
}

// errMalformed marks content the kernel would not print.
var errMalformed = errors.New("malformed")

// isGone reports an error saying the process or the file is no more.
func isGone(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// readStat reads pid, comm, ppid and flags from stat ("42 (comm) S 1 …");
// it reports a kernel thread.
func (r *processReader) readStat() (kernel bool, err error) {
	data, err := os.ReadFile(filepath.Join(r.dir, "stat"))
	if err != nil {
		return false, err
	}
	s := string(data)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return false, fmt.Errorf("%w: no (comm) in %q", errMalformed, s)
	}
	r.proc.Comm = s[open+1 : end]
	f := strings.Fields(s[end+1:])
	// f[0] state, f[1] ppid, … f[6] flags, … f[19] starttime.
	if len(f) < 20 {
		return false, fmt.Errorf("%w: stat has %d fields after comm", errMalformed, len(f))
	}
	if r.proc.StartTime, err = strconv.ParseUint(f[19], 10, 64); err != nil {
		return false, fmt.Errorf("%w: stat starttime %q", errMalformed, f[19])
	}
	if r.proc.PPID, err = strconv.Atoi(f[1]); err != nil {
		return false, fmt.Errorf("%w: stat ppid %q", errMalformed, f[1])
	}
	flags, err := strconv.ParseUint(f[6], 10, 64)
	if err != nil {
		return false, fmt.Errorf("%w: stat flags %q", errMalformed, f[6])
	}
	return flags&pfKthread != 0, nil
}

// readCgroup reads the cgroup lines and attributes the process.
func (r *processReader) readCgroup() error {
	data, err := os.ReadFile(filepath.Join(r.dir, "cgroup"))
	if err != nil {
		return err
	}
	r.proc.Cgroup, r.proc.CgroupV1, r.proc.Attribution = attributeCgroups(parseCgroupFile(string(data)))
	return nil
}

// readExe reads the exe link and stats the file it names.
func (r *processReader) readExe() error {
	name := filepath.Join(r.dir, "exe")
	target, err := os.Readlink(name)
	if err != nil {
		return err
	}
	r.proc.Exe.Path, r.proc.Exe.Deleted = cutDeleted(target)
	dev, ino, _, err := statID(name)
	if err != nil {
		return err
	}
	r.proc.Exe.Dev, r.proc.Exe.Inode = dev, ino
	return nil
}

// readCwd reads the cwd link.
func (r *processReader) readCwd() error {
	target, err := os.Readlink(filepath.Join(r.dir, "cwd"))
	if err != nil {
		return err
	}
	r.proc.Cwd, _ = cutDeleted(target)
	return nil
}

// readNetNS reads the network namespace's inode from "net:[4026531833]".
func (r *processReader) readNetNS() error {
	target, err := os.Readlink(filepath.Join(r.dir, "ns", "net"))
	if err != nil {
		return err
	}
	ino, ok := bracketInode(target, "net:[")
	if !ok {
		return fmt.Errorf("%w: ns/net link %q", errMalformed, target)
	}
	r.proc.NetNS = ino
	return nil
}

// bracketInode parses "<prefix>N]".
func bracketInode(s, prefix string) (uint64, bool) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return 0, false
	}
	num, ok := strings.CutSuffix(rest, "]")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(num, 10, 64)
	return n, err == nil
}

// readMaps reads the distinct file-backed mappings, up to the cap.
func (r *processReader) readMaps() error {
	f, err := os.Open(filepath.Join(r.dir, "maps"))
	if err != nil {
		return err
	}
	defer f.Close()
	res, err := parseMaps(f, r.opts.MaxMaps)
	r.proc.Maps = res.maps
	if r.opts.BuildIDs != nil {
		r.readBuildIDs()
	}
	if res.cut {
		r.truncated(fmt.Sprintf("maps: cut at %d lines", r.opts.MaxMaps))
	}
	if res.malformed > 0 {
		r.problem("maps", fmt.Errorf("%w: %d malformed lines", errMalformed, res.malformed))
	}
	return err
}

// truncated records a cut both on the process and as a problem.
func (r *processReader) truncated(what string) {
	r.proc.Truncated = append(r.proc.Truncated, what)
	r.problems = append(r.problems, fmt.Sprintf("pid %d (%s): %s", r.pid, r.proc.Comm, what))
}

// fdBatch is how many fd names are listed at a time.
const fdBatch = 512

// readFDs reads the open file descriptors, up to the cap: regular files
// by path, device and inode; sockets by inode.
func (r *processReader) readFDs() error {
	fdDir := filepath.Join(r.dir, "fd")
	d, err := os.Open(fdDir)
	if err != nil {
		return err
	}
	defer d.Close()
	seen := map[fileKey]bool{}
	looked, denied := 0, 0
	defer func() {
		if denied > 0 {
			r.problem("fd", fmt.Errorf("%w on %d descriptors", fs.ErrPermission, denied))
		}
	}()
	for {
		names, err := d.Readdirnames(fdBatch)
		for _, n := range names {
			if looked >= r.opts.MaxFDs {
				r.truncated(fmt.Sprintf("fd: cut at %d descriptors", r.opts.MaxFDs))
				return nil
			}
			looked++
			if err := r.readFD(filepath.Join(fdDir, n), seen); errors.Is(err, fs.ErrPermission) {
				denied++
			}
		}
		if err == io.EOF || (err == nil && len(names) == 0) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readFD reads one descriptor; a descriptor closed meanwhile is skipped.
// It returns the error of a descriptor it could not read.
func (r *processReader) readFD(name string, seen map[fileKey]bool) error {
	target, err := os.Readlink(name)
	if err != nil {
		return err
	}
	if ino, ok := bracketInode(target, "socket:["); ok {
		r.proc.Sockets = append(r.proc.Sockets, ino)
		return nil
	}
	if !strings.HasPrefix(target, "/") {
		return nil // pipe:[…], anon_inode:…
	}
	dev, ino, regular, err := statID(name)
	if err != nil || !regular {
		return err
	}
	path, deleted := cutDeleted(target)
	f := FileID{Path: path, Dev: dev, Inode: ino, Deleted: deleted}
	if !seen[f.key()] {
		seen[f.key()] = true
		r.proc.Files = append(r.proc.Files, f)
	}
	return nil
}
