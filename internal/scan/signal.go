package scan

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// SignalContext returns a context cancelled with a *SignalError cause on
// the first SIGINT or SIGTERM, and its stop function. After that first
// signal the handler is removed, so a second one ends the process at once.
func SignalContext(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-ch:
			signal.Stop(ch)
			cancel(&SignalError{Signal: sig})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel(nil)
	}
}

// WithTimeout bounds a scan command by timeout, with a *TimeoutError
// cause so unfinished results say why they stopped.
func WithTimeout(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, timeout, &TimeoutError{Timeout: timeout})
}

// Unfinished is why a run is incomplete when ctx ended (deadline or
// signal), for the verdict of its report; nil while ctx is live.
func Unfinished(ctx context.Context) error {
	if why := Interrupted(ctx); why != nil {
		return fmt.Errorf("%w; the report lists what finished, the rest as failed", why)
	}
	return nil
}

// InterruptedOr is the reason an unfinished result gives: the
// interruption when ctx ended, else err.
func InterruptedOr(ctx context.Context, err error) error {
	if why := Interrupted(ctx); why != nil {
		return why
	}
	return err
}
