package report

import (
	"bufio"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/runlens/runlens/internal/result"
)

// htmlAssets are the report's template, stylesheet and script, inlined
// into every report: the file loads nothing from anywhere.
//
//go:embed html/report.html.tmpl html/report.css html/report.js
var htmlAssets embed.FS

var htmlTemplate = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"lower": strings.ToLower,
}).ParseFS(htmlAssets, "html/report.html.tmpl"))

// writeHTML writes a single self-contained HTML page for people: the
// scan's completeness, the risk funnel, the tiers, the ranked risks with
// client-side filters and the remediation actions. Every value from the
// document is escaped by html/template, and the page's
// Content-Security-Policy lets only its own script run.
func writeHTML(w io.Writer, doc *result.Document, _ Options) error {
	css, err := htmlAssets.ReadFile("html/report.css")
	if err != nil {
		return fmt.Errorf("writing HTML report: %w", err)
	}
	js, err := htmlAssets.ReadFile("html/report.js")
	if err != nil {
		return fmt.Errorf("writing HTML report: %w", err)
	}
	v := buildHTMLView(doc)
	v.CSS = template.CSS(css) // #nosec G203 -- our embedded stylesheet
	v.JS = template.JS(js)    // #nosec G203 -- our embedded script
	sum := sha256.Sum256(js)
	v.CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-" +
		base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'"
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := htmlTemplate.Execute(bw, v); err != nil {
		return fmt.Errorf("writing HTML report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing HTML report: %w", err)
	}
	return nil
}
