package result

import "fmt"

// Lines are what stderr says about v beside the report: why p matched
// when the report went to the file output ("" for stdout) or the result
// is also incomplete, then every reason it is incomplete.
func (v Verdict) Lines(p Policy, output string) []string {
	var lines []string
	if v.Matched != "" && (output != "" || len(v.Incomplete) > 0) {
		line := fmt.Sprintf("--exit-code %d: %s", p.ExitCode, v.Matched)
		if v.FailOn {
			line = fmt.Sprintf("%s: %s", v.Flag, v.Matched)
		}
		if output != "" {
			line += " (report written to " + output + ")"
		}
		lines = append(lines, line)
	}
	for _, r := range v.Incomplete {
		if v.Matched != "" {
			r = "the scan is also incomplete: " + r
		}
		lines = append(lines, r)
	}
	return lines
}
