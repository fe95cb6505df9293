package agent

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/runlens/runlens/internal/agent/attribute"
	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/result"
)

// Sources are where a snapshot's facts come from; each is a function so
// the CRI, /proc and the inventories can be swapped (tests, a node without
// CRI).
type Sources struct {
	// Node names the node in the document.
	Node string
	// Containers lists the running containers (the CRI).
	Containers func(ctx context.Context) ([]evidence.Container, error)
	// Processes returns what each container's processes use, by container
	// id (a /proc scan; the tracer adds to it); Problems, if set, what it
	// could not read, added to the document's problems.
	Processes func(ctx context.Context) (map[string][]Process, error)
	Problems  func() []string
	// Inventory reads the packages of a container's image (the runtime's
	// content store, else the live root through /proc/<pid>/root).
	Inventory func(ctx context.Context, c *evidence.Container) (*inventory.Inventory, error)
	// Drift, when set, compares each container's live root with its
	// image (Drifter.Drift): given the image's inventory and the
	// container's processes, what the live root has that the image does
	// not; nil when it cannot tell (an image read from the live root).
	// Nil turns the check off.
	Drift func(ctx context.Context, c *evidence.Container, img *inventory.Inventory, procs []Process) (*evidence.Drift, error)
	// Since is when the agent started watching; Complete says it saw
	// every use since then (a tracer attached, nothing dropped). A
	// snapshot without a tracer sees only what runs at that moment, so
	// its window is never complete.
	Since    time.Time
	Complete bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// ProcRoot, when set, lets a file a process maps under a path no
	// package names be matched by its inode among the packages' files in
	// the container's root (ProcRoot/<pid>/root).
	ProcRoot string
	// Indexes, kept from one Snapshot to the next, reads each image's
	// inventory and builds its attribution index once per digest; nil
	// does both again at every Snapshot (once per digest within it).
	Indexes *IndexCache
}

// Snapshot makes the evidence document of one look at the node: every
// running container with its window, and the records of the packages its
// processes use. A container whose image cannot be inventoried is kept
// (its window says it was watched, its records are missing) and named in
// Problems, so the ranking never reads it as unused: its window is
// marked incomplete.
func Snapshot(ctx context.Context, src Sources) (*evidence.Document, error) {
	now := time.Now
	if src.Now != nil {
		now = src.Now
	}
	containers, err := src.Containers(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	procs, err := src.Processes(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading processes: %w", err)
	}
	at := now().UTC()
	since := src.Since
	if since.IsZero() || since.After(at) {
		since = at
	}
	doc := &evidence.Document{SchemaVersion: evidence.SchemaVersion, Node: src.Node, CreatedAt: at,
		Window: result.Window{Start: since, End: at, Complete: src.Complete}, Containers: []evidence.Container{}, Records: []evidence.Record{}}
	indexes := src.Indexes
	if indexes == nil {
		indexes = &IndexCache{}
	}
	for i := range containers {
		c := containers[i]
		start := since
		if c.StartedAt.After(start) {
			start = c.StartedAt
		}
		c.Window = result.Window{Start: start, End: at, Complete: src.Complete}
		ix, inv, err := indexFor(ctx, src, &c, indexes)
		if err != nil {
			c.Window.Complete = false
			doc.Problems = append(doc.Problems, fmt.Sprintf("container %s (%s/%s): %v", c.ID, c.PodNamespace, c.PodName, err))
		}
		if src.Drift != nil && inv != nil && err == nil {
			d, err := src.Drift(ctx, &c, inv, procs[c.ID])
			if err != nil {
				doc.Problems = append(doc.Problems, fmt.Sprintf("container %s (%s/%s): %v", c.ID, c.PodNamespace, c.PodName, err))
			}
			c.Drift = d
		}
		doc.Containers = append(doc.Containers, c)
		if ix == nil {
			continue
		}
		seen := &Seen{Container: c, Processes: procs[c.ID], At: at}
		if src.ProcRoot != "" && inv != nil && len(seen.Processes) > 0 {
			pid, pkgs := seen.Processes[0].PID, inv.Packages
			seen.ByInode = indexes.inodes(c.ID, func() *inodeIndex { return newInodeIndex(src.ProcRoot, pid, pkgs) }).path
		}
		doc.Records = append(doc.Records, Records(seen, ix)...)
	}
	if src.Problems != nil {
		doc.Problems = append(doc.Problems, src.Problems()...)
	}
	indexes.endSnapshot()
	sort.SliceStable(doc.Containers, func(i, j int) bool { return doc.Containers[i].ID < doc.Containers[j].ID })
	return doc, nil
}

// indexed is an image's inventory, its attribution index, and why it is
// incomplete.
type indexed struct {
	inv *inventory.Inventory
	ix  *attribute.Index
	err error
}

// indexFor returns the attribution index of c's image, reading its
// inventory once per digest. A partly read image gives an index and the
// error saying so; an unreadable one no index.
func indexFor(ctx context.Context, src Sources, c *evidence.Container, cache *IndexCache) (*attribute.Index, *inventory.Inventory, error) {
	key := c.Digest
	if key == "" {
		key = "container:" + c.ID
	}
	if e, ok := cache.get(key); ok {
		return e.ix, e.inv, e.err
	}
	inv, err := src.Inventory(ctx, c)
	e := indexed{inv: inv}
	if inv != nil {
		e.ix = attribute.New(inv.Packages)
	}
	if err != nil {
		e.err = fmt.Errorf("inventory of %s: %w", c.Image, err)
	}
	cache.put(key, e, c.Digest != "" && err == nil)
	return e.ix, e.inv, e.err
}

// maxCachedIndexes bounds the images an IndexCache keeps across
// snapshots.
const maxCachedIndexes = 256

// IndexCache holds the inventories and attribution indexes of images.
// Within one Snapshot every container of an image is answered from it;
// across snapshots only complete reads of an image named by its digest
// are kept (a failed read is tried again, a live root may change). The
// zero value is ready; safe for concurrent use.
type IndexCache struct {
	mu sync.Mutex
	// kept survive from one Snapshot to the next; now serve only the
	// current one.
	kept, now map[string]indexed
	// byInode are the running containers' inode indexes, by container
	// id; used those the current Snapshot asked for (the others are gone
	// at its end).
	byInode map[string]*inodeIndex
	used    map[string]bool
}

// inodes returns container id's inode index, made with mk on first use.
func (c *IndexCache) inodes(id string, mk func() *inodeIndex) *inodeIndex {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byInode == nil {
		c.byInode, c.used = map[string]*inodeIndex{}, map[string]bool{}
	}
	c.used[id] = true
	x := c.byInode[id]
	if x == nil {
		x = mk()
		c.byInode[id] = x
	}
	return x
}

func (c *IndexCache) get(key string) (indexed, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.now[key]; ok {
		return e, true
	}
	e, ok := c.kept[key]
	return e, ok
}

func (c *IndexCache) put(key string, e indexed, keep bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !keep {
		if c.now == nil {
			c.now = map[string]indexed{}
		}
		c.now[key] = e
		return
	}
	if c.kept == nil || len(c.kept) >= maxCachedIndexes {
		c.kept = map[string]indexed{}
	}
	c.kept[key] = e
}

// endSnapshot forgets what only one Snapshot may use.
func (c *IndexCache) endSnapshot() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = nil
	for id := range c.byInode {
		if !c.used[id] {
			delete(c.byInode, id)
		}
	}
	clear(c.used)
}
