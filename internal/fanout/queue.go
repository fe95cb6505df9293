package fanout

import "sync"

// Queue feeds items that arrive over time to a fixed number of workers.
// Push never blocks, so a producer holding a lock cannot deadlock a worker
// that needs it; items wait in an unbounded FIFO until a worker is free.
type Queue[T any] struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []T
	closed bool
	wg     sync.WaitGroup
}

// NewQueue starts workers goroutines (at least one), each calling fn on
// the next queued item until the queue is closed and empty.
func NewQueue[T any](workers int, fn func(T)) *Queue[T] {
	q := &Queue[T]{}
	q.cond = sync.NewCond(&q.mu)
	for range max(workers, 1) {
		q.wg.Go(func() {
			for v, ok := q.pop(); ok; v, ok = q.pop() {
				fn(v)
			}
		})
	}
	return q
}

// Push queues v for the next free worker. It must not be called after
// Close.
func (q *Queue[T]) Push(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	q.cond.Signal()
}

// Close says no more items will be pushed and waits until the workers
// have handled every queued item and returned.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
	q.wg.Wait()
}

// pop waits for an item, or returns false once the queue is closed and
// empty.
func (q *Queue[T]) pop() (T, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.closed {
		q.cond.Wait()
	}
	var zero T
	if len(q.items) == 0 {
		return zero, false
	}
	v := q.items[0]
	q.items[0] = zero
	q.items = q.items[1:]
	return v, true
}
