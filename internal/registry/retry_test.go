package registry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tr := &retryTransport{opts: RetryOptions{MaxWait: 30 * time.Second, BaseDelay: time.Second}.withDefaults(), now: func() time.Time { return now }}
	tests := []struct {
		header  string
		attempt int
		want    time.Duration
	}{
		{"1", 1, time.Second},
		{"0", 1, 0},
		{"-5", 1, 0},
		{"3600", 1, 30 * time.Second},            // capped
		{"99999999999999999999", 1, time.Second}, // unparsable as int64 or date: backoff
		{now.Add(10 * time.Second).Format(http.TimeFormat), 1, 10 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 1, 0},
		{now.Add(time.Hour).Format(http.TimeFormat), 1, 30 * time.Second},
		{"", 1, time.Second},
		{"", 3, 4 * time.Second},
		{"soon", 2, 2 * time.Second},
		{"", 40, 30 * time.Second}, // shift overflow is capped, not negative
	}
	for _, tc := range tests {
		if got := tr.retryAfter(tc.header, tc.attempt); got != tc.want {
			t.Errorf("retryAfter(%q, %d) = %v, want %v", tc.header, tc.attempt, got, tc.want)
		}
	}
}

// statusServer answers with the given statuses in turn, then 200.
func statusServer(t *testing.T, statuses []int, retryAfter string) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i < len(statuses) || len(statuses) > 0 && statuses[len(statuses)-1] < 0 {
			code := statuses[min(i, len(statuses)-1)]
			if code < 0 {
				code = -code
			}
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(code)
			return
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRetry429HonoursRetryAfter(t *testing.T) {
	srv, n := statusServer(t, []int{429}, "1")
	client := &http.Client{Transport: NewTransport(http.DefaultTransport, RetryOptions{BaseDelay: time.Millisecond})}
	start := time.Now()
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || n.Load() != 2 {
		t.Fatalf("status %d after %d requests, want 200 after 2", resp.StatusCode, n.Load())
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("retried after %v; Retry-After: 1 asks for a second", el)
	}
}

func TestRetryBounded(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
	}{
		{"endless 503", 503, ""},
		{"endless 429 with long Retry-After", 429, "3600"},
		{"endless 502", 502, ""},
		{"endless 504", 504, "0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := statusServer(t, []int{-tc.status}, tc.retryAfter)
			client := &http.Client{Transport: NewTransport(http.DefaultTransport,
				RetryOptions{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxWait: 20 * time.Millisecond})}
			start := time.Now()
			_, err := client.Get(srv.URL)
			var te *ThrottledError
			if !errors.As(err, &te) || !errors.Is(err, ErrThrottled) {
				t.Fatalf("err = %v, want a ThrottledError", err)
			}
			want := &ThrottledError{Host: srv.Listener.Addr().String(), Status: tc.status, Attempts: 4}
			if diff := cmp.Diff(want, te); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if n.Load() != 4 {
				t.Errorf("server saw %d requests, want 4", n.Load())
			}
			if el := time.Since(start); el > 2*time.Second {
				t.Errorf("took %v; waits must be capped", el)
			}
		})
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	srv, _ := statusServer(t, []int{-503}, "30")
	client := &http.Client{Transport: NewTransport(http.DefaultTransport, RetryOptions{})}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	start := time.Now()
	_, err := client.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("cancel took %v to be noticed", el)
	}
}

func TestRetryDoesNotRetryOtherStatuses(t *testing.T) {
	for _, code := range []int{400, 401, 404, 500} {
		srv, n := statusServer(t, []int{-code}, "")
		client := &http.Client{Transport: NewTransport(http.DefaultTransport, RetryOptions{BaseDelay: time.Millisecond})}
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != code || n.Load() != 1 {
			t.Errorf("HTTP %d: got status %d after %d requests, want one request", code, resp.StatusCode, n.Load())
		}
	}
}
