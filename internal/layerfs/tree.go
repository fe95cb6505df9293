package layerfs

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// node is one path in the flattened view. Only directories have children.
// While building, children live in kids (a map); freeze moves them to the
// name-sorted slice sorted so lookups are a binary search and ReadDir is a
// copy, and so the maps' memory is released.
type node struct {
	name   string
	link   string // symlink target as stored
	kids   map[string]*node
	sorted []*node
	size   int64
	off    int64 // offset of kept contents in the spool; -1 when not kept
	mtime  int64 // Unix seconds
	mode   fs.FileMode
	layer  int32 // index of the layer that last wrote the node; -1 for none
}

// nodeOverhead approximates a node's memory beyond its strings (struct,
// map slot in the parent, sorted slot), for the MaxMetaBytes budget.
const nodeOverhead = 160

func (n *node) isDir() bool     { return n.mode&fs.ModeDir != 0 }
func (n *node) isSymlink() bool { return n.mode&fs.ModeSymlink != 0 }
func (n *node) isRegular() bool { return n.mode.Type() == 0 }

// child returns the child called name, or nil.
func (n *node) child(name string) *node {
	if n.kids != nil {
		return n.kids[name]
	}
	i, ok := slices.BinarySearchFunc(n.sorted, name, func(c *node, name string) int {
		return strings.Compare(c.name, name)
	})
	if !ok {
		return nil
	}
	return n.sorted[i]
}

var (
	errNotExist = fs.ErrNotExist
	errNotDir   = fmt.Errorf("not a directory: %w", fs.ErrNotExist)
	errTooDeep  = errors.New("path too deep")
)

// tree is the flattened view being built or read.
type tree struct {
	root *node
	// Build state.
	layer    int32 // layer being applied
	implied  int   // directories created without their own tar entry
	meta     int64 // estimated metadata bytes
	maxDepth int
	pruned   map[*node]bool // directories already pruned in this layer
	// linkSteps counts path steps taken after following a symlink while
	// building; past maxLinkSteps such lookups fail. Real layers rarely
	// write below symlinks; hostile ones could chain 40 long symlinks under
	// every one of millions of entries.
	linkSteps, maxLinkSteps int64
}

// errLinkBudget ends symlink resolution while building once a layer set
// has spent its budget.
var errLinkBudget = errors.New("symlink resolution budget exhausted")

func newTree(maxDepth int) *tree {
	return &tree{
		root:     &node{name: ".", mode: fs.ModeDir | 0o755, off: -1, layer: -1, kids: map[string]*node{}},
		maxDepth: maxDepth,
	}
}

// newNode creates a detached node written by the current layer.
func (t *tree) newNode(name string, mode fs.FileMode) *node {
	n := &node{name: strings.Clone(name), mode: mode, off: -1, layer: t.layer}
	if mode&fs.ModeDir != 0 {
		n.kids = map[string]*node{}
	}
	t.meta += nodeOverhead + int64(len(name))
	return n
}

type walkMode uint8

const (
	// followFinal follows a symlink in the last component (Stat, Open).
	followFinal walkMode = 1 << iota
	// createDirs creates missing directories (building only).
	createDirs
)

// walk resolves p from the directory on top of stack (the root when stack
// is empty or p is absolute) with chroot semantics: absolute symlink targets
// restart at the root and ".." never climbs above it. It returns the stack
// of nodes from the root to the result and whether a symlink was followed.
// At most maxHops symlinks are followed.
func (t *tree) walk(stack []*node, p string, mode walkMode) ([]*node, bool, error) {
	if len(stack) == 0 {
		stack = append(stack, t.root)
	}
	hops := 0
	followed := false
	rest := p
	for rest != "" {
		if rest[0] == '/' {
			stack = stack[:1]
			rest = strings.TrimLeft(rest, "/")
			continue
		}
		if followed && t.maxLinkSteps > 0 {
			if t.linkSteps++; t.linkSteps > t.maxLinkSteps {
				return stack, followed, errLinkBudget
			}
		}
		comp, tail, _ := strings.Cut(rest, "/")
		rest = tail
		switch comp {
		case "", ".":
			continue
		case "..":
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		dir := stack[len(stack)-1]
		if !dir.isDir() {
			return stack, followed, errNotDir
		}
		c := dir.child(comp)
		if c == nil {
			if mode&createDirs == 0 {
				return stack, followed, errNotExist
			}
			if len(stack) > t.maxDepth {
				return stack, followed, errTooDeep
			}
			c = t.newNode(comp, fs.ModeDir|0o755)
			dir.kids[c.name] = c
			t.implied++
		}
		if c.isSymlink() && (mode&followFinal != 0 || strings.Trim(rest, "/") != "") {
			hops++
			if hops > maxHops {
				return stack, followed, ErrSymlinkLoop
			}
			followed = true
			t.linkSteps += int64(len(rest)) / 64 // cost of the concatenation below
			if c.link == "" {
				return stack, followed, errNotExist
			}
			if rest == "" {
				rest = c.link
			} else {
				rest = c.link + "/" + rest
			}
			continue
		}
		stack = append(stack, c)
	}
	return stack, followed, nil
}

// stackPath joins the names on stack (without the root) into a path.
func stackPath(stack []*node) string {
	var b strings.Builder
	for i, n := range stack[1:] {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(n.name)
	}
	return b.String()
}

// pruneLower removes from dir's subtree every node written by a layer below
// t.layer, keeping nodes of the current layer and the directories leading to
// them. It reports whether anything was kept. This implements both opaque
// directories and the whiteout of a directory: per the OCI spec a whiteout
// only hides lower layers, whatever the order of entries within a layer.
//
// Each directory is pruned at most once per layer (t.pruned): afterwards it
// holds only current-layer nodes, so repeated opaque markers or whiteouts
// cannot make a hostile layer cost O(entries²).
func (t *tree) pruneLower(dir *node) bool {
	if t.pruned == nil {
		t.pruned = map[*node]bool{}
	}
	if t.pruned[dir] {
		// Everything left below dir is from this layer.
		return len(dir.kids) > 0
	}
	keep := false
	for name, c := range dir.kids {
		keepChild := c.layer == t.layer
		if c.isDir() && t.pruneLower(c) {
			keepChild = true
		}
		if keepChild {
			keep = true
		} else {
			delete(dir.kids, name)
		}
	}
	t.pruned[dir] = true
	return keep
}

// whiteout hides name in dir (from lower layers only).
func (t *tree) whiteout(dir *node, name string) {
	c := dir.kids[name]
	if c == nil {
		return
	}
	kept := c.isDir() && t.pruneLower(c)
	if c.layer != t.layer && !kept {
		delete(dir.kids, name)
	}
}

// freeze converts every directory's map to a sorted slice. After freeze the
// tree is immutable and safe for concurrent readers.
func (t *tree) freeze() {
	stack := []*node{t.root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.kids == nil {
			continue
		}
		s := make([]*node, 0, len(n.kids))
		for _, c := range n.kids {
			s = append(s, c)
			if c.isDir() {
				stack = append(stack, c)
			}
		}
		slices.SortFunc(s, func(a, b *node) int { return strings.Compare(a.name, b.name) })
		n.sorted = s
		n.kids = nil
	}
}
