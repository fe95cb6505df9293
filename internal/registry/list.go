package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Caps on listings. A hostile registry can paginate forever or send huge
// pages; a listing stops at the first cap it reaches and says so with a
// TruncatedError, keeping what it read.
const (
	// DefaultMaxRepositories caps the names one catalog listing keeps.
	DefaultMaxRepositories = 100_000
	// DefaultMaxTags caps the tags one repository listing keeps.
	DefaultMaxTags = 100_000
	// DefaultMaxListPageBytes caps one catalog or tags page. Distribution
	// answers at most 1,000 entries a page (names are at most 255
	// characters, so about 260 KB); the margin is for registries that ignore
	// n and return every tag with per-manifest details.
	DefaultMaxListPageBytes = 4 << 20
	// DefaultMaxListBytes caps all the pages of one listing together.
	DefaultMaxListBytes = 64 << 20
	// DefaultMaxListPages caps the pages of one listing.
	DefaultMaxListPages = 10_000
)

// ErrTruncated is matched by a TruncatedError: a listing stopped at a cap
// and the names it returned are not all there are.
var ErrTruncated = errors.New("listing truncated")

// TruncatedError reports a listing that stopped at a cap.
type TruncatedError struct {
	// What is being listed, e.g. "catalog of localhost:5000".
	What string
	// Kept is the number of names kept.
	Kept int
	// Cap describes the cap reached, e.g. "100000 repositories".
	Cap string
}

// Error implements error.
func (e *TruncatedError) Error() string {
	return fmt.Sprintf("%s truncated at the cap of %s (%d kept; the rest were not read)", e.What, e.Cap, e.Kept)
}

// Is makes errors.Is(err, ErrTruncated) true.
func (e *TruncatedError) Is(target error) bool { return target == ErrTruncated }

// WalkCatalog lists the repositories of registry ("host[:port]", optionally
// with user:password@ in front), calling fn with each page's new names as it
// arrives, so a caller can start on them while later pages are fetched. It
// follows the Link header when the registry sends one, otherwise the `last`
// parameter while full pages come back. It stops at opts.MaxRepositories
// names, DefaultMaxListPages pages or DefaultMaxListBytes bytes with a
// TruncatedError; an error from fn stops it and is returned. The count is
// the number of names handed to fn, also when an error ends the walk.
func WalkCatalog(ctx context.Context, registry string, opts Options, fn func(repos []string) error) (int, error) {
	registry, opts = opts.WithReferenceCredentials(registry)
	reg, err := name.NewRegistry(registry, opts.NameOptions()...)
	if err != nil {
		return 0, fmt.Errorf("catalog: parsing registry %q: %w", registry, err)
	}
	first := url.URL{Scheme: reg.Scheme(), Host: reg.RegistryStr(), Path: "/v2/_catalog"}
	l := lister{
		what: "catalog of " + reg.RegistryStr(), field: "repositories", unit: "repositories",
		maxItems: positive(opts.MaxRepositories, DefaultMaxRepositories),
	}
	n, err := l.walk(ctx, reg, reg, []string{reg.Scope(transport.PullScope)}, first, opts, fn)
	return n, l.wrap(err)
}

// Catalog lists every repository in registry as WalkCatalog does. On an
// error it still returns the names read before it (for a TruncatedError,
// every name up to the cap).
func Catalog(ctx context.Context, registry string, opts Options) ([]string, error) {
	var all []string
	_, err := WalkCatalog(ctx, registry, opts, func(repos []string) error {
		all = append(all, repos...)
		return nil
	})
	return all, err
}

// WalkTags lists the tags of repo ("host/path"), with the pagination rules
// and caps of WalkCatalog; opts.MaxTags caps the tags kept.
func WalkTags(ctx context.Context, repo string, opts Options, fn func(tags []string) error) (int, error) {
	repo, opts = opts.WithReferenceCredentials(repo)
	r, err := name.NewRepository(repo, opts.NameOptions()...)
	if err != nil {
		return 0, fmt.Errorf("tags: parsing repository %q: %w", repo, err)
	}
	first := url.URL{Scheme: r.Scheme(), Host: r.RegistryStr(), Path: "/v2/" + r.RepositoryStr() + "/tags/list"}
	l := lister{
		what: "tags of " + r.Name(), field: "tags", unit: "tags",
		maxItems: positive(opts.MaxTags, DefaultMaxTags),
	}
	n, err := l.walk(ctx, r.Registry, r, []string{r.Scope(transport.PullScope)}, first, opts, fn)
	return n, l.wrap(err)
}

// Tags lists every tag of repo as WalkTags does, returning the tags read
// before an error along with it.
func Tags(ctx context.Context, repo string, opts Options) ([]string, error) {
	var all []string
	_, err := WalkTags(ctx, repo, opts, func(tags []string) error {
		all = append(all, tags...)
		return nil
	})
	return all, err
}

// authResource is what both name.Registry and name.Repository satisfy.
type authResource interface {
	String() string
	RegistryStr() string
}

// lister is one paginated listing and its caps.
type lister struct {
	what, field, unit string
	maxItems          int
	maxPageBytes      int64
	maxBytes          int64
	maxPages          int

	kept  int
	bytes int64
	seen  map[string]bool
}

// wrap names the listing in err, which a TruncatedError already does.
func (l *lister) wrap(err error) error {
	var te *TruncatedError
	if err == nil || errors.As(err, &te) {
		return err
	}
	return fmt.Errorf("%s: %w", l.what, err)
}

func (l *lister) truncated(limit string) error {
	return &TruncatedError{What: l.what, Kept: l.kept, Cap: limit}
}

func (l *lister) walk(ctx context.Context, reg name.Registry, res authResource, scopes []string, first url.URL, opts Options,
	fn func([]string) error) (int, error) {
	l.maxPageBytes = positive64(opts.MaxListPageBytes, DefaultMaxListPageBytes)
	l.maxBytes = DefaultMaxListBytes
	l.maxPages = DefaultMaxListPages
	l.seen = map[string]bool{}

	auth, err := opts.Authenticator(ctx, res)
	if err != nil {
		return 0, err
	}
	rt, err := transport.NewWithContext(ctx, reg, auth, opts.RoundTripper(reg), scopes)
	if err != nil {
		return 0, fmt.Errorf("authenticating: %w", err)
	}
	client := &http.Client{Transport: rt, CheckRedirect: sameHostRedirect}
	n := opts.pageSize()
	next := first
	q := next.Query()
	q.Set("n", strconv.Itoa(n))
	next.RawQuery = q.Encode()

	for page := 0; ; page++ {
		if err := ctx.Err(); err != nil {
			return l.kept, err
		}
		if page >= l.maxPages {
			return l.kept, l.truncated(fmt.Sprintf("%d pages", l.maxPages))
		}
		items, last, link, full, err := l.fetchPage(ctx, client, next)
		if len(items) > 0 {
			if ferr := fn(items); ferr != nil {
				return l.kept, ferr
			}
		}
		if err != nil {
			return l.kept, err
		}
		if full {
			return l.kept, l.truncated(fmt.Sprintf("%d %s", l.maxItems, l.unit))
		}
		switch {
		case len(items) == 0:
			// Nothing new: the end, or a registry repeating itself.
			return l.kept, nil
		case link != nil:
			if link.Scheme != first.Scheme || link.Host != first.Host {
				return l.kept, fmt.Errorf("pagination link points to another host (%s); refusing", link.Host)
			}
			next = *link
		case last.count >= n:
			// No Link header (ggcr's registry, some others): ask for the page
			// after the last item, as distribution-spec allows.
			q := first.Query()
			q.Set("n", strconv.Itoa(n))
			q.Set("last", last.item)
			next = first
			next.RawQuery = q.Encode()
		default:
			return l.kept, nil
		}
		if l.kept >= l.maxItems {
			// Exactly at the cap with more pages announced.
			return l.kept, l.truncated(fmt.Sprintf("%d %s", l.maxItems, l.unit))
		}
	}
}

// pageEnd is what a page said about its own length: how many entries it
// had and the last one (for the `last` parameter).
type pageEnd struct {
	count int
	item  string
}

// fetchPage reads one page, decoding its entries as they stream in and
// keeping the new ones. full reports that the item cap was reached inside
// the page. Items decoded before an error are returned with it.
func (l *lister) fetchPage(ctx context.Context, client *http.Client, u url.URL) (items []string, end pageEnd, link *url.URL, full bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, end, nil, false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, end, nil, false, err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return nil, end, nil, false, err
	}
	if resp.ContentLength > l.maxPageBytes {
		return nil, end, nil, false, fmt.Errorf("%w: list page declares %d bytes, cap is %d", ErrTooLarge, resp.ContentLength, l.maxPageBytes)
	}
	body := &countingReader{r: resp.Body, pageLeft: l.maxPageBytes, totalLeft: l.maxBytes - l.bytes}
	err = decodeList(body, l.field, func(it string) bool {
		end.count++
		end.item = it
		if it == "" || l.seen[it] {
			return true
		}
		if l.kept >= l.maxItems {
			full = true
			return false
		}
		l.seen[it] = true
		l.kept++
		items = append(items, it)
		return true
	})
	l.bytes += body.n
	switch {
	case body.overTotal:
		return items, end, nil, false, l.truncated(fmt.Sprintf("%d bytes", l.maxBytes))
	case body.overPage:
		return items, end, nil, false, fmt.Errorf("%w: list page over %d bytes", ErrTooLarge, l.maxPageBytes)
	case err != nil:
		return items, end, nil, false, fmt.Errorf("decoding list page: %w", err)
	}
	link, err = nextLink(resp)
	return items, end, link, full, err
}

// countingReader fails once a page or the whole listing reads more than
// its cap, remembering which.
type countingReader struct {
	r                   io.Reader
	n                   int64
	pageLeft, totalLeft int64
	overPage, overTotal bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	switch {
	case c.n > c.totalLeft:
		c.overTotal = true
		return n, ErrTooLarge
	case c.n > c.pageLeft:
		c.overPage = true
		return n, ErrTooLarge
	}
	return n, err
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

func positive(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func positive64(v, def int64) int64 {
	if v > 0 {
		return v
	}
	return def
}
