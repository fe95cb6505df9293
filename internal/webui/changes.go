package webui

import (
	"net/http"
	"net/url"
	"time"

	"github.com/runlens/runlens/internal/store"
)

// changesView is the "new since" feed.
type changesView struct {
	Since   string
	At      time.Time
	Kind    string
	Changes []store.Change
	NextURL string
	// NoDB says "since the last database update" was asked with no
	// database recorded.
	NoDB bool
}

func (u *ui) changes(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	v := changesView{Since: q.Get("since"), Kind: q.Get("kind")}
	if _, ok := sinceChoices[v.Since]; !ok || v.Since == "" {
		v.Since = "db"
	}
	if v.Kind != store.ChangeAppeared && v.Kind != store.ChangeDisappeared {
		v.Kind = ""
	}
	at, err := u.since(ctx, v.Since)
	if err != nil {
		u.fail(w, r, "database version", err)
		return
	}
	if at.IsZero() {
		v.NoDB = true
		at = u.opts.Now().Add(-sinceChoices["7d"])
	}
	v.At = at
	res, err := u.st.Changes(ctx, store.ChangeQuery{Since: at, Kind: v.Kind, Cursor: q.Get("cursor"), Limit: pageSize})
	if err != nil {
		u.fail(w, r, "changes", err)
		return
	}
	v.Changes = res.Changes
	if res.Next != "" {
		nq := url.Values{"since": {v.Since}, "cursor": {res.Next}}
		if v.Kind != "" {
			nq.Set("kind", v.Kind)
		}
		v.NextURL = "/changes?" + nq.Encode()
	}
	u.render(w, r, http.StatusOK, "changes", "", page{Title: "Changes", Nav: "changes", Data: v})
}
