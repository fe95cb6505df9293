package discover

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/workload"
)

// maxNamedSecrets bounds how many secrets the pull-secret Problem names.
const maxNamedSecrets = 10

// Keychains is the one cache of image-pull keychains of a run: each
// (cluster, namespace, secret set) is read once, and the keychain serves
// both resolving sha256-only image IDs during discovery and pulling the
// images for the scan. It remembers which secrets could not be used and
// which images that named them were then not pulled, so that each cluster
// gets at most one Problem about them, and none when every such image was
// pulled anyway (through ~/.docker/config.json, another secret, or
// anonymously). It is safe for concurrent use.
type Keychains struct {
	mu      sync.Mutex
	apis    map[string]k8s.API
	entries map[string]*pullEntry
	// failed holds, per cluster, the unusable secrets named by images
	// that were not pulled, and notPulled how many such images there were.
	failed    map[string]map[SecretIssue]bool
	notPulled map[string]int
}

// pullEntry is one (cluster, namespace, secret set), read once.
type pullEntry struct {
	once   sync.Once
	kc     authn.Keychain
	issues []SecretIssue
}

// NewKeychains returns an empty cache reading secrets through the clients
// (by their Name).
func NewKeychains(clients ...k8s.ClusterClient) *Keychains {
	k := &Keychains{apis: map[string]k8s.API{}, entries: map[string]*pullEntry{},
		failed: map[string]map[SecretIssue]bool{}, notPulled: map[string]int{}}
	for _, c := range clients {
		if c.API != nil {
			k.apis[c.Name] = c.API
		}
	}
	return k
}

// entry returns the cache entry of secrets in namespace of cluster,
// reading them the first time; nil when there are no secrets or the
// cluster is unknown.
func (k *Keychains) entry(ctx context.Context, cluster, namespace string, secrets []string) *pullEntry {
	if len(secrets) == 0 {
		return nil
	}
	key := cluster + "\x00" + namespace + "\x00" + strings.Join(secrets, "\x00")
	k.mu.Lock()
	api, ok := k.apis[cluster]
	e := k.entries[key]
	if ok && e == nil {
		e = &pullEntry{}
		k.entries[key] = e
	}
	k.mu.Unlock()
	if !ok {
		return nil
	}
	e.once.Do(func() { e.kc, e.issues = PullKeychain(ctx, api, namespace, secrets) })
	return e
}

// For returns the keychain of the pull secrets secrets in namespace of
// cluster (the pod's and its service account's), or nil when there are
// none: the default keychain alone then applies.
func (k *Keychains) For(ctx context.Context, cluster, namespace string, secrets []string) authn.Keychain {
	if e := k.entry(ctx, cluster, namespace, secrets); e != nil {
		return e.kc
	}
	return nil
}

// NotPulled records that an image whose pods name secrets in namespace of
// cluster could not be resolved or pulled, so that the secrets among them
// that could not be used are named in the cluster's Problem.
func (k *Keychains) NotPulled(ctx context.Context, cluster, namespace string, secrets []string) {
	e := k.entry(ctx, cluster, namespace, secrets)
	if e == nil || len(e.issues) == 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.failed[cluster] == nil {
		k.failed[cluster] = map[SecretIssue]bool{}
	}
	for _, is := range e.issues {
		k.failed[cluster][is] = true
	}
	k.notPulled[cluster]++
}

// Problems returns the cluster's Problem about pull secrets, one line
// naming the secrets that could not be used by images then not pulled,
// and the fix; nil when there are none.
func (k *Keychains) Problems(cluster string) []workload.Problem {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.failed[cluster]) == 0 {
		return nil
	}
	var names []string
	var forbidden, missing, malformed bool
	for is := range k.failed[cluster] {
		names = append(names, is.String())
		switch {
		case is.Reason == "not found":
			missing = true
		case strings.HasPrefix(is.Reason, "malformed") || strings.HasPrefix(is.Reason, "unusable"):
			malformed = true
		default:
			forbidden = true
		}
	}
	sort.Strings(names)
	if len(names) > maxNamedSecrets {
		names = append(names[:maxNamedSecrets], fmt.Sprintf("and %d more", len(names)-maxNamedSecrets))
	}
	var fix []string
	if forbidden {
		fix = append(fix, "grant the scanner get on these secrets")
	}
	if missing {
		fix = append(fix, "create the missing ones")
	}
	if malformed {
		fix = append(fix, "repair the malformed ones")
	}
	fix = append(fix, "give the registry's credentials in ~/.docker/config.json")
	return []workload.Problem{{Cluster: cluster, Kind: ProblemSecrets, Reason: fmt.Sprintf(
		"image pull secrets not usable: %s; %d image(s) naming them could not be resolved or pulled. Fix: %s",
		strings.Join(names, ", "), k.notPulled[cluster], strings.Join(fix, ", or "))}}
}
