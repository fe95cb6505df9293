package cri

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// imageID is an image as the cluster scan names it: "repo@sha256:…" (the
// reference a pod's status.containerStatuses[].imageID carries) and its
// manifest (or index) digest.
type imageID struct{ ref, digest string }

// image resolves the image a container runs to its registry digest. A
// container's ImageRef is already "repo@sha256:…" on containerd when the
// image came from a registry, and "sha256:<config id>" (containerd, for an
// image without repo digests) or an image id (CRI-O) otherwise; those are
// looked up with ImageStatus, whose repo_digests name the manifest. An
// image that has none (imported with `ctr images import`, built on the
// node) has no registry digest: both fields are then empty, not invented.
func (l *lister) image(ctx context.Context, name, ref string) (imageID, error) {
	if repo, d, ok := splitDigestRef(ref); ok {
		return imageID{ref: repo + "@" + d, digest: d}, nil
	}
	key := name + "\x00" + ref
	if id, ok := l.images[key]; ok {
		return id, nil
	}
	var digests []string
	for _, q := range []string{ref, name} {
		if q == "" {
			continue
		}
		resp, err := l.c.images.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: q}})
		if status.Code(err) == codes.NotFound {
			continue
		}
		if err != nil {
			return imageID{}, fmt.Errorf("image status %s: %w", q, err)
		}
		if img := resp.GetImage(); img != nil {
			digests = img.GetRepoDigests()
			break
		}
	}
	id := pickRepoDigest(digests, name)
	l.images[key] = id
	return id, nil
}

// pickRepoDigest chooses among an image's "repo@sha256:…" names the one
// of the repository the container was started from (an image pulled under
// two names has a repo digest for each), else the first in order.
func pickRepoDigest(repoDigests []string, name string) imageID {
	var ids []imageID
	for _, rd := range repoDigests {
		if repo, d, ok := splitDigestRef(rd); ok {
			ids = append(ids, imageID{ref: repo + "@" + d, digest: d})
		}
	}
	if len(ids) == 0 {
		return imageID{}
	}
	want := repository(name)
	for _, id := range ids {
		if repository(id.ref) == want {
			return id
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].ref < ids[j].ref })
	return ids[0]
}

// repository strips a reference's digest and tag: "host:5000/a/b:v1" and
// "host:5000/a/b@sha256:…" are both "host:5000/a/b".
func repository(ref string) string {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref = ref[:i]
	}
	return ref
}

// splitDigestRef splits "repo@sha256:<64 hex>" into its repository and
// digest; anything else (a bare id, a tag, a malformed digest) is not one.
func splitDigestRef(s string) (repo, digest string, ok bool) {
	i := strings.LastIndexByte(s, '@')
	if i <= 0 || !IsDigest(s[i+1:]) {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// IsDigest reports whether s is "sha256:" and 64 lower-case hex digits.
func IsDigest(s string) bool {
	hex, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(hex) != 64 {
		return false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
