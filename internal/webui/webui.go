// Package webui serves runlens server's web pages: the overview, the
// ranked risks with filters, a finding's derivation, workloads, images,
// remediation actions and the "new since" feed. Pages are rendered on the
// server with html/template from the store (paginated by its cursors);
// htmx, embedded with the templates, stylesheet and a few lines of our
// script, swaps filter results in place. Nothing loads from outside.
package webui

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Options tune the UI.
type Options struct {
	// Policy is the policy the server ranks with; a finding page ranks
	// its entry again with it to show every input's basis. Nil is the
	// defaults.
	Policy *risk.Policy
	// Version is the server's version, shown in the footer.
	Version string
	// Logger receives errors of pages that could not be rendered; nil
	// is slog.Default.
	Logger *slog.Logger
	// Now returns the current time; nil is time.Now.
	Now func() time.Time
}

// ui is the handler's state.
type ui struct {
	st    store.Store
	opts  Options
	pages map[string]*template.Template
	log   *slog.Logger

	// actions caches each cluster's remediation by its latest scan id:
	// rebuilding a cluster's document is the one costly read.
	mu      sync.Mutex
	actions map[string]cachedActions
	merged  mergedActions
	// workloads caches a few clusters' workloads; workloadOrder is their
	// order of use, least recent first.
	workloads     map[string]cachedWorkloads
	workloadOrder []string
}

// New returns the UI's handler: every page under / and the embedded
// assets under /assets/. Requests reaching it have passed authentication.
func New(st store.Store, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	u := &ui{st: st, opts: opts, log: opts.Logger, pages: parsePages(opts.Now), actions: map[string]cachedActions{}, workloads: map[string]cachedWorkloads{}}
	mux := http.NewServeMux()
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		panic(err) // the embedded tree always has it
	}
	assets := http.StripPrefix("/assets/", http.FileServerFS(sub))
	mux.Handle("GET /assets/", cacheAssets(assets))
	mux.HandleFunc("GET /{$}", u.overview)
	mux.HandleFunc("GET /risks", u.risks)
	mux.HandleFunc("GET /risks/{id}", u.finding)
	mux.HandleFunc("GET /workloads/{cluster}/{ns}/{kind}/{name}", u.workload)
	mux.HandleFunc("GET /images/{digest}", u.image)
	mux.HandleFunc("GET /actions", u.actionsPage)
	mux.HandleFunc("GET /changes", u.changes)
	mux.HandleFunc("GET /login", u.login)
	mux.HandleFunc("GET /", u.notFound)
	return securityHeaders(mux)
}

// csp lets the pages load only their own assets: no inline script, no
// eval, nothing from another origin.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}

func cacheAssets(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// parsePages parses each page's template with the shared layout.
func parsePages(now func() time.Time) map[string]*template.Template {
	base := template.Must(template.New("layout").Funcs(funcs(now)).ParseFS(templateFS, "templates/layout.html"))
	pages := map[string]*template.Template{}
	for _, name := range []string{"overview", "risks", "finding", "workload", "image", "actions", "changes", "login", "error"} {
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html"))
		pages[name] = t
	}
	return pages
}

// page is what the layout needs besides the page's own data.
type page struct {
	Title string
	// Nav is the left navigation's current entry.
	Nav     string
	Version string
	// Bare leaves out the navigation (the sign-in page).
	Bare bool
	// Data is the page's own view.
	Data any
}

// render writes a page (or, with block set, one of its blocks, given the
// page's data: the part an htmx request swaps). Rendering goes to a buffer first so a template
// error becomes a clean 500, never half a page.
func (u *ui) render(w http.ResponseWriter, r *http.Request, status int, name, block string, p page) {
	p.Version = u.opts.Version
	var data any = p
	if block == "" {
		block = "layout"
	} else {
		data = p.Data
	}
	var buf bytes.Buffer
	if err := u.pages[name].ExecuteTemplate(&buf, block, data); err != nil {
		u.log.ErrorContext(r.Context(), "webui: rendering page", "page", name, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Vary", "HX-Request")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// errorView is the error page's view.
type errorView struct {
	Status  int
	Heading string
	Message string
}

// fail renders the error page: not found for ErrNotFound, else a 500
// that logs the cause and shows no internals.
func (u *ui) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errors.Is(err, store.ErrNotFound) {
		u.render(w, r, http.StatusNotFound, "error", "", page{Title: "Not found", Data: errorView{
			Status: 404, Heading: "Not found", Message: fmt.Sprintf("No %s of that name is stored.", what)}})
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	u.log.ErrorContext(r.Context(), "webui: reading the store", "what", what, "err", err)
	u.render(w, r, http.StatusInternalServerError, "error", "", page{Title: "Error", Data: errorView{
		Status: 500, Heading: "Something went wrong", Message: "The " + what + " could not be read from the store; the server's log says why."}})
}

func (u *ui) notFound(w http.ResponseWriter, r *http.Request) {
	u.render(w, r, http.StatusNotFound, "error", "", page{Title: "Not found", Data: errorView{
		Status: 404, Heading: "Not found", Message: "There is no page at this address."}})
}

// loginView is the sign-in page: whether the last token was refused, and
// the local page to return to.
type loginView struct {
	Failed bool
	Next   string
}

func (u *ui) login(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := loginView{Failed: q.Get("failed") != "", Next: q.Get("next")}
	if !strings.HasPrefix(v.Next, "/") || strings.HasPrefix(v.Next, "//") || strings.Contains(v.Next, "\\") {
		v.Next = ""
	}
	u.render(w, r, http.StatusOK, "login", "", page{Title: "Sign in", Bare: true, Data: v})
}

// partial reports whether r is htmx's request for the part it swaps.
func partial(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true"
}
