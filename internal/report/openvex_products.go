package report

import (
	"sort"
	"strings"

	"github.com/openvex/go-vex/pkg/vex"
	"github.com/package-url/packageurl-go"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/workload"
)

// vexProducts names the image once per repository it runs as (a pkg:oci
// purl with repository_url, the manifest digest as its sha-256 hash), or
// by the bare digest when no repository is known; the package purl is the
// subcomponent.
func vexProducts(digest string, repos []string, purl string) []vex.Product {
	var subs []vex.Subcomponent
	if purl != "" {
		subs = []vex.Subcomponent{{Component: vex.Component{ID: purl}}}
	}
	if len(repos) == 0 {
		return []vex.Product{{Component: vex.Component{ID: digest}, Subcomponents: subs}}
	}
	hashes := map[vex.Algorithm]vex.Hash{}
	if alg, hexDigest, ok := strings.Cut(digest, ":"); ok && alg == "sha256" {
		hashes[vex.SHA256] = vex.Hash(hexDigest)
	}
	out := make([]vex.Product, 0, len(repos))
	for _, repo := range repos {
		name := repo[strings.LastIndexByte(repo, '/')+1:]
		q := packageurl.Qualifiers{{Key: "repository_url", Value: repo}}
		id := packageurl.NewPackageURL(packageurl.TypeOCI, "", name, digest, q, "").ToString()
		out = append(out, vex.Product{Component: vex.Component{ID: id, Hashes: hashes}, Subcomponents: subs})
	}
	return out
}

// vexRepositories maps each digest to the sorted "registry/repo" names
// it runs as: the workloads' containers, the images' repo digests and
// references that name a registry repository (not a file).
func vexRepositories(doc *result.Document) map[string][]string {
	sets := map[string]map[string]bool{}
	// A reference is parsed once, however many workloads and risks name
	// it; "" marks one that names no repository.
	parsed := map[string]string{}
	add := func(digest, ref string) {
		if digest == "" {
			return
		}
		repo, seen := parsed[ref]
		if !seen {
			if vexRegistryRef(ref) {
				if r, ok := workload.Repository(ref); ok {
					repo = r
				}
			}
			parsed[ref] = repo
		}
		if repo == "" {
			return
		}
		if sets[digest] == nil {
			sets[digest] = map[string]bool{}
		}
		sets[digest][repo] = true
	}
	for _, img := range doc.Images {
		add(img.Target.Digest, img.Target.Reference)
		for _, rd := range img.Target.RepoDigests {
			add(img.Target.Digest, rd)
		}
	}
	for _, wl := range doc.Workloads {
		for _, c := range wl.Containers {
			add(c.Digest, c.Repository)
			add(c.Digest, c.Image)
		}
	}
	for i := range doc.Risks {
		add(doc.Risks[i].Image, doc.Risks[i].ImageReference)
	}
	out := map[string][]string{}
	for d, set := range sets {
		for repo := range set {
			out[d] = append(out[d], repo)
		}
		sort.Strings(out[d])
	}
	return out
}

// vexRegistryRef reports whether ref may name a registry repository rather
// than an image file or directory.
func vexRegistryRef(ref string) bool {
	if ref == "" || strings.ContainsAny(ref[:1], "/.~") || strings.Contains(ref, "\\") {
		return false
	}
	lower := strings.ToLower(ref)
	for _, suffix := range []string{".tar", ".tar.gz", ".tgz", ".tar.zst"} {
		if strings.HasSuffix(lower, suffix) {
			return false
		}
	}
	for _, prefix := range []string{"docker-archive:", "oci-archive:", "oci:", "dir:", "file:"} {
		if strings.HasPrefix(lower, prefix) {
			return false
		}
	}
	return true
}
