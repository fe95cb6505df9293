package extract

import (
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/layerfs"
)

// listsPackages reports whether a kind's files are package databases or
// manifests (dpkg status, apk installed, rpmdb, package.json, lockfiles,
// METADATA, jars): one of them left unread hides every package it lists.
// Executables are not: most are not Go or Rust programs at all, and one
// too large to read is only a FileError.
func (k kind) listsPackages() bool {
	return k != kindGoBinary && k != kindRustBinary
}

// skipLog records, during one Extract, the files extractors wanted but
// could not read at all, so they can be told from files that were read and
// failed to parse.
type skipLog struct {
	mu       sync.Mutex
	capped   map[string]bool // extractor + "\x00" + path: over the whole-file cap
	unopened map[string]bool // path: Open failed (contents not kept, unreadable)
}

func newSkipLog() *skipLog {
	return &skipLog{capped: map[string]bool{}, unopened: map[string]bool{}}
}

func (l *skipLog) noteCapped(extractor, path string) {
	l.mu.Lock()
	l.capped[extractor+"\x00"+path] = true
	l.mu.Unlock()
}

func (l *skipLog) noteUnopened(path string) {
	l.mu.Lock()
	l.unopened[path] = true
	l.mu.Unlock()
}

// skipped says whether extractor never got to read path.
func (l *skipLog) skipped(extractor, path string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.capped[extractor+"\x00"+path] || l.unopened[path]
}

// watchedFS is the root as scalibr sees it: every failed Open is noted.
type watchedFS struct {
	layerfs.RootFS
	log *skipLog
}

// Open opens name in the root and notes a failure.
func (w watchedFS) Open(name string) (fs.File, error) {
	f, err := w.RootFS.Open(name)
	if err != nil {
		w.log.noteUnopened(strings.TrimPrefix(name, "/"))
	}
	return f, err
}

// maxNamed is how many skipped files Incomplete names.
const maxNamed = 3

// Incomplete returns why inv lacks packages because package databases or
// manifests were never read (their FileErrors are Skipped), naming them;
// "" when none was. A scan whose inventory is Incomplete is partial.
func Incomplete(inv *inventory.Inventory) string {
	var named []string
	seen := map[string]bool{}
	n := 0
	for _, e := range inv.Errors {
		if !e.Skipped || seen[e.Path] {
			continue
		}
		seen[e.Path] = true
		n++
		if len(named) < maxNamed {
			named = append(named, e.Path+" ("+e.Reason+")")
		}
	}
	if n == 0 {
		return ""
	}
	msg := "package database not read: " + named[0]
	if n > 1 {
		msg = fmt.Sprintf("%d package databases not read: %s", n, strings.Join(named, "; "))
	}
	if n > len(named) {
		msg += fmt.Sprintf("; and %d more", n-len(named))
	}
	return msg
}
