package extract

import (
	"bytes"
	"strings"
	"testing"
)

func FuzzParseAPKFiles(f *testing.F) {
	f.Add([]byte("P:musl\nV:1\nF:lib\nR:ld-musl-x86_64.so.1\n\nP:b\nR:orphan\n"))
	f.Add([]byte("F:../../etc\nR:../shadow\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, _, _ := parseAPKFiles(bytes.NewReader(data), func(string) bool { return true })
		for _, files := range m {
			for _, p := range files {
				if !strings.HasPrefix(p, "/") || strings.Contains(p, "/../") {
					t.Fatalf("unclean owned path %q", p)
				}
			}
		}
	})
}

func FuzzSplitSourceRPM(f *testing.F) {
	f.Add("openssl-3.0.7-24.el9.src.rpm")
	f.Add("-")
	f.Fuzz(func(t *testing.T, s string) {
		n, v := splitSourceRPM(s)
		if (n == "") != (v == "") {
			t.Fatalf("split %q = %q, %q", s, n, v)
		}
	})
}
