// Package inventory is runlens's package model: what was found in an image,
// where, and which layer brought it. It has no dependencies so every other
// package (extract, match, report, store) can share it.
package inventory

// VersionUnknown is the Version of a package whose version cannot be read:
// a Go or Rust program found without module information (types go-binary,
// rust-binary). Such a package is listed so that it can be accounted for,
// and is never compared against advisory version ranges.
const VersionUnknown = "unknown"

// Package is one installed software package found in an image.
type Package struct {
	// Name is the package name as its ecosystem spells it (binary package
	// name for OS packages, module path for Go, groupId:artifactId for Maven).
	Name string `json:"name"`
	// Version is the installed version, in the ecosystem's own syntax.
	Version string `json:"version"`
	// Ecosystem is the OSV ecosystem the package is matched in, including the
	// release for distributions: "Debian:12", "Ubuntu:22.04:LTS",
	// "Alpine:v3.20", "npm", "Go", "PyPI", "Maven", "crates.io", ...
	Ecosystem string `json:"ecosystem"`
	// PURL is the package URL.
	PURL string `json:"purl,omitempty"`
	// Type says what kind of record the package came from: deb, apk, rpm,
	// go-module, go-stdlib, npm, python, java-archive, gem, rust-crate,
	// composer, nuget; go-binary and rust-binary for a program found
	// without module information (named by its file, VersionUnknown, no
	// ecosystem, a pkg:generic PURL).
	Type string `json:"type"`
	// SourceName and SourceVersion name the OS source package (dpkg
	// "Source:", apk origin, rpm source RPM). Distribution advisories are
	// keyed by source package, so matching uses these when set.
	SourceName    string `json:"source_name,omitempty"`
	SourceVersion string `json:"source_version,omitempty"`
	// Locations are the image-absolute paths the package was found through
	// ("/var/lib/dpkg/status", "/app/node_modules/lodash/package.json").
	Locations []string `json:"locations,omitempty"`
	// Layer is the diffID of the layer that last wrote the package's first
	// location; empty for sources without layers.
	Layer string `json:"layer,omitempty"`
	// Files are the image-absolute paths an OS package owns (dpkg .list,
	// apk R: lines, rpm file lists). The runtime agent maps loaded files back
	// to packages through these.
	Files []string `json:"files,omitempty"`
	// Toolchain is the compiler that built a go-binary or rust-binary
	// package, when the file says ("go1.22.5", "rustc 1.75.0").
	Toolchain string `json:"toolchain,omitempty"`
	// Owner is the OS package whose file list holds a go-binary or
	// rust-binary package's file, if one does.
	Owner *Owner `json:"owner,omitempty"`
}

// Owner names the OS package that owns a file.
type Owner struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Type is the owner's Package.Type: deb, apk or rpm.
	Type string `json:"type"`
	PURL string `json:"purl,omitempty"`
}

// Distro describes the operating system from /etc/os-release.
type Distro struct {
	ID              string `json:"id"`
	VersionID       string `json:"version_id,omitempty"`
	VersionCodename string `json:"version_codename,omitempty"`
	PrettyName      string `json:"pretty_name,omitempty"`
}

// FileError records one file that could not be read or parsed. The scan goes
// on without it; reports list it so that nothing is silently dropped.
type FileError struct {
	Path      string `json:"path"`
	Extractor string `json:"extractor,omitempty"`
	Reason    string `json:"reason"`
	// Skipped says a package database or manifest was never read at all
	// (over a size cap, its contents not kept, unopenable, not a regular
	// file): the packages it lists are missing, so the scan is partial.
	Skipped bool `json:"skipped,omitempty"`
}

// Inventory is everything extracted from one image.
type Inventory struct {
	Distro   *Distro     `json:"distro,omitempty"`
	Packages []Package   `json:"packages"`
	Errors   []FileError `json:"errors,omitempty"`
}
