package webui

import (
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/runlens/runlens/internal/result"
)

// funcs are the templates' helpers; now is the UI's clock, for "ago".
func funcs(now func() time.Time) template.FuncMap {
	return template.FuncMap{
		"ago":          func(t time.Time) string { return ago(t, now()) },
		"shortRef":     shortRef,
		"wname":        func(kindName string) string { _, n, _ := strings.Cut(kindName, "/"); return n },
		"wkind":        func(kindName string) string { k, _, _ := strings.Cut(kindName, "/"); return k },
		"tierLabel":    result.TierLabel,
		"tierHint":     result.TierHint,
		"thousands":    thousands,
		"stamp":        stamp,
		"riskURL":      riskURL,
		"imageURL":     imageURL,
		"workloadURL":  workloadURL,
		"workloadPath": workloadPath,
		"shortDigest":  shortDigest,
		"score":        func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
		"join":         strings.Join,
		"first":        first,
		"plural":       plural,
		"intp":         intp,
		"inUse":        result.InUse,
		"fixLine":      fixLine,
		"lower":        strings.ToLower,
		"tiers":        func() []string { return result.Tiers },
		"add":          func(a, b int) int { return a + b },
		"list3":        func(a, b, c string) []string { return []string{a, b, c} },
	}
}

// thousands writes n with comma separators: 200,000.
func thousands(n int) string { return humanize.Comma(int64(n)) }

// ago says how long before now t was, coarsely ("3 h ago").
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
}

// stamp is t in UTC to the minute, for titles and tables.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func riskURL(id string) string { return "/risks/" + url.PathEscape(id) }

func imageURL(digest string) string { return "/images/" + url.PathEscape(digest) }

// workloadURL links a workload given as cluster, namespace and
// "Kind/Name" (result.Risk's form).
func workloadURL(cluster, ns, kindName string) string {
	kind, name, _ := strings.Cut(kindName, "/")
	return "/workloads/" + url.PathEscape(cluster) + "/" + url.PathEscape(ns) + "/" + url.PathEscape(kind) + "/" + url.PathEscape(name)
}

// workloadPath links a "cluster/namespace/Kind/name" reference.
func workloadPath(ref string) string {
	parts := strings.SplitN(ref, "/", 4)
	if len(parts) != 4 {
		return ""
	}
	return workloadURL(parts[0], parts[1], parts[2]+"/"+parts[3])
}

// shortRef drops the registry host from an image reference (the list's
// column is narrow; the whole reference is its title).
func shortRef(ref string) string {
	host, rest, ok := strings.Cut(ref, "/")
	if ok && (strings.ContainsAny(host, ".:") || host == "localhost") {
		return rest
	}
	return ref
}

// shortDigest keeps a digest's algorithm and first 12 hex digits.
func shortDigest(d string) string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return alg + ":" + hex[:12]
}

func first(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// intp shows an optional funnel stage: "—" when unknown.
func intp(p *int) string {
	if p == nil {
		return "—"
	}
	return thousands(*p)
}

// fixLine says the fix of a risk row: "→ 3.0.14", or "no fix".
func fixLine(fixed string) string {
	if fixed == "" {
		return "no fix"
	}
	return "→ " + fixed
}
