package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrThrottled is matched (errors.Is) by the error returned when a registry
// kept answering 429/502/503/504 until the retry budget ran out, so callers
// can mark that image *failed* rather than clean.
var ErrThrottled = errors.New("registry throttled us")

// ThrottledError reports a request abandoned after bounded retries.
type ThrottledError struct {
	Host     string
	Status   int
	Attempts int
}

// Error implements error.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("registry throttled us: %s answered HTTP %d %s to all %d attempts",
		e.Host, e.Status, http.StatusText(e.Status), e.Attempts)
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// RetryOptions bound NewTransport's retries. Zero values mean the defaults.
type RetryOptions struct {
	// MaxAttempts counts the first try; default 5.
	MaxAttempts int
	// MaxWait caps each wait, including one asked for by Retry-After;
	// default 30s.
	MaxWait time.Duration
	// BaseDelay is the first backoff when the server gives no Retry-After;
	// it doubles each attempt. Default 1s.
	BaseDelay time.Duration
	// IdleTimeout fails a request that makes no progress for this long (see
	// IdleTimeout); such a request is not retried. 0 means
	// DefaultIdleTimeout; negative turns the idle timeout off.
	IdleTimeout time.Duration
}

func (o RetryOptions) withDefaults() RetryOptions {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 30 * time.Second
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = time.Second
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	return o
}

// NewTransport returns the shared base transport for registry traffic:
// bounded retries of 429/502/503/504 (honouring Retry-After, as seconds or an
// HTTP date, each wait capped) and of connection resets, stopping early when
// the request's context ends, with opts.IdleTimeout cutting off a server
// that goes quiet. A nil base gets an http.Transport whose dialer
// refuses link-local, unspecified and cloud-metadata addresses after DNS
// resolution, so a hostile name cannot smuggle a request there.
func NewTransport(base http.RoundTripper, opts RetryOptions) http.RoundTripper {
	if base == nil {
		base = safeBaseTransport()
	}
	opts = opts.withDefaults()
	return &retryTransport{base: IdleTimeout(base, opts.IdleTimeout), opts: opts, now: time.Now}
}

type retryTransport struct {
	base http.RoundTripper
	opts RetryOptions
	now  func() time.Time
}

func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func retryableErr(err error) bool {
	if errors.Is(err, ErrIdleTimeout) {
		return false
	}
	var ne net.Error
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// RoundTrip implements http.RoundTripper.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for attempt := 1; ; attempt++ {
		try := req
		if attempt > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			try = req.Clone(ctx)
			try.Body = body
		}
		resp, err := t.base.RoundTrip(try)
		last := attempt >= t.opts.MaxAttempts || !replayable
		var wait time.Duration
		switch {
		case err != nil:
			if last || ctx.Err() != nil || !retryableErr(err) {
				return nil, err
			}
			wait = t.backoff(attempt)
		case retryableStatus(resp.StatusCode):
			if last {
				drain(resp.Body)
				return nil, &ThrottledError{Host: req.URL.Host, Status: resp.StatusCode, Attempts: attempt}
			}
			wait = t.retryAfter(resp.Header.Get("Retry-After"), attempt)
			drain(resp.Body)
		default:
			return resp, nil
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func (t *retryTransport) backoff(attempt int) time.Duration {
	d := t.opts.BaseDelay << (attempt - 1)
	if d <= 0 || d > t.opts.MaxWait {
		d = t.opts.MaxWait
	}
	return d
}

// retryAfter interprets a Retry-After header (RFC 9110 10.2.3): delay
// seconds or an HTTP date. Absent or unparsable means exponential backoff.
func (t *retryTransport) retryAfter(v string, attempt int) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return t.backoff(attempt)
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			secs = 0
		}
		if secs > int64(t.opts.MaxWait/time.Second)+1 {
			return t.opts.MaxWait
		}
		d = time.Duration(secs) * time.Second
	} else if when, err := http.ParseTime(v); err == nil {
		d = when.Sub(t.now())
		if d < 0 {
			d = 0
		}
	} else {
		return t.backoff(attempt)
	}
	if d > t.opts.MaxWait {
		d = t.opts.MaxWait
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// drain reads a little of a discarded body so the connection can be reused,
// without letting an endless error body hold us.
func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}
