// Package k8s is runlens's access to the Kubernetes API, shared by
// discovery (package discover: what runs) and posture (package posture:
// how exposed and privileged it is): kubeconfig contexts, a minimal client
// for the kinds runlens reads, one paginator with one restart rule, one
// wording for API errors, and the kinds both stages need, listed once.
package k8s

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Client tuning: a one-shot scan issues few, large paginated lists, so the
// limits are generous but finite. client-go itself retries 429 and 5xx
// answers that carry Retry-After (up to 10 times per request) and honours
// KUBE_CLIENT_BACKOFF_BASE/DURATION for exponential backoff.
const (
	clientQPS   = 50
	clientBurst = 100
	// InClusterContext names the context used when runlens runs in a pod
	// and no kubeconfig is available.
	InClusterContext = "in-cluster"
)

// ClusterClient is a connection to one cluster (kubeconfig context).
type ClusterClient struct {
	// Name is the kubeconfig context name; it becomes Snapshot.Cluster.
	Name string
	// Namespace is the context's default namespace ("" when unset); the
	// CLI may use it when neither --namespace nor -A is given.
	Namespace string
	Config    *rest.Config
	// API reads the cluster (nil when Err is set).
	API API
	// Err is set when the context could not be turned into a client (bad
	// credentials file, missing cluster entry); Discover then reports it as
	// a Problem for this context and other contexts go on.
	Err error
}

// ErrNoContext is matched by LoadContexts errors when no context is
// selected and none is current, or a named one does not exist.
var ErrNoContext = errors.New("no kubeconfig context")

// maxListedContexts bounds how many context names an UnknownContextError
// lists.
const maxListedContexts = 20

// UnknownContextError is LoadContexts' error for a context name the
// kubeconfig does not define: a mistake on the command line. It matches
// ErrNoContext.
type UnknownContextError struct {
	// Name is the context asked for; Available are the kubeconfig's
	// contexts, sorted.
	Name      string
	Available []string
}

// Error names the context and the ones that exist.
func (e *UnknownContextError) Error() string {
	if len(e.Available) == 0 {
		return fmt.Sprintf("context %q not found: the kubeconfig defines none", e.Name)
	}
	names := e.Available
	more := ""
	if len(names) > maxListedContexts {
		names, more = names[:maxListedContexts], fmt.Sprintf(" and %d more", len(e.Available)-maxListedContexts)
	}
	return fmt.Sprintf("context %q not found in kubeconfig; available: %s%s", e.Name, strings.Join(names, ", "), more)
}

// Unwrap makes the error match ErrNoContext.
func (e *UnknownContextError) Unwrap() error { return ErrNoContext }

// LoadContexts builds clients for kubeconfig contexts with kubectl's rules:
// kubeconfigPath if given, else $KUBECONFIG (a path list, merged), else
// ~/.kube/config. It selects every context when all is set, else the named
// ones (an unknown name is an *UnknownContextError: a typo must not
// silently scan less),
// else the current context; with no kubeconfig at all it falls back to the
// in-cluster service account. Contexts are returned in the order asked (all:
// sorted by name). A context whose client cannot be built is returned with
// Err set rather than failing the others.
func LoadContexts(kubeconfigPath string, names []string, all bool) ([]ClusterClient, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfigPath != "" {
		rules.ExplicitPath = kubeconfigPath
	}
	raw, err := rules.Load()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	var selected []string
	switch {
	case all:
		for n := range raw.Contexts {
			selected = append(selected, n)
		}
		sort.Strings(selected)
		if len(selected) == 0 {
			return nil, fmt.Errorf("%w: the kubeconfig defines none", ErrNoContext)
		}
	case len(names) > 0:
		seen := map[string]bool{}
		for _, n := range names {
			if n == "" || seen[n] {
				continue
			}
			seen[n] = true
			if _, ok := raw.Contexts[n]; !ok {
				available := make([]string, 0, len(raw.Contexts))
				for a := range raw.Contexts {
					available = append(available, a)
				}
				sort.Strings(available)
				return nil, &UnknownContextError{Name: n, Available: available}
			}
			selected = append(selected, n)
		}
	case raw.CurrentContext != "":
		selected = []string{raw.CurrentContext}
	default:
		if len(raw.Contexts) == 0 && kubeconfigPath == "" {
			if cfg, err := rest.InClusterConfig(); err == nil {
				return []ClusterClient{newClusterClient(InClusterContext, cfg)}, nil
			}
		}
		return nil, fmt.Errorf("%w: none is current; pass --context or --all-contexts", ErrNoContext)
	}
	out := make([]ClusterClient, 0, len(selected))
	for _, n := range selected {
		cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, n, &clientcmd.ConfigOverrides{}, rules).ClientConfig()
		if err != nil {
			out = append(out, ClusterClient{Name: n, Err: fmt.Errorf("context %s: %w", n, err)})
			continue
		}
		cc := newClusterClient(n, cfg)
		cc.Namespace = raw.Contexts[n].Namespace
		out = append(out, cc)
	}
	return out, nil
}

// NewClusterClient wraps an existing rest.Config (tests, embedders), tuned
// like LoadContexts does.
func NewClusterClient(name string, cfg *rest.Config) ClusterClient {
	return newClusterClient(name, rest.CopyConfig(cfg))
}

func newClusterClient(name string, cfg *rest.Config) ClusterClient {
	cfg.QPS, cfg.Burst = clientQPS, clientBurst
	cfg.UserAgent = "runlens"
	// Built-in kinds in protobuf decode several times faster and smaller
	// than JSON; that matters at 100k pods.
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	api, err := NewClient(cfg)
	if err != nil {
		return ClusterClient{Name: name, Config: cfg, Err: fmt.Errorf("context %s: %w", name, err)}
	}
	return ClusterClient{Name: name, Config: cfg, API: api}
}
