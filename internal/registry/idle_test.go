package registry_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/registry"
)

const idle = 300 * time.Millisecond

func TestIdleTimeout(t *testing.T) {
	release := make(chan struct{})
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		fl := w.(http.Flusher)
		switch r.URL.Path {
		case "/no-headers":
			<-release
		case "/stall-body":
			w.Write([]byte("part of it"))
			fl.Flush()
			<-release
		case "/trickle":
			for i := 0; i < 20; i++ { // a byte every 50ms: slow, never idle
				w.Write([]byte("x"))
				fl.Flush()
				time.Sleep(50 * time.Millisecond)
			}
		case "/all":
			w.Write([]byte(strings.Repeat("y", 1<<20)))
		}
	}))
	defer srv.Close()
	defer close(release) // before Close, which waits for the stalled handlers
	rt := registry.NewTransport(nil, registry.RetryOptions{IdleTimeout: idle, BaseDelay: time.Millisecond})
	// get reads path, pausing for pause after the first read.
	get := func(path string, pause time.Duration) (string, error) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		var got []byte
		buf := make([]byte, 64<<10)
		for {
			n, err := resp.Body.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				return string(got), nil
			}
			if err != nil {
				return string(got), err
			}
			time.Sleep(pause)
			pause = 0
		}
	}

	for _, path := range []string{"/no-headers", "/stall-body"} {
		requests.Store(0)
		start := time.Now()
		_, err := get(path, 0)
		took := time.Since(start)
		var ie *registry.IdleTimeoutError
		if !errors.Is(err, registry.ErrIdleTimeout) || !errors.As(err, &ie) {
			t.Errorf("%s: err = %v, want an idle timeout", path, err)
			continue
		}
		if took < idle || took > idle+2*time.Second {
			t.Errorf("%s: failed after %v, want about %v", path, took, idle)
		}
		if n := requests.Load(); n != 1 {
			t.Errorf("%s: %d requests; an idle timeout must not be retried", path, n)
		}
		if !strings.Contains(err.Error(), "sent nothing for 300ms") {
			t.Errorf("%s: error does not say what happened: %v", path, err)
		}
	}

	if got, err := get("/trickle", 0); err != nil || len(got) != 20 {
		t.Errorf("trickle: %d bytes, err %v; a server that keeps sending must not be cut off", len(got), err)
	}
	// A slow reader is not the server's fault: the clock runs only inside Read.
	if got, err := get("/all", 2*idle); err != nil || len(got) != 1<<20 {
		t.Errorf("slow reader: %d bytes, err %v", len(got), err)
	}
}

// The idle timeout can be turned off, and it does not outlive the caller's
// context: a cancelled request fails with the context's error.
func TestIdleTimeoutOffAndCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * idle)
		w.Write([]byte("late"))
	}))
	defer srv.Close()
	off := registry.NewTransport(nil, registry.RetryOptions{IdleTimeout: -1})
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	resp, err := off.RoundTrip(req)
	if err != nil {
		t.Fatalf("idle timeout off: %v", err)
	}
	resp.Body.Close()

	ctx, cancel := context.WithTimeout(context.Background(), idle/3)
	defer cancel()
	on := registry.NewTransport(nil, registry.RetryOptions{IdleTimeout: idle})
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	_, err = on.RoundTrip(req)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, registry.ErrIdleTimeout) {
		t.Errorf("err = %v, want the context's deadline", err)
	}
}
