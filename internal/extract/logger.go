package extract

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	scalibrlog "github.com/google/osv-scalibr/log"
)

var (
	logOnce sync.Once
	logSet  bool
	logMu   sync.Mutex
)

// SetScalibrLogger routes osv-scalibr's process-wide log output to l, at
// debug level for its Info/Debug lines. nil discards it, which is also what
// Extract does when this was never called: scalibr otherwise writes to the
// standard logger, and a library must not log by default.
func SetScalibrLogger(l *slog.Logger) {
	logMu.Lock()
	defer logMu.Unlock()
	logSet = true
	scalibrlog.SetLogger(slogAdapter{l})
}

func quietScalibr() {
	logOnce.Do(func() {
		logMu.Lock()
		defer logMu.Unlock()
		if !logSet {
			scalibrlog.SetLogger(slogAdapter{})
		}
	})
}

// slogAdapter implements scalibr's Logger on top of log/slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) log(level slog.Level, msg string) {
	if a.l != nil {
		a.l.Log(context.Background(), level, msg, "component", "osv-scalibr")
	}
}

func (a slogAdapter) Errorf(format string, args ...any) {
	a.log(slog.LevelWarn, fmt.Sprintf(format, args...))
}
func (a slogAdapter) Error(args ...any) { a.log(slog.LevelWarn, fmt.Sprint(args...)) }
func (a slogAdapter) Warnf(format string, args ...any) {
	a.log(slog.LevelWarn, fmt.Sprintf(format, args...))
}
func (a slogAdapter) Warn(args ...any) { a.log(slog.LevelWarn, fmt.Sprint(args...)) }
func (a slogAdapter) Infof(format string, args ...any) {
	a.log(slog.LevelDebug, fmt.Sprintf(format, args...))
}
func (a slogAdapter) Info(args ...any) { a.log(slog.LevelDebug, fmt.Sprint(args...)) }
func (a slogAdapter) Debugf(format string, args ...any) {
	a.log(slog.LevelDebug, fmt.Sprintf(format, args...))
}
func (a slogAdapter) Debug(args ...any) { a.log(slog.LevelDebug, fmt.Sprint(args...)) }
