package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// maxListPageBytes caps one catalog or tags page.
const maxListPageBytes = 16 << 20

// maxListPages bounds pagination against a registry that never ends.
const maxListPages = 10000

// Catalog lists every repository in registry ("host[:port]"), following
// pagination: the Link header when the registry sends one, otherwise the
// `last` parameter while full pages come back.
func Catalog(ctx context.Context, registry string, opts Options) ([]string, error) {
	reg, err := name.NewRegistry(registry, opts.NameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("catalog: parsing registry %q: %w", registry, err)
	}
	first := url.URL{Scheme: reg.Scheme(), Host: reg.RegistryStr(), Path: "/v2/_catalog"}
	repos, err := paginate(ctx, reg, reg, []string{reg.Scope(transport.PullScope)}, first, opts,
		func(b []byte) ([]string, error) {
			var page struct {
				Repositories []string `json:"repositories"`
			}
			err := json.Unmarshal(b, &page)
			return page.Repositories, err
		})
	if err != nil {
		return nil, fmt.Errorf("catalog of %s: %w", reg.RegistryStr(), err)
	}
	return repos, nil
}

// Tags lists every tag of repo ("host/path"), with the same pagination rules
// as Catalog.
func Tags(ctx context.Context, repo string, opts Options) ([]string, error) {
	r, err := name.NewRepository(repo, opts.NameOptions()...)
	if err != nil {
		return nil, fmt.Errorf("tags: parsing repository %q: %w", repo, err)
	}
	first := url.URL{Scheme: r.Scheme(), Host: r.RegistryStr(), Path: "/v2/" + r.RepositoryStr() + "/tags/list"}
	tags, err := paginate(ctx, r.Registry, r, []string{r.Scope(transport.PullScope)}, first, opts,
		func(b []byte) ([]string, error) {
			var page struct {
				Tags []string `json:"tags"`
			}
			err := json.Unmarshal(b, &page)
			return page.Tags, err
		})
	if err != nil {
		return nil, fmt.Errorf("tags of %s: %w", r.Name(), err)
	}
	return tags, nil
}

// authResource is what both name.Registry and name.Repository satisfy.
type authResource interface {
	String() string
	RegistryStr() string
}

func paginate(ctx context.Context, reg name.Registry, res authResource, scopes []string, first url.URL, opts Options,
	decode func([]byte) ([]string, error)) ([]string, error) {
	auth, err := opts.Authenticator(ctx, res)
	if err != nil {
		return nil, err
	}
	rt, err := transport.NewWithContext(ctx, reg, auth, opts.RoundTripper(reg), scopes)
	if err != nil {
		return nil, fmt.Errorf("authenticating: %w", err)
	}
	client := &http.Client{Transport: rt, CheckRedirect: sameHostRedirect}
	n := opts.pageSize()
	next := first
	q := next.Query()
	q.Set("n", strconv.Itoa(n))
	next.RawQuery = q.Encode()

	var all []string
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if page >= maxListPages {
			return nil, fmt.Errorf("more than %d pages; giving up", maxListPages)
		}
		items, link, err := fetchPage(ctx, client, next, decode)
		if err != nil {
			return nil, err
		}
		added := 0
		for _, it := range items {
			if !seen[it] {
				seen[it] = true
				all = append(all, it)
				added++
			}
		}
		switch {
		case link != nil:
			if link.Scheme != first.Scheme || link.Host != first.Host {
				return nil, fmt.Errorf("pagination link points to another host (%s); refusing", link.Host)
			}
			next = *link
		case len(items) >= n && added > 0:
			// No Link header (ggcr's registry, some others): ask for the page
			// after the last item, as distribution-spec allows.
			q := first.Query()
			q.Set("n", strconv.Itoa(n))
			q.Set("last", items[len(items)-1])
			next = first
			next.RawQuery = q.Encode()
		default:
			return all, nil
		}
		if added == 0 {
			return all, nil
		}
	}
}

func fetchPage(ctx context.Context, client *http.Client, u url.URL, decode func([]byte) ([]string, error)) ([]string, *url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return nil, nil, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxListPageBytes+1))
	if err != nil {
		return nil, nil, err
	}
	if len(b) > maxListPageBytes {
		return nil, nil, fmt.Errorf("%w: list page over %d bytes", ErrTooLarge, maxListPageBytes)
	}
	items, err := decode(b)
	if err != nil {
		return nil, nil, fmt.Errorf("decoding list page: %w", err)
	}
	link, err := nextLink(resp)
	if err != nil {
		return nil, nil, err
	}
	return items, link, nil
}

// nextLink parses `Link: </v2/...?n=2&last=b>; rel="next"`.
func nextLink(resp *http.Response) (*url.URL, error) {
	for _, l := range resp.Header.Values("Link") {
		target, params, ok := strings.Cut(l, ";")
		target = strings.TrimSpace(target)
		if !ok || !strings.Contains(params, "next") || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
			continue
		}
		u, err := url.Parse(target[1 : len(target)-1])
		if err != nil {
			return nil, fmt.Errorf("parsing Link header: %w", err)
		}
		return resp.Request.URL.ResolveReference(u), nil
	}
	return nil, nil
}

func sameHostRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return fmt.Errorf("stopped after %d redirects", len(via))
	}
	if req.URL.Host != via[0].URL.Host {
		return fmt.Errorf("refusing list redirect to another host %s", req.URL.Host)
	}
	return nil
}
