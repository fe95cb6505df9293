package registrytest

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/runlens/runlens/internal/testing/testimage"
)

// Created is testimage.Created.
//
// Deprecated: use testimage.Created; images are built by
// internal/testing/testimage.
var Created = testimage.Created

// Layer is testimage.Layer.
//
// Deprecated: use testimage.Layer.
func Layer(t testing.TB, files map[string]string) v1.Layer {
	t.Helper()
	return testimage.Layer(t, files)
}

// Image is testimage.Image.
//
// Deprecated: use testimage.Image.
func Image(t testing.TB, platform string, layers ...map[string]string) v1.Image {
	t.Helper()
	return testimage.Image(t, platform, layers...)
}

// Index is testimage.Index.
//
// Deprecated: use testimage.Index.
func Index(t testing.TB, attestation bool, imgs ...v1.Image) v1.ImageIndex {
	t.Helper()
	return testimage.Index(t, attestation, imgs...)
}
