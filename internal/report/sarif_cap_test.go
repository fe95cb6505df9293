package report

import (
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/result"
)

// TestSARIFKeepsTheHighestRankedWithinGitHubsLimit: a result with more
// risks than GitHub accepts in one run writes the first (most urgent)
// maxSARIFResults and says how many were left out.
func TestSARIFKeepsTheHighestRankedWithinGitHubsLimit(t *testing.T) {
	doc := fxDocument()
	base := doc.Risks[0]
	doc.Risks = make([]result.Risk, maxSARIFResults+7)
	for i := range doc.Risks {
		doc.Risks[i] = base
		doc.Risks[i].ID = "r-" + itoaTest(i)
		doc.Risks[i].Workload = "Deployment/w" + itoaTest(i)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				Message struct{ Text string } `json:"message"`
			} `json:"results"`
			Invocations []struct {
				ExecutionSuccessful bool `json:"executionSuccessful"`
				Notifications       []struct {
					Message struct{ Text string } `json:"message"`
				} `json:"toolExecutionNotifications"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	fxDecode(t, fxRender(t, "sarif", doc), &log)
	run := log.Runs[0]
	if len(run.Results) != maxSARIFResults {
		t.Fatalf("%d results, want %d", len(run.Results), maxSARIFResults)
	}
	if !strings.Contains(run.Results[0].Message.Text, "prod/shop/Deployment/w0") {
		t.Errorf("first result is not the first risk: %q", run.Results[0].Message.Text)
	}
	var notes []string
	for _, n := range run.Invocations[0].Notifications {
		notes = append(notes, n.Message.Text)
	}
	if !strings.Contains(strings.Join(notes, "\n"), "7 of 25007 results left out") {
		t.Errorf("notifications %q lack the count left out", notes)
	}
}

func itoaTest(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoaTest(i/10) + digits[i%10:i%10+1]
}
