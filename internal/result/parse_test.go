package result

import (
	"strings"
	"testing"
)

func TestParsePolicyAndVerdictLines(t *testing.T) {
	p, err := ParsePolicy("high", 0)
	if err != nil || p.FailOn != "HIGH" {
		t.Fatalf("ParsePolicy = %+v, %v", p, err)
	}
	for _, c := range []int{2, 3, 64, 126} {
		if _, err := ParsePolicy("", c); err == nil || !strings.HasPrefix(err.Error(), "--exit-code:") {
			t.Errorf("exit code %d: err %v", c, err)
		}
	}
	v := Verdict{Code: ExitFindings, Matched: "2 findings at or above HIGH", FailOn: true, Flag: "--fail-on HIGH", Incomplete: []string{"1 of 2 images failed"}}
	got := strings.Join(v.Lines(p, "out.json"), "\n")
	want := "--fail-on HIGH: 2 findings at or above HIGH (report written to out.json)\nthe scan is also incomplete: 1 of 2 images failed"
	if got != want {
		t.Errorf("Lines:\n%s\nwant\n%s", got, want)
	}
}
