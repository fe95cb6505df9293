package procscan

import "sync"

// NetCache lets successive Scans skip reading a network namespace's
// socket tables again when nothing there can have changed what is
// listening: the kernel answers each /proc/<pid>/net/* read by walking
// every socket of the node, for every namespace, so on a node of many
// pods these reads are most of a snapshot's cost.
//
// A namespace is read again when one of its processes holds a socket the
// last read did not find in any table (a new socket, or one not bound
// yet, which may listen later); a socket found listening, or found in a
// table connected or in another state (it will never listen), needs no
// second look. With a NetCache, namespaces whose processes hold no
// socket at all are not read: no listener there could be attributed to
// a process. The zero value is ready; it is safe for concurrent use.
type NetCache struct {
	mu sync.Mutex
	ns map[uint64]*nsSockets
	// reads and reuses count namespaces read and answered from the cache.
	reads, reuses int
}

// nsSockets is what the last read of one namespace's tables found.
type nsSockets struct {
	listeners []Listener
	// known holds every inode found in a table, listening or not.
	known map[uint64]bool
}

// listeners returns g's listening sockets: from the cache when every
// socket its processes hold is known, else read (and remembered). A nil
// cache always reads, every namespace.
func (c *NetCache) listeners(opts Options, g nsGroup, rec *recorder) []Listener {
	if c == nil {
		ls, _ := readNamespace(opts, g, rec)
		return ls
	}
	if len(g.sockets) == 0 {
		return nil
	}
	if g.ns != 0 {
		if ls, ok := c.lookup(g.ns, g.sockets); ok {
			return ls
		}
	}
	ls, others := readNamespace(opts, g, rec)
	if g.ns != 0 {
		c.store(g.ns, ls, others)
	}
	return ls
}

// lookup returns the cached listeners of ns when every held inode is known.
func (c *NetCache) lookup(ns uint64, held []uint64) ([]Listener, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.ns[ns]
	if e == nil {
		return nil, false
	}
	holds := make(map[uint64]bool, len(held))
	for _, ino := range held {
		if !e.known[ino] {
			return nil, false
		}
		holds[ino] = true
	}
	c.reuses++
	// Only those still held: a closed listener is gone.
	var out []Listener
	for _, l := range e.listeners {
		if holds[l.Inode] {
			out = append(out, l)
		}
	}
	return out, true
}

// store remembers one read of ns.
func (c *NetCache) store(ns uint64, listeners []Listener, others []uint64) {
	e := &nsSockets{listeners: append([]Listener(nil), listeners...), known: make(map[uint64]bool, len(listeners)+len(others))}
	for _, l := range listeners {
		e.known[l.Inode] = true
	}
	for _, ino := range others {
		e.known[ino] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ns == nil {
		c.ns = map[uint64]*nsSockets{}
	}
	c.ns[ns] = e
	c.reads++
}

// retain forgets the namespaces no process of this scan is in.
func (c *NetCache) retain(groups []nsGroup) {
	if c == nil {
		return
	}
	live := make(map[uint64]bool, len(groups))
	for _, g := range groups {
		live[g.ns] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for ns := range c.ns {
		if !live[ns] {
			delete(c.ns, ns)
		}
	}
}

// Counts returns how many namespace reads the cache made and how many
// it answered without reading.
func (c *NetCache) Counts() (reads, reuses int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads, c.reuses
}
