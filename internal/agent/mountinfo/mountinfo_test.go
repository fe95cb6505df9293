package mountinfo

import (
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	table := `22 1 0:21 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw
30 22 253:1 /vol /data\040dir rw shared:3 master:1 - ext4 /dev/vda1 rw
short line
31 22 0:5 / /proc rw no-separator here
`
	got, err := Read(strings.NewReader(table))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (Mount{"/sys/fs/cgroup/unified", "cgroup2"}) || got[1] != (Mount{"/data dir", "ext4"}) {
		t.Errorf("%+v", got)
	}
	if u := Unescape(`a\011b\134c\999`); u != "a\tb\\c\\999" {
		t.Errorf("Unescape = %q", u)
	}
}
