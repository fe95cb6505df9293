package agent

import (
	"context"
	"os"
	"runtime/debug"
	"sync"

	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/inventory"
)

// MemoryLimit is the agent's soft memory limit: the Go runtime collects
// harder as the heap nears it, so a node agent stays small beside the
// workloads (a DaemonSet's memory limit should leave room above it).
const MemoryLimit = 64 << 20

// LimitMemory sets MemoryLimit unless GOMEMLIMIT says otherwise.
func LimitMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(MemoryLimit)
	}
}

// maxCachedInventories bounds CacheInventories.
const maxCachedInventories = 256

// CacheInventories keeps the inventories inner reads by image digest, so
// a watching agent reads each image once, not at every look. Failures
// are not kept: the next look tries again. Safe for concurrent use.
func CacheInventories(inner func(context.Context, *evidence.Container) (*inventory.Inventory, error)) func(context.Context, *evidence.Container) (*inventory.Inventory, error) {
	var mu sync.Mutex
	cache := map[string]*inventory.Inventory{}
	return func(ctx context.Context, c *evidence.Container) (*inventory.Inventory, error) {
		if c.Digest == "" {
			return inner(ctx, c)
		}
		mu.Lock()
		inv := cache[c.Digest]
		mu.Unlock()
		if inv != nil {
			return inv, nil
		}
		inv, err := inner(ctx, c)
		if err != nil || inv == nil {
			return inv, err
		}
		mu.Lock()
		if len(cache) >= maxCachedInventories {
			clear(cache)
		}
		cache[c.Digest] = inv
		mu.Unlock()
		return inv, nil
	}
}
