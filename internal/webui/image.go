package webui

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
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
	// Layers are the image's layers, base first, with the packages each
	// last wrote.
	Layers []layerView
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
		v.Layers = layers(img)
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

// layerView is one layer of an image.
type layerView struct {
	N        int
	DiffID   string
	Size     string
	Packages int
}

// layers lists the image's layers with their package counts.
func layers(img *result.Image) []layerView {
	byLayer := map[string]int{}
	for _, p := range img.Packages {
		byLayer[p.Layer]++
	}
	out := make([]layerView, 0, len(img.Target.Layers))
	for i, l := range img.Target.Layers {
		size := ""
		if l.Size > 0 {
			size = fmt.Sprintf("%.1f MB", float64(l.Size)/1e6)
		}
		out = append(out, layerView{N: i + 1, DiffID: l.DiffID, Size: size, Packages: byLayer[l.DiffID]})
	}
	return out
}

// capList keeps the first n of list and counts the rest.
func capList[T any](list []T, n int) ([]T, int) {
	if len(list) <= n {
		return list, 0
	}
	return list[:n], len(list) - n
}
