package result

// tierLabels and tierHints say the tiers in the words people read.
var (
	tierLabels = map[string]string{
		TierImmediate:  "Immediate",
		TierOutOfCycle: "Out-of-cycle",
		TierScheduled:  "Scheduled",
		TierDefer:      "Defer",
	}
	tierHints = map[string]string{
		TierImmediate:  "Act now: patch or mitigate today",
		TierOutOfCycle: "Patch before the next regular cycle",
		TierScheduled:  "Patch in the regular maintenance cycle",
		TierDefer:      "Track; no action needed now",
	}
)

// TierLabel names a tier as people read it ("Out-of-cycle"); "Untiered"
// for none, and an unknown tier as it is.
func TierLabel(tier string) string {
	if l, ok := tierLabels[tier]; ok {
		return l
	}
	if tier == "" {
		return "Untiered"
	}
	return tier
}

// TierHint says what a tier asks of its owner ("Act now: patch or
// mitigate today"); "" for an unknown tier.
func TierHint(tier string) string { return tierHints[tier] }
