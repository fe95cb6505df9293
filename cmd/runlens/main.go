// Command runlens finds the vulnerabilities that matter in what actually
// runs: it scans container images from registries, archives, layouts and
// root filesystems against an offline OSV database. Its exit codes are
// listed once, in the root command's help (rootLong).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/usage"
	"github.com/runlens/runlens/internal/vulndb"
)

// Exit codes documented in --help and the README.
const (
	exitOK       = result.ExitOK
	exitFindings = result.ExitFindings
	exitError    = result.ExitIncomplete
	exitStaleDB  = result.ExitStaleDB
	exitUsage    = result.ExitUsage
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if code := runProcess(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); code != exitOK {
		os.Exit(code)
	}
}

// runProcess is main without the exit: it runs the command line with a
// context that SIGINT or SIGTERM cancels, so a scan still writes its report
// (with the unfinished images marked failed) before the process ends.
func runProcess(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// RUNLENS_CPUPROFILE=FILE writes a CPU profile of the run, for
	// performance work (go tool pprof FILE).
	if p := os.Getenv("RUNLENS_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil && pprof.StartCPUProfile(f) == nil {
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
	}
	ctx, stop := scan.SignalContext(context.Background())
	defer stop()
	return run(ctx, args, stdin, stdout, stderr)
}

// run executes the command line and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := newApp(stdin, stdout, stderr)
	cmd := app.rootCommand()
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		for _, l := range ec.lines {
			fmt.Fprintf(stderr, "runlens: %s\n", l)
		}
		return ec.code
	}
	fmt.Fprintf(stderr, "runlens: %v\n", err)
	var stale *vulndb.StaleError
	switch {
	case errors.As(err, &stale):
		return exitStaleDB
	case isUsageError(err):
		return exitUsage
	}
	return exitError
}

// exitCodeError carries a verdict's exit code and stderr lines out of a
// command.
type exitCodeError struct {
	code  int
	lines []string // printed one line each
}

func (e *exitCodeError) Error() string {
	if len(e.lines) > 0 {
		return strings.Join(e.lines, "; ")
	}
	return fmt.Sprintf("exit status %d", e.code)
}

// isUsageError reports whether err is a mistake in the command line.
func isUsageError(err error) bool {
	if usage.Is(err) {
		return true
	}
	// cobra's own flag and argument errors.
	msg := err.Error()
	for _, p := range []string{"unknown flag", "unknown command", "unknown shorthand", "accepts ", "requires at least", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
