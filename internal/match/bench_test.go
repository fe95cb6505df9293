package match

import (
	"context"
	"fmt"
	"testing"

	"github.com/runlens/runlens/internal/inventory"
)

// BenchmarkMatch matches the known-advisory packages (67, all distinct)
// against the real store.
func BenchmarkMatch(b *testing.B) { benchMatch(b, 1) }

// BenchmarkMatchRepeated matches 100 copies of them, each copy at its own
// location, as in an image with many node_modules trees.
func BenchmarkMatchRepeated(b *testing.B) { benchMatch(b, 100) }

func benchMatch(b *testing.B, copies int) {
	db := openVulnDBB(b)
	var inv inventory.Inventory
	for i := range copies {
		for _, c := range knownCases() {
			p := c.pkg
			p.Locations = []string{fmt.Sprintf("/copy%d", i)}
			inv.Packages = append(inv.Packages, p)
		}
	}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		res, err := Match(ctx, &inv, db)
		if err != nil || len(res.Findings) == 0 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(inv.Packages)), "packages")
}
