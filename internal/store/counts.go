package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/runlens/runlens/internal/result"
)

// recountRisks recomputes the cluster's rows of risk_counts (current
// unsuppressed risks per namespace and tier) after its risks changed:
// read through the cluster's index, a few thousand rows, not the table.
func (s *sqlStore) recountRisks(ctx context.Context, x execer, cluster string) error {
	if _, err := x.ExecContext(ctx, s.d.q(`DELETE FROM risk_counts WHERE cluster = ?`), cluster); err != nil {
		return fmt.Errorf("store: risk counts: %w", err)
	}
	if _, err := x.ExecContext(ctx, s.d.q(`INSERT INTO risk_counts (cluster, namespace, tier_rank, n)
		SELECT cluster, namespace, tier_rank, COUNT(*) FROM risks WHERE cluster = ? AND suppressed = 0 GROUP BY cluster, namespace, tier_rank`), cluster); err != nil {
		return fmt.Errorf("store: risk counts: %w", err)
	}
	s.funnels.forget()
	return nil
}

// NamespaceTierCounts counts current unsuppressed risks per cluster,
// namespace and tier, from the counts kept as the risks change.
func (s *sqlStore) NamespaceTierCounts(ctx context.Context) (map[string]map[string]map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT cluster, namespace, tier_rank, n FROM risk_counts`)
	if err != nil {
		return nil, fmt.Errorf("store: risk counts: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]map[string]int{}
	for rows.Next() {
		var cluster, ns string
		var rank, n int
		if err := rows.Scan(&cluster, &ns, &rank, &n); err != nil {
			return nil, fmt.Errorf("store: risk counts: %w", err)
		}
		if rank < 0 || rank >= len(result.Tiers) || n == 0 {
			continue
		}
		if out[cluster] == nil {
			out[cluster] = map[string]map[string]int{}
		}
		if out[cluster][ns] == nil {
			out[cluster][ns] = map[string]int{}
		}
		out[cluster][ns][result.Tiers[rank]] += n
	}
	return out, rows.Err()
}

// TierCounts counts current unsuppressed risks per cluster and tier.
func (s *sqlStore) TierCounts(ctx context.Context) (map[string]map[string]int, error) {
	byNS, err := s.NamespaceTierCounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string]int, len(byNS))
	for c, nss := range byNS {
		out[c] = map[string]int{}
		for _, tiers := range nss {
			for t, n := range tiers {
				out[c][t] += n
			}
		}
	}
	return out, nil
}

// funnelTTL bounds how long the every-cluster funnel is served from
// memory: this process forgets it at each write of risks, another
// process writing to the same PostgreSQL database is seen within it.
const funnelTTL = 30 * time.Second

// funnelCache keeps the every-cluster funnel, which groups every stored
// risk (millions of rows) and is read on each overview.
type funnelCache struct {
	mu  sync.Mutex
	gen uint64 // counts the writes of risks
	ok  bool
	at  time.Time
	f   result.RiskFunnel
}

// forget drops the cached funnel.
func (c *funnelCache) forget() {
	c.mu.Lock()
	c.gen++
	c.ok = false
	c.mu.Unlock()
}

// totalFunnel is Funnel(""), cached.
func (s *sqlStore) totalFunnel(ctx context.Context) (result.RiskFunnel, error) {
	c := &s.funnels
	c.mu.Lock()
	if c.ok && time.Since(c.at) < funnelTTL {
		f := cloneFunnel(c.f)
		c.mu.Unlock()
		return f, nil
	}
	gen := c.gen
	c.mu.Unlock()
	f, err := s.funnel(ctx, s.r, "")
	if err != nil {
		return f, err
	}
	c.mu.Lock()
	if c.gen == gen { // no write of risks while it was read
		c.ok, c.at, c.f = true, time.Now(), cloneFunnel(f)
	}
	c.mu.Unlock()
	return f, nil
}

// cloneFunnel copies f with stages of its own.
func cloneFunnel(f result.RiskFunnel) result.RiskFunnel {
	for _, p := range []**int{&f.Running, &f.Reachable, &f.InUse} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	return f
}
