package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/runlens/runlens/internal/server"
	"github.com/runlens/runlens/internal/store"
	"github.com/runlens/runlens/internal/usage"
	"github.com/runlens/runlens/internal/userdir"
)

// storeOptions name the server's store: --data-dir and --database,
// shared by `server` and its token and backup subcommands.
type storeOptions struct {
	dataDir  string
	database string
}

func (o *storeOptions) register(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&o.dataDir, "data-dir", "", "the server's directory; the SQLite store is runlens.db in it (default: <user cache dir>/runlens/server, or $RUNLENS_DATA_DIR)")
	f.StringVar(&o.database, "database", "", "PostgreSQL store instead of SQLite: postgres://user[:password]@host[:port]/db[?sslmode=…] (or $RUNLENS_DATABASE)")
}

// dsn returns the store's DSN and how to name it in messages (a
// PostgreSQL password never appears in it).
func (o *storeOptions) dsn() (string, string, error) {
	db := o.database
	if db == "" {
		db = os.Getenv("RUNLENS_DATABASE")
	}
	if db != "" {
		if !strings.HasPrefix(db, "postgres://") && !strings.HasPrefix(db, "postgresql://") {
			return "", "", usage.Errorf("--database: want a postgres:// URL, got %s", redactDSN(db))
		}
		return db, redactDSN(db), nil
	}
	dir := o.dataDir
	if dir == "" {
		dir = userdir.Default("RUNLENS_DATA_DIR", "server")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("data directory: %w", err)
	}
	path := filepath.Join(dir, "runlens.db")
	return "sqlite:" + path, path, nil
}

// open opens the store the flags name.
func (o *storeOptions) open(ctx context.Context) (store.Store, string, error) {
	dsn, where, err := o.dsn()
	if err != nil {
		return nil, "", err
	}
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, "", fmt.Errorf("opening the store %s: %s", where, scrub(err.Error(), dsn))
	}
	return st, where, nil
}

// redactDSN hides the password of a database URL.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable database URL)"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// scrub removes a database URL's password from a message.
func scrub(msg, dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return strings.ReplaceAll(msg, dsn, "(database URL)")
	}
	msg = strings.ReplaceAll(msg, dsn, redactDSN(dsn))
	if p, ok := u.User.Password(); ok && p != "" {
		msg = strings.ReplaceAll(msg, p, "xxxxx")
	}
	if p := u.Query().Get("password"); p != "" {
		msg = strings.ReplaceAll(msg, p, "xxxxx")
	}
	return msg
}

func (a *app) serverTokenCommand(o *storeOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke the server's API tokens",
		Long: `Tokens are 32 random bytes shown once as rl_<base64url>; the store keeps
only their SHA-256. Scopes:
  read           every view of the API, the UI and /metrics
  write-cluster  push results and agent evidence for its one --cluster
                 (and accept that cluster's risks)
  admin          everything, tokens included
These commands work on the store directly (the same --data-dir or
--database as the server), so they also work while it runs.`,
	}
	var name, scope, cluster string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a token and print its secret (once) on stdout",
		Example: `  runlens server token create --name grafana --scope read
  runlens server token create --name ci-prod --scope write-cluster --cluster prod`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := server.CheckScope(scope, cluster); err != nil {
				return usage.Errorf("--scope/--cluster: %v", err)
			}
			if name == "" {
				return usage.Errorf("--name is required")
			}
			st, _, err := o.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			t, secret, err := server.CreateToken(cmd.Context(), st, name, scope, cluster, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, secret)
			fmt.Fprintf(a.stderr, "token %d (%s, %s) created; the secret above is shown this once\n", t.ID, t.Name, t.Scope)
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "what the token is for (shown in logs and lists)")
	create.Flags().StringVar(&scope, "scope", "", "read, write-cluster or admin")
	create.Flags().StringVar(&cluster, "cluster", "", "the cluster a write-cluster token may push")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, _, err := o.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			list, err := st.Tokens(cmd.Context())
			if err != nil {
				return fmt.Errorf("listing tokens: %w", err)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSCOPE\tCLUSTER\tCREATED")
			for _, t := range list {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Scope, t.Cluster, t.CreatedAt.UTC().Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	revoke := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token: it stops working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return usage.Errorf("revoke: want a token ID (see token list), got %q", args[0])
			}
			st, _, err := o.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.RevokeToken(cmd.Context(), id); err != nil {
				return fmt.Errorf("revoking token %d: %w", id, err)
			}
			fmt.Fprintf(a.stderr, "token %d revoked\n", id)
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func (a *app) serverBackupCommand(o *storeOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the SQLite store to FILE (PostgreSQL: use pg_dump)",
		Long: `Write a consistent copy of the SQLite store (VACUUM INTO) to FILE, which
must not exist. It is safe while the server runs. Restore by stopping the
server and putting the copy in place of <data-dir>/runlens.db. A
PostgreSQL store is backed up with pg_dump instead.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, _, err := o.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Backup(cmd.Context(), args[0]); err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			fmt.Fprintf(a.stderr, "store copied to %s\n", args[0])
			return nil
		},
	}
}
