package server

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/runlens/runlens/internal/store/storetest"
)

// TestServerOpenAPICoversRoutes walks the router: every route is in the
// OpenAPI document with its method, and every operation of the document
// is a route.
func TestServerOpenAPICoversRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := yaml.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	s := New(storetest.SQLite(t).Store, Options{})
	var routes []string
	for _, rt := range s.routes() {
		routes = append(routes, strings.ToLower(rt.method)+" "+rt.pattern)
	}
	var documented []string
	methods := regexp.MustCompile(`^(get|post|put|patch|delete|head)$`)
	for path, ops := range doc.Paths {
		for m, op := range ops {
			if !methods.MatchString(m) {
				continue
			}
			documented = append(documented, m+" "+path)
			if op["responses"] == nil || op["summary"] == nil {
				t.Errorf("%s %s: no summary or responses", m, path)
			}
		}
	}
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("openapi.yaml has %s, which no route serves", d)
		}
	}
	if len(routes) < 30 {
		t.Errorf("only %d routes", len(routes))
	}
}

func TestServerServesOpenAPI(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t).Store, Options{})
	code, b := e.read("GET", "/api/v1/openapi.yaml", "", nil)
	if code != 200 || string(b) != string(OpenAPI) {
		t.Errorf("GET /api/v1/openapi.yaml: %d, %d bytes", code, len(b))
	}
}
