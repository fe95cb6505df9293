package layerfs_test

import (
	"fmt"
	"io/fs"
	"sync"
	"testing"

	"github.com/runlens/runlens/internal/layerfs"
)

// TestConcurrentReads: extractors read the view from many goroutines.
func TestConcurrentReads(t *testing.T) {
	var entries []layerSpec
	var files layerSpec
	for i := range 200 {
		files = append(files, F(fmt.Sprintf("d%d/f%d", i%10, i), fmt.Sprint("contents ", i)))
	}
	entries = append(entries, files)
	fsys := mustFlatten(t, layerfs.Options{}, tarLayer(t, "L", entries[0]...))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < 200; i += 8 {
				name := fmt.Sprintf("d%d/f%d", i%10, i)
				b, err := fs.ReadFile(fsys, name)
				if err != nil || string(b) != fmt.Sprint("contents ", i) {
					t.Errorf("ReadFile(%s) = %q, %v", name, b, err)
				}
				if _, err := fsys.ReadDir(fmt.Sprintf("d%d", i%10)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}
