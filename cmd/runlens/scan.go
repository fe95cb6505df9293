package main

import (
	"context"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
)

// defaultTimeout bounds a whole scan command.
const defaultTimeout = 30 * time.Minute

// scanOptions are the flags of the scan subcommands.
type scanOptions struct {
	out     outputOptions
	source  image.Source
	access  registry.Access
	scanner scan.Config

	passwordStdin bool
	timeout       time.Duration
	concurrency   int
}

// registerSource adds the registry-credential and platform flags and the
// common ones.
func (o *scanOptions) registerSource(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.source.Platform, "platform", "", "platform of a multi-arch image, os/arch[/variant] (default linux/<host arch>)")
	f.StringVar(&o.access.Username, "username", "", "registry user name (with --password-stdin)")
	f.BoolVar(&o.passwordStdin, "password-stdin", false, "read the registry password or token from stdin")
	o.registerCommon(cmd)
}

// registerCommon adds the flags every scan command shares.
func (o *scanOptions) registerCommon(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&o.access.Insecure, "insecure", false, "allow plain-HTTP registries")
	f.BoolVar(&o.scanner.NoCache, "no-cache", false, "do not read or write the inventory cache")
	f.DurationVar(&o.scanner.MaxDBAge, "max-db-age", 0, "fail (exit 3) when the database is older than this, e.g. 72h (0: any age)")
	f.DurationVar(&o.timeout, "timeout", defaultTimeout, "give up after this long (0: no timeout)")
	f.DurationVar(&o.access.IdleTimeout, "idle-timeout", registry.DefaultIdleTimeout, "fail a registry request that sends nothing for this long (0: never)")
	f.StringSliceVar(&o.access.AllowedRealmHosts, "allow-token-realm", nil, "token service host[:port] on another host that may receive registry credentials (repeatable)")
	o.out.register(cmd)
}

// registerConcurrency adds --concurrency, for the commands that scan many
// images.
func (o *scanOptions) registerConcurrency(cmd *cobra.Command) {
	cmd.Flags().IntVar(&o.concurrency, "concurrency", 4, "images scanned in parallel")
}

// check validates the output and registry-access flags, and takes the
// password from stdin when --password-stdin asks for it.
func (o *scanOptions) check(ctx context.Context, stdin io.Reader) error {
	if err := o.out.check(ctx); err != nil {
		return err
	}
	if o.passwordStdin {
		o.access.Password = stdin
	}
	return o.access.Check()
}

// scanner opens the database and caches the flags ask for.
func (a *app) scanner(ctx context.Context, o *scanOptions) (*scan.Scanner, *result.Database, func(), error) {
	cfg := o.scanner
	cfg.DBDir, cfg.CacheDir, cfg.IncludePackages, cfg.Progress, cfg.Log = a.dbDir, a.cacheDir, o.out.listPackages || a.push.url != "", a.progress, a.log
	return scan.Open(ctx, cfg)
}

func (a *app) scanCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Scan images or registries for vulnerabilities",
	}
	cmd.AddCommand(a.scanImageCommand(), a.scanRegistryCommand(), a.scanClusterCommand())
	a.push.registerPush(cmd)
	return cmd
}

func (a *app) scanImageCommand() *cobra.Command {
	o := &scanOptions{}
	cmd := &cobra.Command{
		Use:   "image [REFERENCE]",
		Short: "Scan one image from a registry, an archive, an OCI layout or a directory",
		Long: `Scan one image and report its vulnerable packages.

The image comes from exactly one of:
  REFERENCE            a registry reference, by tag or digest (nginx:1.27,
                       localhost:5000/app@sha256:...); credentials come from
                       --username/--password-stdin, then ~/.docker/config.json
  --archive FILE       a "docker save" tarball or an OCI image tarball
                       (FILE:TAG picks one image when the archive holds several)
  --oci-layout DIR     an OCI image layout directory
  --rootfs DIR         an unpacked root filesystem

Inventories are cached by image digest, so scanning the same digest again
only re-matches it against the current database; layers are cached by diffID
(in <cache-dir>/layers), so a new image sharing base layers with one scanned
before does not download them again. --no-cache turns both off.`,
		Example: `  runlens scan image alpine:3.20
  runlens scan image --archive app.tar --severity HIGH,CRITICAL
  runlens scan image localhost:5000/app:1.0 --insecure --fail-on HIGH
  runlens scan image --rootfs ./rootfs --format json -o result.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.source.Reference = args[0]
			}
			return a.runScanImage(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.source.Archive, "archive", "", "scan a docker-save or OCI tarball")
	f.StringVar(&o.source.OCILayout, "oci-layout", "", "scan an OCI layout directory")
	f.StringVar(&o.source.RootFS, "rootfs", "", "scan a root filesystem directory")
	o.registerSource(cmd)
	return cmd
}

func (a *app) runScanImage(ctx context.Context, o *scanOptions) error {
	if err := o.source.Check(); err != nil {
		return err
	}
	if err := o.check(ctx, a.stdin); err != nil {
		return err
	}
	ctx, cancel := scan.WithTimeout(ctx, o.timeout)
	defer cancel()
	scanner, dbInfo, closeDB, err := a.scanner(ctx, o)
	if err != nil {
		return err
	}
	defer closeDB()
	o.source.Registry = o.access
	res := scanner.ScanSource(ctx, o.source)
	return a.write(&o.out, result.New(header("scan image", dbInfo), []*result.Image{res}, nil, nil), scan.Unfinished(ctx))
}
