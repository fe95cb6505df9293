package extract

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"

	"github.com/google/osv-scalibr/extractor"
	"github.com/google/osv-scalibr/extractor/filesystem/language/golang/gobinary"
	apkmeta "github.com/google/osv-scalibr/extractor/filesystem/os/apk/metadata"
	dpkgmeta "github.com/google/osv-scalibr/extractor/filesystem/os/dpkg/metadata"
	"github.com/google/osv-scalibr/extractor/filesystem/os/osrelease"
	rpmmeta "github.com/google/osv-scalibr/extractor/filesystem/os/rpm/metadata"
	scalibrfs "github.com/google/osv-scalibr/fs"

	"github.com/runlens/runlens/internal/inventory"
)

// osRelease is the parsed /etc/os-release (or /usr/lib/os-release).
type osRelease map[string]string

func readOSRelease(root scalibrfs.FS) (osRelease, error) {
	m, err := osrelease.GetOSRelease(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, osrelease.ErrNotADistro) {
			return nil, nil
		}
		return nil, err
	}
	return m, nil
}

func (r osRelease) distro() *inventory.Distro {
	if r == nil || r["ID"] == "" {
		return nil
	}
	return &inventory.Distro{
		ID:              r["ID"],
		VersionID:       r["VERSION_ID"],
		VersionCodename: r["VERSION_CODENAME"],
		PrettyName:      r["PRETTY_NAME"],
	}
}

// convert maps one scalibr package to runlens's model.
func convert(p *extractor.Package, byName map[string]plugin, rel osRelease) inventory.Package {
	if m, ok := p.Metadata.(*binaryMeta); ok {
		return convertBinary(p, m)
	}
	var pl plugin
	if len(p.Plugins) > 0 {
		pl = byName[p.Plugins[0]]
	}
	out := inventory.Package{
		Name:      p.Name,
		Version:   p.Version,
		Ecosystem: p.Ecosystem().String(),
		Type:      pl.pkgType,
		Locations: locations(p),
	}
	if u := p.PURL(); u != nil {
		if u.Type == "npm" {
			// scalibr adds a "source" qualifier (UNKNOWN, LOCAL) that is
			// its own bookkeeping, not part of the package's identity.
			u.Qualifiers = nil
		}
		out.PURL = u.String()
	}
	switch m := p.Metadata.(type) {
	case *dpkgmeta.Metadata:
		out.SourceName, out.SourceVersion = m.SourceName, m.SourceVersion
		if out.SourceName == "" {
			out.SourceName = p.Name
		}
		if out.SourceVersion == "" {
			// dpkg omits the version from "Source:" when it equals the
			// binary package's.
			out.SourceVersion = p.Version
		}
		if strings.HasPrefix(out.Ecosystem, "Ubuntu:") && strings.Contains(rel["VERSION"], "LTS") {
			// OSV names Ubuntu LTS releases "Ubuntu:22.04:LTS".
			out.Ecosystem += ":LTS"
		}
	case *apkmeta.Metadata:
		if m.OriginName != "" {
			// An apk origin is built at the same version as its subpackages.
			out.SourceName, out.SourceVersion = m.OriginName, p.Version
		}
	case *rpmmeta.Metadata:
		out.SourceName, out.SourceVersion = splitSourceRPM(m.SourceRPM)
		if m.Epoch > 0 {
			// OSV's RPM ranges carry the epoch; scalibr keeps it apart.
			// The source RPM's file name never holds the epoch, but the
			// source package has the binary's: one spec file sets it for
			// both. Without it "1:3.0.7-27.el9" would be compared as
			// "0:3.0.7-27.el9", below every fix that carries the epoch.
			epoch := strconv.Itoa(m.Epoch) + ":"
			out.Version = epoch + p.Version
			if out.SourceVersion != "" {
				out.SourceVersion = epoch + out.SourceVersion
			}
		}
		if out.Ecosystem == "Rocky Linux" && rel["VERSION_ID"] != "" {
			// OSV keys Rocky advisories by major release: "Rocky Linux:9".
			major, _, _ := strings.Cut(rel["VERSION_ID"], ".")
			out.Ecosystem += ":" + major
		}
	}
	if pl.name == gobinary.Name && p.Name == "go" {
		// The toolchain that built a Go binary: OSV's "stdlib" module.
		out.Name, out.Type = "stdlib", "go-stdlib"
		out.PURL = "pkg:golang/stdlib@" + p.Version
	}
	return out
}

// splitSourceRPM turns "openssl-3.0.7-24.el9.src.rpm" into
// ("openssl", "3.0.7-24.el9"). The file name carries no epoch; convert
// adds the binary package's.
func splitSourceRPM(s string) (name, version string) {
	s = strings.TrimSuffix(s, ".rpm")
	s = strings.TrimSuffix(s, ".src")
	s = strings.TrimSuffix(s, ".nosrc")
	rel := strings.LastIndexByte(s, '-')
	if rel <= 0 {
		return "", ""
	}
	ver := strings.LastIndexByte(s[:rel], '-')
	if ver <= 0 {
		return "", ""
	}
	return s[:ver], s[ver+1:]
}
