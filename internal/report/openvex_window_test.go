package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/result"
)

// TestOpenVEXNeedsTheMinimumWindow: a complete window shorter than the
// minimum (24 h unless the policy says otherwise) proves nothing; a
// policy's shorter minimum lets it.
func TestOpenVEXNeedsTheMinimumWindow(t *testing.T) {
	doc, _ := ovDocument()
	hour := &result.Window{Start: ovStart, End: ovStart.Add(time.Hour), Complete: true}
	doc.Risks = []result.Risk{ovRisk("CVE-2024-1001", ovLibssl, ovWeb, "web", result.Runtime{State: result.RuntimeNotObserved, Window: hour})}
	f, err := Lookup("openvex")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		min  time.Duration
		want string
	}{{0, `"status": "under_investigation"`}, {30 * time.Minute, `"status": "not_affected"`}} {
		var buf bytes.Buffer
		if err := f.Write(&buf, doc, Options{MinObservation: c.min}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if !strings.Contains(out, c.want) {
			t.Errorf("minimum %s: want %s in\n%s", c.min, c.want, out)
		}
		if c.min == 0 && !strings.Contains(out, "watched for 1h0m0s only, less than the 24h0m0s") {
			t.Errorf("the short window is not explained:\n%s", out)
		}
	}
}
