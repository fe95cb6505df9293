package cluster

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestStartSkipsWithoutE2E(t *testing.T) {
	t.Setenv(EnvE2E, "")
	reached := false
	ok := t.Run("start", func(t *testing.T) {
		Start(t, ModeAPI)
		reached = true
	})
	if !ok || reached {
		t.Fatalf("Start without %s=1: passed=%v, reached after Start=%v; want a skip", EnvE2E, ok, reached)
	}
}

func TestReadEnvFile(t *testing.T) {
	tests := []struct {
		name, content string
		want          map[string]string
		wantErr       bool
	}{
		{name: "plain", content: "A=1\nB=x=y\n\n# c\n", want: map[string]string{"A": "1", "B": "x=y"}},
		{name: "empty value", content: "A=\n", want: map[string]string{"A": ""}},
		{name: "malformed", content: "A\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "cluster.env")
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := ReadEnvFile(p)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); !tt.wantErr && diff != "" {
				t.Errorf("env (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := ReadEnvFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestWorkloadsManifest(t *testing.T) {
	const image = "localhost:5000/runlens-e2e/app@sha256:0123"
	raw := WorkloadsManifest(image)
	if strings.Contains(string(raw), "{{IMAGE}}") {
		t.Fatal("placeholder left in manifest")
	}
	objs, err := DecodeObjects(raw)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	images := map[string]bool{}
	for _, o := range objs {
		got = append(got, o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName())
		for _, c := range podContainers(t, o) {
			images[c] = true
		}
	}
	sort.Strings(got)
	want := []string{
		"ClusterRole /runlens-fixture-secret-reader",
		"ClusterRoleBinding /runlens-fixture-cluster-admin",
		"ClusterRoleBinding /runlens-fixture-secret-reader",
		"CronJob runlens-fixtures/report",
		"DaemonSet runlens-fixtures/agent",
		"Deployment runlens-fixtures/web",
		"Deployment runlens-isolated/internal",
		"Ingress runlens-fixtures/web",
		"Job runlens-fixtures/migrate",
		"Namespace /runlens-fixtures",
		"Namespace /runlens-isolated",
		"NetworkPolicy runlens-isolated/deny-all",
		"Pod runlens-fixtures/node-root",
		"Pod runlens-fixtures/standalone",
		"Pod runlens-fixtures/with-init",
		"Role runlens-fixtures/pod-reader",
		"RoleBinding runlens-fixtures/sa-pod-reader",
		"Service runlens-fixtures/db-headless",
		"Service runlens-fixtures/upstream",
		"Service runlens-fixtures/web-clusterip",
		"Service runlens-fixtures/web-lb",
		"Service runlens-fixtures/web-nodeport",
		"ServiceAccount runlens-fixtures/sa-cluster-admin",
		"ServiceAccount runlens-fixtures/sa-irsa",
		"ServiceAccount runlens-fixtures/sa-plain",
		"ServiceAccount runlens-fixtures/sa-pod-reader",
		"ServiceAccount runlens-fixtures/sa-secret-reader",
		"StatefulSet runlens-fixtures/db",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]bool{image: true}, images); diff != "" {
		t.Errorf("container images (-want +got):\n%s", diff)
	}
}

// podContainers returns the images of every container and init container of a
// workload object, wherever its pod template sits.
func podContainers(t *testing.T, o *unstructured.Unstructured) []string {
	t.Helper()
	var paths [][]string
	switch o.GetKind() {
	case "Pod":
		paths = [][]string{{"spec"}}
	case "Deployment", "StatefulSet", "DaemonSet", "Job":
		paths = [][]string{{"spec", "template", "spec"}}
	case "CronJob":
		paths = [][]string{{"spec", "jobTemplate", "spec", "template", "spec"}}
	default:
		return nil
	}
	var images []string
	for _, p := range paths {
		for _, field := range []string{"containers", "initContainers"} {
			cs, _, err := unstructured.NestedSlice(o.Object, append(p, field)...)
			if err != nil {
				t.Fatalf("%s/%s: %v", o.GetKind(), o.GetName(), err)
			}
			for _, c := range cs {
				images = append(images, c.(map[string]any)["image"].(string))
			}
		}
	}
	if len(images) == 0 {
		t.Errorf("%s/%s has no containers", o.GetKind(), o.GetName())
	}
	return images
}

// The scanner's ClusterRole must stay read-only and must never reach Secrets.
func TestScannerClusterRoleIsReadOnly(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "deploy", "rbac", "runlens-scanner.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := DecodeObjects(raw)
	if err != nil {
		t.Fatal(err)
	}
	var resources []string
	for _, o := range objs {
		if o.GetKind() != "ClusterRole" {
			continue
		}
		rules, _, _ := unstructured.NestedSlice(o.Object, "rules")
		for _, r := range rules {
			rule := r.(map[string]any)
			for _, v := range rule["verbs"].([]any) {
				if v != "get" && v != "list" && v != "watch" {
					t.Errorf("verb %q granted", v)
				}
			}
			for _, res := range rule["resources"].([]any) {
				resources = append(resources, res.(string))
			}
		}
	}
	for _, must := range []string{"pods", "replicasets", "deployments", "statefulsets", "daemonsets", "jobs", "cronjobs",
		"services", "endpoints", "endpointslices", "ingresses", "networkpolicies", "namespaces", "nodes",
		"serviceaccounts", "roles", "rolebindings", "clusterroles", "clusterrolebindings", "httproutes"} {
		if !contains(resources, must) {
			t.Errorf("resource %q missing from the scanner ClusterRole", must)
		}
	}
	for _, never := range []string{"secrets", "*"} {
		if contains(resources, never) {
			t.Errorf("resource %q granted", never)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestDockerConfigJSON(t *testing.T) {
	var got struct {
		Auths map[string]struct{ Username, Password, Auth string } `json:"auths"`
	}
	if err := json.Unmarshal(DockerConfigJSON("localhost:5000", "u", "p:w"), &got); err != nil {
		t.Fatal(err)
	}
	a := got.Auths["localhost:5000"]
	dec, _ := base64.StdEncoding.DecodeString(a.Auth)
	if a.Username != "u" || a.Password != "p:w" || string(dec) != "u:p:w" {
		t.Errorf("auth entry = %+v (auth %q)", a, dec)
	}
}
