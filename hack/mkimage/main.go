// Command mkimage packs directories into a real container image with
// go-containerregistry, so tests and benchmarks get real images without a
// Docker engine.
//
// Each --layer DIR becomes one layer, base first. The output is
// deterministic: entries are sorted, times and owners are fixed, and the
// config's created time is the same fixed time, so packing the same trees
// with the same Go toolchain always yields the same image digest.
//
//	mkimage --layer rootfs --layer app --tag example/app:1 --docker-archive app.tar
//	mkimage --layer rootfs --oci-layout ./layout
//	mkimage --layer rootfs --push localhost:5000/app:1 --insecure
//
// The manifest digest is printed on stdout; progress goes to stderr.
package main

import (
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
)

// listFlag collects a repeatable string flag in order.
type listFlag []string

// String implements flag.Value.
func (l *listFlag) String() string { return strings.Join(*l, ",") }

// Set implements flag.Value.
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// config is everything the command line says about the image to build.
type config struct {
	Layers     []string
	Platform   string
	Tag        string
	MTime      time.Time
	KeepOwner  bool
	GzipLevel  int
	MediaTypes string // "docker" or "oci"
	Env        []string
	Labels     []string
	Entrypoint []string
	Cmd        []string
	WorkDir    string

	DockerArchive string
	OCILayout     string
	Push          string
	Insecure      bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

// run parses args, builds the image and writes every requested output.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	b, err := buildImage(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer b.cleanup()
	if err := writeOutputs(ctx, cfg, b.img, stderr); err != nil {
		return err
	}
	d, err := b.img.Digest()
	if err != nil {
		return fmt.Errorf("image digest: %w", err)
	}
	fmt.Fprintln(stdout, d.String())
	return nil
}

// parseFlags turns the command line into a config and checks it.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	var layers, env, labels, entrypoint, cmd listFlag
	var mtime string
	fs := flag.NewFlagSet("mkimage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&layers, "layer", "directory to pack as the next layer (repeatable, base first)")
	fs.StringVar(&c.Platform, "platform", "linux/amd64", "os/arch[/variant] written to the config")
	fs.StringVar(&c.Tag, "tag", "", "image name:tag recorded in a docker archive / OCI layout")
	fs.StringVar(&mtime, "mtime", "", "RFC 3339 time or Unix seconds for every entry and the config (default $SOURCE_DATE_EPOCH, else 1970-01-01)")
	fs.BoolVar(&c.KeepOwner, "keep-owner", false, "keep numeric uid/gid of files (default: all 0)")
	fs.IntVar(&c.GzipLevel, "gzip-level", gzip.DefaultCompression, "gzip level of layer blobs (1 fastest, 9 smallest)")
	fs.StringVar(&c.MediaTypes, "media-types", "", "docker or oci (default: oci when the only output is --oci-layout, else docker)")
	fs.Var(&env, "env", "KEY=VALUE for the config (repeatable)")
	fs.Var(&labels, "label", "KEY=VALUE label for the config (repeatable)")
	fs.Var(&entrypoint, "entrypoint", "next entrypoint argument (repeatable)")
	fs.Var(&cmd, "cmd", "next cmd argument (repeatable)")
	fs.StringVar(&c.WorkDir, "workdir", "", "working directory for the config")
	fs.StringVar(&c.DockerArchive, "docker-archive", "", "write a docker-save tarball to this file")
	fs.StringVar(&c.OCILayout, "oci-layout", "", "write (or append to) an OCI image layout in this directory")
	fs.StringVar(&c.Push, "push", "", "push to this reference (host:port/repo:tag)")
	fs.BoolVar(&c.Insecure, "insecure", false, "allow plain HTTP for --push")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q (use --layer DIR)", fs.Args())
	}
	c.Layers, c.Env, c.Labels, c.Entrypoint, c.Cmd = layers, env, labels, entrypoint, cmd
	if len(c.Layers) == 0 {
		return c, errors.New("at least one --layer DIR is required")
	}
	if c.DockerArchive == "" && c.OCILayout == "" && c.Push == "" {
		return c, errors.New("no output: give --docker-archive, --oci-layout and/or --push")
	}
	if c.MediaTypes == "" {
		c.MediaTypes = "docker"
		if c.OCILayout != "" && c.DockerArchive == "" && c.Push == "" {
			c.MediaTypes = "oci"
		}
	}
	if c.MediaTypes != "docker" && c.MediaTypes != "oci" {
		return c, fmt.Errorf("--media-types %q: want docker or oci", c.MediaTypes)
	}
	if c.GzipLevel < gzip.HuffmanOnly || c.GzipLevel > gzip.BestCompression {
		return c, fmt.Errorf("--gzip-level %d out of range", c.GzipLevel)
	}
	if mtime == "" {
		mtime = os.Getenv("SOURCE_DATE_EPOCH")
	}
	t, err := parseTime(mtime)
	if err != nil {
		return c, err
	}
	c.MTime = t
	for _, kv := range append(append([]string{}, c.Env...), c.Labels...) {
		if !strings.Contains(kv, "=") {
			return c, fmt.Errorf("%q: want KEY=VALUE", kv)
		}
	}
	return c, nil
}

// parseTime accepts "", Unix seconds or RFC 3339; "" means the Unix epoch.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("mtime %q: want Unix seconds or RFC 3339: %w", s, err)
	}
	return t.UTC().Truncate(time.Second), nil
}
