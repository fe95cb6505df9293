package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/store"
)

// rankDocument ranks doc, a cluster's result, with the server's inputs:
// the server-wide policy and VEX, the accepted risks of the API, and the
// evidence agents pushed for the cluster. What the document's own risks
// said of runtime and VEX (ranked by the pushing CLI with its
// --evidence and --vex) is kept where the server knows nothing better.
func (s *Server) rankDocument(ctx context.Context, cluster string, doc *result.Document) error {
	opts, tmp, err := s.rankOptions(ctx, cluster, priorOf(doc))
	if err != nil {
		return err
	}
	if err := risk.Rank(doc, opts); err != nil {
		return fmt.Errorf("ranking: %w", err)
	}
	for i := range doc.Risks {
		e := &doc.Risks[i]
		if e.Cluster == "" {
			e.Cluster = cluster // an image scan pushed for the cluster
		}
		if tmp != "" {
			renamePolicy(e, tmp)
		}
	}
	return nil
}

// rankOptions are the ranking's options for a cluster: the server's
// policy with the accepted risks, its VEX, the cluster's agent evidence,
// and what prior says where those say nothing. tmp is the file the
// policy was read from when the accepted risks were added to it (its
// name shows in reasons: renamePolicy), else "".
func (s *Server) rankOptions(ctx context.Context, cluster string, prior prior) (opts risk.Options, tmp string, err error) {
	opts = risk.Options{Now: s.opts.Now()}
	policy, tmp, err := s.policyWithAcceptances(ctx)
	if err != nil {
		return opts, "", err
	}
	opts.Policy = policy
	docs, err := s.st.Documents(ctx, store.DocEvidence, cluster)
	if err != nil {
		return opts, "", fmt.Errorf("reading the cluster's evidence: %w", err)
	}
	var evs []*evidence.Document
	for _, d := range docs {
		ev, err := evidence.Read(bytes.NewReader(d.Body))
		if err != nil {
			s.log.WarnContext(ctx, "stored evidence unreadable; ranking without it", "cluster", cluster, "node", d.Name, "err", err)
			continue
		}
		evs = append(evs, ev)
	}
	var ix *evidence.Index
	if len(evs) > 0 {
		ix = evidence.NewIndex(evs)
	}
	opts.Runtime = func(w *result.Workload, digest string, p match.PackageRef) result.Runtime {
		if ix != nil {
			if rt := ix.Runtime(w, digest, p); rt.State != "" && rt.State != result.RuntimeUnknown {
				return rt
			}
		}
		return prior.runtime[priorKey{result.WorkloadRef(&w.Workload), digest, p.Name, p.Version}]
	}
	serverVEX := s.opts.VEX
	opts.VEX = func(q risk.VEXQuery) *result.VEXStatement {
		if serverVEX != nil {
			if st := serverVEX(q); st != nil {
				return st
			}
		}
		return prior.vex[priorKey{"", q.Digest, q.Vulnerability, q.PackagePURL}]
	}
	return opts, tmp, nil
}

// priorKey names a risk's package in a place.
type priorKey struct{ workload, digest, name, version string }

// prior is what a document's risks said before the server ranks again.
type prior struct {
	runtime map[priorKey]result.Runtime
	vex     map[priorKey]*result.VEXStatement
}

func priorOf(doc *result.Document) prior {
	p := prior{runtime: map[priorKey]result.Runtime{}, vex: map[priorKey]*result.VEXStatement{}}
	for i := range doc.Risks {
		e := &doc.Risks[i]
		if e.Runtime.State != "" && e.Runtime.State != result.RuntimeUnknown {
			p.runtime[priorKey{e.WorkloadRef(), e.Image, e.Package.Name, e.Package.Version}] = e.Runtime
		}
		if e.VEX != nil {
			p.vex[priorKey{"", e.Image, e.Vulnerability, e.Package.PURL}] = e.VEX
		}
	}
	return p
}

// policyWithAcceptances is the server-wide policy with the API's
// unexpired accepted risks added to its accept list, and the temporary
// file it was read from ("" when there are none to add).
func (s *Server) policyWithAcceptances(ctx context.Context) (*risk.Policy, string, error) {
	list, err := s.st.Acceptances(ctx, s.opts.Now())
	if err != nil {
		return nil, "", fmt.Errorf("reading accepted risks: %w", err)
	}
	if len(list) == 0 {
		return s.opts.Policy, "", nil
	}
	var p risk.Policy
	if s.opts.Policy != nil {
		p = *s.opts.Policy
		p.Accept = append([]risk.Acceptance(nil), p.Accept...)
	}
	for _, a := range list {
		p.Accept = append(p.Accept, riskAcceptance(a))
	}
	return loadPolicy(&p)
}

// riskAcceptance is an API acceptance as the policy's accept entry.
func riskAcceptance(a store.Acceptance) risk.Acceptance {
	reason := a.Reason
	if a.ID != 0 {
		reason += " (acceptance " + strconv.FormatInt(a.ID, 10) + " by " + a.By + ")"
	}
	return risk.Acceptance{
		Match:         risk.Match{Cluster: a.Cluster, Namespace: a.Namespace, Image: a.Image},
		Vulnerability: a.Vulnerability, Package: a.Package, Reason: reason,
		Expires: a.Expires.UTC().Format(time.RFC3339),
	}
}

// acceptancePolicy is a policy of one acceptance, to validate it.
func acceptancePolicy(a store.Acceptance) *risk.Policy {
	return &risk.Policy{Accept: []risk.Acceptance{riskAcceptance(a)}}
}

// serverPolicyName names the server's policy in reasons instead of the
// temporary file loadPolicy reads it from.
const serverPolicyName = "(server)"

// renamePolicy writes serverPolicyName where an entry's reasons name
// the temporary policy file.
func renamePolicy(e *result.Risk, tmp string) {
	fix := func(s string) string { return strings.ReplaceAll(s, tmp, serverPolicyName) }
	for i, r := range e.Reasons { // each entry has its own list
		e.Reasons[i] = fix(r)
	}
	if e.Suppressed != nil && strings.Contains(e.Suppressed.Rule, tmp) {
		sup := *e.Suppressed
		sup.Rule = fix(sup.Rule)
		e.Suppressed = &sup
	}
	e.Decision.Override = fix(e.Decision.Override)
}

// loadPolicy validates a policy built in memory the way a policy file
// is validated (risk.LoadPolicy is the only validator), through a
// private temporary file, whose name it returns too.
func loadPolicy(p *risk.Policy) (*risk.Policy, string, error) {
	data, err := yaml.Marshal(p)
	if err != nil {
		return nil, "", fmt.Errorf("policy: %w", err)
	}
	dir, err := os.MkdirTemp("", "runlens-policy-")
	if err != nil {
		return nil, "", fmt.Errorf("policy: %w", err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "server-policy.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		return nil, "", fmt.Errorf("policy: %w", err)
	}
	out, err := risk.LoadPolicy(file)
	if err != nil {
		return nil, "", errors.New(strings.ReplaceAll(err.Error(), file, serverPolicyName))
	}
	return out, file, nil
}
