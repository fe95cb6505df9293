package risk

import "github.com/runlens/runlens/internal/result"

// Regroup sets doc.Remediation and the risk funnels again from the
// document's risks as they stand, without deciding them again: for a
// result some of whose risks were ranked again on their own (a store
// replacing the risks of a few images after a database update).
// Actions do not depend on the order of doc.Risks.
func Regroup(doc *result.Document) {
	doc.Remediation = remediation(doc)
	funnels(doc)
}
