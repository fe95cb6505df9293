package layerfs_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/layerfs/layerfstest"
)

type layerSpec []layerfstest.Entry

func TestOverlaySemantics(t *testing.T) {
	tests := []struct {
		name   string
		layers []layerSpec
		want   map[string]string
	}{
		{
			name: "later layer overwrites and is attributed",
			layers: []layerSpec{
				{D("etc"), F("etc/a", "1"), F("etc/b", "1")},
				{F("etc/a", "2")},
			},
			want: map[string]string{"etc": "dir L0", "etc/a": "file L1 2", "etc/b": "file L0 1"},
		},
		{
			name: "whiteout deletes a file",
			layers: []layerSpec{
				{D("a"), F("a/x", "x"), F("a/y", "y")},
				{F("a/.wh.x", "")},
			},
			want: map[string]string{"a": "dir L0", "a/y": "file L0 y"},
		},
		{
			name: "whiteout deletes a directory tree",
			layers: []layerSpec{
				{D("d"), D("d/sub"), F("d/sub/f", "f"), F("keep", "k")},
				{F(".wh.d", "")},
			},
			want: map[string]string{"keep": "file L0 k"},
		},
		{
			name: "whiteout of something missing is a no-op",
			layers: []layerSpec{
				{F("keep", "k")},
				{F(".wh.nothing", ""), F("missing/.wh.x", "")},
			},
			want: map[string]string{"keep": "file L0 k"},
		},
		{
			name: "whiteout in the same layer does not hide, whatever the order",
			layers: []layerSpec{
				{D("a")},
				{F("a/.wh.x", ""), F("a/x", "new"), F("a/y", "new"), F("a/.wh.y", "")},
			},
			want: map[string]string{"a": "dir L0", "a/x": "file L1 new", "a/y": "file L1 new"},
		},
		{
			name: "opaque directory hides lower content only",
			layers: []layerSpec{
				{D("d"), F("d/old", "o"), D("d/sub"), F("d/sub/old", "o")},
				{D("d"), F("d/.wh..wh..opq", ""), F("d/new", "n")},
			},
			want: map[string]string{"d": "dir L1", "d/new": "file L1 n"},
		},
		{
			name: "opaque marker after the layer's own entries",
			layers: []layerSpec{
				{D("d"), F("d/old", "o"), D("d/sub"), F("d/sub/old", "o")},
				{F("d/sub/new", "n"), F("d/.wh..wh..opq", "")},
			},
			want: map[string]string{"d": "dir L0", "d/sub": "dir L0", "d/sub/new": "file L1 n"},
		},
		{
			name: "opaque root",
			layers: []layerSpec{
				{F("old", "o"), D("etc")},
				{F(".wh..wh..opq", ""), F("new", "n")},
			},
			want: map[string]string{"new": "file L1 n"},
		},
		{
			name: "directory removed and recreated",
			layers: []layerSpec{
				{D("d"), F("d/old", "o")},
				{F("d/new", "n"), F(".wh.d", "")},
			},
			want: map[string]string{"d": "dir L0", "d/new": "file L1 n"},
		},
		{
			name: "file replaces directory, directory replaces file",
			layers: []layerSpec{
				{D("d"), F("d/f", "f"), F("g", "g")},
				{F("d", "now a file"), D("g"), F("g/x", "x")},
			},
			want: map[string]string{"d": "file L1 now a file", "g": "dir L1", "g/x": "file L1 x"},
		},
		{
			name:   "directories implied by deeper entries",
			layers: []layerSpec{{F("x/y/z/file", "f")}},
			want:   map[string]string{"x": "dir L0", "x/y": "dir L0", "x/y/z": "dir L0", "x/y/z/file": "file L0 f"},
		},
		{
			name: "entry below a symlinked directory lands at the target",
			layers: []layerSpec{
				{D("usr"), D("usr/lib"), L("lib", "usr/lib")},
				{F("lib/libx.so", "x")},
			},
			want: map[string]string{"usr": "dir L0", "usr/lib": "dir L0", "lib": "link L0 -> usr/lib", "usr/lib/libx.so": "file L1 x"},
		},
		{
			name: "hardlink shares contents and survives target removal",
			layers: []layerSpec{
				{F("a", "data"), H("b", "a")},
				{F(".wh.a", "")},
			},
			want: map[string]string{"b": "file L0 data"},
		},
		{
			name:   "aufs metadata and ./ prefixes",
			layers: []layerSpec{{F(".wh..wh.plnk/12.34", "x"), F("./etc/./x", "x"), D("./")}},
			want:   map[string]string{"etc": "dir L0", "etc/x": "file L0 x"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var layers []layerfs.Layer
			for i, l := range tc.layers {
				layers = append(layers, tarLayer(t, "L"+string(rune('0'+i)), l...))
			}
			fsys := mustFlatten(t, layerfs.Options{}, layers...)
			if diff := cmp.Diff(tc.want, dump(t, fsys)); diff != "" {
				t.Errorf("view (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLayerOf(t *testing.T) {
	fsys := mustFlatten(t, layerfs.Options{},
		tarLayer(t, "sha256:base", D("etc"), F("etc/os-release", "v1"), L("etc/link", "os-release")),
		tarLayer(t, "sha256:top", F("etc/os-release", "v2"), F("opt/app/bin", "b")),
	)
	for name, want := range map[string]string{
		"etc/os-release": "sha256:top",
		"etc/link":       "sha256:base", // the link itself, not its target
		"etc":            "sha256:base",
		"opt":            "sha256:top", // implied
		"opt/app/bin":    "sha256:top",
		".":              "",
		"nope":           "",
		"../etc":         "",
	} {
		if got := fsys.LayerOf(name); got != want {
			t.Errorf("LayerOf(%q) = %q; want %q", name, got, want)
		}
	}
}
