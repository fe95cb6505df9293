package vex

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	ovex "github.com/openvex/go-vex/pkg/vex"

	"github.com/runlens/runlens/internal/result"
)

// openVEXContext is the prefix of every OpenVEX @context.
const openVEXContext = "https://openvex.dev/ns"

// parseOpenVEX reads an OpenVEX document of context ctx.
func parseOpenVEX(path, ctx string, data []byte) (string, []*statement, error) {
	if err := checkOpenVEXVersion(ctx); err != nil {
		return "", nil, err
	}
	doc, err := ovex.Parse(data)
	if err != nil {
		return "", nil, fmt.Errorf("reading OpenVEX: %w", err)
	}
	name := docName(path, doc.ID)
	var docAt, docUpdated time.Time
	if doc.Timestamp != nil {
		docAt = *doc.Timestamp
	}
	if doc.LastUpdated != nil {
		docUpdated = *doc.LastUpdated
	}
	out := make([]*statement, 0, len(doc.Statements))
	for i := range doc.Statements {
		s := &doc.Statements[i]
		st, err := openVEXStatement(s)
		if err != nil {
			return "", nil, fmt.Errorf("OpenVEX statement %d%s: %w", i+1, vulnLabel(string(s.Vulnerability.Name)), err)
		}
		at, updated := docAt, docUpdated
		if s.Timestamp != nil {
			at = *s.Timestamp
		}
		if s.LastUpdated != nil {
			updated = *s.LastUpdated
		}
		st.at = at
		if updated.After(at) {
			st.at = updated
		}
		st.out.Document, st.out.Format, st.out.Author = name, "openvex", doc.Author
		st.out.Timestamp = st.at
		out = append(out, st)
	}
	return name, out, nil
}

// checkOpenVEXVersion accepts the contexts of OpenVEX v0.2.0 and later
// ("https://openvex.dev/ns/v0.2.0", "…/v1"); the bare context is v0.0.1.
func checkOpenVEXVersion(ctx string) error {
	v := strings.TrimSuffix(strings.TrimPrefix(ctx, openVEXContext), "/")
	if v == "" {
		return errors.New("OpenVEX v0.0.1 (@context " + ctx + ") is not read: runlens reads v0.2.0 and later")
	}
	if !strings.HasPrefix(v, "/v") {
		return fmt.Errorf("unknown OpenVEX @context %q", ctx)
	}
	var parts [3]int
	for i, p := range strings.SplitN(v[2:], ".", 3) {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return fmt.Errorf("unknown OpenVEX @context %q", ctx)
		}
		parts[i] = n
	}
	if parts[0] == 0 && parts[1] < 2 {
		return fmt.Errorf("OpenVEX %s (@context %s) is not read: runlens reads v0.2.0 and later", v[1:], ctx)
	}
	return nil
}

// openVEXStatement checks one statement and reads its vulnerability,
// products and status.
func openVEXStatement(s *ovex.Statement) (*statement, error) {
	st := &statement{}
	for _, id := range append([]ovex.VulnerabilityID{s.Vulnerability.Name, ovex.VulnerabilityID(s.Vulnerability.ID)}, s.Vulnerability.Aliases...) {
		if k := vulnKey(string(id)); k != "" {
			st.vulns = append(st.vulns, k)
		}
	}
	if s.Vulnerability.Name == "" {
		return nil, errors.New("no vulnerability name")
	}
	if len(s.Products) == 0 {
		return nil, errors.New("no products")
	}
	if !s.Status.Valid() {
		return nil, fmt.Errorf("unknown status %q (one of %s)", s.Status, strings.Join(ovex.Statuses(), ", "))
	}
	if s.Justification != "" && !s.Justification.Valid() {
		return nil, fmt.Errorf("unknown justification %q (one of %s)", s.Justification, strings.Join(ovex.Justifications(), ", "))
	}
	if s.Status == ovex.StatusNotAffected && s.Justification == "" && s.ImpactStatement == "" {
		return nil, errors.New("status not_affected without a justification or an impact statement")
	}
	for j := range s.Products {
		p, err := openVEXProduct(&s.Products[j])
		if err != nil {
			return nil, fmt.Errorf("product %d: %w", j+1, err)
		}
		st.products = append(st.products, p)
	}
	st.out = result.VEXStatement{
		Status:        string(s.Status),
		Justification: string(s.Justification),
		Impact:        s.ImpactStatement,
		Action:        s.ActionStatement,
	}
	return st, nil
}

// openVEXProduct reads a product's identifiers (@id, the purl identifier,
// a sha-256 hash taken as the image's manifest digest) and its
// subcomponents' purls.
func openVEXProduct(p *ovex.Product) (product, error) {
	var out product
	ids := componentIDs(&p.Component)
	if len(ids) == 0 && len(p.Identifiers) == 0 && len(p.Hashes) == 0 {
		return out, errors.New("no @id, identifiers or hashes")
	}
	for _, id := range ids {
		im, pk := parseIdent(id)
		if im != nil {
			out.images = append(out.images, im)
		}
		if pk != nil {
			out.pkgs = append(out.pkgs, pk)
		}
	}
	for k := range p.Subcomponents {
		out.hasSubs = true
		for _, id := range componentIDs(&p.Subcomponents[k].Component) {
			if _, pk := parseIdent(id); pk != nil {
				out.subs = append(out.subs, pk)
			}
		}
	}
	return out, nil
}

// componentIDs lists the identifiers of c runlens can match, @id first.
func componentIDs(c *ovex.Component) []string {
	var ids []string
	if c.ID != "" {
		ids = append(ids, c.ID)
	}
	if purl := c.Identifiers[ovex.PURL]; purl != "" {
		ids = append(ids, purl)
	}
	if h := string(c.Hashes[ovex.SHA256]); h != "" {
		if !strings.HasPrefix(strings.ToLower(h), "sha256:") {
			h = "sha256:" + h
		}
		ids = append(ids, h)
	}
	return ids
}

// vulnLabel is " (ID)" for messages, or nothing.
func vulnLabel(id string) string {
	if id == "" {
		return ""
	}
	return " (" + id + ")"
}
