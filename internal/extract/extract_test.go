package extract

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/inventory"
)

// debianRoot builds the kitchen-sink root: the committed real fixtures
// (dpkg subset of a Debian 12 system, lodash's package.json, an npm
// lockfile, a Go binary, setuptools' METADATA) plus archives and manifests
// generated here in their real formats.
func debianRoot(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	copyTree(t, "testdata/rootfs/debian", dir)
	materializeDpkgLists(t, dir)

	// Java: log4j-core 2.14.1 (CVE-2021-44228), and a Spring-Boot-style fat
	// jar nesting jackson-databind 2.9.10.
	writeFile(t, dir, "opt/app/lib/log4j-core-2.14.1.jar", makeZip(t,
		zipEntry{"META-INF/MANIFEST.MF", []byte("Manifest-Version: 1.0\r\nImplementation-Title: Apache Log4j Core\r\n\r\n")},
		pomProperties("org.apache.logging.log4j", "log4j-core", "2.14.1"),
		zipEntry{"org/apache/logging/log4j/core/lookup/JndiLookup.class", []byte{0xca, 0xfe, 0xba, 0xbe}},
	), 0o644)
	inner := makeZip(t, pomProperties("com.fasterxml.jackson.core", "jackson-databind", "2.9.10"))
	writeFile(t, dir, "opt/app/app.jar", makeZip(t,
		pomProperties("com.example", "app", "1.0.0"),
		zipEntry{"BOOT-INF/lib/jackson-databind-2.9.10.jar", inner},
	), 0o644)

	// Ruby: a specification as RubyGems writes it on install.
	writeFile(t, dir, "usr/local/bundle/specifications/rack-2.2.3.gemspec", []byte(`# -*- encoding: utf-8 -*-
# stub: rack 2.2.3 ruby lib

Gem::Specification.new do |s|
  s.name = "rack".freeze
  s.version = "2.2.3"

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.require_paths = ["lib".freeze]
  s.authors = ["Leah Neukirchen".freeze]
  s.summary = "a modular Ruby webserver interface".freeze
end
`), 0o644)

	// PHP: composer.lock (format of Composer 2).
	writeFile(t, dir, "var/www/html/composer.lock", []byte(`{
    "_readme": ["This file locks the dependencies of your project to a known state"],
    "content-hash": "0c6f1b1f3a7e4bb47cc1ae6f5bfa1a5b",
    "packages": [
        {"name": "guzzlehttp/guzzle", "version": "7.4.4", "source": {"type": "git", "url": "https://github.com/guzzle/guzzle.git", "reference": "e3ff079b22820c2029d4c2a87796b6a0b8716ad8"}, "type": "library"},
        {"name": "symfony/http-kernel", "version": "v5.4.0", "type": "library"}
    ],
    "packages-dev": [],
    "plugin-api-version": "2.3.0"
}
`), 0o644)

	// .NET: a deps.json as the SDK writes it next to the app.
	writeFile(t, dir, "app/dotnet/web.deps.json", []byte(`{
  "runtimeTarget": {"name": ".NETCoreApp,Version=v6.0", "signature": ""},
  "targets": {".NETCoreApp,Version=v6.0": {"web/1.0.0": {"dependencies": {"Newtonsoft.Json": "12.0.1"}}, "Newtonsoft.Json/12.0.1": {"runtime": {"lib/netstandard2.0/Newtonsoft.Json.dll": {}}}}},
  "libraries": {
    "web/1.0.0": {"type": "project", "serviceable": false, "sha512": ""},
    "Newtonsoft.Json/12.0.1": {"type": "package", "serviceable": true, "sha512": "sha512-x", "path": "newtonsoft.json/12.0.1"}
  }
}
`), 0o644)
	return dir
}

func TestExtractDebianGolden(t *testing.T) {
	dir := debianRoot(t)
	root := newDirRoot(t, dir)
	root.layer = "sha256:0000000000000000000000000000000000000000000000000000000000000001"
	inv, err := Extract(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, "debian.json", inv)

	find := func(typ, name string) *inventory.Package {
		for i := range inv.Packages {
			if inv.Packages[i].Type == typ && inv.Packages[i].Name == name {
				return &inv.Packages[i]
			}
		}
		t.Fatalf("no %s package %q in %d packages", typ, name, len(inv.Packages))
		return nil
	}
	ssl := find("deb", "libssl3")
	if ssl.SourceName != "openssl" || ssl.Ecosystem != "Debian:12" || ssl.SourceVersion != ssl.Version {
		t.Errorf("libssl3 = %+v, want source openssl at its own version in Debian:12", ssl)
	}
	if !containsSuffix(ssl.Files, "/libssl.so.3") || ssl.Layer != root.layer {
		t.Errorf("libssl3 files/layer = %v / %q", ssl.Files, ssl.Layer)
	}
	for _, f := range find("deb", "bash").Files {
		if f == "/bin" || f == "/usr/share/doc/bash" {
			t.Errorf("directory %q recorded as owned", f)
		}
	}
	if p := find("deb", "libgcc-s1"); p.SourceName != "gcc-12" {
		t.Errorf("libgcc-s1 source = %q", p.SourceName)
	}
	checks := []struct{ typ, name, version, eco string }{
		{"npm", "lodash", "4.17.15", "npm"},
		{"npm", "minimist", "1.2.5", "npm"},
		{"go-module", "golang.org/x/text", "0.3.5", "Go"},
		{"go-stdlib", "stdlib", "", "Go"},
		{"go-module", "example.com/textconv", "", "Go"},
		{"python", "setuptools", "65.5.0", "PyPI"},
		{"java-archive", "org.apache.logging.log4j:log4j-core", "2.14.1", "Maven"},
		{"java-archive", "com.fasterxml.jackson.core:jackson-databind", "2.9.10", "Maven"},
		{"gem", "rack", "2.2.3", "RubyGems"},
		{"composer", "guzzlehttp/guzzle", "7.4.4", "Packagist"},
		{"nuget", "Newtonsoft.Json", "12.0.1", "NuGet"},
	}
	for _, c := range checks {
		p := find(c.typ, c.name)
		if (c.version != "" && p.Version != c.version) || p.Ecosystem != c.eco || p.PURL == "" {
			t.Errorf("%s: got %+v, want version %q ecosystem %q and a PURL", c.name, p, c.version, c.eco)
		}
	}
	if v := find("go-stdlib", "stdlib").Version; !strings.HasPrefix(v, "1.") {
		t.Errorf("stdlib version %q", v)
	}
	if got := find("java-archive", "com.fasterxml.jackson.core:jackson-databind").Locations[0]; got != "/opt/app/app.jar" {
		t.Errorf("nested jar location %q", got)
	}
	if inv.Distro == nil || inv.Distro.ID != "debian" || inv.Distro.VersionID != "12" {
		t.Errorf("distro = %+v", inv.Distro)
	}
	if len(inv.Errors) != 0 {
		t.Errorf("unexpected file errors: %+v", inv.Errors)
	}

	// Same input, same output.
	again, err := Extract(context.Background(), newDirRoot(t, dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range again.Packages {
		again.Packages[i].Layer = root.layer
	}
	if diff := cmp.Diff(inv, again); diff != "" {
		t.Errorf("second run differs:\n%s", diff)
	}
}

func containsSuffix(list []string, suffix string) bool {
	for _, s := range list {
		if strings.HasSuffix(s, suffix) {
			return true
		}
	}
	return false
}

func TestExtractAlpine(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, "testdata/rootfs/alpine", dir)
	writeFile(t, dir, "etc/os-release", []byte("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\nPRETTY_NAME=\"Alpine Linux v3.20\"\n"), 0o644)
	writeFile(t, dir, "etc/fstab", nil, 0o644)
	writeFile(t, dir, "bin/busybox", nil, 0o755)
	inv, err := Extract(context.Background(), newDirRoot(t, dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, "alpine.json", inv)
	var base, bb *inventory.Package
	for i, p := range inv.Packages {
		switch p.Name {
		case "alpine-baselayout-data":
			base = &inv.Packages[i]
		case "busybox":
			bb = &inv.Packages[i]
		}
	}
	if base == nil || bb == nil {
		t.Fatalf("packages missing: %+v", inv.Packages)
	}
	if base.Ecosystem != "Alpine:v3.20" || base.SourceName != "alpine-baselayout" || base.Type != "apk" {
		t.Errorf("alpine-baselayout-data = %+v", base)
	}
	if diff := cmp.Diff([]string{"/etc/fstab"}, base.Files); diff != "" {
		t.Errorf("owned files (only existing ones) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/bin/busybox"}, bb.Files); diff != "" {
		t.Errorf("busybox files (-want +got):\n%s", diff)
	}
}

// TestExtractRPM proves the rpm reader works without cgo (this package is
// tested with CGO_ENABLED=0 in CI as well) on a real Berkeley DB rpmdb,
// file list included.
func TestExtractRPM(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, "testdata/rootfs/rpm", dir)
	writeFile(t, dir, "etc/os-release", []byte("NAME=\"Rocky Linux\"\nID=\"rocky\"\nVERSION_ID=\"9.3\"\n"), 0o644)
	writeFile(t, dir, "usr/bin/hello.sh", []byte("#!/bin/sh\necho hello\n"), 0o644)
	inv, err := Extract(context.Background(), newDirRoot(t, dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	compareGolden(t, "rpm.json", inv)
	if len(inv.Packages) == 0 || len(inv.Errors) != 0 {
		t.Fatalf("packages %d, errors %+v", len(inv.Packages), inv.Errors)
	}
	for _, p := range inv.Packages {
		if p.Type != "rpm" || p.Ecosystem != "Rocky Linux:9" || p.SourceName == "" {
			t.Errorf("rpm package %+v", p)
		}
		if diff := cmp.Diff([]string{"/usr/bin/hello.sh"}, p.Files); p.Name == "hello" && diff != "" {
			t.Errorf("hello's files (-want +got):\n%s", diff)
		}
	}
}

// TestExtractLiveDpkg reads this machine's own dpkg database (when it has
// one) and checks the count against dpkg-query.
func TestExtractLiveDpkg(t *testing.T) {
	if _, err := os.Stat("/var/lib/dpkg/status"); err != nil {
		t.Skip("no dpkg database on this machine")
	}
	out, err := exec.Command("dpkg-query", "-W", "-f", "${db:Status-Abbrev}${binary:Package}\n").Output()
	if err != nil {
		t.Skipf("dpkg-query: %v", err)
	}
	want := 0
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "ii") {
			want++
		}
	}
	dir := t.TempDir()
	b, err := os.ReadFile("/var/lib/dpkg/status")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "var/lib/dpkg/status", b, 0o644)
	osr, _ := os.ReadFile("/etc/os-release")
	writeFile(t, dir, "etc/os-release", osr, 0o644)
	inv, err := Extract(context.Background(), newDirRoot(t, dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Packages) != want {
		t.Errorf("got %d packages, dpkg-query says %d installed", len(inv.Packages), want)
	}
	for _, p := range inv.Packages {
		if p.Name == "libssl3" && p.SourceName != "openssl" {
			t.Errorf("libssl3 source = %q", p.SourceName)
		}
	}
}

func TestExtractCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Extract(ctx, newDirRoot(t, debianRoot(t)), Options{}); err == nil {
		t.Fatal("Extract with a cancelled context succeeded")
	}
}

func TestVersionStable(t *testing.T) {
	v := Version
	if v != computeVersion() || !strings.Contains(v, "os/dpkg@") || !strings.Contains(v, "scalibr/0.5.3") {
		t.Errorf("Version() = %q", v)
	}
}
