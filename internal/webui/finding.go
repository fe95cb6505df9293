package webui

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/store"
)

// findingView is a finding page: one occurrence's derivation and every
// occurrence of its vulnerability × package.
type findingView struct {
	R *result.Risk
	// Inputs are the four SSVC inputs with value, source and basis.
	Inputs []inputView
	// Score is the explain's score line ("Score 87.5 = 100 × (…)").
	Score string
	// Derived is false when the entry could not be ranked again (its
	// image or workload is no longer stored): values and sources show,
	// bases do not. TierDiffers says the ranking again gave another tier.
	Derived     bool
	TierDiffers string
	// Explain is `runlens explain`'s text of the entry.
	Explain     string
	Occurrences []store.RiskRow
	MoreURL     string
}

// inputView is one decision input.
type inputView struct {
	Name, Value, Source string
	Basis               []string
}

func (u *ui) finding(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	stored, err := u.st.Risk(ctx, id)
	if err != nil {
		u.fail(w, r, "risk", err)
		return
	}
	v := findingView{R: stored}
	// The derivation and the occurrences are read side by side: each is
	// a query or two on its own connection.
	type derived struct {
		e   *result.Risk
		err error
	}
	ch := make(chan derived, 1)
	go func() {
		e, err := u.derive(ctx, stored)
		ch <- derived{e, err}
	}()
	q := store.RiskQuery{Vulnerability: stored.Vulnerability, Package: stored.Package.Name, Suppressed: true, Limit: pageSize,
		Cursor: r.URL.Query().Get("cursor")}
	occ, occErr := u.st.Risks(ctx, q)
	d := <-ch
	if occErr != nil {
		u.fail(w, r, "occurrences", occErr)
		return
	}
	if e, err := d.e, d.err; err == nil && e != nil {
		v.R, v.Derived = withBases(stored, e), true
		if e.Tier != stored.Tier {
			v.TierDiffers = e.Tier
		}
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		u.log.WarnContext(ctx, "webui: ranking a risk again", "risk", id, "err", err)
	}
	v.Inputs = inputs(v.R)
	complete(v.R)
	var buf bytes.Buffer
	if explainable(v.R) && risk.Explain(&buf, v.R) == nil {
		v.Explain = buf.String()
		v.Score = scoreLine(v.Explain)
	}
	v.Occurrences = occ.Risks
	if occ.Next != "" {
		v.MoreURL = riskURL(id) + "?" + url.Values{"cursor": {occ.Next}}.Encode() + "#occurrences"
	}
	u.render(w, r, http.StatusOK, "finding", "", page{Title: stored.Vulnerability + " in " + stored.Package.Name, Nav: "risks", Data: v})
}

// derive ranks the entry again from its stored image and workload to
// recover every input's basis, which results do not store. The entry's
// runtime observation and VEX statement are given back as stored, so
// the derivation is the one the server made (nil when not found).
func (u *ui) derive(ctx context.Context, stored *result.Risk) (*result.Risk, error) {
	det, err := u.st.Image(ctx, stored.Image)
	if err != nil {
		return nil, err
	}
	if det.Image == nil {
		return nil, nil
	}
	img := *det.Image
	img.Findings = nil
	for _, f := range det.Image.Findings {
		if f.ID == stored.Vulnerability && f.Package.Name == stored.Package.Name && f.Package.Version == stored.Package.Version {
			img.Findings = append(img.Findings, f)
		}
	}
	if len(img.Findings) == 0 {
		return nil, nil
	}
	doc := &result.Document{Images: []*result.Image{&img}}
	if stored.Workload != "" {
		wl, err := u.findWorkload(ctx, stored.Cluster, stored.Namespace, stored.Workload)
		if err != nil {
			return nil, err
		}
		doc.Workloads = []*result.Workload{wl}
	}
	opts := risk.Options{
		Policy: u.opts.Policy,
		Now:    u.opts.Now(),
		Runtime: func(_ *result.Workload, _ string, _ match.PackageRef) result.Runtime {
			return stored.Runtime
		},
		VEX: func(risk.VEXQuery) *result.VEXStatement { return stored.VEX },
	}
	if err := risk.Rank(doc, opts); err != nil {
		return nil, err
	}
	for i := range doc.Risks {
		if doc.Risks[i].ID == stored.ID {
			e := doc.Risks[i]
			if e.Suppressed == nil {
				e.Suppressed = stored.Suppressed
			}
			return &e, nil
		}
	}
	return nil, nil
}

// withBases is the stored entry with what ranking it again recovered:
// the facts of its finding and place in full (CVSS, EPSS and KEV
// records, exposure paths, sensitivity), and each input's basis where
// the input came out the same (value and source). The page shows the
// stored decision, as the list does.
func withBases(stored, again *result.Risk) *result.Risk {
	out := *stored
	out.Facts = again.Facts
	d, a := &out.Decision, &again.Decision
	for _, p := range []struct {
		in    **result.Input
		again *result.Input
	}{
		{&d.Exploitation, a.Exploitation}, {&d.SystemExposure, a.SystemExposure}, {&d.Automatable, a.Automatable}, {&d.HumanImpact, a.HumanImpact},
	} {
		if *p.in == nil || p.again == nil || (*p.in).Value != p.again.Value || (*p.in).Source != p.again.Source {
			continue
		}
		in := **p.in
		in.Basis = p.again.Basis
		*p.in = &in
	}
	return &out
}

// inputs lists the decision's four inputs (bases when known).
func inputs(e *result.Risk) []inputView {
	d := e.Decision
	out := make([]inputView, 0, 4)
	for _, in := range []struct {
		name string
		in   *result.Input
	}{{"Exploitation", d.Exploitation}, {"System Exposure", d.SystemExposure}, {"Automatable", d.Automatable}, {"Human Impact", d.HumanImpact}} {
		if in.in == nil {
			out = append(out, inputView{Name: in.name, Value: "—"})
			continue
		}
		out = append(out, inputView{Name: in.name, Value: in.in.Value, Source: in.in.Source, Basis: in.in.Basis})
	}
	return out
}

// complete gives an entry read from the store both parts of its facts.
func complete(e *result.Risk) {
	if e.Facts.FindingFacts == nil {
		e.Facts.FindingFacts = &result.FindingFacts{}
	}
	if e.Facts.PlaceFacts == nil {
		e.Facts.PlaceFacts = &result.PlaceFacts{}
	}
}

// explainable reports whether the entry has every decision input.
func explainable(e *result.Risk) bool {
	d := e.Decision
	return d.Exploitation != nil && d.SystemExposure != nil && d.Automatable != nil && d.HumanImpact != nil
}

// scoreLine is the "Score … = 100 × (…)" line of an explanation.
func scoreLine(text string) string {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Score ") {
			return sc.Text()
		}
	}
	return ""
}
