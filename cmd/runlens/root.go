package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/runlens/runlens/internal/cache"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/progress"
	"github.com/runlens/runlens/internal/report"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/usage"
	"github.com/runlens/runlens/internal/vulndb"
)

// app holds the global options and the process's standard streams.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	dbDir    string
	cacheDir string
	quiet    bool
	verbose  int
	noProg   bool

	log      *slog.Logger
	progress *progress.Line
	push     pushOptions // scan --push
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	return &app{stdin: stdin, stdout: stdout, stderr: stderr}
}

const rootLong = `runlens scans container images for known vulnerabilities using an offline
OSV database, and tells you which findings matter.

Start with a database (no network needed for the first two):

  runlens db import ./advisories            # OSV JSON directory, OSV zip, EPSS CSV, KEV JSON
  runlens db update                         # download the OSV export (network)

Then scan:

  runlens scan image nginx:1.27             # from a registry (tag or digest)
  runlens scan image --archive app.tar      # docker save / OCI archive
  runlens scan registry localhost:5000      # every tag of every repository

The report goes to stdout (or --output); progress and logs go to stderr.

Exit codes:
  0   success, nothing matched the failure policy
  1   vulnerabilities matched --fail-on (or --exit-code N: exit N), also
      when a scan failed or was partial: the policy wins, and stderr says
      the scan was incomplete too
  2   a scan failed or was partial (and the policy did not match), or
      another error
  3   the database is older than --max-db-age
  64  bad usage`

func (a *app) rootCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:           "runlens",
		Short:         "Find the vulnerabilities that matter in what actually runs",
		Long:          rootLong,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkDurations(cmd); err != nil {
				return err
			}
			return a.setup()
		},
	}
	cmd.SetIn(a.stdin)
	cmd.SetOut(a.stdout)
	cmd.SetErr(a.stderr)
	f := cmd.PersistentFlags()
	f.StringVar(&a.dbDir, "db-dir", "", "vulnerability database directory (default: <user cache dir>/runlens/db, or $RUNLENS_DB_DIR)")
	f.StringVar(&a.cacheDir, "cache-dir", "", "inventory cache directory (default: <user cache dir>/runlens/cache, or $RUNLENS_CACHE_DIR)")
	f.BoolVarP(&a.quiet, "quiet", "q", false, "print nothing on stderr but errors")
	f.CountVarP(&a.verbose, "verbose", "v", "log more on stderr (-v info, -vv debug)")
	f.BoolVar(&a.noProg, "no-progress", false, "never draw the progress line")
	cmd.AddCommand(a.scanCommand(), a.dbCommand(), a.reportCommand(), a.explainCommand(), a.agentCommand(), a.serverCommand())
	requireSubcommands(cmd)
	return cmd
}

// requireSubcommands makes every command that only groups others fail with
// a usage error on a missing or unknown subcommand: cobra would print the
// help and exit 0, which hides a typo ("scan imgae") from CI.
func requireSubcommands(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		requireSubcommands(c)
	}
	if cmd.Parent() == nil || !cmd.HasSubCommands() || cmd.Runnable() {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.SuggestionsMinimumDistance = 2
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return usage.Errorf("%s needs a subcommand; see '%s --help'", cmd.CommandPath(), cmd.CommandPath())
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return usage.Errorf("%s; see '%s --help'", msg, cmd.CommandPath())
	}
}

// checkDurations validates the duration flags a command has: a negative
// --max-db-age or --timeout is a usage error, and --timeout 0 means no
// timeout at all.
func checkDurations(cmd *cobra.Command) error {
	f := cmd.Flags()
	for _, name := range []string{"max-db-age", "timeout"} {
		if d, err := f.GetDuration(name); err == nil && d < 0 {
			return usage.Errorf("--%s: %s is negative", name, d)
		}
	}
	if d, err := f.GetDuration("timeout"); err == nil && d == 0 {
		return f.Set("timeout", time.Duration(math.MaxInt64).String())
	}
	return nil
}

// setup resolves directories and builds the logger once flags are parsed.
func (a *app) setup() error {
	if a.dbDir == "" {
		a.dbDir = vulndb.DefaultDir()
	}
	if a.cacheDir == "" {
		a.cacheDir = cache.DefaultDir()
	}
	level := slog.LevelWarn
	switch {
	case a.quiet:
		level = slog.LevelError
	case a.verbose == 1:
		level = slog.LevelInfo
	case a.verbose >= 2:
		level = slog.LevelDebug
	}
	a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
	a.progress = progress.New(a.stderr, !a.quiet && !a.noProg && a.verbose == 0)
	return nil
}

// outputOptions are the flags every command that writes a report shares,
// and, once check has run, what they mean.
type outputOptions struct {
	format        string
	output        string
	severity      string
	ignoreUnfixed bool
	ignoreStatus  string
	exitCode      int
	failOn        string
	listPackages  bool
	// view picks the table sections of a cluster scan (--view).
	view string
	rank rankOptions

	filters result.Filters
	policy  result.Policy
	writer  report.Format
}

func (o *outputOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "f", report.Names()[0], "report format: "+report.Choice())
	f.StringVarP(&o.output, "output", "o", "", "write the report to this file instead of stdout")
	f.StringVarP(&o.severity, "severity", "s", "", "only report these severities, comma-separated ("+strings.Join(result.Severities, ",")+")")
	f.BoolVar(&o.ignoreUnfixed, "ignore-unfixed", false, "leave out vulnerabilities that have no fixed version")
	f.StringVar(&o.ignoreStatus, "ignore-status", "", "leave out vulnerabilities of these statuses, comma-separated ("+strings.Join(match.Statuses, ",")+")")
	f.IntVar(&o.exitCode, "exit-code", 0, "exit with this code when any vulnerability is reported (after filters)")
	f.StringVar(&o.failOn, "fail-on", "", "exit 1 when a vulnerability of this severity or higher is reported, even if the scan is also incomplete")
	f.BoolVar(&o.listPackages, "list-packages", false, "include every package found in the JSON output, and the per-image sections in a cluster scan's table")
	o.rank.register(cmd)
}

// check validates the output flags and keeps the filters, the policy and
// the format they ask for; it reads the ranking's policy file and VEX
// documents.
func (o *outputOptions) check(ctx context.Context) (err error) {
	if o.filters, err = result.ParseFilters(o.severity, o.ignoreUnfixed); err != nil {
		return usage.Errorf("%v", err)
	}
	if o.filters.IgnoreStatuses, err = result.ParseStatuses(o.ignoreStatus); err != nil {
		return usage.Errorf("%v", err)
	}
	if o.policy, err = result.ParsePolicyTier(o.failOn, o.rank.failOnTier, o.exitCode); err != nil {
		return usage.Errorf("%v", err)
	}
	if o.writer, err = report.Choose(o.format); err != nil {
		return err
	}
	return o.rank.load(ctx)
}

// write narrows doc as the flags ask, writes it in the chosen format to
// stdout or --output, and returns its verdict as the exit status. also are
// reasons the run is incomplete that the document cannot show.
func (a *app) write(o *outputOptions, doc *result.Document, also ...error) error {
	doc.Filter(o.filters)
	if err := o.rank.rank(doc); err != nil {
		return err
	}
	opts := report.Options{View: o.view, Top: o.rank.top, ShowSuppressed: o.rank.showSuppressed, ListPackages: o.listPackages,
		MinObservation: o.rank.minObservation()}
	if err := o.writer.WriteOut(a.stdout, o.output, doc, opts); err != nil {
		return err
	}
	if err := a.pushResult(doc); err != nil {
		return err
	}
	for _, r := range doc.Images {
		if r.Status != result.StatusScanned {
			a.log.Error("scan incomplete", "image", r.Target.Reference, "status", r.Status, "reason", r.Error)
		}
	}
	v := doc.Verdict(o.policy, also...)
	if v.Code == exitOK {
		return nil
	}
	return &exitCodeError{code: v.Code, lines: v.Lines(o.policy, o.output)}
}

// header starts the result document of a command.
func header(command string, db *result.Database) result.Header {
	return result.NewHeader(command, version, db)
}
