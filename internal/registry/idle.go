package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// DefaultIdleTimeout is how long a registry request may make no progress
// (no response headers yet, or no body bytes during a read) before it fails.
const DefaultIdleTimeout = 30 * time.Second

// ErrIdleTimeout is matched by an IdleTimeoutError.
var ErrIdleTimeout = errors.New("idle timeout")

// IdleTimeoutError reports a request that made no progress for the idle
// timeout.
type IdleTimeoutError struct {
	// Host is the server that went quiet.
	Host string
	// Phase is "waiting for the response" or "reading the response body".
	Phase string
	// After is the idle timeout.
	After time.Duration
}

// Error implements error.
func (e *IdleTimeoutError) Error() string {
	return fmt.Sprintf("idle timeout: %s sent nothing for %s while %s", e.Host, e.After, e.Phase)
}

// Is makes errors.Is(err, ErrIdleTimeout) true.
func (e *IdleTimeoutError) Is(target error) bool { return target == ErrIdleTimeout }

// IdleTimeout wraps base so that a request fails with an IdleTimeoutError
// when no response headers arrive within d, or when one Read of the body
// waits d without receiving a byte. The clock runs only while the caller is
// waiting on the server, so a slow consumer is never blamed on it, while a
// server that stalls is cut off after d whatever the overall deadline. A
// server that trickles bytes keeps the request alive; the caller's context
// deadline bounds that. d <= 0 returns base unchanged.
func IdleTimeout(base http.RoundTripper, d time.Duration) http.RoundTripper {
	if d <= 0 {
		return base
	}
	return &idleTransport{base: base, d: d}
}

type idleTransport struct {
	base http.RoundTripper
	d    time.Duration
}

// RoundTrip implements http.RoundTripper.
func (t *idleTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	b := &idleBody{d: t.d, cancel: cancel, err: &IdleTimeoutError{Host: req.URL.Host, Phase: "waiting for the response", After: t.d}}
	b.timer = time.AfterFunc(t.d, b.fire)
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	stopped := b.timer.Stop()
	if err != nil || !stopped {
		cancel(nil)
		if !stopped {
			if resp != nil {
				resp.Body.Close()
			}
			return nil, b.err
		}
		return nil, err
	}
	b.err = &IdleTimeoutError{Host: req.URL.Host, Phase: "reading the response body", After: t.d}
	b.rc = resp.Body
	resp.Body = b
	return resp, nil
}

// idleBody fails a Read that waits longer than d.
type idleBody struct {
	rc     io.ReadCloser
	d      time.Duration
	timer  *time.Timer
	fired  atomic.Bool
	cancel context.CancelCauseFunc
	err    *IdleTimeoutError
}

func (b *idleBody) fire() {
	b.fired.Store(true)
	b.cancel(b.err)
}

// Read implements io.Reader.
func (b *idleBody) Read(p []byte) (int, error) {
	if b.fired.Load() {
		return 0, b.err
	}
	b.timer.Reset(b.d)
	n, err := b.rc.Read(p)
	if !b.timer.Stop() {
		return n, b.err
	}
	return n, err
}

// Close implements io.Closer and releases the request's context.
func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel(nil)
	return err
}
