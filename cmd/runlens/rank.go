package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/usage"
	"github.com/runlens/runlens/internal/vex"
)

// rankOptions are the flags that tune the risk ranking every report
// carries, and once load has run, what they mean.
type rankOptions struct {
	vexPaths       []string
	evidence       []string
	policyFile     string
	showSuppressed bool
	top            int
	failOnTier     string

	opts risk.Options
}

func (o *rankOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&o.evidence, "evidence", nil, "node agent evidence: a file an agent wrote (runlens agent --once) or an agent's URL (http://NODE:PORT/v1/evidence), repeatable; gives each risk its runtime state")
	f.StringArrayVar(&o.vexPaths, "vex", nil, "OpenVEX or CycloneDX VEX document, or a directory of them (repeatable): not_affected and fixed statements suppress the risks they match")
	f.StringVar(&o.policyFile, "policy", "", "YAML policy file: mappings, critical namespaces, per-namespace/image rules and accepted risks (docs/prioritization.md)")
	f.BoolVar(&o.showSuppressed, "show-suppressed", false, "list the risks set aside by VEX or accepted in the policy (they are always counted)")
	f.IntVar(&o.top, "top", 25, "ranked risks shown in the table (0 shows all; JSON always has all)")
	f.StringVar(&o.failOnTier, "fail-on-tier", "", "exit 1 when an unsuppressed risk is in this tier or a more urgent one (immediate, out-of-cycle, scheduled, defer)")
}

// load reads the policy file and the VEX documents; a file that cannot
// be read or understood is a usage error naming it.
func (o *rankOptions) load(ctx context.Context) error {
	if o.top < 0 {
		return usage.Errorf("--top: want 0 or more, got %d", o.top)
	}
	if o.policyFile != "" {
		p, err := risk.LoadPolicy(o.policyFile)
		if err != nil {
			return usage.Errorf("--policy: %v", err)
		}
		o.opts.Policy = p
	}
	if len(o.vexPaths) > 0 {
		set, err := vex.Load(ctx, o.vexPaths)
		if err != nil {
			return usage.Errorf("--vex: %v", err)
		}
		o.opts.VEX = func(q risk.VEXQuery) *result.VEXStatement {
			return set.Lookup(vex.Query{Vulnerability: q.Vulnerability, Aliases: q.Aliases, Digest: q.Digest, Repositories: q.Repositories, PackagePURL: q.PackagePURL})
		}
	}
	if len(o.evidence) > 0 {
		docs, err := evidence.Load(ctx, &http.Client{Timeout: 30 * time.Second}, o.evidence)
		if err != nil {
			return usage.Errorf("--evidence: %v", err)
		}
		o.opts.Runtime = evidence.NewIndex(docs).Runtime
	}
	return nil
}

// minObservation is the policy's minimum runtime window (0: the default).
func (o *rankOptions) minObservation() time.Duration { return o.opts.Policy.MinWindow() }

// rank fills doc's risks, funnels and remediation.
func (o *rankOptions) rank(doc *result.Document) error {
	if err := risk.Rank(doc, o.opts); err != nil {
		return fmt.Errorf("ranking: %w", err)
	}
	return nil
}
