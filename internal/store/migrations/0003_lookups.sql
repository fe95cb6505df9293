-- Indexes for the risk filters naming one vulnerability, package,
-- workload or start time; the aliases of the findings' ids, so a filter
-- by alias finds the id's risks through the index; and each image's
-- findings counted by severity, kept as the findings change.
CREATE INDEX risks_vuln ON risks (vuln);
CREATE INDEX risks_package ON risks (package);
CREATE INDEX risks_workload ON risks (cluster, workload);
CREATE INDEX risks_first_seen ON risks (first_seen);

CREATE TABLE vuln_aliases (
	alias TEXT NOT NULL,
	vuln  TEXT NOT NULL,
	PRIMARY KEY (alias, vuln)
);

CREATE TABLE image_severity (
	digest   TEXT NOT NULL,
	severity TEXT NOT NULL,
	n        BIGINT NOT NULL,
	PRIMARY KEY (digest, severity)
);
INSERT INTO image_severity (digest, severity, n) SELECT digest, severity, COUNT(*) FROM findings GROUP BY digest, severity;
