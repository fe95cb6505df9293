// Package risk ranks a result's findings by the risk they carry where
// they run: one entry per finding on each workload that runs it (per
// image when no workload is known), decided by CERT/CC's SSVC Deployer
// table from Exploitation, System Exposure, Automatable and Human Impact,
// ordered inside a tier by a 0–100 score, with the reasons in words. It
// also narrows the findings to a funnel and groups the risks into
// remediation actions. docs/prioritization.md gives every mapping.
package risk

import (
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/workload"
)

// Options tune Rank.
type Options struct {
	// Policy overrides the default mappings; nil is the defaults.
	Policy *Policy
	// VEX returns the VEX statement that applies to a finding in an image
	// known by repositories, or nil; nil means no VEX documents.
	VEX func(q VEXQuery) *result.VEXStatement
	// Runtime returns what was observed of a package in a workload's
	// image; nil (or a zero State) is RuntimeUnknown.
	Runtime func(w *result.Workload, digest string, p match.PackageRef) result.Runtime
	// Owner classifies images of image and registry scans.
	Owner workload.OwnerOptions
	// Now is the time accepted risks are judged at; zero is time.Now.
	Now time.Time
}

// VEXQuery identifies a finding in an image for a VEX lookup.
type VEXQuery struct {
	Vulnerability string
	Aliases       []string
	Digest        string
	// Repositories are the "registry/repo" names the digest runs as.
	Repositories []string
	PackagePURL  string
}

// ranker holds one Rank call's state.
type ranker struct {
	opts     Options
	policy   *Policy
	table    *Table
	now      time.Time
	findings map[*match.Finding]*findingView
}

// Rank fills doc.Risks (ranked), doc.Remediation and the risk funnels
// (doc.Summary.Risk and each cluster's) from the document's findings and
// workloads. It replaces what an earlier ranking left.
func Rank(doc *result.Document, opts Options) error {
	t, err := Deployer()
	if err != nil {
		return err
	}
	r := &ranker{opts: opts, policy: opts.Policy, table: t, now: opts.Now, findings: map[*match.Finding]*findingView{}}
	if r.policy == nil {
		r.policy = &Policy{}
	}
	if r.now.IsZero() {
		r.now = time.Now()
	}
	doc.Risks = r.entries(doc)
	sortRisks(doc.Risks)
	doc.Remediation = remediation(doc)
	funnels(doc)
	return nil
}

// entries builds one entry per finding per workload running its image,
// and per image for images no workload runs.
func (r *ranker) entries(doc *result.Document) []result.Risk {
	byDigest := map[string]*result.Image{}
	n := 0
	for _, img := range doc.Images {
		if img.Target.Digest != "" {
			byDigest[img.Target.Digest] = img
		}
	}
	run := map[string]bool{}
	for _, w := range doc.Workloads {
		for _, d := range uniqueDigests(w) {
			if img := byDigest[d]; img != nil {
				run[d] = true
				n += len(img.Findings)
			}
		}
	}
	for _, img := range doc.Images {
		if !run[img.Target.Digest] {
			n += len(img.Findings)
		}
	}
	out := make([]result.Risk, 0, n)
	for _, w := range doc.Workloads {
		for _, d := range uniqueDigests(w) {
			img := byDigest[d]
			if img == nil || len(img.Findings) == 0 {
				continue
			}
			names, containers, owner, why := containerFacts(w, d, img)
			place := r.viewPlace(w, names)
			place.setFacts(w, containers, owner, why)
			for i := range img.Findings {
				out = append(out, r.entry(img, &img.Findings[i], w, place, names))
			}
		}
	}
	for _, img := range doc.Images {
		if run[img.Target.Digest] || len(img.Findings) == 0 {
			continue
		}
		names := imageNames(img)
		place := r.viewPlace(nil, names)
		owner, why := workload.OwnerUnknown, "read from a file, not a registry"
		if _, ok := imageRepository(img.Target.Reference); ok {
			owner, why = workload.ClassifyImage(img.Target.Reference, "", r.opts.Owner)
		}
		place.setFacts(nil, nil, owner, why)
		for i := range img.Findings {
			out = append(out, r.entry(img, &img.Findings[i], nil, place, names))
		}
	}
	return out
}

// imageID names an image in its entries: the manifest digest, or the
// config digest (the image ID) for an image saved without a manifest
// digest, such as a docker-save archive.
func imageID(img *result.Image) string {
	if img.Target.Digest != "" {
		return img.Target.Digest
	}
	return img.Target.ConfigDigest
}

// uniqueDigests are the resolved digests of w's containers, in order.
func uniqueDigests(w *result.Workload) []string {
	var out []string
	for _, c := range w.Containers {
		if c.Digest != "" && !contains(out, c.Digest) {
			out = append(out, c.Digest)
		}
	}
	return out
}

// containerFacts are the names the digest runs as in w (repositories
// first, then references), the containers running it, and its owner.
func containerFacts(w *result.Workload, digest string, img *result.Image) (names, containers []string, owner, why string) {
	var refs []string
	for _, c := range w.Containers {
		if c.Digest != digest {
			continue
		}
		containers = append(containers, c.Name)
		if c.Repository != "" && !contains(names, c.Repository) {
			names = append(names, c.Repository)
		}
		if repo, ok := workload.Repository(c.Image); ok && !contains(names, repo) {
			names = append(names, repo)
		}
		if !contains(refs, c.Image) {
			refs = append(refs, c.Image)
		}
		if owner == "" || owner == workload.OwnerUnknown {
			owner, why = c.Owner, c.OwnerReason
		}
	}
	for _, n := range imageNames(img) {
		if !contains(names, n) && !contains(refs, n) {
			names = append(names, n)
		}
	}
	return append(names, refs...), containers, owner, why
}

// imageRepository is the registry repository an image reference names;
// ok is false for a file or directory an image was read from (an
// archive, an OCI layout, a root filesystem), which names none.
func imageRepository(ref string) (string, bool) {
	if strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, ".") || strings.Contains(ref, "/../") ||
		strings.HasSuffix(ref, ".tar") || strings.HasSuffix(ref, ".tar.gz") || strings.HasSuffix(ref, ".tgz") {
		return "", false
	}
	if _, err := os.Stat(ref); err == nil {
		return "", false
	}
	return workload.Repository(ref)
}

// imageNames are an image's repository and reference.
func imageNames(img *result.Image) []string {
	var names []string
	if repo, ok := imageRepository(img.Target.Reference); ok {
		names = append(names, repo)
	}
	if img.Target.Reference != "" && !contains(names, img.Target.Reference) {
		names = append(names, img.Target.Reference)
	}
	return names
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// entry decides one finding at one place.
func (r *ranker) entry(img *result.Image, f *match.Finding, w *result.Workload, place *placeView, names []string) result.Risk {
	fv := r.findings[f]
	if fv == nil {
		fv = viewFinding(f)
		r.findings[f] = fv
	}
	e := result.Risk{
		Vulnerability:  f.ID,
		Aliases:        f.Aliases,
		Package:        f.Package,
		Image:          imageID(img),
		ImageReference: img.Target.Reference,
		Facts:          result.Facts{FindingFacts: fv.facts, PlaceFacts: place.facts},
	}
	if w != nil {
		e.Cluster, e.Namespace, e.Workload = w.Cluster, w.Namespace, place.workload
	}
	e.ID = riskID(&e)
	e.Runtime = r.runtimeOf(w, img.Target.Digest, f.Package)
	r.decide(&e, fv, place)
	r.suppress(&e, f, names)
	return e
}

// riskID is a short stable name for an entry: 48 bits of the FNV-1a hash
// of what tells entries apart, each part ended by a zero byte (a
// collision among 200,000 entries is about one in 14,000 runs).
func riskID(e *result.Risk) string {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, s := range [...]string{e.Cluster, e.Namespace, e.Workload, e.Image, e.Vulnerability, e.Package.Name, e.Package.Version, e.Package.Location} {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * prime
		}
		h *= prime // the zero byte
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], h)
	return "r-" + hex.EncodeToString(b[:6])
}

func (r *ranker) runtimeOf(w *result.Workload, digest string, p match.PackageRef) result.Runtime {
	if r.opts.Runtime != nil && w != nil {
		if rt := r.opts.Runtime(w, digest, p); rt.State != "" {
			return rt
		}
	}
	return result.Runtime{State: result.RuntimeUnknown}
}

// sortRisks orders entries: unsuppressed first, then by tier and score
// (highest first); equal ones keep the order they were made in (by
// workload, then the image's findings), which is stable from run to run.
// It sorts small keys and then moves each entry once: entries are large.
func sortRisks(list []result.Risk) {
	type key struct {
		rank uint32 // suppressed, tier, score: lower first
		i    int32
	}
	keys := make([]key, len(list))
	for i := range list {
		e := &list[i]
		k := uint32(result.TierRank(e.Tier))<<16 | uint32(1000-min(1000, max(0, int(math.Round(e.Score*10)))))
		if e.Suppressed != nil {
			k |= 1 << 31
		}
		keys[i] = key{k, int32(i)}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.rank != b.rank {
			return cmp.Compare(a.rank, b.rank)
		}
		return cmp.Compare(a.i, b.i)
	})
	idx := make([]int32, len(keys))
	for i, k := range keys {
		idx[i] = k.i
	}
	// Apply the permutation in place, cycle by cycle: position i takes
	// the entry at idx[i].
	for i := range idx {
		if idx[i] < 0 {
			continue
		}
		tmp := list[i]
		j := i
		for {
			k := int(idx[j])
			idx[j] = -1
			if k == i {
				list[j] = tmp
				break
			}
			list[j] = list[k]
			j = k
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// windowText says an observation window: "6h0m0s of complete observation".
func windowText(w *result.Window) string {
	if w == nil {
		return "no observation"
	}
	d := w.End.Sub(w.Start).Round(time.Minute)
	if w.Complete {
		return fmt.Sprintf("%s of complete observation (%s – %s)", d, w.Start.UTC().Format(time.RFC3339), w.End.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("%s of partial observation (%d events dropped or gaps)", d, w.Drops)
}
