package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/osv"
	"github.com/runlens/runlens/internal/store"
)

func (s *Server) listImages(w http.ResponseWriter, r *http.Request) {
	list, err := s.st.Images(r.Context())
	if err != nil {
		s.storeError(w, r, "images", err)
		return
	}
	if c := r.URL.Query().Get("cluster"); c != "" {
		kept := list[:0]
		for _, im := range list {
			if slices.Contains(im.Clusters, c) {
				kept = append(kept, im)
			}
		}
		list = kept
	}
	page(w, r, list, func(im *store.ImageInfo) string { return im.Digest })
}

func (s *Server) getImage(w http.ResponseWriter, r *http.Request) {
	d, err := s.st.Image(r.Context(), r.PathValue("digest"))
	if err != nil {
		s.storeError(w, r, "image "+r.PathValue("digest"), err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// packageUse is where one package runs: an image holding it, at which
// versions, and the workloads running the image.
type packageUse struct {
	Digest    string   `json:"digest"`
	Reference string   `json:"reference"`
	Package   string   `json:"package"`
	Ecosystem string   `json:"ecosystem,omitempty"`
	Versions  []string `json:"versions"`
	RunningIn []string `json:"running_in,omitempty"`
	Clusters  []string `json:"clusters,omitempty"`
}

// listPackages answers where a package (?name=, exact, binary or OS
// source package; ?ecosystem= narrows, "Debian" or "Debian:12") runs:
// every stored image whose inventory holds it.
func (s *Server) listPackages(w http.ResponseWriter, r *http.Request) {
	name, eco := r.URL.Query().Get("name"), r.URL.Query().Get("ecosystem")
	if name == "" {
		writeError(w, http.StatusBadRequest, "name: required (a package name)")
		return
	}
	images, err := s.st.Images(r.Context())
	if err != nil {
		s.storeError(w, r, "images", err)
		return
	}
	candidates := images
	if eco != "" {
		digests, err := s.st.InventoriesWith(r.Context(), []store.PackageKey{store.KeyOf(eco, name)})
		if err != nil {
			s.storeError(w, r, "inventories", err)
			return
		}
		candidates = nil
		for _, im := range images {
			if slices.Contains(digests, im.Digest) {
				candidates = append(candidates, im)
			}
		}
	}
	out := []packageUse{}
	for _, im := range candidates {
		if im.Digest == "" {
			continue
		}
		inv, err := s.st.Inventory(r.Context(), im.Digest)
		if err != nil {
			s.storeError(w, r, "inventory "+im.Digest, err)
			return
		}
		use := packageUse{Digest: im.Digest, Reference: im.Reference, Package: name, RunningIn: im.RunningIn, Clusters: im.Clusters}
		for _, p := range inv.Packages {
			if (p.Name == name || p.SourceName == name) && (eco == "" || p.Ecosystem == eco || osv.BaseEcosystem(p.Ecosystem) == eco) {
				use.Ecosystem = p.Ecosystem
				if !slices.Contains(use.Versions, p.Version) {
					use.Versions = append(use.Versions, p.Version)
				}
			}
		}
		if len(use.Versions) > 0 {
			out = append(out, use)
		}
	}
	page(w, r, out, func(u *packageUse) string { return u.Digest })
}

// imageFinding is one finding of one image.
type imageFinding struct {
	Digest    string        `json:"digest"`
	Reference string        `json:"reference"`
	Finding   match.Finding `json:"finding"`
}

// listFindings answers the findings of an image (?image=), of a
// vulnerability (?vulnerability=, an id or alias) in every image, or
// both narrowed together.
func (s *Server) listFindings(w http.ResponseWriter, r *http.Request) {
	img, vuln := r.URL.Query().Get("image"), r.URL.Query().Get("vulnerability")
	if img == "" && vuln == "" {
		writeError(w, http.StatusBadRequest, "image or vulnerability: one is required")
		return
	}
	refs := map[string]string{}
	digests := []string{img}
	if img == "" {
		var err error
		if digests, refs, err = s.digestsWith(r, vuln); err != nil {
			s.storeError(w, r, "risks", err)
			return
		}
	}
	out := []imageFinding{}
	for _, d := range digests {
		var fs []match.Finding
		if img != "" {
			det, err := s.st.Image(r.Context(), d)
			if err != nil {
				s.storeError(w, r, "image "+d, err)
				return
			}
			if det.Image != nil {
				fs = det.Image.Findings
			}
			refs[d] = det.Reference
		} else {
			var err error
			if fs, err = s.st.Findings(r.Context(), d); err != nil {
				s.storeError(w, r, "findings of "+d, err)
				return
			}
		}
		for _, f := range fs {
			if vuln == "" || strings.EqualFold(f.ID, vuln) || slices.ContainsFunc(f.Aliases, func(a string) bool { return strings.EqualFold(a, vuln) }) {
				out = append(out, imageFinding{Digest: d, Reference: refs[d], Finding: f})
			}
		}
	}
	page(w, r, out, func(f *imageFinding) string {
		return f.Digest + "\x00" + f.Finding.ID + "\x00" + f.Finding.Package.Name + "\x00" + f.Finding.Package.Version + "\x00" + f.Finding.Package.Location
	})
}

// digestsWith returns the images with a current risk of the
// vulnerability (every finding of a stored image has one) and their
// references, through the risks' index rather than every image.
func (s *Server) digestsWith(r *http.Request, vuln string) ([]string, map[string]string, error) {
	var out []string
	refs := map[string]string{}
	q := store.RiskQuery{Vulnerability: vuln, Suppressed: true, Limit: maxLimit}
	for {
		p, err := s.st.Risks(r.Context(), q)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range p.Risks {
			if _, seen := refs[e.Image]; e.Image != "" && !seen {
				refs[e.Image] = e.ImageReference
				out = append(out, e.Image)
			}
		}
		if p.Next == "" {
			return out, refs, nil
		}
		q.Cursor = p.Next
	}
}
