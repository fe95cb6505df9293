//go:build unix

package layerfs_test

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/layerfs"
)

// synthLayers writes a ~100 MB, three-layer image resembling a distro
// base plus application layers (about 7,000 files, mostly small, a few
// large) to dir, uncompressed and gzip-compressed. It returns the paths
// and the total uncompressed size.
func synthLayers(b *testing.B, dir string) (raw, gz []string, total int64) {
	b.Helper()
	rng := rand.New(rand.NewPCG(7, 11))
	text := []byte(strings.Repeat("Package: libexample\nVersion: 1.2.3-4\nDepends: libc6 (>= 2.36)\n", 64))
	for li, size := range []int64{60 << 20, 30 << 20, 10 << 20} {
		rp := filepath.Join(dir, fmt.Sprintf("layer%d.tar", li))
		gp := rp + ".gz"
		rf, err := os.Create(rp)
		if err != nil {
			b.Fatal(err)
		}
		gf, err := os.Create(gp)
		if err != nil {
			b.Fatal(err)
		}
		zw, _ := gzip.NewWriterLevel(gf, gzip.BestSpeed)
		bw := bufio.NewWriter(io.MultiWriter(rf, zw))
		tw := tar.NewWriter(bw)
		var written int64
		buf := make([]byte, 4<<20)
		for i := 0; written < size; i++ {
			var n int64
			switch r := rng.IntN(100); {
			case r < 1 && rng.IntN(3) == 0:
				n = 512<<10 + rng.Int64N(3<<20)
			case r < 10:
				n = 16<<10 + rng.Int64N(64<<10)
			default:
				n = rng.Int64N(8 << 10)
			}
			name := fmt.Sprintf("usr/lib/pkg%d/sub%d/file%d", li*1000+i/40, i%7, i)
			if i%500 == 0 {
				name = fmt.Sprintf("var/lib/dpkg/status.d/pkg%d-%d", li, i)
			}
			if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: n, Mode: 0o644}); err != nil {
				b.Fatal(err)
			}
			body := buf[:n]
			for j := 0; j < len(body); j += len(text) {
				copy(body[j:], text)
				if j+8 < len(body) {
					copy(body[j:], strconv.AppendUint(nil, rng.Uint64(), 16))
				}
			}
			tw.Write(body)
			written += n + 512
		}
		if err := tw.Close(); err != nil {
			b.Fatal(err)
		}
		bw.Flush()
		zw.Close()
		rf.Close()
		gf.Close()
		fi, _ := os.Stat(rp)
		total += fi.Size()
		raw = append(raw, rp)
		gz = append(gz, gp)
	}
	return raw, gz, total
}

func fileLayer(path string, compressed bool) layerfs.Layer {
	return layerfs.Layer{DiffID: "sha256:" + filepath.Base(path), Open: func(context.Context) (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil || !compressed {
			return f, err
		}
		zr, err := gzip.NewReader(bufio.NewReaderSize(f, 64<<10))
		if err != nil {
			f.Close()
			return nil, err
		}
		return struct {
			io.Reader
			io.Closer
		}{zr, f}, nil
	}}
}

// want2pct keeps dpkg status files and about 2% of the rest.
func want2pct(p string, _ fs.FileInfo) bool {
	if strings.HasPrefix(p, "var/lib/dpkg/") {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(p))
	return h.Sum32()%50 == 0
}

var synthCache struct {
	dir      string
	raw, gz  []string
	total    int64
	prepared bool
}

// BenchmarkFlatten measures Flatten over ~100 MB of layers keeping ~2% of
// files: "raw" is layerfs's own cost (uncompressed tar from disk), "gzip"
// includes compress/gzip decoding as an image source would do it.
func BenchmarkFlatten(b *testing.B) {
	if !synthCache.prepared {
		dir, err := os.MkdirTemp("", "layerfs-bench-")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
		synthCache.dir = dir
		synthCache.raw, synthCache.gz, synthCache.total = synthLayers(b, dir)
		synthCache.prepared = true
	}
	for _, mode := range []string{"raw", "gzip"} {
		b.Run(mode, func(b *testing.B) {
			paths := synthCache.raw
			if mode == "gzip" {
				paths = synthCache.gz
			}
			var layers []layerfs.Layer
			for _, p := range paths {
				layers = append(layers, fileLayer(p, mode == "gzip"))
			}
			b.SetBytes(synthCache.total)
			b.ReportAllocs()
			var kept, files int
			cpu0 := cpuTime()
			for b.Loop() {
				fsys, err := layerfs.Flatten(context.Background(), layers, layerfs.Options{Want: want2pct, TempDir: synthCache.dir})
				if err != nil {
					b.Fatal(err)
				}
				kept, files = 0, 0
				fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
					if d.Type().IsRegular() {
						files++
						if want2pct(p, nil) {
							kept++
						}
					}
					return nil
				})
				fsys.Close()
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
			b.ReportMetric(float64(files), "files")
			b.ReportMetric(float64(kept), "kept")
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heapsys-MB")
		})
	}
}

// cpuTime is the process's user+system CPU time: on a shared machine it
// is steadier than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFlattenFiles flattens real gzip layers named (base first,
// comma-separated) in LAYERFS_BENCH_LAYERS, keeping ~2% of files, and
// reports CPU time and the process's peak RSS. Skipped when unset.
func BenchmarkFlattenFiles(b *testing.B) {
	env := os.Getenv("LAYERFS_BENCH_LAYERS")
	if env == "" {
		b.Skip("LAYERFS_BENCH_LAYERS not set")
	}
	var layers []layerfs.Layer
	var total int64
	for _, p := range strings.Split(env, ",") {
		layers = append(layers, fileLayer(p, true))
		fi, err := os.Stat(p)
		if err != nil {
			b.Fatal(err)
		}
		total += fi.Size()
	}
	b.SetBytes(total)
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		fsys, err := layerfs.Flatten(context.Background(), layers, layerfs.Options{Want: want2pct})
		if err != nil {
			b.Fatal(err)
		}
		fsys.Close()
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
	b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
}

// peakRSSMB reads VmHWM from /proc/self/status (0 if unavailable).
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}
