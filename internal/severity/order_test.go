package severity

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReportedOrder(t *testing.T) {
	want := []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}
	if diff := cmp.Diff(want, Words()); diff != "" {
		t.Errorf("Words (-want +got):\n%s", diff)
	}
	rs := Reported()
	for i := 1; i < len(rs)-1; i++ {
		if rs[i] >= rs[i-1] {
			t.Errorf("Reported()[%d] = %v is not below %v", i, rs[i], rs[i-1])
		}
	}
	rs[0] = None // a copy: the order cannot be changed from outside
	if Reported()[0] != Critical {
		t.Error("Reported returned its own array")
	}
}

func TestRank(t *testing.T) {
	for i, w := range Words() {
		if got := Rank(w); got != i {
			t.Errorf("Rank(%q) = %d, want %d", w, got, i)
		}
	}
	for _, w := range []string{"NONE", "high", "MODERATE", "", "urgent"} {
		if got := Rank(w); got != len(Words()) {
			t.Errorf("Rank(%q) = %d, want %d (after every reported word)", w, got, len(Words()))
		}
	}
}
