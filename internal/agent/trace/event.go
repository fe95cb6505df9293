package trace

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cilium/ebpf/ringbuf"
)

// Kind is what an event reports.
type Kind uint8

const (
	// KindExec is a successful execve/execveat: Path is the file name the
	// caller passed, as the kernel resolved it for the exec.
	KindExec Kind = iota + 1
	// KindOpen is an open (openat, openat2 or open), reported when the
	// system call returns: Result is the fd, or -errno when it failed
	// (failed opens are reported only with Options.FailedOpens).
	KindOpen
)

// String returns "exec" or "open".
func (k Kind) String() string {
	switch k {
	case KindExec:
		return "exec"
	case KindOpen:
		return "open"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Event is one execution or file open seen by the tracer.
type Event struct {
	Kind Kind
	// Syscall is "openat", "openat2" or "open" for KindOpen, "" for exec.
	Syscall string
	// PID is the process (thread group) id and TID the thread id, both in
	// the initial pid namespace (as /proc on the node names them).
	PID, TID uint32
	// CgroupID is the task's cgroup v2 id (see CgroupID).
	CgroupID uint64
	// Comm is the task's command name (after the exec, for KindExec).
	Comm string
	// Path is the file name as the caller passed it (up to 4,095 bytes;
	// relative to Dirfd or the working directory when not absolute), ""
	// when it could not be read.
	Path string
	// Dirfd is the openat/openat2 directory fd (AT_FDCWD, -100, for the
	// working directory); Flags the open flags (O_RDONLY, O_CLOEXEC, …).
	Dirfd int32
	Flags uint64
	// Result is an open's return value: the fd, or -errno.
	Result int64
	// Time is when the kernel saw it.
	Time time.Time
}

// Raw event layout (struct event in bpf/tracer.c).
const (
	offTs       = 0
	offCgroup   = 8
	offFlags    = 16
	offRet      = 24
	offPid      = 32
	offTid      = 36
	offKind     = 40
	offDirfd    = 44
	offPathLen  = 48
	offComm     = 56
	commLen     = 16
	headerSize  = offComm + commLen
	rawExec     = 1
	rawOpenat   = 2
	rawOpenat2  = 3
	rawOpen     = 4
	maxPathSize = 4096
)

// decode fills e from one ring-buffer record.
func (t *Tracer) decode(raw []byte, e *Event) error {
	if len(raw) < headerSize {
		return fmt.Errorf("trace: short event of %d bytes", len(raw))
	}
	le := binary.NativeEndian
	*e = Event{
		PID:      le.Uint32(raw[offPid:]),
		TID:      le.Uint32(raw[offTid:]),
		CgroupID: le.Uint64(raw[offCgroup:]),
		Flags:    le.Uint64(raw[offFlags:]),
		Result:   int64(le.Uint64(raw[offRet:])),
		Dirfd:    int32(le.Uint32(raw[offDirfd:])),
		Comm:     t.names.get(cstringBytes(raw[offComm : offComm+commLen])),
		Time:     t.wallBase.Add(time.Duration(le.Uint64(raw[offTs:])) - t.monoBase),
	}
	switch le.Uint32(raw[offKind:]) {
	case rawExec:
		e.Kind = KindExec
	case rawOpenat:
		e.Kind, e.Syscall = KindOpen, "openat"
	case rawOpenat2:
		e.Kind, e.Syscall = KindOpen, "openat2"
	case rawOpen:
		e.Kind, e.Syscall = KindOpen, "open"

	default:
		return fmt.Errorf("trace: unknown event kind %d", le.Uint32(raw[offKind:]))
	}
	n := int(le.Uint32(raw[offPathLen:]))
	if n > maxPathSize || headerSize+n > len(raw) {
		return fmt.Errorf("trace: event path of %d bytes in a record of %d", n, len(raw))
	}
	e.Path = t.names.get(cstringBytes(raw[headerSize : headerSize+n]))
	return nil
}

// cstringBytes returns b up to its first NUL.
func cstringBytes(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return b
}

// maxInterned bounds the strings an interner keeps; past it, it starts
// again empty.
const maxInterned = 1 << 16

// interner hands out one string per distinct byte sequence, so that the
// paths and command names a busy container repeats are not allocated
// again for every event. Only the reader uses it.
type interner map[string]string

func (in *interner) get(b []byte) string {
	if s, ok := (*in)[string(b)]; ok { // no allocation for the look-up
		return s
	}
	if *in == nil || len(*in) >= maxInterned {
		*in = make(interner, 1024)
	}
	s := string(b)
	(*in)[s] = s
	return s
}

// Run reads events and calls fn with each, in ring-buffer order, until
// ctx ends (it then returns ctx.Err()) or the tracer is closed (nil). The
// Event passed to fn is reused: copy it to keep it. One Run (or Events)
// at a time.
//
// It never blocks in the kernel: every poll interval it takes what the
// ring holds without waiting (a zero-timeout epoll) and then sleeps on a
// Go timer. A goroutine blocked in epoll_wait would keep the Go runtime's
// monitor thread waking every few tens of microseconds to take its
// processor back, which costs more than the events themselves.
func (t *Tracer) Run(ctx context.Context, fn func(*Event)) error {
	t.readMu.Lock()
	defer t.readMu.Unlock()
	t.reader.SetDeadline(time.Unix(1, 0)) // in the past: never wait
	timer := time.NewTimer(t.poll)
	defer timer.Stop()
	var rec ringbuf.Record
	var ev Event
	for {
		for {
			err := t.reader.ReadInto(&rec)
			if err == nil {
				if err := t.decode(rec.RawSample, &ev); err != nil {
					return err
				}
				fn(&ev)
				continue
			}
			switch {
			case errors.Is(err, ringbuf.ErrClosed):
				return nil
			case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, ringbuf.ErrFlushed):
			default:
				return fmt.Errorf("trace: read ring buffer: %w", err)
			}
			break // the ring is empty for now
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			timer.Reset(t.poll)
		}
	}
}

// Events starts a reader and returns its events; the channel is closed
// when ctx ends, the tracer is closed or reading fails (then Err says
// why). A slow consumer slows the reader, and the ring buffer then fills
// and drops (see Drops).
func (t *Tracer) Events(ctx context.Context) <-chan Event {
	ch := make(chan Event, 1024)
	go func() {
		defer close(ch)
		var err error
		defer func() {
			if err != nil && !errors.Is(err, ctx.Err()) {
				t.readErr.Store(&err)
			}
		}()
		err = t.Run(ctx, func(e *Event) {
			select {
			case ch <- *e:
			case <-ctx.Done():
			}
		})
	}()
	return ch
}

// Err is the error that ended an Events reader, or nil when none failed
// (ending with its context or Close is no failure).
func (t *Tracer) Err() error {
	if p := t.readErr.Load(); p != nil {
		return *p
	}
	return nil
}
