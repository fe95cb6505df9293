package vex

import (
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/package-url/packageurl-go"
)

// imageID is a VEX identifier that names an image by its manifest
// digest: a pkg:oci purl with a digest version, or a bare "sha256:…".
type imageID struct {
	// digest is "algorithm:hex", lower-case.
	digest string
	// repo is the purl's repository_url, normalised ("registry/repo");
	// empty when the identifier names no repository.
	repo string
	// badRepo is set when repository_url could not be read: the
	// identifier then matches no image.
	badRepo bool
	// raw is the identifier as the document wrote it.
	raw string
}

// pkgID is a package purl of a VEX product or subcomponent, normalised by
// packageurl (type, and for the types whose names fold, namespace and
// name lower-case).
type pkgID struct {
	typ, namespace, name, version string
	raw                           string
}

// digestPattern matches the manifest digests runlens knows.
var digestPattern = regexp.MustCompile(`^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$`)

// parseDigest returns s as a lower-case digest, or "" when it is none.
func parseDigest(s string) string {
	d := strings.ToLower(strings.TrimSpace(s))
	if digestPattern.MatchString(d) {
		return d
	}
	return ""
}

// parseIdent reads one identifier of a product or subcomponent: an image
// (pkg:oci purl with a digest, or a bare digest) or a package (any other
// purl). Neither is returned for what runlens cannot match: a CPE, an
// IRI, a pkg:oci purl without a digest, a purl that does not parse.
func parseIdent(s string) (*imageID, *pkgID) {
	s = strings.TrimSpace(s)
	if d := parseDigest(s); d != "" {
		return &imageID{digest: d, raw: s}, nil
	}
	if len(s) < 4 || !strings.EqualFold(s[:4], "pkg:") {
		return nil, nil
	}
	p, err := packageurl.FromString(s)
	if err != nil {
		return nil, nil
	}
	if p.Type != packageurl.TypeOCI {
		return nil, &pkgID{typ: p.Type, namespace: p.Namespace, name: p.Name, version: p.Version, raw: s}
	}
	d := parseDigest(p.Version)
	if d == "" {
		return nil, nil
	}
	id := &imageID{digest: d, raw: s}
	if u, ok := p.Qualifiers.Map()["repository_url"]; ok {
		repo, ok := normaliseRepo(u)
		id.repo, id.badRepo = repo, !ok
	}
	return id, nil
}

// normaliseRepo returns a repository name as "registry/repo": Docker Hub
// (docker.io, index.docker.io, registry-1.docker.io, or no registry at
// all) is spelled docker.io, its official images are under library/, the
// registry is lower-case. A scheme, a tag or a digest are dropped.
func normaliseRepo(s string) (string, bool) {
	s = strings.TrimSpace(s)
	for _, scheme := range []string{"https://", "http://", "oci://", "docker://"} {
		if len(s) > len(scheme) && strings.EqualFold(s[:len(scheme)], scheme) {
			s = s[len(scheme):]
		}
	}
	s = strings.TrimRight(s, "/")
	if reg, rest, ok := strings.Cut(s, "/"); ok && (reg == "localhost" || strings.ContainsAny(reg, ".:")) {
		s = strings.ToLower(reg) + "/" + rest
	}
	ref, err := name.ParseReference(s)
	if err != nil {
		return "", false
	}
	ctx := ref.Context()
	reg, repo := ctx.RegistryStr(), ctx.RepositoryStr()
	switch reg {
	case name.DefaultRegistry, "docker.io", "registry-1.docker.io":
		reg = "docker.io"
		if !strings.Contains(repo, "/") {
			repo = "library/" + repo
		}
	}
	return reg + "/" + repo, true
}

// matches reports whether the identifier names the image of q: the same
// digest, and when it names a repository, one q's digest runs as.
func (id *imageID) matches(q *query) bool {
	if id.digest != q.digest || id.badRepo {
		return false
	}
	if id.repo == "" {
		return true
	}
	for _, r := range q.repos {
		if r == id.repo {
			return true
		}
	}
	return false
}

// covers reports whether the statement's package p names the package q:
// same type, namespace and name; p's version, when it has one, equal to
// q's. Qualifiers and subpaths are not compared.
func (p *pkgID) covers(q *pkgID) bool {
	if p.typ != q.typ || p.namespace != q.namespace || p.name != q.name {
		return false
	}
	return p.version == "" || p.version == q.version
}
