package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An unknown kubeconfig context is bad usage (exit 64) and the message
// lists the contexts there are, for scan cluster --context and for scan
// registry --running-in (before any registry is contacted).
func TestUnknownContextIsBadUsage(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
current-context: prod-eu
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user: {token: "x"}
contexts:
- name: prod-eu
  context: {cluster: c, user: u}
- name: prod-us
  context: {cluster: c, user: u}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t)
	for _, args := range [][]string{
		{"scan", "cluster", "--kubeconfig", kubeconfig, "--context", "prod-eu,prod-eux"},
		{"scan", "registry", "127.0.0.1:1", "--kubeconfig", kubeconfig, "--running-in", "prod-eux"},
	} {
		code, out, stderr := c.run("", args...)
		if code != exitUsage || out != "" {
			t.Errorf("runlens %s: exit %d, stdout %q; want exit %d and no report", strings.Join(args, " "), code, out, exitUsage)
		}
		if !strings.Contains(stderr, `context "prod-eux" not found in kubeconfig; available: prod-eu, prod-us`) {
			t.Errorf("runlens %s: stderr does not name the contexts there are:\n%s", strings.Join(args, " "), stderr)
		}
	}
}
