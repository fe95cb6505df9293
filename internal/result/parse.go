package result

import (
	"fmt"
	"strings"
)

// The exit statuses of a run that no document decides, beside ExitOK,
// ExitFindings and ExitIncomplete; Policy.ExitCode may not take them.
const (
	ExitStaleDB = 3  // the database is older than the run allows
	ExitUsage   = 64 // bad usage
)

// ParseFilters reads the filters as --severity (a comma-separated list)
// and --ignore-unfixed give them; a bad severity is an error naming the flag.
func ParseFilters(severities string, ignoreUnfixed bool) (Filters, error) {
	sev, err := ParseSeverities(severities)
	if err != nil {
		return Filters{}, fmt.Errorf("--severity: %w", err)
	}
	return Filters{Severities: sev, IgnoreUnfixed: ignoreUnfixed}, nil
}

// ParsePolicy reads the policy as --fail-on (one severity word, in any
// case) and --exit-code give it; a bad one is an error naming the flag.
func ParsePolicy(failOn string, exitCode int) (Policy, error) {
	return ParsePolicyTier(failOn, "", exitCode)
}

// ParsePolicyTier is ParsePolicy with --fail-on-tier (one of Tiers).
func ParsePolicyTier(failOn, failOnTier string, exitCode int) (Policy, error) {
	if failOnTier != "" && TierRank(failOnTier) == len(Tiers) {
		return Policy{}, fmt.Errorf("--fail-on-tier: want one of %s, got %q", strings.Join(Tiers, ", "), failOnTier)
	}
	if failOn != "" {
		fo, err := ParseSeverities(failOn)
		if err != nil || len(fo) != 1 {
			return Policy{}, fmt.Errorf("--fail-on: want one severity, got %q", failOn)
		}
		failOn = fo[0]
	}
	if c := exitCode; c != 0 && !validExitCode(c) {
		return Policy{}, fmt.Errorf("--exit-code: %d is not allowed: use 1 or 4-63 or 65-125 (0 turns it off; 2, 3 and 64 are runlens's own codes, and shells reserve 126 and up)", c)
	}
	return Policy{FailOn: failOn, ExitCode: exitCode, FailOnTier: failOnTier}, nil
}

// validExitCode reports whether c may be a Policy.ExitCode: it must not
// be mistaken for one of runlens's own codes or a shell's.
func validExitCode(c int) bool {
	return c == ExitFindings || (c > ExitStaleDB && c < ExitUsage) || (c > ExitUsage && c <= 125)
}
