package main

import (
	"strconv"
	"strings"
	"testing"
)

// Bad usage exits 64 with a message that says what was wrong; asking for
// help is not bad usage.
func TestUsageErrorsExit64(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"scan", "imgae", "x"}, `unknown command "imgae" for "runlens scan"; did you mean image?`},
		{[]string{"scan", "bogus"}, `unknown command "bogus"`},
		{[]string{"scan"}, "needs a subcommand"},
		{[]string{"db", "verify"}, `unknown command "verify" for "runlens db"`},
		{[]string{"bogus"}, "unknown command"},
		{[]string{"scan", "image", "--archive", sampleImage, "--exit-code", "300"}, "--exit-code: 300 is not allowed"},
		{[]string{"scan", "image", "--archive", sampleImage, "--exit-code", "64"}, "--exit-code: 64"},
		{[]string{"scan", "image", "--archive", sampleImage, "--exit-code", "2"}, "--exit-code: 2"},
		{[]string{"scan", "image", "--archive", sampleImage, "--exit-code", "-1"}, "--exit-code: -1"},
		{[]string{"scan", "image", "--archive", sampleImage, "--max-db-age", "-5h"}, "--max-db-age: -5h0m0s is negative"},
		{[]string{"db", "status", "--max-db-age", "-5h"}, "--max-db-age"},
		{[]string{"scan", "image", "--archive", sampleImage, "--timeout", "-1s"}, "--timeout: -1s is negative"},
	} {
		code, out, stderr := c.run("", tc.args...)
		if code != exitUsage {
			t.Errorf("runlens %s: exit %d, want %d (stderr %q)", strings.Join(tc.args, " "), code, exitUsage, stderr)
		}
		if !strings.Contains(stderr, tc.want) {
			t.Errorf("runlens %s: stderr %q does not say %q", strings.Join(tc.args, " "), stderr, tc.want)
		}
		if out != "" {
			t.Errorf("runlens %s: wrote a report on bad usage: %q", strings.Join(tc.args, " "), out)
		}
	}
	for _, args := range [][]string{{"--help"}, {"scan", "--help"}, {"db", "--help"}} {
		if code, out, _ := c.run("", args...); code != exitOK || !strings.Contains(out, "Usage:") {
			t.Errorf("runlens %s: exit %d, want help and 0", strings.Join(args, " "), code)
		}
	}
}

// --timeout 0 means no timeout, and allowed --exit-code values work.
func TestTimeoutZeroAndExitCodeRange(t *testing.T) {
	c := newCLI(t)
	if code, _, stderr := c.run("", "scan", "image", "--archive", sampleImage, "--timeout", "0"); code != exitOK {
		t.Errorf("--timeout 0: exit %d: %s", code, stderr)
	}
	for _, want := range []int{1, 4, 63, 65, 125} {
		code, _, stderr := c.run("", "scan", "image", "--archive", sampleImage, "--exit-code", itoa(want))
		if code != want {
			t.Errorf("--exit-code %d: exit %d: %s", want, code, stderr)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
