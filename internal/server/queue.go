package server

import (
	"context"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// queue runs the server's jobs (scans, re-matches, pruning) one at a
// time, in order. A job already waiting under the same name is not
// queued twice.
type queue struct {
	log   *slog.Logger
	depth prometheus.Gauge

	mu      sync.Mutex
	cond    *sync.Cond
	pending []job
	closed  bool
	running bool
	stopped bool
}

// job is one queued piece of work.
type job struct {
	name string
	run  func(ctx context.Context) error
}

func newQueue(log *slog.Logger, depth prometheus.Gauge) *queue {
	q := &queue{log: log, depth: depth}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// add queues a job; it reports false when the queue is closed or a job
// of that name is already waiting.
func (q *queue) add(name string, run func(ctx context.Context) error) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	for _, j := range q.pending {
		if j.name == name {
			return false
		}
	}
	q.pending = append(q.pending, job{name, run})
	q.depth.Set(float64(len(q.pending)))
	q.cond.Broadcast()
	return true
}

// Depth is the number of jobs waiting.
func (q *queue) Depth() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending)
}

// run runs jobs until the queue is closed and drained of the running job
// (waiting jobs are dropped at close) or ctx ends.
func (q *queue) run(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		q.closed = true
		q.cond.Broadcast()
		q.mu.Unlock()
	})
	defer stop()
	for {
		q.mu.Lock()
		for len(q.pending) == 0 && !q.closed {
			q.cond.Wait()
		}
		if q.closed {
			q.pending = nil
			q.depth.Set(0)
			q.stopped = true
			q.cond.Broadcast()
			q.mu.Unlock()
			return
		}
		j := q.pending[0]
		q.pending = q.pending[1:]
		q.depth.Set(float64(len(q.pending)))
		q.running = true
		q.mu.Unlock()

		q.log.Info("job started", "job", j.name)
		if err := j.run(ctx); err != nil {
			q.log.Error("job failed", "job", j.name, "err", err)
		} else {
			q.log.Info("job done", "job", j.name)
		}

		q.mu.Lock()
		q.running = false
		q.cond.Broadcast()
		q.mu.Unlock()
	}
}

// close stops taking jobs: waiting ones are dropped, the running one
// goes on.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}

// wait returns once the running loop has stopped or no job runs.
func (q *queue) wait() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.running && !q.stopped {
		q.cond.Wait()
	}
}
