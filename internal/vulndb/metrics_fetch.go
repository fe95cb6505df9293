package vulndb

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// DefaultCVE5Releases is the GitHub API answer that names the CVE List V5
// bulk export (the "…_all_CVEs_at_midnight.zip.zip" asset of the latest
// release of CVEProject/cvelistV5).
const DefaultCVE5Releases = "https://api.github.com/repos/CVEProject/cvelistV5/releases/latest"

// readCVE5URL reads a CVE 5 export over HTTP: a URL whose path ends in
// .zip is the export itself (a mirror), any other is a GitHub releases
// API answer whose "_all_CVEs" zip asset is downloaded. The zip goes to a
// temp file in the DB directory (zips need random access); a failed
// download fails the import.
func (r *metricsReader) readCVE5URL(ctx context.Context, u string) error {
	zipURL := u
	if !isZipURL(u) {
		var err error
		if zipURL, err = r.cve5Asset(ctx, u); err != nil {
			return err
		}
	}
	tmp, err := os.CreateTemp(r.dir, tempPrefix+"dl-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = r.im.download(ctx, zipURL, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return r.readZip(ctx, tmp.Name(), 0)
}

func isZipURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && strings.HasSuffix(strings.ToLower(p.Path), ".zip")
}

// cve5Asset picks the bulk export zip from a GitHub releases API answer.
func (r *metricsReader) cve5Asset(ctx context.Context, u string) (string, error) {
	body, err := r.im.fetch(ctx, u, 4<<20)
	if err != nil {
		return "", err
	}
	var rel struct {
		TagName string `json:"tag_name"`
		Assets  []struct {
			Name string `json:"name"`
			URL  string `json:"browser_download_url"`
		} `json:"assets"`
	}
	if err := json.Unmarshal(body, &rel); err != nil {
		return "", fmt.Errorf("%s: not a GitHub release: %w", redact(u), err)
	}
	for _, a := range rel.Assets {
		name := strings.ToLower(a.Name)
		if strings.Contains(name, "_all_cves") && strings.HasSuffix(name, ".zip") && isURL(a.URL) {
			return a.URL, nil
		}
	}
	return "", fmt.Errorf("%s: release %q has no _all_CVEs zip asset", redact(u), rel.TagName)
}

// StatusLines describes the CVE metrics for `runlens db status`: the
// totals, then one line per source with its counts and how fresh its data
// is at now.
func (mi *MetricsInfo) StatusLines(now time.Time) []string {
	if mi == nil {
		return nil
	}
	out := []string{fmt.Sprintf("%d CVEs (%d with CVSS, %d with a CISA SSVC decision)", mi.CVEs, mi.WithCVSS, mi.WithSSVC)}
	for _, s := range mi.Sources {
		var parts []string
		if s.NVDRecords > 0 || s.Kind != string(KindCVE5) {
			parts = append(parts, fmt.Sprintf("%d NVD records", s.NVDRecords))
		}
		if s.Carried > 0 {
			parts = append(parts, fmt.Sprintf("%d carried from the previous database", s.Carried))
		}
		if s.CVE5Records > 0 || s.Kind == string(KindCVE5) {
			parts = append(parts, fmt.Sprintf("%d CVE 5 records", s.CVE5Records))
		}
		line := fmt.Sprintf("%s %s: %s", s.Kind, s.Location, strings.Join(parts, ", "))
		if !s.NewestModified.IsZero() {
			line += fmt.Sprintf("; newest modified %s (%s ago)", s.NewestModified.Format(time.DateOnly), ago(now, s.NewestModified))
		}
		if !s.SyncedThrough.IsZero() {
			kind := "full"
			if s.Incremental {
				kind = "incremental"
			}
			line += fmt.Sprintf("; synced through %s (%s ago, %s)", s.SyncedThrough.Format(time.RFC3339), ago(now, s.SyncedThrough), kind)
		}
		out = append(out, line)
	}
	return out
}

func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return "0s"
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
	return d.Round(time.Minute).String()
}
