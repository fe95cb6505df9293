package procscan

import (
	"strings"
	"testing"
)

// realMaps is /proc/<pid>/maps of a bash on Debian, with the kinds of line
// the kernel prints: code and data of the same file, anonymous memory,
// pseudo mappings, a deleted file, a memfd, a path with spaces.
const realMaps = `55d4a0a00000-55d4a0a2c000 r--p 00000000 fd:01 1835099                    /usr/bin/bash
55d4a0a2c000-55d4a0b1b000 r-xp 0002c000 fd:01 1835099                    /usr/bin/bash
55d4a0b1b000-55d4a0b50000 r--p 0011b000 fd:01 1835099                    /usr/bin/bash
55d4a1b3a000-55d4a1cba000 rw-p 00000000 00:00 0                          [heap]
7f3c1a200000-7f3c1a228000 r--p 00000000 fd:01 1836612                    /usr/lib/x86_64-linux-gnu/libc.so.6
7f3c1a228000-7f3c1a3bd000 r-xp 00028000 fd:01 1836612                    /usr/lib/x86_64-linux-gnu/libc.so.6
7f3c1a415000-7f3c1a419000 rw-p 00214000 fd:01 1836612                    /usr/lib/x86_64-linux-gnu/libc.so.6
7f3c1a419000-7f3c1a426000 rw-p 00000000 00:00 0 
7f3c1a500000-7f3c1a600000 r-xp 00000000 00:1f 4242                       /tmp/plugin.so (deleted)
7f3c1a600000-7f3c1a601000 rw-s 00000000 00:01 5151                       /memfd:wayland-shm (deleted)
7f3c1a700000-7f3c1a701000 r--p 00000000 103:05 77                        /opt/My App/lib one.so
7ffd8d8e1000-7ffd8d902000 rw-p 00000000 00:00 0                          [stack]
7ffd8d9d1000-7ffd8d9d5000 r--p 00000000 00:00 0                          [vvar]
7ffd8d9d5000-7ffd8d9d7000 r-xp 00000000 00:00 0                          [vdso]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
`

func TestParseMaps(t *testing.T) {
	res, err := parseMaps(strings.NewReader(realMaps), 1000)
	if err != nil {
		t.Fatal(err)
	}
	want := []Mapping{
		{FileID: FileID{Path: "/usr/bin/bash", Dev: Dev{253, 1}, Inode: 1835099}, Exec: true},
		{FileID: FileID{Path: "/usr/lib/x86_64-linux-gnu/libc.so.6", Dev: Dev{253, 1}, Inode: 1836612}, Exec: true},
		{FileID: FileID{Path: "/tmp/plugin.so", Dev: Dev{0, 31}, Inode: 4242, Deleted: true}, Exec: true},
		{FileID: FileID{Path: "/memfd:wayland-shm", Dev: Dev{0, 1}, Inode: 5151, Deleted: true}},
		{FileID: FileID{Path: "/opt/My App/lib one.so", Dev: Dev{259, 5}, Inode: 77}},
	}
	if len(res.maps) != len(want) {
		t.Fatalf("got %d mappings, want %d: %+v", len(res.maps), len(want), res.maps)
	}
	for i := range want {
		if res.maps[i] != want[i] {
			t.Errorf("mapping %d = %+v, want %+v", i, res.maps[i], want[i])
		}
	}
	if res.lines != 15 || res.malformed != 0 || res.cut {
		t.Errorf("lines=%d malformed=%d cut=%v, want 15 0 false", res.lines, res.malformed, res.cut)
	}
}

func TestParseMapsMalformed(t *testing.T) {
	in := "garbage\n" +
		"7f00-7f01 r-xp 00000000 zz:01 12 /bad/dev\n" +
		"7f00-7f01 r-xp 00000000 fd:01 notnum /bad/inode\n" +
		"7f00-7f01 rx 00000000 fd:01 12 /bad/perms\n" +
		"7f00-7f01 r-xp 00000000\n" +
		"7f00-7f01 r-xp 00000000 fd:01 12 /" + strings.Repeat("x", maxMapsLine) + "\n" +
		"7f00-7f01 r-xp 00000000 fd:01 13 /good\n" +
		"7f00-7f01 r--p 00000000 fd:01 14 /last/without/newline"
	res, err := parseMaps(strings.NewReader(in), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if res.malformed != 6 {
		t.Errorf("malformed = %d, want 6", res.malformed)
	}
	if len(res.maps) != 2 || res.maps[0].Path != "/good" || !res.maps[0].Exec || res.maps[1].Path != "/last/without/newline" {
		t.Errorf("maps = %+v, want /good (exec) and /last/without/newline", res.maps)
	}
}

func TestParseMapsCap(t *testing.T) {
	var b strings.Builder
	for i := range 5000 {
		b.WriteString("7f00-7f01 r-xp 00000000 fd:01 ")
		b.WriteString(itoa(i + 1))
		b.WriteString(" /lib/l")
		b.WriteString(itoa(i))
		b.WriteString(".so\n")
	}
	res, err := parseMaps(strings.NewReader(b.String()), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !res.cut || res.lines != 1000 || len(res.maps) != 1000 {
		t.Errorf("cut=%v lines=%d maps=%d, want cut at 1000", res.cut, res.lines, len(res.maps))
	}
	// Exactly at the cap is not a cut.
	res, _ = parseMaps(strings.NewReader(b.String()), 5000)
	if res.cut || len(res.maps) != 5000 {
		t.Errorf("at the cap: cut=%v maps=%d, want no cut, 5000", res.cut, len(res.maps))
	}
}

func TestDevText(t *testing.T) {
	d := Dev{253, 1}
	b, _ := d.MarshalText()
	var back Dev
	if err := back.UnmarshalText(b); err != nil || back != d || string(b) != "253:1" {
		t.Errorf("Dev text %q -> %+v, %v", b, back, err)
	}
	if err := back.UnmarshalText([]byte("fd01")); err == nil {
		t.Error("UnmarshalText(fd01) succeeded")
	}
}
