package webui

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/workload"
)

// pageSize is the rows of one page of risks.
const pageSize = 100

// filters are the ranked list's filters, as the form sends them.
type filters struct {
	Cluster, Namespace, Tier, Owner, Fix, New, Search, Cursor string
}

// readFilters reads the filters from a query, keeping only known values
// of the closed choices.
func readFilters(q url.Values) filters {
	f := filters{
		Cluster:   strings.TrimSpace(q.Get("cluster")),
		Namespace: strings.TrimSpace(q.Get("ns")),
		Tier:      q.Get("tier"),
		Owner:     q.Get("owner"),
		Fix:       q.Get("fix"),
		New:       q.Get("new"),
		Search:    strings.TrimSpace(q.Get("q")),
		Cursor:    q.Get("cursor"),
	}
	if !slices.Contains(result.Tiers, f.Tier) {
		f.Tier = ""
	}
	if !slices.Contains([]string{workload.OwnerInternal, workload.OwnerExternal, workload.OwnerUnknown}, f.Owner) {
		f.Owner = ""
	}
	if f.Fix != "available" && f.Fix != "none" {
		f.Fix = ""
	}
	if _, ok := sinceChoices[f.New]; !ok {
		f.New = ""
	}
	return f
}

// sinceChoices are the "new since" choices: the database's build or a
// span before now.
var sinceChoices = map[string]time.Duration{"": 0, "db": 0, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour}

// since resolves a "new since" choice to a time (zero for none).
func (u *ui) since(ctx context.Context, choice string) (time.Time, error) {
	switch choice {
	case "":
		return time.Time{}, nil
	case "db":
		db, err := u.st.DBVersion(ctx)
		return db.BuiltAt, err
	}
	return u.opts.Now().Add(-sinceChoices[choice]), nil
}

// query is the filters without the cursor, as URL parameters.
func (f filters) query() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"cluster": f.Cluster, "ns": f.Namespace, "tier": f.Tier, "owner": f.Owner, "fix": f.Fix, "new": f.New, "q": f.Search} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// Active reports whether any filter is set.
func (f filters) Active() bool { return len(f.query()) > 0 }

// risksView is the ranked list page.
type risksView struct {
	F        filters
	Clusters []string
	Rows     []store.RiskRow
	// NextURL continues after this page; FirstURL goes back to the start
	// when this is a later page.
	NextURL, FirstURL string
	// Empty says the store holds no cluster at all (the first-run state),
	// as against filters that match nothing.
	Empty bool
}

func (u *ui) risks(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f := readFilters(r.URL.Query())
	since, err := u.since(ctx, f.New)
	if err != nil {
		u.fail(w, r, "database version", err)
		return
	}
	q := store.RiskQuery{Cluster: f.Cluster, Namespace: f.Namespace, Tier: f.Tier, Owner: f.Owner, Fix: f.Fix,
		Search: f.Search, NewSince: since, Cursor: f.Cursor, Limit: pageSize}
	res, err := u.st.Risks(ctx, q)
	if err != nil {
		u.fail(w, r, "risks", err)
		return
	}
	v := risksView{F: f, Rows: res.Risks}
	base := f.query()
	if res.Next != "" {
		next := f.query()
		next.Set("cursor", res.Next)
		v.NextURL = "/risks?" + next.Encode()
	}
	if f.Cursor != "" {
		v.FirstURL = "/risks?" + base.Encode()
	}
	if partial(r) {
		u.render(w, r, http.StatusOK, "risks", "results", page{Data: v})
		return
	}
	clusters, err := u.st.Clusters(ctx)
	if err != nil {
		u.fail(w, r, "clusters", err)
		return
	}
	for _, c := range clusters {
		v.Clusters = append(v.Clusters, c.Name)
	}
	v.Empty = len(clusters) == 0
	u.render(w, r, http.StatusOK, "risks", "", page{Title: "Risks", Nav: "risks", Data: v})
}
