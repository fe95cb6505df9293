// Package server is runlens server's HTTP side: the JSON API under
// /api/v1/ (clusters, workloads, images, ranked risks, the "new since"
// feed, exports, pushes of results and agent evidence, tokens and
// accepted risks), bearer-token authentication, Prometheus metrics, the
// scheduled cluster scans and database re-matches (one job at a time),
// and the serve loop with its graceful shutdown. Everything it knows is
// in a store.Store; the web UI is mounted beside the API and reads the
// store directly.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/vulndb"
)

// Defaults of Options.
const (
	DefaultGrace        = 30 * time.Second
	DefaultMaxPushBytes = 512 << 20
	DefaultDBPoll       = time.Minute
)

// ScanFunc scans the named kubeconfig contexts as `runlens scan cluster
// --context` does (discovery, one scan per unique digest, the join) and
// returns the unranked document of every cluster together.
type ScanFunc func(ctx context.Context, contexts []string) (*result.Document, error)

// RematchFunc re-matches the stored inventories after the vulnerability
// database changed from old to new (old is nil at the first load).
type RematchFunc func(ctx context.Context, st store.Store, old, new *vulndb.DB) error

// Options configure a Server.
type Options struct {
	// Log receives the structured logs; nil discards them. Tokens are
	// never logged.
	Log *slog.Logger
	// NoAuth serves every request without a token (--insecure-no-auth;
	// the command allows it on loopback addresses only).
	NoAuth bool
	// TLS says the listener is TLS: the login cookie is then Secure.
	TLS bool
	// UI, when set, serves the web pages under "/" (behind the auth
	// middleware; GET /login and /assets/ pass without a token).
	UI http.Handler
	// Grace bounds the graceful shutdown (DefaultGrace when 0).
	Grace time.Duration
	// MaxPushBytes caps a pushed result, decompressed (DefaultMaxPushBytes
	// when 0).
	MaxPushBytes int64
	// Policy and VEX are the server-wide ranking inputs applied to every
	// ingested result, beside the accepted risks of the API.
	Policy *risk.Policy
	VEX    func(q risk.VEXQuery) *result.VEXStatement
	// Scan runs scheduled and on-demand cluster scans of Contexts every
	// Interval (no schedule when Contexts is empty or Interval is 0).
	Scan     ScanFunc
	Contexts []string
	Interval time.Duration
	// DBDir is the vulnerability database the server watches (every
	// DBPoll, or on POST /api/v1/db/reload); a new build is re-matched
	// with rematch.Run, or with Rematch when set.
	DBDir   string
	DBPoll  time.Duration
	Rematch RematchFunc
	// Retention prunes scans, changes and resolved risks older than it,
	// daily (no pruning when 0).
	Retention time.Duration
	// Now is the clock (time.Now when nil), for tests.
	Now func() time.Time
}

// Server serves the API over one store. Build it with New.
type Server struct {
	st      store.Store
	opts    Options
	log     *slog.Logger
	jobs    *queue
	metrics *metrics
	mux     *http.ServeMux
	handler http.Handler

	remediation remediationCache

	dbMu    sync.Mutex
	db      *vulndb.DB // the database last seen by the watcher
	dbStamp dbStamp    // its file's stamp
}

// New returns a server over st.
func New(st store.Store, opts Options) *Server {
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
	}
	if opts.MaxPushBytes <= 0 {
		opts.MaxPushBytes = DefaultMaxPushBytes
	}
	if opts.DBPoll <= 0 {
		opts.DBPoll = DefaultDBPoll
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{st: st, opts: opts, log: opts.Log}
	s.metrics = newMetrics(s)
	s.jobs = newQueue(s.log, s.metrics.queueDepth)
	s.mux = http.NewServeMux()
	for _, rt := range s.routes() {
		s.mux.Handle(rt.method+" "+rt.pattern, s.guard(rt))
	}
	if opts.UI != nil {
		s.mux.Handle("/", s.guardUI(opts.UI))
	}
	s.handler = s.logRequests(s.mux)
	return s
}

// Handler returns the server's whole HTTP handler: API, metrics, health,
// login and, when set, the UI.
func (s *Server) Handler() http.Handler { return s.handler }

// Run serves on ln and runs the background jobs (schedule, database
// watcher, retention) until ctx ends; then it stops accepting, lets
// in-flight requests and the running job finish within Options.Grace,
// and cancels what is left (every store write is a transaction, so an
// abandoned one leaves the previous state). It returns nil after a
// shutdown ctx asked for.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	bgCtx, cancelBG := context.WithCancel(ctx)
	defer cancelBG()
	var wg sync.WaitGroup
	wg.Go(func() { s.jobs.run(jobCtx) })
	wg.Go(func() { s.background(bgCtx) })
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	s.log.Info("runlens server listening", "addr", ln.Addr().String(), "tls", s.opts.TLS, "auth", !s.opts.NoAuth)
	select {
	case err := <-serveErr:
		cancelBG()
		cancelJobs()
		wg.Wait()
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", s.opts.Grace.String())
	graceCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.Grace)
	defer cancel()
	s.jobs.close()
	err := srv.Shutdown(graceCtx)
	done := make(chan struct{})
	go func() { s.jobs.wait(); close(done) }()
	select {
	case <-done:
	case <-graceCtx.Done():
		s.log.Warn("grace period over: abandoning the running job")
	}
	cancelJobs()
	if err != nil {
		srv.Close()
	}
	wg.Wait()
	s.closeDB()
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// background runs the schedule, the database watcher and the retention
// until ctx ends.
func (s *Server) background(ctx context.Context) {
	var wg sync.WaitGroup
	if s.opts.Scan != nil && len(s.opts.Contexts) > 0 && s.opts.Interval > 0 {
		wg.Go(func() { s.every(ctx, s.opts.Interval, true, func() { s.EnqueueScan(s.opts.Contexts) }) })
	}
	if s.opts.DBDir != "" {
		wg.Go(func() { s.every(ctx, s.opts.DBPoll, true, func() { s.EnqueueDBCheck() }) })
	}
	if s.opts.Retention > 0 {
		wg.Go(func() { s.every(ctx, 24*time.Hour, true, func() { s.jobs.add("prune", s.prune) }) })
	}
	wg.Wait()
}

// every calls f every d (at once too when now is set) until ctx ends.
func (s *Server) every(ctx context.Context, d time.Duration, now bool, f func()) {
	if now {
		f()
	}
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// prune deletes what the retention no longer keeps.
func (s *Server) prune(ctx context.Context) error {
	n, err := s.st.Prune(ctx, s.opts.Now().Add(-s.opts.Retention))
	if err != nil {
		return fmt.Errorf("pruning: %w", err)
	}
	s.log.Info("retention: pruned", "rows", n, "older_than", s.opts.Retention.String())
	return nil
}
