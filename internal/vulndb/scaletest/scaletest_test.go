package scaletest

import (
	"bufio"
	"compress/gzip"
	"context"
	"os"
	"testing"
)

func TestGenerate(t *testing.T) {
	out := t.TempDir()
	res, err := Generate(context.Background(), out, Options{Templates: "../testdata/osv", Advisories: 2000, EPSSRows: 3000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range res.Ecosystems {
		total += n
	}
	if total != 2000 || len(res.Ecosystems) < 10 {
		t.Errorf("%d advisories over %d ecosystems, want 2000 over ≥10", total, len(res.Ecosystems))
	}
	f, err := os.Open(res.EPSSFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for sc := bufio.NewScanner(zr); sc.Scan(); lines++ {
	}
	if lines != 3000+2 {
		t.Errorf("EPSS file has %d lines, want 3000 rows + 2 header lines", lines)
	}
	if l, err := ReadLookups(out + "/lookups.tsv"); err != nil || len(l) == 0 {
		t.Errorf("lookups: %d, %v", len(l), err)
	}
}
