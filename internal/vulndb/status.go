package vulndb

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"text/tabwriter"
	"time"
)

// WriteStatus writes the text of `runlens db status` for the database at
// path: its age at now, contents, integrity, skipped records, threat data,
// CVE metrics, sources, and advisories per ecosystem.
func WriteStatus(w io.Writer, path string, md Metadata, in *Integrity, now time.Time) {
	age := md.Age(now)
	fmt.Fprintf(w, "Database:   %s\n", path)
	fmt.Fprintf(w, "Built:      %s (%s ago)\n", md.BuiltAt.UTC().Format(time.RFC3339), age.Round(time.Minute))
	fmt.Fprintf(w, "Advisories: %d (%d withdrawn) for %d packages\n", md.Advisories, md.Withdrawn, md.Packages)
	if in.OK() {
		fmt.Fprintf(w, "Integrity:  ok (checksums of all %d sections verified)\n", len(in.Sections))
	} else {
		fmt.Fprintln(w, "Integrity:  DAMAGED (see the error below)")
	}
	if md.Bad > 0 {
		fmt.Fprintf(w, "Skipped:    %d unreadable input records at import", md.Bad)
		if more := md.Bad - len(md.BadSamples); more > 0 {
			fmt.Fprintf(w, " (the first %d below, %d more not listed)", len(md.BadSamples), more)
		}
		fmt.Fprintln(w)
		for _, b := range md.BadSamples {
			fmt.Fprintf(w, "            %s %s: %s\n", b.Source, b.Name, b.Reason)
		}
	}
	if md.EPSS != nil {
		fmt.Fprintf(w, "EPSS:       %d scores, model %s, scored %s\n", md.EPSS.Rows, md.EPSS.ModelVersion, md.EPSS.ScoreDate.Format("2006-01-02"))
	}
	if md.KEV != nil {
		fmt.Fprintf(w, "KEV:        %d entries, catalog %s\n", md.KEV.Count, md.KEV.CatalogVersion)
	}
	label := "Metrics:"
	for _, l := range md.Metrics.StatusLines(now) {
		fmt.Fprintf(w, "%-12s%s\n", label, l)
		label = ""
	}
	for _, s := range md.Sources {
		fmt.Fprintf(w, "Source:     %s %s\n", s.Kind, s.Location)
	}
	names := make([]string, 0, len(md.Ecosystems))
	for e := range md.Ecosystems {
		names = append(names, e)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nECOSYSTEM\tADVISORIES")
	for _, e := range names {
		fmt.Fprintf(tw, "%s\t%d\n", e, md.Ecosystems[e])
	}
	tw.Flush()
}

// WriteBuilt writes the summary of an import that built md in elapsed:
// one line of counts, and a warning when records were skipped.
func WriteBuilt(w io.Writer, md Metadata, elapsed time.Duration) {
	fmt.Fprintf(w, "database built in %s: %d advisories for %d packages in %d ecosystems", elapsed.Round(time.Millisecond), md.Advisories, md.Packages, len(md.Ecosystems))
	if md.EPSS != nil {
		fmt.Fprintf(w, ", %d EPSS scores", md.EPSS.Rows)
	}
	if md.KEV != nil {
		fmt.Fprintf(w, ", %d KEV entries", md.KEV.Count)
	}
	if md.Metrics != nil {
		fmt.Fprintf(w, ", metrics for %d CVEs", md.Metrics.CVEs)
	}
	fmt.Fprintln(w)
	if md.Bad > 0 {
		fmt.Fprintf(w, "warning: %d records were unreadable and skipped (see runlens db status)\n", md.Bad)
	}
}

// WriteBundleImported writes the summary of a bundle import of md, its
// age taken at now.
func WriteBundleImported(w io.Writer, md Metadata, now time.Time) {
	fmt.Fprintf(w, "database bundle imported: %d advisories for %d packages in %d ecosystems, built %s (%s ago)\n",
		md.Advisories, md.Packages, len(md.Ecosystems), md.BuiltAt.UTC().Format(time.RFC3339), md.Age(now).Round(time.Minute))
}

// WriteExported writes the summary of an export of md to file, which
// took elapsed.
func WriteExported(w io.Writer, md Metadata, file string, elapsed time.Duration) {
	var size int64
	if st, err := os.Stat(file); err == nil {
		size = st.Size()
	}
	fmt.Fprintf(w, "exported %d advisories (built %s) to %s: %d bytes in %s\n", md.Advisories,
		md.BuiltAt.UTC().Format(time.RFC3339), file, size, elapsed.Round(time.Millisecond))
}

// Status is `runlens db status`: it checks every byte of the database in
// dir and writes its status to w, as JSON (the Metadata) or as
// WriteStatus's text. A damaged database is an error naming what is
// damaged, and one older than maxAge (when positive) a *StaleError.
func Status(ctx context.Context, dir string, w io.Writer, asJSON bool, maxAge time.Duration) error {
	in, err := Check(ctx, dir)
	if err != nil {
		return err
	}
	db, openErr := Open(ctx, dir)
	var md Metadata
	if openErr == nil {
		defer db.Close()
		md = db.Metadata()
		if asJSON {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			if err := enc.Encode(md); err != nil {
				return err
			}
		} else {
			WriteStatus(w, db.Path(), md, in, time.Now())
		}
	}
	if err := in.Err(); err != nil {
		return fmt.Errorf("%w; rebuild it with `runlens db update` or `runlens db import`", err)
	}
	if openErr != nil {
		return openErr
	}
	return CheckAge(md, maxAge, time.Now())
}
