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

func FuzzRustMarkers(f *testing.F) {
	f.Add([]byte("\x00/rustc/82e1608dfa6e0b5569232559e3d385fea5a93112/library/core/src/lib.rs\x00"))
	f.Add([]byte("/usr/src/rustc-1.63.0/library/std\x00rustc version 1.75.0 (x)\x00/rustc-"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, find := range []func([]byte) (string, bool){rustStdPath, rustcComment} {
			if v, ok := find(data); v != "" && (!ok || !strings.HasPrefix(v, "rustc ")) {
				t.Fatalf("toolchain %q (rust %v) from %q", v, ok, data)
			}
		}
	})
}
