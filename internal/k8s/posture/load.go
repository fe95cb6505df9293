package posture

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runlens/runlens/internal/fanout"
	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/workload"
)

// Options tune Load.
type Options struct {
	// Cluster names the kubeconfig context, for Problems.
	Cluster string
	// PageSize is the list page size; 0 means k8s.DefaultPageSize.
	PageSize int64
	// Shared are the Namespaces and ServiceAccounts discovery listed. Load
	// uses them instead of listing them again and leaves their Problems to
	// discovery. When nil, Load lists them itself (in every namespace) and
	// reports them.
	Shared *k8s.Shared
}

// listParallel bounds the kinds Load lists at once.
const listParallel = 4

// Load lists, page by page, what exposure and privilege questions need
// and discovery has not listed already: Services, Ingresses,
// NetworkPolicies, RBAC objects and, when their CRDs are served, Gateway
// API routes; Namespaces and ServiceAccounts come from opts.Shared.
// Secrets are never read. A kind the caller may not list (forbidden) or
// the server does not serve becomes a Problem and the rest goes on;
// answers that depend on it are marked unknown. The error is non-nil only
// when ctx ends or no kind at all could be listed.
func Load(ctx context.Context, api k8s.API, opts Options) (*Cluster, []workload.Problem, error) {
	ps, all := opts.PageSize, metav1.NamespaceAll
	objs := &Objects{Missing: map[string]string{}}
	shared := opts.Shared
	var problems []workload.Problem
	if shared == nil {
		shared = k8s.ListShared(ctx, api, nil, ps)
		problems = append(problems, shared.Problems(opts.Cluster)...)
	}
	objs.Namespaces, objs.ServiceAccounts = shared.Namespaces, shared.ServiceAccounts
	var failed []error
	for kind, err := range map[string]error{KindNamespaces: shared.NamespacesErr, KindServiceAccounts: shared.ServiceAccountsErr} {
		if err != nil {
			objs.Missing[kind] = k8s.Describe(err)
			if !k8s.IsDenied(err) {
				failed = append(failed, fmt.Errorf("%s: %w", kind, err))
			}
		}
	}
	jobs := []struct {
		kind string
		run  func(context.Context) error
	}{
		{KindServices, func(ctx context.Context) (err error) {
			objs.Services, err = k8s.ListAll(ctx, ps, k8s.In(api.ListServices, all))
			return err
		}},
		{KindIngresses, func(ctx context.Context) (err error) {
			objs.Ingresses, err = k8s.ListAll(ctx, ps, k8s.In(api.ListIngresses, all))
			return err
		}},
		{KindNetworkPolicies, func(ctx context.Context) (err error) {
			objs.NetworkPolicies, err = k8s.ListAll(ctx, ps, k8s.In(api.ListNetworkPolicies, all))
			return err
		}},
		{KindRoles, func(ctx context.Context) (err error) {
			objs.Roles, err = k8s.ListAll(ctx, ps, k8s.In(api.ListRoles, all))
			return err
		}},
		{KindRoleBindings, func(ctx context.Context) (err error) {
			objs.RoleBindings, err = k8s.ListAll(ctx, ps, k8s.In(api.ListRoleBindings, all))
			return err
		}},
		{KindClusterRoles, func(ctx context.Context) (err error) {
			objs.ClusterRoles, err = k8s.ListAll(ctx, ps, api.ListClusterRoles)
			return err
		}},
		{KindClusterRoleBindings, func(ctx context.Context) (err error) {
			objs.ClusterRoleBindings, err = k8s.ListAll(ctx, ps, api.ListClusterRoleBindings)
			return err
		}},
	}
	var mu sync.Mutex
	fanout.Each(listParallel, len(jobs), func(i int) {
		err := jobs[i].run(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		kind := jobs[i].kind
		mu.Lock()
		defer mu.Unlock()
		objs.Missing[kind] = k8s.Describe(err)
		problems = append(problems, k8s.ListProblem(opts.Cluster, kind, err, affects[kind]))
		if !k8s.IsDenied(err) {
			failed = append(failed, fmt.Errorf("%s: %w", kind, err))
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("cluster context %s: %w", opts.Cluster, err)
	}
	if len(failed) == len(jobs)+2 {
		return nil, problems, fmt.Errorf("cluster context %s: nothing could be listed: %w", opts.Cluster, errors.Join(failed...))
	}
	routes, rp := loadRoutes(ctx, api, ps, opts.Cluster)
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("cluster context %s: %w", opts.Cluster, err)
	}
	objs.Routes = routes
	for _, p := range rp {
		problems = append(problems, p.Problem)
		if p.missing {
			objs.Missing[p.Kind] = p.why
		}
	}
	sort.Slice(problems, func(i, j int) bool { return problems[i].Kind < problems[j].Kind })
	return New(opts.Cluster, objs), problems, nil
}
