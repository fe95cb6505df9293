// Package fanout runs independent pieces of work on a bounded number of
// goroutines. It is the one place runlens fans work out: over a known
// number of items (Each, EachContext), over a few different calls (Do), or
// over items that arrive while the work runs (Queue).
package fanout

import (
	"context"
	"sync"
)

// Each calls fn(i) for every i in [0, n) on at most limit goroutines at
// once (limit <= 0 means all n at once) and returns when every call has
// returned. Every call is made; fn checks for cancellation itself if it
// needs to.
func Each(limit, n int, fn func(i int)) {
	run(nil, limit, n, fn)
}

// EachContext is Each, except that once ctx is done no further calls
// start: calls already running finish, the rest are skipped, and ctx.Err()
// is returned. It returns ctx.Err() whenever ctx is done on return, so a
// nil error means every call was made.
func EachContext(ctx context.Context, limit, n int, fn func(i int)) error {
	run(ctx, limit, n, fn)
	return ctx.Err()
}

// Do runs every fn concurrently and returns when all have returned.
func Do(fns ...func()) {
	Each(0, len(fns), func(i int) { fns[i]() })
}

// run hands out 0..n-1 to at most limit workers; with a non-nil ctx it
// stops handing out once ctx is done.
func run(ctx context.Context, limit, n int, fn func(i int)) {
	if limit <= 0 || limit > n {
		limit = n
	}
	var done <-chan struct{}
	if ctx != nil {
		done = ctx.Done()
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range limit {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	defer wg.Wait()
	defer close(next)
	for i := range n {
		if done != nil {
			// Checked first so a done ctx never starts another call, even
			// when a worker is also ready.
			select {
			case <-done:
				return
			default:
			}
		}
		select {
		case next <- i:
		case <-done:
			return
		}
	}
}
