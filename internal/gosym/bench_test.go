package gosym_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/runlens/runlens/internal/gosym"
)

// BenchmarkReadGoCommand reads the function table and inline trees of the
// go command (tens of thousands of functions), keeping one package as
// the scan does.
func BenchmarkReadGoCommand(b *testing.B) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Skip("no go command")
	}
	path := filepath.Join(string(out[:len(out)-1]), "bin", "go")
	f, err := os.Open(path)
	if err != nil {
		b.Skip(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	keep := func(p string) bool { return p == "net/http" }
	var tab *gosym.Table
	b.ReportAllocs()
	for b.Loop() {
		if tab, err = gosym.Read(f, keep); err != nil {
			b.Fatal(err)
		}
	}
	all, _ := gosym.Symbols(f)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(st.Size())/1e6, "binary-MB")
	b.ReportMetric(float64(len(all)), "names")
	b.ReportMetric(float64(len(tab.Symbols)), "kept")
	if !tab.Inlined {
		b.Error("inline trees not read")
	}
}
