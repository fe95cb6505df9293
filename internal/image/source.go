package image

import (
	"context"

	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/usage"
)

// Source names one image the way a command line does: exactly one of
// Reference, Archive, OCILayout or RootFS.
type Source struct {
	// Reference is a registry reference, by tag or digest; credentials
	// written into it are used and never shown.
	Reference string
	// Archive is a docker-save or OCI tarball (PATH:TAG picks one image).
	Archive string
	// OCILayout is an OCI image layout directory.
	OCILayout string
	// RootFS is an unpacked root filesystem.
	RootFS string
	// Platform picks from a multi-platform index ("" = the default).
	Platform string
	// Registry is the access to use for Reference.
	Registry registry.Access
}

// Check returns a *usage.Error unless exactly one image is named.
func (s Source) Check() error {
	n := 0
	for _, v := range []string{s.Reference, s.Archive, s.OCILayout, s.RootFS} {
		if v != "" {
			n++
		}
	}
	if n != 1 {
		return usage.Errorf("name exactly one image: a REFERENCE, --archive, --oci-layout or --rootfs (see runlens scan image --help)")
	}
	return nil
}

// Name is what the source is called in a report: the path, or the
// reference without its credentials.
func (s Source) Name() string {
	switch {
	case s.Archive != "":
		return s.Archive
	case s.OCILayout != "":
		return s.OCILayout
	case s.RootFS != "":
		return s.RootFS
	}
	ref, _, _, _ := registry.StripCredentials(s.Reference)
	return ref
}

// Open opens the image s names; the registry credentials are read only
// when it is a Reference.
func Open(ctx context.Context, s Source) (Image, error) {
	switch {
	case s.Archive != "":
		return OpenArchive(ctx, s.Archive, LocalOptions{Platform: s.Platform})
	case s.OCILayout != "":
		return OpenLayout(ctx, s.OCILayout, LocalOptions{Platform: s.Platform})
	case s.RootFS != "":
		return OpenDir(ctx, s.RootFS)
	}
	ro, err := s.Registry.Options()
	if err != nil {
		return nil, err
	}
	return OpenRegistry(ctx, s.Reference, RegistryOptions{Options: ro, Platform: s.Platform})
}
