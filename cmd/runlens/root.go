package main

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/runlens/runlens/internal/progress"
	"github.com/runlens/runlens/internal/report"
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
	// tableView picks the table sections of a cluster scan.
	tableView string
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
  1   vulnerabilities matched --fail-on / --exit-code
  2   a scan failed or was partial, or another error
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
	cmd.AddCommand(a.scanCommand(), a.dbCommand(), a.reportCommand())
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
			return &usageError{fmt.Sprintf("%s needs a subcommand; see '%s --help'", cmd.CommandPath(), cmd.CommandPath())}
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return &usageError{msg + "; see '" + cmd.CommandPath() + " --help'"}
	}
}

// checkDurations validates the duration flags a command has: a negative
// --max-db-age or --timeout is a usage error, and --timeout 0 means no
// timeout at all.
func checkDurations(cmd *cobra.Command) error {
	f := cmd.Flags()
	for _, name := range []string{"max-db-age", "timeout"} {
		if d, err := f.GetDuration(name); err == nil && d < 0 {
			return &usageError{fmt.Sprintf("--%s: %s is negative", name, d)}
		}
	}
	if d, err := f.GetDuration("timeout"); err == nil && d == 0 {
		return f.Set("timeout", time.Duration(math.MaxInt64).String())
	}
	return nil
}

// setup resolves directories and builds the logger once flags are parsed.
func (a *app) setup() error {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	if a.dbDir == "" {
		a.dbDir = os.Getenv("RUNLENS_DB_DIR")
	}
	if a.dbDir == "" {
		a.dbDir = filepath.Join(base, "runlens", "db")
	}
	if a.cacheDir == "" {
		a.cacheDir = os.Getenv("RUNLENS_CACHE_DIR")
	}
	if a.cacheDir == "" {
		a.cacheDir = filepath.Join(base, "runlens", "cache")
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

// outputOptions are the flags every command that writes a report shares.
type outputOptions struct {
	format        string
	output        string
	severity      string
	ignoreUnfixed bool
	exitCode      int
	failOn        string
	listPackages  bool
}

func (o *outputOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "f", "table", "report format: table or json")
	f.StringVarP(&o.output, "output", "o", "", "write the report to this file instead of stdout")
	f.StringVarP(&o.severity, "severity", "s", "", "only report these severities, comma-separated (CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN)")
	f.BoolVar(&o.ignoreUnfixed, "ignore-unfixed", false, "leave out vulnerabilities that have no fixed version")
	f.IntVar(&o.exitCode, "exit-code", 0, "exit with this code when any vulnerability is reported (after filters)")
	f.StringVar(&o.failOn, "fail-on", "", "exit 1 when a vulnerability of this severity or higher is reported")
	f.BoolVar(&o.listPackages, "list-packages", false, "include every package found in the JSON output")
}

// filters validates the filter flags.
func (o *outputOptions) filters() (report.Filters, error) {
	sev, err := report.ParseSeverities(o.severity)
	if err != nil {
		return report.Filters{}, &usageError{"--severity: " + err.Error()}
	}
	if o.failOn != "" {
		fo, err := report.ParseSeverities(o.failOn)
		if err != nil || len(fo) != 1 {
			return report.Filters{}, &usageError{fmt.Sprintf("--fail-on: want one severity, got %q", o.failOn)}
		}
		o.failOn = fo[0]
	}
	if c := o.exitCode; c != 0 && !validExitCode(c) {
		return report.Filters{}, &usageError{fmt.Sprintf("--exit-code: %d is not allowed: use 1 or 4-63 or 65-125 (0 turns it off; 2, 3 and 64 are runlens's own codes, and shells reserve 126 and up)", c)}
	}
	return report.Filters{Severities: sev, IgnoreUnfixed: o.ignoreUnfixed}, nil
}

// handler opens the report destination and returns the chosen format's
// handler with a function that closes the destination.
func (a *app) handler(o *outputOptions) (report.Handler, func() error, error) {
	w := a.stdout
	closeFn := func() error { return nil }
	if o.output != "" {
		f, err := os.Create(o.output)
		if err != nil {
			return nil, nil, fmt.Errorf("creating report file: %w", err)
		}
		w, closeFn = f, f.Close
	}
	switch o.format {
	case "json":
		return report.NewJSON(w), closeFn, nil
	case "table":
		t := report.NewTable(w)
		t.View = a.tableView
		return t, closeFn, nil
	default:
		closeFn()
		return nil, nil, &usageError{fmt.Sprintf("--format: unknown format %q (want table or json)", o.format)}
	}
}

// validExitCode reports whether c may be chosen with --exit-code: it must
// not be mistaken for one of runlens's own codes or a shell's.
func validExitCode(c int) bool {
	return c == exitFindings || (c > exitStaleDB && c < exitUsage) || (c > exitUsage && c <= 125)
}

// verdict turns results into the exit code the policy flags ask for.
func verdict(o *outputOptions, results []*report.ImageResult) error {
	var sum report.Summary
	for _, r := range results {
		sum.Add(r)
	}
	if sum.Failed > 0 || sum.Partial > 0 {
		return &exitCodeError{code: exitError, err: fmt.Errorf("%d of %d images failed to scan completely; their results are incomplete", sum.Failed+sum.Partial, sum.Images)}
	}
	if o.failOn != "" && report.AtLeast(results, o.failOn) {
		return &exitCodeError{code: exitFindings}
	}
	if o.exitCode != 0 && sum.Findings > 0 {
		return &exitCodeError{code: o.exitCode}
	}
	return nil
}

// header builds the report header for a command.
func header(command string, f report.Filters, db *report.Database) report.Header {
	return report.Header{
		SchemaVersion: report.SchemaVersion,
		Scanner:       report.Scanner{Name: "runlens", Version: version},
		CreatedAt:     time.Now().UTC(),
		Command:       command,
		Database:      db,
		Filters:       f,
	}
}
