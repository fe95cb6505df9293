package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/runlens/runlens/internal/clusterscan"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/server"
	"github.com/runlens/runlens/internal/usage"
	"github.com/runlens/runlens/internal/vex"
)

// serverOptions are the flags of `runlens server`.
type serverOptions struct {
	storeOptions
	listen       string
	tlsCert      string
	tlsKey       string
	noAuth       bool
	vulnDB       string
	contexts     []string
	interval     time.Duration
	kubeconfig   string
	retention    string
	logFormat    string
	policyFile   string
	vexPaths     []string
	grace        time.Duration
	maxPushBytes int64
}

const serverLong = `Serve one store of many clusters' results: a JSON API under /api/v1/
(docs/server.md; the OpenAPI document is served at /api/v1/openapi.yaml),
the web UI, and Prometheus metrics at /metrics.

Results arrive two ways: pushed by "runlens scan … --push URL" (a CI job,
a CronJob in each cluster), or scanned by the server itself every
--scan-interval for each --scan-context. Every result is ranked again with
the server's --policy and --vex, the risks accepted through the API, and
the evidence node agents pushed for the cluster. With --db, the server
watches the vulnerability database and re-matches every stored inventory
when a new build appears.

The store is SQLite in --data-dir (one file, runlens.db) unless --database
names a PostgreSQL server (postgres://user@host/db; the password is never
printed).

Authentication: every request needs a bearer token ("Authorization:
Bearer rl_…") or the login cookie. On the first start with no token at
all, the server creates an admin token and prints it ONCE on stderr; keep
it, or mint others with "runlens server token create". Scopes: read,
write-cluster (push for one cluster) and admin. --insecure-no-auth serves
without tokens and is refused unless --listen is a loopback address.`

func (a *app) serverCommand() *cobra.Command {
	o := &serverOptions{}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Serve the results of many clusters: API, web UI, metrics, scheduled scans",
		Long:  serverLong,
		Example: `  runlens server
  runlens server --listen :8443 --tls-cert cert.pem --tls-key key.pem
  runlens server --database postgres://runlens@db.internal/runlens --db /var/lib/runlens/db
  runlens server --scan-context prod-eu --scan-context prod-us --scan-interval 6h
  runlens server token create --name ci-prod --scope write-cluster --cluster prod`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runServer(cmd.Context(), o) },
	}
	o.storeOptions.register(cmd)
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to listen on (host:port)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "serve TLS with this certificate file (PEM; with --tls-key)")
	f.StringVar(&o.tlsKey, "tls-key", "", "the TLS private key file (PEM)")
	f.BoolVar(&o.noAuth, "insecure-no-auth", false, "serve without tokens (refused unless --listen is a loopback address)")
	f.StringVar(&o.vulnDB, "db", "", "vulnerability database directory the server scans with and watches for new builds (default --db-dir)")
	f.StringArrayVar(&o.contexts, "scan-context", nil, "kubeconfig context the server scans on a schedule (repeatable)")
	f.DurationVar(&o.interval, "scan-interval", 6*time.Hour, "how often the --scan-context clusters are scanned")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file of --scan-context (default $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&o.retention, "retention", "90d", "keep scans, changes and resolved risks this long (e.g. 90d, 720h; 0 keeps everything); pruned daily")
	f.StringVar(&o.logFormat, "log-format", "text", "log format on stderr: text or json")
	f.StringVar(&o.policyFile, "policy", "", "YAML policy file every result is ranked with (docs/prioritization.md)")
	f.StringArrayVar(&o.vexPaths, "vex", nil, "VEX document or directory every result is ranked with (repeatable)")
	f.DurationVar(&o.grace, "grace", server.DefaultGrace, "on SIGTERM, how long in-flight requests and the running job may take")
	f.Int64Var(&o.maxPushBytes, "max-push-bytes", server.DefaultMaxPushBytes, "largest pushed result accepted, decompressed")
	cmd.AddCommand(a.serverTokenCommand(&o.storeOptions), a.serverBackupCommand(&o.storeOptions))
	return cmd
}

// parseRetention reads a duration that may be given in days ("90d").
func parseRetention(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, usage.Errorf("--retention: %q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, usage.Errorf("--retention: want a duration such as 90d or 720h, got %q", s)
	}
	return d, nil
}

// isLoopback reports whether a listen address only takes local
// connections.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serverLogger builds the server's structured logger on stderr.
func (a *app) serverLogger(format string) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if a.quiet {
		opts.Level = slog.LevelError
	} else if a.verbose >= 2 {
		opts.Level = slog.LevelDebug
	}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(a.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(a.stderr, opts)), nil
	}
	return nil, usage.Errorf("--log-format: want text or json, got %q", format)
}

// serverRanking reads the server-wide policy and VEX documents.
func serverRanking(ctx context.Context, o *serverOptions) (*risk.Policy, func(risk.VEXQuery) *result.VEXStatement, error) {
	var policy *risk.Policy
	if o.policyFile != "" {
		p, err := risk.LoadPolicy(o.policyFile)
		if err != nil {
			return nil, nil, usage.Errorf("--policy: %v", err)
		}
		policy = p
	}
	if len(o.vexPaths) == 0 {
		return policy, nil, nil
	}
	set, err := vex.Load(ctx, o.vexPaths)
	if err != nil {
		return nil, nil, usage.Errorf("--vex: %v", err)
	}
	return policy, func(q risk.VEXQuery) *result.VEXStatement {
		return set.Lookup(vex.Query{Vulnerability: q.Vulnerability, Aliases: q.Aliases, Digest: q.Digest, Repositories: q.Repositories, PackagePURL: q.PackagePURL})
	}, nil
}

func (a *app) runServer(ctx context.Context, o *serverOptions) error {
	log, err := a.serverLogger(o.logFormat)
	if err != nil {
		return err
	}
	retention, err := parseRetention(o.retention)
	if err != nil {
		return err
	}
	if o.noAuth && !isLoopback(o.listen) {
		return usage.Errorf("--insecure-no-auth: refused on %s: serving without tokens is allowed on a loopback address only (127.0.0.1, ::1, localhost)", o.listen)
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return usage.Errorf("--tls-cert and --tls-key go together")
	}
	if o.vulnDB == "" {
		o.vulnDB = a.dbDir
	}
	opts := server.Options{Log: log, NoAuth: o.noAuth, TLS: o.tlsCert != "", Grace: o.grace, MaxPushBytes: o.maxPushBytes,
		Retention: retention, DBDir: o.vulnDB}
	if opts.Policy, opts.VEX, err = serverRanking(ctx, o); err != nil {
		return err
	}
	if len(o.contexts) > 0 {
		if _, err := clusterscan.LoadContexts("--scan-context", o.kubeconfig, o.contexts, false); err != nil {
			return err
		}
		opts.Scan, opts.Contexts, opts.Interval = a.serverScan(o), o.contexts, o.interval
	}
	var tlsConfig *tls.Config
	if opts.TLS {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return usage.Errorf("--tls-cert/--tls-key: %v", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	st, where, err := o.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	log.Info("store opened", "store", where)
	if !o.noAuth {
		secret, err := server.EnsureAdmin(ctx, st, time.Now())
		if err != nil {
			return err
		}
		if secret != "" {
			fmt.Fprintf(a.stderr, "\nrunlens server: no token existed, so an admin token was created. It is shown this once:\n\n    %s\n\nKeep it (a password manager, a Kubernetes Secret); mint others with `runlens server token create`.\n\n", secret)
		}
	}
	opts.UI = a.serverUI(st, opts)
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", o.listen, err)
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	return server.New(st, opts).Run(ctx, ln)
}

// serverScan is the server's scheduled scan: `runlens scan cluster` of
// the contexts with the server's database and caches, unranked (the
// server ranks each cluster's part with its own inputs).
func (a *app) serverScan(o *serverOptions) server.ScanFunc {
	return func(ctx context.Context, contexts []string) (*result.Document, error) {
		clients, err := clusterscan.LoadContexts("--scan-context", o.kubeconfig, contexts, false)
		if err != nil {
			return nil, err
		}
		scanner, dbInfo, closeDB, err := scan.Open(ctx, scan.Config{DBDir: o.vulnDB, CacheDir: a.cacheDir, IncludePackages: true, Log: a.log})
		if err != nil {
			return nil, err
		}
		defer closeDB()
		res, err := clusterscan.Run(ctx, scanner, clusterscan.Options{Clients: clients, Concurrency: 4})
		if res, err = clusterscan.Finish(ctx, res, err, a.log); err != nil {
			return nil, err
		}
		return result.New(header("scan cluster", dbInfo), res.Images, res.Workloads, res.Clusters), nil
	}
}
