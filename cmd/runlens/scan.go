package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/runlens/runlens/internal/cache"
	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/layercache"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
)

// defaultTimeout bounds a whole scan command.
const defaultTimeout = 30 * time.Minute

// scanContext bounds a scan command by timeout, with a *scan.TimeoutError
// cause so unfinished results say why they stopped.
func scanContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, timeout, &scan.TimeoutError{Timeout: timeout})
}

// interrupted is why the run is incomplete when ctx ended (deadline or
// signal), for the verdict; nil while ctx is live.
func interrupted(ctx context.Context) error {
	if why := scan.Interrupted(ctx); why != nil {
		return fmt.Errorf("%w; the report lists what finished, the rest as failed", why)
	}
	return nil
}

// interruptedOr is the reason an unfinished result gives: the
// interruption when ctx ended, else err.
func interruptedOr(ctx context.Context, err error) error {
	if why := scan.Interrupted(ctx); why != nil {
		return why
	}
	return err
}

// scanOptions are the flags of the scan subcommands.
type scanOptions struct {
	out outputOptions

	archive   string
	ociLayout string
	rootfs    string

	platform      string
	username      string
	passwordStdin bool
	insecure      bool

	noCache     bool
	maxDBAge    time.Duration
	timeout     time.Duration
	concurrency int

	idleTimeout time.Duration
	realmHosts  []string
}

// registerSource adds the registry-access flags and the common ones.
func (o *scanOptions) registerSource(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.platform, "platform", "", "platform of a multi-arch image, os/arch[/variant] (default linux/<host arch>)")
	f.StringVar(&o.username, "username", "", "registry user name (with --password-stdin)")
	f.BoolVar(&o.passwordStdin, "password-stdin", false, "read the registry password or token from stdin")
	o.registerCommon(cmd)
}

// registerCommon adds the flags every scan command shares.
func (o *scanOptions) registerCommon(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&o.insecure, "insecure", false, "allow plain-HTTP registries")
	f.BoolVar(&o.noCache, "no-cache", false, "do not read or write the inventory cache")
	f.DurationVar(&o.maxDBAge, "max-db-age", 0, "fail (exit 3) when the database is older than this, e.g. 72h (0: any age)")
	f.DurationVar(&o.timeout, "timeout", defaultTimeout, "give up after this long (0: no timeout)")
	o.registerRegistryAccess(cmd)
}

func (a *app) scanCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Scan images or registries for vulnerabilities",
	}
	cmd.AddCommand(a.scanImageCommand(), a.scanRegistryCommand(), a.scanClusterCommand())
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
			return a.runScanImage(cmd.Context(), o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.archive, "archive", "", "scan a docker-save or OCI tarball")
	f.StringVar(&o.ociLayout, "oci-layout", "", "scan an OCI layout directory")
	f.StringVar(&o.rootfs, "rootfs", "", "scan a root filesystem directory")
	o.registerSource(cmd)
	o.out.register(cmd)
	return cmd
}

func (a *app) runScanImage(ctx context.Context, o *scanOptions, args []string) error {
	sources := 0
	for _, s := range []string{o.archive, o.ociLayout, o.rootfs} {
		if s != "" {
			sources++
		}
	}
	if len(args) == 1 {
		sources++
	}
	if sources != 1 {
		return &usageError{"name exactly one image: a REFERENCE, --archive, --oci-layout or --rootfs (see runlens scan image --help)"}
	}
	if err := o.out.check(); err != nil {
		return err
	}
	if err := o.checkRegistryAccess(); err != nil {
		return err
	}
	ctx, cancel := scanContext(ctx, o.timeout)
	defer cancel()

	scanner, dbInfo, closeDB, err := a.scanner(ctx, o)
	if err != nil {
		return err
	}
	defer closeDB()

	// A source that cannot be opened, or a scan cut off, is a failed result
	// that says what was being scanned and why it stopped.
	var res *result.Image
	img, err := a.openImage(ctx, o, args)
	if err != nil {
		res = result.Incomplete(image.Descriptor{Reference: imageName(o, args)}, result.StatusFailed, interruptedOr(ctx, err))
	} else {
		defer img.Close()
		res, err = scanner.Scan(ctx, img)
		a.progress.Clear()
		if err != nil {
			res = result.Incomplete(img.Descriptor(), result.StatusFailed, interruptedOr(ctx, err))
		}
	}
	return a.write(&o.out, result.New(header("scan image", dbInfo), []*result.Image{res}, nil, nil), interrupted(ctx))
}

func imageName(o *scanOptions, args []string) string {
	switch {
	case o.archive != "":
		return o.archive
	case o.ociLayout != "":
		return o.ociLayout
	case o.rootfs != "":
		return o.rootfs
	case len(args) == 1:
		ref, _, _, _ := registry.StripCredentials(args[0])
		return ref
	}
	return ""
}

// registryOptions builds registry access options, reading the password
// from stdin when asked. The password is never logged.
func (a *app) registryOptions(o *scanOptions) (image.RegistryOptions, error) {
	ro := image.RegistryOptions{Platform: o.platform}
	access, err := o.registryAccess()
	if err != nil {
		return ro, err
	}
	ro.Options = access
	ro.Username = o.username
	if o.passwordStdin {
		if o.username == "" {
			return ro, &usageError{"--password-stdin needs --username"}
		}
		b, err := io.ReadAll(io.LimitReader(a.stdin, 64<<10))
		if err != nil {
			return ro, fmt.Errorf("reading password from stdin: %w", err)
		}
		ro.Password = strings.TrimRight(string(b), "\r\n")
	} else if o.username != "" {
		return ro, &usageError{"--username needs --password-stdin (passwords are not taken as flags)"}
	}
	return ro, nil
}

func (a *app) openImage(ctx context.Context, o *scanOptions, args []string) (image.Image, error) {
	switch {
	case o.archive != "":
		return image.OpenArchive(ctx, o.archive, image.LocalOptions{Platform: o.platform})
	case o.ociLayout != "":
		return image.OpenLayout(ctx, o.ociLayout, image.LocalOptions{Platform: o.platform})
	case o.rootfs != "":
		return image.OpenDir(ctx, o.rootfs)
	}
	ro, err := a.registryOptions(o)
	if err != nil {
		return nil, err
	}
	return image.OpenRegistry(ctx, args[0], ro)
}

// scanner opens the database and cache a scan needs.
func (a *app) scanner(ctx context.Context, o *scanOptions) (*scan.Scanner, *result.Database, func(), error) {
	db, info, err := a.openDB(ctx, o.maxDBAge)
	if err != nil {
		return nil, nil, nil, err
	}
	s := &scan.Scanner{Advisories: db, Threats: db, IncludePackages: o.out.listPackages, Progress: a.progress}
	if !o.noCache {
		c, err := cache.Open(a.cacheDir)
		if err != nil {
			a.log.Warn("inventory cache unavailable; scanning without it", "err", err)
		} else {
			s.Cache = c
		}
		lc, err := layercache.Open(filepath.Join(a.cacheDir, "layers"), layercache.Options{})
		if err != nil {
			a.log.Warn("layer cache unavailable; scanning without it", "err", err)
		} else {
			s.LayerCache = lc
		}
	}
	return s, info, func() { db.Close() }, nil
}
