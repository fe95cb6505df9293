package cri

import (
	"context"
	"fmt"
	"time"

	"github.com/runlens/runlens/internal/evidence"
)

// Change is what one re-list found: the containers that appeared and the
// ones that are gone since the previous list.
type Change struct {
	// At is when the list was taken.
	At time.Time
	// Started are the running containers not seen before (on the first
	// list: every running container); Stopped the ones seen before and no
	// longer running, as they were last seen.
	Started, Stopped []evidence.Container
	// Err is set when the list failed or some containers could not be
	// read. A failed list changes nothing; a container that could not be
	// read is not taken for stopped.
	Err error
}

// Empty reports whether the change carries nothing.
func (c Change) Empty() bool { return len(c.Started) == 0 && len(c.Stopped) == 0 && c.Err == nil }

// Watch lists the containers now and then every `every`, calling fn (from
// this goroutine) with each list that started or stopped a container or
// failed. It returns ctx's error when ctx ends. A container restarted by
// the kubelet has a new id: it is reported stopped and its successor
// started.
func (c *Client) Watch(ctx context.Context, every time.Duration, fn func(Change)) error {
	if every <= 0 {
		return fmt.Errorf("cri watch: period %s must be positive", every)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	known := map[string]evidence.Container{}
	for {
		cs, failed, err := c.list(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ch := Change{At: time.Now(), Err: err}
		if cs != nil || err == nil {
			ch.Started, ch.Stopped = diff(known, cs, failed)
		}
		if !ch.Empty() {
			fn(ch)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// diff updates known to the containers of cur and returns those that
// started and stopped. Ids in unread are running but were not read this
// time: they stay known and are neither started nor stopped.
func diff(known map[string]evidence.Container, cur []evidence.Container, unread map[string]bool) (started, stopped []evidence.Container) {
	seen := make(map[string]bool, len(cur))
	for _, c := range cur {
		seen[c.ID] = true
		if _, ok := known[c.ID]; !ok {
			started = append(started, c)
		}
		known[c.ID] = c
	}
	for id, c := range known {
		if !seen[id] && !unread[id] {
			stopped = append(stopped, c)
			delete(known, id)
		}
	}
	sortContainers(stopped)
	return started, stopped
}
