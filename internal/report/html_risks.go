package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
)

// htmlRiskRow is one entry of the ranked list, with its details.
type htmlRiskRow struct {
	Rank                             int
	Tier, TierLabel, Score           string
	Vuln, Link, Aliases, Summary     string
	PackageName, PackageVersion      string
	PackageType                      string
	Where, WhereSub                  string
	Cluster, Namespace, Owner, Fixed string
	Exposure, Reason                 string
	Reasons, ExposurePaths           []string
	Inputs                           []htmlInputRow
	Decision                         string
	Runtime, RuntimeWindow           string
	Evidence                         []string
	Fix, Threat                      string
	VEX, Suppression                 string
}

// htmlInputRow is one SSVC decision input.
type htmlInputRow struct {
	Name, Value, Source, Basis string
}

// htmlFindingKey finds a risk's finding in its image, for what the risk does
// not carry (references, summary).
type htmlFindingKey struct{ digest, id, name, version string }

func (v *htmlView) risks(doc *result.Document) {
	index := map[htmlFindingKey]*match.Finding{}
	for _, img := range doc.Images {
		for i := range img.Findings {
			f := &img.Findings[i]
			index[htmlFindingKey{img.Target.Digest, f.ID, f.Package.Name, f.Package.Version}] = f
		}
	}
	clusters, namespaces, owners := map[string]bool{}, map[string]bool{}, map[string]bool{}
	rank := 0
	for i := range doc.Risks {
		r := &doc.Risks[i]
		f := index[htmlFindingKey{r.Image, r.Vulnerability, r.Package.Name, r.Package.Version}]
		if r.Suppressed != nil {
			if len(v.Suppressed) >= htmlMaxRows {
				v.SuppMore++
				continue
			}
			v.Suppressed = append(v.Suppressed, htmlNewRiskRow(0, r, f))
			continue
		}
		rank++
		v.RowsTotal++
		if len(v.Rows) >= htmlMaxRows {
			v.RowsMore++
			continue
		}
		row := htmlNewRiskRow(rank, r, f)
		clusters[row.Cluster], namespaces[row.Namespace], owners[row.Owner] = true, true, true
		v.Rows = append(v.Rows, row)
	}
	v.Filter = htmlFilterOptions{Clusters: htmlSortedKeys(clusters), Namespaces: htmlSortedKeys(namespaces), Owners: htmlSortedKeys(owners)}
}

func htmlNewRiskRow(rank int, r *result.Risk, f *match.Finding) htmlRiskRow {
	row := htmlRiskRow{
		Rank: rank, Tier: r.Tier, TierLabel: result.TierLabel(r.Tier), Score: fmt.Sprintf("%.0f", r.Score),
		Vuln: r.Vulnerability, Aliases: strings.Join(r.Aliases, ", "),
		PackageName: r.Package.Name, PackageVersion: r.Package.Version, PackageType: r.Package.Type,
		Cluster: r.Cluster, Namespace: r.Namespace, Owner: htmlOrWord(r.Facts.Owner, "unknown"),
		Exposure: htmlOrWord(r.Facts.Exposure, "unknown"), Reasons: r.Reasons, ExposurePaths: r.Facts.ExposurePaths,
		Fixed: "no",
	}
	if len(r.Reasons) > 0 {
		row.Reason = r.Reasons[0]
	}
	if f != nil {
		row.Summary = f.Summary
		for _, ref := range f.References {
			if strings.HasPrefix(ref, "https://") || strings.HasPrefix(ref, "http://") {
				row.Link = ref
				break
			}
		}
	}
	if r.Workload != "" {
		row.Where = r.Workload
		row.WhereSub = r.Cluster + " / " + r.Namespace
	} else {
		row.Where = htmlOrWord(r.ImageReference, shortDigest(r.Image))
	}
	if r.Package.SourceName != "" && r.Package.SourceName != r.Package.Name {
		row.PackageType = strings.TrimSpace(row.PackageType + " · source " + r.Package.SourceName)
	}
	d := r.Decision
	row.Inputs = []htmlInputRow{
		htmlNewInputRow("Exploitation", d.Exploitation),
		htmlNewInputRow("System exposure", d.SystemExposure),
		htmlNewInputRow("Automatable", d.Automatable),
		htmlNewInputRow("Human impact", d.HumanImpact),
	}
	row.Decision = htmlDecisionLine(d)
	row.Runtime, row.RuntimeWindow, row.Evidence = htmlRuntimeLines(r.Runtime)
	row.Fix = htmlFixLine(r.Facts)
	if len(r.Facts.FixedVersions) > 0 {
		row.Fixed = "yes"
	}
	owner := "owner " + row.Owner
	if r.Facts.OwnerReason != "" {
		owner += " (" + r.Facts.OwnerReason + ")"
	}
	row.Fix = strings.Join(htmlNonEmpty(row.Fix, owner, row.PackageType), " · ")
	row.Threat = htmlThreatLine(r.Facts)
	if x := r.VEX; x != nil {
		row.VEX = strings.Join(htmlNonEmpty(x.Status, x.Justification, x.Impact, x.Action, "from "+x.Document), " · ")
	}
	if s := r.Suppressed; s != nil {
		row.Suppression = s.By + ": " + s.Reason
		if s.Rule != "" {
			row.Suppression += " (rule " + s.Rule + ")"
		}
		if !s.Expires.IsZero() {
			row.Suppression += ", expires " + s.Expires.UTC().Format("2 Jan 2006")
		}
	}
	return row
}

func htmlNewInputRow(name string, in *result.Input) htmlInputRow {
	if in == nil {
		return htmlInputRow{Name: name, Value: "-", Source: "-"}
	}
	src := in.Source
	if !in.Date.IsZero() {
		src += ", " + in.Date.UTC().Format("2 Jan 2006")
	}
	return htmlInputRow{Name: name, Value: htmlOrWord(in.Value, "-"), Source: src, Basis: strings.Join(in.Basis, "; ")}
}

func htmlDecisionLine(d result.Decision) string {
	if d.Table == "" && d.Outcome == "" {
		return ""
	}
	s := fmt.Sprintf("%s row %d → %s", htmlOrWord(d.Table, "decision table"), d.Row, htmlOrDash(d.Outcome))
	if d.Override != "" {
		s += "; overridden by policy rule " + d.Override
	}
	return s
}

func htmlRuntimeLines(rt result.Runtime) (state, window string, evidence []string) {
	state = htmlOrWord(rt.State, result.RuntimeUnknown)
	if state == result.RuntimeUnknown {
		state += " — no runtime evidence"
	}
	if w := rt.Window; w != nil {
		window = fmt.Sprintf("observed %s – %s (%s)", w.Start.UTC().Format("2 Jan 15:04"), w.End.UTC().Format("2 Jan 15:04 MST"),
			humanAge(w.End.Sub(w.Start)))
		if !w.Complete {
			window += ", incomplete window"
		}
		if w.Drops > 0 {
			window += fmt.Sprintf(", %d events dropped", w.Drops)
		}
	}
	return state, window, rt.Evidence
}

func htmlFixLine(f result.Facts) string {
	if len(f.FixedVersions) > 0 {
		return "fixed in " + strings.Join(f.FixedVersions, ", ")
	}
	if l := unfixedLabel(f.Status); l != "-" {
		return "no fix: " + l
	}
	return "no fix available yet"
}

func htmlThreatLine(f result.Facts) string {
	parts := []string{"severity " + htmlOrWord(f.Severity, "UNKNOWN")}
	if f.CVSS != nil {
		parts = append(parts, fmt.Sprintf("CVSS %s %.1f", f.CVSS.Version, f.CVSS.Score))
	}
	if f.EPSS != nil {
		parts = append(parts, fmt.Sprintf("EPSS %.1f%% (percentile %.0f)", f.EPSS.Probability*100, f.EPSS.Percentile*100))
	}
	if f.KEV != nil {
		kev := "in CISA KEV"
		if !f.KEV.DateAdded.IsZero() {
			kev += " since " + f.KEV.DateAdded.UTC().Format(time.DateOnly)
		}
		parts = append(parts, kev)
	}
	return strings.Join(parts, " · ")
}

func htmlNonEmpty(list ...string) []string {
	var out []string
	for _, s := range list {
		if s != "" && s != "from " {
			out = append(out, s)
		}
	}
	return out
}
