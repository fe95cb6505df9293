package fanout

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bound runs a fan-out whose calls record the most running at once.
type bound struct {
	running, peak atomic.Int32
}

func (b *bound) enter() {
	n := b.running.Add(1)
	for {
		p := b.peak.Load()
		if n <= p || b.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(time.Millisecond)
	b.running.Add(-1)
}

func TestEachCallsEveryIndexWithinTheLimit(t *testing.T) {
	for _, tc := range []struct{ limit, n, peak int }{
		{3, 20, 3}, {1, 5, 1}, {0, 6, 6}, {-1, 4, 4}, {10, 2, 2}, {4, 0, 0},
	} {
		var b bound
		seen := make([]atomic.Int32, tc.n)
		Each(tc.limit, tc.n, func(i int) { seen[i].Add(1); b.enter() })
		for i := range seen {
			if got := seen[i].Load(); got != 1 {
				t.Errorf("limit %d n %d: index %d called %d times", tc.limit, tc.n, i, got)
			}
		}
		if got := int(b.peak.Load()); got > tc.peak || (tc.n > 0 && got < 1) {
			t.Errorf("limit %d n %d: %d calls at once, want at most %d", tc.limit, tc.n, got, tc.peak)
		}
	}
}

func TestEachContextStopsStartingWork(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	err := EachContext(ctx, 2, 100, func(i int) {
		if calls.Add(1) == 5 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	// Two workers: at most the other worker's call starts after cancel.
	if n := calls.Load(); n < 5 || n > 6 {
		t.Errorf("%d calls, want 5 or 6", n)
	}

	if err := EachContext(context.Background(), 3, 10, func(int) {}); err != nil {
		t.Errorf("live context: %v", err)
	}
	calls.Store(0)
	if err := EachContext(ctx, 3, 10, func(int) { calls.Add(1) }); err == nil || calls.Load() != 0 {
		t.Errorf("done context: err %v, %d calls; want an error and none", err, calls.Load())
	}
}

func TestDo(t *testing.T) {
	var a, b, c bool
	var wg sync.WaitGroup
	wg.Add(3)
	// Each call waits for the others: they must run at the same time.
	meet := func(p *bool) func() {
		return func() { wg.Done(); wg.Wait(); *p = true }
	}
	Do(meet(&a), meet(&b), meet(&c))
	if !a || !b || !c {
		t.Errorf("calls made: %v %v %v", a, b, c)
	}
	Do() // nothing to run
}

func TestQueue(t *testing.T) {
	var b bound
	var mu sync.Mutex
	var got []int
	q := NewQueue(3, func(v int) {
		b.enter()
		mu.Lock()
		got = append(got, v)
		mu.Unlock()
	})
	// Push under a lock a worker also takes: it must not block.
	for i := range 50 {
		mu.Lock()
		q.Push(i)
		mu.Unlock()
	}
	q.Close()
	if len(got) != 50 {
		t.Errorf("%d items handled, want 50", len(got))
	}
	if p := b.peak.Load(); p > 3 {
		t.Errorf("%d workers at once, want at most 3", p)
	}
	empty := NewQueue(0, func(int) { t.Error("called on an empty queue") })
	empty.Close()
}
