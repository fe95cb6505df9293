// Package progress draws a one-line progress indicator on a terminal for
// long work (pull, extract, match). It draws nothing when the output is not
// a terminal, so logs and CI output stay clean.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Line is a single, rewritable status line. The zero value and a nil *Line
// draw nothing; all methods are safe for concurrent use.
type Line struct {
	mu      sync.Mutex
	w       io.Writer
	last    time.Time
	width   int
	enabled bool
}

// New returns a Line drawing on w when w is a terminal and enabled is true.
func New(w io.Writer, enabled bool) *Line {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		enabled = false
	}
	return &Line{w: w, enabled: enabled}
}

// Printf replaces the status line, at most ten times a second.
func (l *Line) Printf(format string, args ...any) {
	if l == nil || !l.enabled {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.last) < 100*time.Millisecond {
		return
	}
	l.last = now
	msg := fmt.Sprintf(format, args...)
	if len(msg) > 100 {
		msg = msg[:97] + "..."
	}
	pad := ""
	if n := l.width - len(msg); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	l.width = len(msg)
	fmt.Fprintf(l.w, "\r%s%s", msg, pad)
}

// Clear removes the status line so the next output starts clean.
func (l *Line) Clear() {
	if l == nil || !l.enabled {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.width > 0 {
		fmt.Fprintf(l.w, "\r%s\r", strings.Repeat(" ", l.width))
		l.width = 0
	}
}

// Bytes formats a byte count for humans.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
