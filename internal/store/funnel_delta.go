package store

import (
	"context"

	"github.com/runlens/runlens/internal/result"
)

// digestsFunnel totals the cluster's risks on digests (a funnel counts
// findings, each of one image: the digests' part of the cluster's).
func (s *sqlStore) digestsFunnel(ctx context.Context, x execer, cluster string, digests []string) (result.RiskFunnel, error) {
	var total result.RiskFunnel
	err := chunks(digests, func(part []string) error {
		list, a := inList(part)
		f, err := s.funnelWhere(ctx, x, ` WHERE `+s.d.byDigest()+` AND digest IN `+list, append([]any{cluster}, a...))
		if err != nil {
			return err
		}
		total = addFunnels(total, f, 1)
		return nil
	})
	return total, err
}

// addFunnels is a + sign×b, stage by stage; a stage known in either
// stays known.
func addFunnels(a, b result.RiskFunnel, sign int) result.RiskFunnel {
	out := result.RiskFunnel{
		Findings:    a.Findings + sign*b.Findings,
		Occurrences: a.Occurrences + sign*b.Occurrences,
		Immediate:   a.Immediate + sign*b.Immediate,
		OutOfCycle:  a.OutOfCycle + sign*b.OutOfCycle,
		Scheduled:   a.Scheduled + sign*b.Scheduled,
		Defer:       a.Defer + sign*b.Defer,
		Suppressed:  a.Suppressed + sign*b.Suppressed,
	}
	add := func(x, y *int) *int {
		if x == nil && y == nil {
			return nil
		}
		var n int
		if x != nil {
			n = *x
		}
		if y != nil {
			n += sign * *y
		}
		n = max(n, 0)
		return &n
	}
	out.Running, out.Reachable, out.InUse = add(a.Running, b.Running), add(a.Reachable, b.Reachable), add(a.InUse, b.InUse)
	return out
}
