package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
)

// sarifFingerprint names the partial fingerprint that identifies a result
// across uploads: vulnerability, package, image repository and workload.
const sarifFingerprint = "runlensFinding/v1"

// sarifReasons is how many reasons a risk's message quotes.
const sarifReasons = 3

// sarifTags is how many tags a rule has at most: GitHub code scanning
// keeps 10.
const sarifTags = 10

// maxSARIFResults is how many results a run holds at most: GitHub code
// scanning refuses a run with more. Risks are ranked, so the most urgent
// are the ones kept; a notification counts the rest.
const maxSARIFResults = 25_000

// writeSARIF writes the document as a SARIF 2.1.0 log of one run: a rule
// per advisory and a result per risk (per finding per image when the
// document has no risks). docs/formats.md says what maps to what.
func writeSARIF(w io.Writer, doc *result.Document, _ Options) error {
	run := sarif.NewRunWithInformationURI("runlens", runlensURI)
	if doc.Scanner.Version != "" {
		run.Tool.Driver.WithVersion(doc.Scanner.Version)
	}
	advisories := collectAdvisories(doc)
	rules := make(map[string]int, len(advisories))
	for i, a := range advisories {
		rules[a.ID] = i
	}
	newResult := func(ruleID string) *sarif.Result {
		return sarif.NewRuleResult(ruleID).WithRuleIndex(rules[ruleID])
	}
	paths := packagePaths(doc)
	// The results are made one at a time as they are written: elem is the
	// i-th of written.
	total, written := 0, 0
	var elem func(i int) any
	if len(doc.Risks) > 0 {
		total = len(doc.Risks)
		written = min(total, maxSARIFResults)
		elem = func(i int) any {
			r := &doc.Risks[i]
			return riskResult(newResult, r, paths[r.Image+"\x00"+findingKey(r.Package)])
		}
	} else {
		type at struct {
			img *result.Image
			f   *match.Finding
		}
		var list []at
		for _, img := range doc.Images {
			for i := range img.Findings {
				total++
				if len(list) < maxSARIFResults {
					list = append(list, at{img, &img.Findings[i]})
				}
			}
		}
		written = len(list)
		elem = func(i int) any {
			img, f := list[i].img, list[i].f
			return findingResult(newResult, img, f, paths[img.Target.Digest+"\x00"+findingKey(f.Package)])
		}
	}
	inv := sarifInvocation(doc)
	if left := total - written; left > 0 {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarif.NewNotification().WithLevel(sarif.LevelWarning).
			WithMessage(sarif.NewTextMessage(fmt.Sprintf("%d of %d results left out: GitHub code scanning accepts at most %d results per run, so the %d highest-ranked are written; --format json has them all, or narrow with --severity", left, total, maxSARIFResults, written))))
	}
	run.AddInvocation(inv)
	log := sarif.NewReport()
	log.AddRun(run)
	// The rules and results are streamed into the log in place of
	// markers, with the bytes json.MarshalIndent of the whole log gives
	// (what the library's PrettyWrite writes).
	var arrays []jsonArray
	if len(advisories) > 0 {
		run.Tool.Driver.Rules = []*sarif.ReportingDescriptor{sarif.NewRule("\x00runlens:rules")}
		arrays = append(arrays, jsonArray{marker: run.Tool.Driver.Rules[0], n: len(advisories),
			elem: func(i int) any { return sarifRule(advisories[i]) }})
	}
	if written > 0 {
		run.Results = []*sarif.Result{sarif.NewRuleResult("\x00runlens:results")}
		arrays = append(arrays, jsonArray{marker: run.Results[0], n: written, elem: elem})
	}
	if err := streamJSON(w, log, true, arrays...); err != nil {
		return fmt.Errorf("writing SARIF report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("writing SARIF report: %w", err)
	}
	return nil
}

// securitySeverity is GitHub code scanning's "security-severity" of an
// advisory: its CVSS score, else the midpoint of its severity word's
// range; empty for an unrated one.
func securitySeverity(a *advisory) string {
	if a.CVSS != nil && a.CVSS.Score > 0 {
		return strconv.FormatFloat(a.CVSS.Score, 'f', 1, 64)
	}
	switch a.Severity {
	case "CRITICAL":
		return "9.5"
	case "HIGH":
		return "8.0"
	case "MEDIUM":
		return "5.5"
	case "LOW":
		return "2.0"
	}
	return ""
}

// severityLevel is the SARIF level of a severity word; an unrated one is
// a warning, never a mere note.
func severityLevel(word string) string {
	switch word {
	case "CRITICAL", "HIGH":
		return sarif.LevelError
	case "LOW":
		return sarif.LevelNote
	}
	return sarif.LevelWarning
}

// tierLevel is the SARIF level of a risk tier.
func tierLevel(tier string) string {
	switch tier {
	case result.TierImmediate, result.TierOutOfCycle:
		return sarif.LevelError
	case result.TierScheduled:
		return sarif.LevelWarning
	case result.TierDefer:
		return sarif.LevelNote
	}
	return sarif.LevelWarning
}

// sarifRule is the reporting descriptor of one advisory.
func sarifRule(a *advisory) *sarif.ReportingDescriptor {
	short := a.Summary
	if short == "" {
		short = a.ID
	}
	rule := sarif.NewRule(a.ID).WithName(a.ID).WithDescription(short).
		WithFullDescription(sarif.NewMultiformatMessageString().WithText(fullDescription(a))).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(severityLevel(a.Severity)))
	if len(a.References) > 0 {
		rule.WithHelpURI(a.References[0])
	} else {
		rule.WithHelpURI(advisoryURL(a.ID))
	}
	text, markdown := ruleHelp(a)
	rule.WithHelp(sarif.NewMultiformatMessageString().WithText(text).WithMarkdown(markdown))
	props := sarif.NewPropertyBag()
	if s := securitySeverity(a); s != "" {
		props.Add("security-severity", s)
	}
	props.Add("precision", "very-high")
	tags := append([]string{"security", "vulnerability", a.Severity}, a.CWEs...)
	props.WithTags(tags[:min(len(tags), sarifTags)])
	return rule.WithProperties(props)
}

// fullDescription says an advisory's rating and exploitation in a
// sentence or two.
func fullDescription(a *advisory) string {
	var b strings.Builder
	b.WriteString(a.ID)
	if a.Summary != "" {
		b.WriteString(": " + a.Summary)
	}
	fmt.Fprintf(&b, ". Severity %s", a.Severity)
	if a.CVSS != nil {
		fmt.Fprintf(&b, " (CVSS %s %.1f %s)", a.CVSS.Version, a.CVSS.Score, a.CVSS.Vector)
	}
	b.WriteString(".")
	if a.EPSS != nil {
		fmt.Fprintf(&b, " EPSS %.3f (percentile %.0f%%).", a.EPSS.Probability, a.EPSS.Percentile*100)
	}
	if a.KEV != nil {
		b.WriteString(" Listed in CISA's Known Exploited Vulnerabilities catalog")
		if !a.KEV.DateAdded.IsZero() {
			b.WriteString(" since " + a.KEV.DateAdded.Format("2006-01-02"))
		}
		b.WriteString(".")
	}
	return b.String()
}

// ruleHelp is an advisory's help as text and Markdown: the fixed versions
// and the references.
func ruleHelp(a *advisory) (text, markdown string) {
	var t, m strings.Builder
	fmt.Fprintf(&t, "%s (%s)\n", a.ID, a.Severity)
	fmt.Fprintf(&m, "**%s** (%s)\n\n", a.ID, a.Severity)
	if len(a.Fixes) == 0 {
		t.WriteString("No fixed version is known.\n")
		m.WriteString("No fixed version is known.\n")
	} else {
		t.WriteString("Fixed versions:\n")
		m.WriteString("| Package | Fixed versions |\n| --- | --- |\n")
		for _, fix := range a.Fixes {
			versions := strings.Join(fix.Versions, ", ")
			fmt.Fprintf(&t, "  %s: %s\n", fix.Package, versions)
			fmt.Fprintf(&m, "| %s | %s |\n", fix.Package, versions)
		}
	}
	if len(a.References) > 0 {
		t.WriteString("References:\n")
		m.WriteString("\nReferences:\n")
		for _, ref := range a.References {
			t.WriteString("  " + ref + "\n")
			m.WriteString("- " + ref + "\n")
		}
	}
	return t.String(), m.String()
}

// riskResult fills a result of one risk entry, made by newResult (which
// adds it to the run), placed at path; a suppressed one carries an
// external suppression with its reason.
func riskResult(newResult func(string) *sarif.Result, r *result.Risk, path string) *sarif.Result {
	if path == "" {
		path = r.Package.Location
	}
	where := r.ImageReference
	if where == "" {
		where = r.Image
	}
	// The message is built in one buffer: a result is written per risk.
	workload := r.WorkloadRef()
	var msg strings.Builder
	msg.Grow(128)
	msg.WriteString(r.Vulnerability + " " + r.Package.Name + "@" + r.Package.Version + " in " + where)
	if r.Workload != "" {
		msg.WriteString(" on " + workload)
	}
	msg.WriteString(": tier " + r.Tier + ", score ")
	msg.WriteString(strconv.FormatFloat(r.Score, 'f', 1, 64))
	if n := min(len(r.Reasons), sarifReasons); n > 0 {
		msg.WriteString(" — ")
		for i, reason := range r.Reasons[:n] {
			if i > 0 {
				msg.WriteString("; ")
			}
			msg.WriteString(reason)
		}
	}
	res := newResult(r.Vulnerability).WithLevel(tierLevel(r.Tier)).
		WithMessage(sarif.NewTextMessage(msg.String())).
		AddLocation(sarifLocation(path, where, r.Image, workload)).
		WithPartialFingerprints(map[string]string{sarifFingerprint: fingerprint(r.Vulnerability, r.Package, imageRepository(where), workload)})
	props := sarif.NewPropertyBag().Add("tier", r.Tier).Add("score", r.Score)
	if r.Runtime.State != "" {
		props.Add("runtime", r.Runtime.State)
	}
	res.WithProperties(props)
	if s := r.Suppressed; s != nil {
		res.AddSuppression(sarif.NewSuppression().WithKind("external").WithStatus("accepted").
			WithJustification(s.By + ": " + s.Reason))
	}
	return res
}

// findingResult fills a result of one finding in one image, made by
// newResult, placed at path, for documents without risks.
func findingResult(newResult func(string) *sarif.Result, img *result.Image, f *match.Finding, path string) *sarif.Result {
	where := img.Target.Reference
	msg := fmt.Sprintf("%s %s@%s in %s: severity %s", f.ID, f.Package.Name, f.Package.Version, where, f.Severity)
	if len(f.FixedVersions) > 0 {
		msg += ", fixed in " + strings.Join(f.FixedVersions, ", ")
	} else {
		msg += ", no fix known"
	}
	return newResult(f.ID).WithLevel(severityLevel(f.Severity)).
		WithMessage(sarif.NewTextMessage(msg)).
		AddLocation(sarifLocation(path, where, img.Target.Digest, "")).
		WithPartialFingerprints(map[string]string{sarifFingerprint: fingerprint(f.ID, f.Package, imageRepository(where), "")})
}

// packagePaths are the paths inside the image of the packages of the
// document's findings, by image digest and findingKey: the package's
// first shared library when its file list has one (what a process
// loads), else where it was found (the package database, lockfile or
// binary).
func packagePaths(doc *result.Document) map[string]string {
	out := map[string]string{}
	for _, img := range doc.Images {
		owned := map[string]string{}
		for _, p := range img.Packages {
			for _, f := range p.Files {
				if base := f[strings.LastIndexByte(f, '/')+1:]; strings.HasSuffix(base, ".so") || strings.Contains(base, ".so.") {
					owned[inventoryKey(p)] = f
					break
				}
			}
		}
		for _, f := range img.Findings {
			key := findingKey(f.Package)
			path := owned[key]
			if path == "" {
				path = f.Package.Location
			}
			out[img.Target.Digest+"\x00"+key] = path
		}
	}
	return out
}

// sarifLocation places a result at a package's path inside the image
// (the image's repository when it has none: the same place across
// rebuilds), with logical locations naming the image digest and the
// workload.
func sarifLocation(path, reference, digest, workload string) *sarif.Location {
	path = strings.TrimLeft(path, "/")
	if path == "" {
		path = imageRepository(reference)
	}
	uri := (&url.URL{Path: path}).String()
	loc := sarif.NewLocation().WithPhysicalLocation(sarif.NewPhysicalLocation().
		WithArtifactLocation(sarif.NewArtifactLocation().WithURI(uri)))
	if digest != "" {
		loc.AddLogicalLocation(sarif.NewLogicalLocation().WithKind("image").WithName(digest).
			WithFullyQualifiedName(imageRepository(reference) + "@" + digest))
	}
	if workload != "" {
		loc.AddLogicalLocation(sarif.NewLogicalLocation().WithKind("workload").WithName(workload).
			WithFullyQualifiedName(workload))
	}
	return loc
}

// fingerprint is stable for the same vulnerability, package, image
// repository and workload, whatever the digest or version.
func fingerprint(vuln string, p match.PackageRef, repository, workload string) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{vuln, p.Ecosystem, p.Name, repository, workload}, "\x00")))
	return hex.EncodeToString(sum[:16])
}

// sarifInvocation is the run's invocation: not successful when an image
// or a cluster could not be scanned completely, with a notification for
// each.
func sarifInvocation(doc *result.Document) *sarif.Invocation {
	inv := sarif.NewInvocation()
	ok := true
	for _, img := range doc.Images {
		if img.Status != result.StatusFailed && img.Status != result.StatusPartial {
			continue
		}
		ok = false
		level := sarif.LevelError
		if img.Status == result.StatusPartial {
			level = sarif.LevelWarning
		}
		text := fmt.Sprintf("image %s: scan %s", img.Target.Reference, img.Status)
		if img.Error != "" {
			text += ": " + img.Error
		}
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications,
			sarif.NewNotification().WithLevel(level).WithMessage(sarif.NewTextMessage(text)))
	}
	for _, c := range doc.Summary.Clusters {
		if c.Status != result.StatusFailed {
			continue
		}
		ok = false
		text := fmt.Sprintf("cluster %s: scan failed", c.Name)
		for _, p := range c.Problems {
			text += "; " + p.Kind + ": " + p.Reason
		}
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications,
			sarif.NewNotification().WithLevel(sarif.LevelError).WithMessage(sarif.NewTextMessage(text)))
	}
	return inv.WithExecutionSuccessful(ok)
}
