package extract

import (
	"fmt"
	"strconv"
	"strings"

	cpb "github.com/google/osv-scalibr/binary/proto/config_go_proto"
	"github.com/google/osv-scalibr/extractor/filesystem"
	"github.com/google/osv-scalibr/extractor/filesystem/language/dotnet/depsjson"
	"github.com/google/osv-scalibr/extractor/filesystem/language/golang/gobinary"
	javaarchive "github.com/google/osv-scalibr/extractor/filesystem/language/java/archive"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/packagejson"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/packagelockjson"
	"github.com/google/osv-scalibr/extractor/filesystem/language/php/composerlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/wheelegg"
	"github.com/google/osv-scalibr/extractor/filesystem/language/ruby/gemspec"
	"github.com/google/osv-scalibr/extractor/filesystem/language/rust/cargoauditable"
	"github.com/google/osv-scalibr/extractor/filesystem/os/apk"
	"github.com/google/osv-scalibr/extractor/filesystem/os/dpkg"
	"github.com/google/osv-scalibr/extractor/filesystem/os/rpm"
	scalibrversion "github.com/google/osv-scalibr/version"
)

// schemaVersion is bumped whenever this package changes what it emits for the
// same input (mapping, ownership, caps), so cached inventories are rebuilt.
const schemaVersion = 4

// kind selects which guard and size cap apply to an extractor's input.
type kind int

const (
	// kindText files are read whole into memory by the extractor.
	kindText kind = iota
	// kindDB files are package databases the extractor copies to disk.
	kindDB
	// kindGoBinary and kindRustBinary files are executables read through
	// io.ReaderAt; a cheap pre-check skips the ones without build info.
	kindGoBinary
	kindRustBinary
	// kindArchive files are zip archives, possibly nested.
	kindArchive
)

// plugin is one entry of the explicit extractor list: a scalibr extractor and
// what runlens calls the packages it finds. Adding an ecosystem means adding
// one entry here (plus a fixture and a golden line in the tests).
type plugin struct {
	name    string // scalibr extractor name, e.g. "os/dpkg"
	pkgType string // inventory.Package.Type
	kind    kind
	build   func(o Options) (filesystem.Extractor, error)
}

// noScalibrLimit disables scalibr's own size checks, which skip files
// silently in FileRequired; the guard enforces runlens's caps instead and
// records every skip as a FileError.
const noScalibrLimit = int64(1) << 62

func plainConfig() *cpb.PluginConfig {
	return &cpb.PluginConfig{MaxFileSizeBytes: noScalibrLimit}
}

// plugins returns the extractor list in a fixed order.
func plugins() []plugin {
	simple := func(f func(*cpb.PluginConfig) (filesystem.Extractor, error)) func(Options) (filesystem.Extractor, error) {
		return func(Options) (filesystem.Extractor, error) { return f(plainConfig()) }
	}
	return []plugin{
		{name: dpkg.Name, pkgType: "deb", kind: kindText, build: simple(dpkg.New)},
		{name: apk.Name, pkgType: "apk", kind: kindText, build: simple(apk.New)},
		// The rpm reader (erikvarga/go-rpmdb, modernc.org/sqlite) is pure Go.
		{name: rpm.Name, pkgType: "rpm", kind: kindDB, build: simple(rpm.New)},
		{name: gobinary.Name, pkgType: "go-module", kind: kindGoBinary, build: simple(gobinary.New)},
		{name: cargoauditable.Name, pkgType: "rust-crate", kind: kindRustBinary, build: simple(cargoauditable.New)},
		{name: packagejson.Name, pkgType: "npm", kind: kindText, build: simple(packagejson.New)},
		{name: packagelockjson.Name, pkgType: "npm", kind: kindText, build: simple(packagelockjson.New)},
		{name: wheelegg.Name, pkgType: "python", kind: kindText, build: simple(wheelegg.New)},
		{name: javaarchive.Name, pkgType: "java-archive", kind: kindArchive, build: newJavaArchive},
		{name: gemspec.Name, pkgType: "gem", kind: kindText, build: simple(gemspec.New)},
		{name: composerlock.Name, pkgType: "composer", kind: kindText, build: simple(composerlock.New)},
		{name: depsjson.Name, pkgType: "nuget", kind: kindText, build: simple(depsjson.New)},
	}
}

func newJavaArchive(o Options) (filesystem.Extractor, error) {
	no := false
	return javaarchive.New(&cpb.PluginConfig{
		MaxFileSizeBytes: noScalibrLimit,
		PluginSpecific: []*cpb.PluginSpecificConfig{{
			Config: &cpb.PluginSpecificConfig_JavaArchive{JavaArchive: &cpb.JavaArchiveConfig{
				MaxFileSizeBytes: noScalibrLimit,
				MaxZipDepth:      int32(o.MaxArchiveDepth),
				// Nested archives are read into memory, so the opened-bytes
				// budget is also the memory bound for one archive.
				MaxOpenedBytes: o.MaxArchiveBytes,
				HashJars:       &no,
			}},
		}},
	})
}

// buildExtractors instantiates every plugin, each behind a guard.
func buildExtractors(o Options) ([]filesystem.Extractor, map[string]plugin, error) {
	ps := plugins()
	exts := make([]filesystem.Extractor, 0, len(ps))
	byName := make(map[string]plugin, len(ps))
	for _, p := range ps {
		e, err := p.build(o)
		if err != nil {
			return nil, nil, fmt.Errorf("extract: building %s: %w", p.name, err)
		}
		exts = append(exts, &guard{Extractor: e, kind: p.kind, opts: o})
		byName[p.name] = p
	}
	return exts, byName, nil
}

// Version identifies the extractor set and this package's mapping rules, e.g.
// "runlens-extract/1 scalibr/0.5.3 os/dpkg@0 ...". It changes whenever an
// extractor, its version or scalibr changes, so it can be part of an
// inventory cache key.
var Version = computeVersion()

func computeVersion() string {
	exts, _, err := buildExtractors(Options{}.withDefaults())
	var b strings.Builder
	b.WriteString("runlens-extract/")
	b.WriteString(strconv.Itoa(schemaVersion))
	b.WriteString(" scalibr/")
	b.WriteString(scalibrversion.ScannerVersion)
	if err != nil {
		b.WriteString(" error")
		return b.String()
	}
	for _, e := range exts {
		fmt.Fprintf(&b, " %s@%d", e.Name(), e.Version())
	}
	return b.String()
}
