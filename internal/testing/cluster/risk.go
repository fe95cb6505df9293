package cluster

import (
	"context"
	_ "embed"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/runlens/runlens/internal/testing/testimage"
)

// riskYAML is the risk-ranking scenario: one image run by an internet-exposed
// cluster-admin workload in a critical namespace, an in-cluster one beside it
// and an isolated, unprivileged one elsewhere. "{{IMAGE}}" stands for the image.
//
//go:embed testdata/risk.yaml
var riskYAML string

// Namespaces of the risk scenario.
const (
	// RiskProdNamespace (labelled env=prod) holds storefront and internal-api.
	RiskProdNamespace = "shop-prod"
	// RiskBatchNamespace holds the isolated worker.
	RiskBatchNamespace = "batch"
)

// RiskAppPath is where WithApp puts the e2e app in the image.
const RiskAppPath = "/usr/local/bin/runlens-e2e-app"

// RiskManifest returns the risk scenario with image substituted.
func RiskManifest(image string) []byte {
	return []byte(strings.ReplaceAll(riskYAML, "{{IMAGE}}", image))
}

// WithApp returns base with the e2e app (testdata/app, a static Go binary
// serving HTTP on :8080) added at RiskAppPath in one more layer and made the
// entrypoint, so pods run with every package of base in their filesystem
// (for example the bundled sample, which has no program that stays up).
func WithApp(ctx context.Context, t testing.TB, base v1.Image) v1.Image {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	bin, err := testimage.GoStatic(ctx, filepath.Dir(file), "./testdata/app")
	if err != nil {
		t.Fatalf("build app: %v", err)
	}
	layer, err := testimage.TarLayer([]testimage.Entry{{Name: strings.TrimPrefix(RiskAppPath, "/"), Mode: 0o755, Data: bin}},
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), false)
	if err != nil {
		t.Fatalf("app layer: %v", err)
	}
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		t.Fatalf("append app layer: %v", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	cf = cf.DeepCopy()
	cf.Config.Entrypoint = []string{RiskAppPath}
	cf.Config.Cmd = nil
	if cf.Config.Labels == nil {
		cf.Config.Labels = map[string]string{}
	}
	cf.Config.Labels["org.opencontainers.image.title"] = "runlens-e2e-risk"
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatalf("set entrypoint: %v", err)
	}
	if _, err := img.Digest(); err != nil {
		t.Fatalf("image with app: digest: %v", err)
	}
	return img
}
