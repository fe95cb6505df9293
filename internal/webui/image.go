package webui

import (
	"net/http"
	"net/url"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/store"
)

// imageCap is how many packages and findings an image page lists.
const imageCap = 300

// imageView is an image's page.
type imageView struct {
	I            *store.ImageDetail
	Packages     []inventory.Package
	PackagesMore int
	Findings     []match.Finding
	FindingsMore int
	// Risks are one page of its occurrences on workloads.
	Risks   []store.RiskRow
	NextURL string
}

func (u *ui) image(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	digest := r.PathValue("digest")
	det, err := u.st.Image(ctx, digest)
	if err != nil {
		u.fail(w, r, "image", err)
		return
	}
	v := imageView{I: det}
	if img := det.Image; img != nil {
		v.Packages, v.PackagesMore = capList(img.Packages, imageCap)
		v.Findings, v.FindingsMore = capList(img.Findings, imageCap)
	}
	res, err := u.st.Risks(ctx, store.RiskQuery{Image: digest, Suppressed: true, Cursor: r.URL.Query().Get("cursor"), Limit: pageSize})
	if err != nil {
		u.fail(w, r, "risks", err)
		return
	}
	v.Risks = res.Risks
	if res.Next != "" {
		v.NextURL = imageURL(digest) + "?" + url.Values{"cursor": {res.Next}}.Encode() + "#risks"
	}
	title := det.Reference
	if title == "" {
		title = shortDigest(digest)
	}
	u.render(w, r, http.StatusOK, "image", "", page{Title: title, Nav: "images", Data: v})
}

// capList keeps the first n of list and counts the rest.
func capList[T any](list []T, n int) ([]T, int) {
	if len(list) <= n {
		return list, 0
	}
	return list[:n], len(list) - n
}
