package report

import (
	"strings"

	"github.com/runlens/runlens/internal/result"
)

// htmlImageView is one image of the findings fallback, shown when the
// document was not ranked.
type htmlImageView struct {
	Reference, Digest, Status, Error, OS string
	Packages                             int
	Running                              []string
	Findings                             []htmlFindingRow
}

// htmlFindingRow is one finding of an image.
type htmlFindingRow struct {
	ID, Link, Package, Version, Severity, Exploit, Fixed, Summary string
}

// findings lists every image's findings, as the table does, for a
// document whose risks were never ranked.
func (v *htmlView) findings(doc *result.Document) {
	shown := 0
	for _, img := range doc.Images {
		iv := htmlImageView{
			Reference: htmlOrWord(img.Target.Reference, img.Target.Digest), Digest: shortDigest(img.Target.Digest),
			Status: img.Status, Error: img.Error, Packages: img.PackageCount, Running: img.RunningIn,
		}
		if img.Distro != nil {
			iv.OS = distroName(img)
		}
		for _, f := range img.Findings {
			if shown >= htmlMaxRows {
				v.FindMore++
				continue
			}
			shown++
			fixed := strings.Join(f.FixedVersions, ", ")
			if fixed == "" {
				fixed = unfixedLabel(f.Status)
			}
			row := htmlFindingRow{ID: f.ID, Package: f.Package.Name, Version: f.Package.Version, Severity: f.Severity,
				Exploit: exploit(f), Fixed: fixed, Summary: f.Summary}
			for _, ref := range f.References {
				if strings.HasPrefix(ref, "https://") || strings.HasPrefix(ref, "http://") {
					row.Link = ref
					break
				}
			}
			iv.Findings = append(iv.Findings, row)
		}
		v.Images = append(v.Images, iv)
	}
}
