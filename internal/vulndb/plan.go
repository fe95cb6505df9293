package vulndb

import (
	"errors"

	"github.com/runlens/runlens/internal/usage"
)

// PlanImport is what `runlens db import PATH... --epss FILE --kev FILE`
// imports: the paths classified (ClassifyInputs), then the EPSS and KEV
// files named by flag. A path it will not import, or a bundle that does
// not come alone, is a *usage.Error.
func PlanImport(paths, epss, kev []string) (Inputs, error) {
	in, err := ClassifyInputs(paths)
	var ie *InputError
	switch {
	case errors.As(err, &ie):
		return in, usage.Errorf("import: %v", ie)
	case err != nil:
		return in, err
	case in.Bundle != "" && len(epss)+len(kev) > 0:
		return in, usage.Errorf("import: %s is a database bundle; import it on its own", in.Bundle)
	case in.Bundle != "":
		return in, nil
	}
	for _, p := range epss {
		in.Sources = append(in.Sources, EPSS(p))
	}
	for _, p := range kev {
		in.Sources = append(in.Sources, KEV(p))
	}
	return in, nil
}

// Feed is one optional download of an update: its URL, and whether the
// user set it, which makes it a mirror that receives the mirror
// credentials.
type Feed struct {
	URL    string
	Mirror bool
}

// Update is what `runlens db update` downloads.
type Update struct {
	// OSVBase is the OSV export (always a mirror); Ecosystems limits it.
	OSVBase    string
	Ecosystems []string
	// EPSS and KEV are skipped when their URL is empty.
	EPSS, KEV Feed
	// NVD and CVE5 are fetched when set; NVDAPIKey goes to the NVD API.
	NVD, CVE5 *Feed
	NVDAPIKey string
}

// Plan returns the sources of u and the mirror URLs their credentials
// may go to (MirrorOptions.Mirrors).
func (u Update) Plan() (sources []Source, mirrors []string) {
	sources, mirrors = []Source{OSVExport(u.OSVBase, u.Ecosystems...)}, []string{u.OSVBase}
	add := func(f Feed, s Source) {
		sources = append(sources, s)
		if f.Mirror {
			mirrors = append(mirrors, f.URL)
		}
	}
	if u.EPSS.URL != "" {
		add(u.EPSS, EPSS(u.EPSS.URL))
	}
	if u.KEV.URL != "" {
		add(u.KEV, KEV(u.KEV.URL))
	}
	if u.NVD != nil {
		add(*u.NVD, NVDAPI(u.NVD.URL, NVDAPIOptions{APIKey: u.NVDAPIKey}))
	}
	if u.CVE5 != nil {
		add(*u.CVE5, CVE5(u.CVE5.URL))
	}
	return sources, mirrors
}
