package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/vulndb"
)

// Default threat-data locations; mirrors override them with flags.
const (
	defaultEPSSURL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
	defaultKEVURL  = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
)

func (a *app) dbCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Build, update and inspect the vulnerability database",
		Long: `runlens matches against a local database built from OSV advisories, with
EPSS scores and the CISA KEV catalog joined in. Updates build a new file
and swap it in atomically: a scan running meanwhile keeps the old one, and
an interrupted update leaves the old one working.`,
	}
	cmd.AddCommand(a.dbImportCommand(), a.dbUpdateCommand(), a.dbStatusCommand(), a.dbExportCommand())
	return cmd
}

func (a *app) dbImportCommand() *cobra.Command {
	var force bool
	var epss, kev []string
	cmd := &cobra.Command{
		Use:   "import PATH...",
		Short: "Build the database from local files (no network)",
		Long: `Build the database from local advisory files, replacing the current one.

Each PATH is one of:
  a bundle written by "runlens db export" (recognised by its content; it
  must be the only PATH: its checksums and schema version are verified
  before it replaces the current database)
  a directory of OSV JSON records (searched recursively)
  an OSV export zip (the all.zip of one ecosystem)
  an EPSS CSV (.csv or .csv.gz) or the CISA KEV JSON catalog
  NVD CVE API 2.0 JSON (records, API pages, yearly feeds; .json[.gz]),
  or CVE JSON 5 records (files, a YYYY/NNxxx/ tree, zips): CVSS, CWE and
  CISA's SSVC decisions per CVE, recognised by content
  a directory laid out as osv/, epss/, kev/, nvd/ and cve/ subdirectories`,
		Example: `  runlens db import ./osv-records
  runlens db import Go.zip npm.zip epss_scores.csv.gz known_exploited_vulnerabilities.json
  runlens db import testdata/sample/advisories
  runlens db import runlens-db.tar.zst`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := vulndb.PlanImport(args, epss, kev)
			switch {
			case err != nil:
				return err
			case in.Bundle != "":
				return a.importBundle(cmd.Context(), &vulndb.Importer{Force: force}, in.Bundle)
			}
			return a.importDB(cmd.Context(), &vulndb.Importer{Force: force}, in.Sources)
		},
	}
	forceFlag(cmd, &force)
	cmd.Flags().StringSliceVar(&epss, "epss", nil, "an EPSS CSV file to join (repeatable)")
	cmd.Flags().StringSliceVar(&kev, "kev", nil, "a CISA KEV JSON file to join (repeatable)")
	return cmd
}

func (a *app) dbUpdateCommand() *cobra.Command {
	var (
		source     string
		ecosystems []string
		epssURL    string
		kevURL     string
		force      bool
		headerFile string
		nvd, cve5  bool
		nvdURL     string
		cve5URL    string
	)
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download OSV advisories, EPSS and KEV and rebuild the database",
		Long: `Download the OSV export (<source>/<Ecosystem>/all.zip for each ecosystem;
all ecosystems listed in <source>/ecosystems.txt unless --ecosystems is
given), the EPSS scores and the CISA KEV catalog, then swap the new
database in. Point the URLs at a mirror for restricted networks; an empty
--epss-url or --kev-url skips that source.

Mirror authentication (never printed or stored):
  --header-file FILE     "Name: value" lines sent with every mirror request
  RUNLENS_DB_TOKEN       sent as "Authorization: Bearer <token>"
  RUNLENS_DB_USERNAME and RUNLENS_DB_PASSWORD   HTTP basic auth
Credentials go only to the host of --source and to the hosts of --epss-url
and --kev-url when you set those flags; never to the public EPSS and KEV
feeds, and never to a host a redirect points at. Requests answered with
429 or 5xx are retried a few times, honouring Retry-After; a download that
fails keeps the current database.

CVE metrics (CVSS of NVD, the CNA and CISA ADP, CWE, CISA's SSVC
decisions), optional: --nvd fetches from the NVD CVE API 2.0 — every CVE
the first time, then only those modified since the last sync — paced to
NVD's limits (5 requests per 30 s; 50 with an API key in
RUNLENS_NVD_API_KEY, sent only to the NVD API); --cve5 downloads the CVE
List V5 bulk export. --nvd-url and --cve5-url point them at a mirror.`,
		Example: `  runlens db update
  runlens db update --ecosystems Go,npm,Debian:12
  runlens db update --source https://mirror.example/osv --epss-url "" --kev-url ""`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			u := vulndb.Update{OSVBase: source, Ecosystems: ecosystems, NVDAPIKey: os.Getenv(vulndb.EnvNVDAPIKey),
				EPSS: vulndb.Feed{URL: epssURL, Mirror: f.Changed("epss-url")}, KEV: vulndb.Feed{URL: kevURL, Mirror: f.Changed("kev-url")}}
			if nvd || f.Changed("nvd-url") {
				u.NVD = &vulndb.Feed{URL: nvdURL, Mirror: f.Changed("nvd-url")}
			}
			if cve5 || f.Changed("cve5-url") {
				u.CVE5 = &vulndb.Feed{URL: cve5URL, Mirror: f.Changed("cve5-url")}
			}
			sources, mirrors := u.Plan()
			client, err := vulndb.MirrorClient(registry.NewTransport(nil, registry.RetryOptions{}),
				vulndb.MirrorOptions{HeaderFile: headerFile, Getenv: os.Getenv, Mirrors: mirrors})
			if err != nil {
				return err
			}
			return a.importDB(cmd.Context(), &vulndb.Importer{Force: force, Client: client}, sources)
		},
	}
	f := cmd.Flags()
	f.StringVar(&source, "source", vulndb.DefaultOSVBase, "base URL of the OSV export")
	f.StringSliceVar(&ecosystems, "ecosystems", nil, "only these OSV ecosystems, comma-separated")
	f.StringVar(&epssURL, "epss-url", defaultEPSSURL, "EPSS CSV URL (empty to skip)")
	f.StringVar(&kevURL, "kev-url", defaultKEVURL, "CISA KEV JSON URL (empty to skip)")
	forceFlag(cmd, &force)
	f.BoolVar(&nvd, "nvd", false, "also fetch CVE metrics from the NVD CVE API 2.0")
	f.StringVar(&nvdURL, "nvd-url", vulndb.DefaultNVDAPI, "NVD CVE API 2.0 endpoint (implies --nvd)")
	f.BoolVar(&cve5, "cve5", false, "also download the CVE List V5 bulk export")
	f.StringVar(&cve5URL, "cve5-url", vulndb.DefaultCVE5Releases, "CVE List V5 export: a zip URL, or a GitHub releases API URL naming it (implies --cve5)")
	f.StringVar(&headerFile, "header-file", "", "file of `Name: value` HTTP headers for the mirror (e.g. authorization)")
	return cmd
}

func (a *app) dbExportCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "export FILE",
		Short: "Write the database as one bundle for air-gapped sites",
		Long: `Write the current database to FILE as one self-describing bundle: a
zstd-compressed tar holding manifest.json (built-at, sources, advisory
counts per ecosystem, EPSS and KEV information, schema version, SHA-256
of every member) and the database file. Copy it across the air gap and
load it with "runlens db import FILE".`,
		Example: `  runlens db export runlens-db.tar.zst`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			m, err := vulndb.ExportBundle(cmd.Context(), a.dbDir, args[0], "runlens "+version)
			if err != nil {
				return err
			}
			if !a.quiet {
				vulndb.WriteExported(a.stderr, m.Database, args[0], time.Since(start))
			}
			return nil
		},
	}
}

func (a *app) importBundle(ctx context.Context, im *vulndb.Importer, path string) error {
	a.progress.Printf("importing database bundle %s into %s", path, a.dbDir)
	m, err := im.ImportBundle(ctx, a.dbDir, path)
	a.progress.Clear()
	if err != nil {
		return err
	}
	if !a.quiet {
		vulndb.WriteBundleImported(a.stderr, m.Database, time.Now())
	}
	return nil
}

func (a *app) importDB(ctx context.Context, im *vulndb.Importer, sources []vulndb.Source) error {
	defer vulndb.LimitImportMemory()()
	a.progress.Printf("building vulnerability database in %s", a.dbDir)
	start := time.Now()
	md, err := im.Import(ctx, a.dbDir, sources...)
	a.progress.Clear()
	if err != nil {
		return fmt.Errorf("building database: %w", err)
	}
	if !a.quiet {
		vulndb.WriteBuilt(a.stderr, md, time.Since(start))
	}
	return nil
}

func (a *app) dbStatusCommand() *cobra.Command {
	var format string
	var maxAge time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the database's age, sources and contents, and check its integrity",
		Long: `Show the database's age, sources and contents, and check it whole: the
checksum of every section (the indexes, the EPSS/KEV table, the metadata
and the advisory records) and, if the records are damaged, which advisories
can no longer be read. A damaged database exits 2 and names what is damaged;
rebuild it with "runlens db update" or "runlens db import".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return vulndb.Status(cmd.Context(), a.dbDir, a.stdout, format == "json", maxAge)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "table or json")
	cmd.Flags().DurationVar(&maxAge, "max-db-age", 0, "exit 3 when the database is older than this")
	return cmd
}

// forceFlag adds --force, shared by the commands that replace the database.
func forceFlag(cmd *cobra.Command, force *bool) {
	cmd.Flags().BoolVar(force, "force", false, "accept a database much smaller than the current one")
}
