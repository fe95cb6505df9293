// Package image opens container images from any source behind one
// interface: a registry, a docker-save or OCI tarball, an OCI layout
// directory, or a root-filesystem directory. Later sources (Kubernetes pull
// secrets, a live container's /proc/<pid>/root) implement the same Image.
package image

import (
	"context"
	"time"

	"github.com/runlens/runlens/internal/layerfs"
)

// Descriptor identifies an image without reading its layers, so callers can
// look up cached results before paying for a pull.
type Descriptor struct {
	// Reference is what the user named (a ref, a file, a directory).
	Reference string `json:"reference"`
	// Digest is the manifest digest ("sha256:..."); empty for a directory.
	Digest string `json:"digest,omitempty"`
	// IndexDigest is the digest of the multi-platform index the manifest was
	// chosen from, if any.
	IndexDigest string `json:"index_digest,omitempty"`
	// ConfigDigest is the image ID.
	ConfigDigest string `json:"config_digest,omitempty"`
	// RepoDigests are "repo@sha256:..." names of the image.
	RepoDigests []string `json:"repo_digests,omitempty"`
	// RepoTags are "repo:tag" names the source carried.
	RepoTags []string `json:"repo_tags,omitempty"`
	// Platform is "os/arch[/variant]".
	Platform string `json:"platform,omitempty"`
	// Created is when the image was built, from its config; left out of
	// JSON when unknown (a directory, a registry entry that is no image).
	Created time.Time   `json:"created,omitzero"`
	Layers  []LayerInfo `json:"layers,omitempty"`
}

// LayerInfo describes one layer, base first.
type LayerInfo struct {
	DiffID    string `json:"diff_id"`
	Digest    string `json:"digest,omitempty"`
	Size      int64  `json:"size,omitempty"`
	MediaType string `json:"media_type,omitempty"`
}

// Image is an opened image from any source.
type Image interface {
	// Descriptor returns the image's identity; it never reads layers.
	Descriptor() Descriptor
	// RootFS flattens the image into a confined filesystem view.
	RootFS(ctx context.Context, opts layerfs.Options) (layerfs.RootFS, error)
	// Close releases what Open acquired (file handles, temp files).
	Close() error
}
