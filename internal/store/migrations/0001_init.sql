-- The server's core state: images and their inventories, findings,
-- clusters with their scans, workloads, current risks and the feed.
-- {{serial}}, {{blob}} and {{update_room}} are replaced per dialect
-- (dialect.go); times are Unix nanoseconds.
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE images (
	digest        TEXT PRIMARY KEY,
	reference     TEXT NOT NULL,
	status        TEXT NOT NULL,
	distro        TEXT NOT NULL,
	package_count BIGINT NOT NULL,
	owner         TEXT NOT NULL,
	inventory     {{blob}},
	image         {{blob}},
	scanned_at    BIGINT NOT NULL
);

CREATE TABLE image_packages (
	digest    TEXT NOT NULL,
	ecosystem TEXT NOT NULL,
	name      TEXT NOT NULL,
	PRIMARY KEY (digest, ecosystem, name)
);
CREATE INDEX image_packages_key ON image_packages (ecosystem, name);

CREATE TABLE findings (
	digest     TEXT NOT NULL,
	fkey       TEXT NOT NULL,
	vuln       TEXT NOT NULL,
	package    TEXT NOT NULL,
	version    TEXT NOT NULL,
	ecosystem  TEXT NOT NULL,
	severity   TEXT NOT NULL,
	fixed      TEXT NOT NULL,
	data       {{blob}} NOT NULL,
	first_seen BIGINT NOT NULL,
	PRIMARY KEY (digest, fkey)
);

CREATE TABLE clusters (
	name         TEXT PRIMARY KEY,
	last_scan_id BIGINT NOT NULL,
	last_scan_at BIGINT NOT NULL,
	status       TEXT NOT NULL,
	workloads    BIGINT NOT NULL,
	images       BIGINT NOT NULL,
	info         TEXT NOT NULL
);

CREATE TABLE scans (
	id          {{serial}},
	cluster     TEXT NOT NULL,
	source      TEXT NOT NULL,
	at          BIGINT NOT NULL,
	command     TEXT NOT NULL,
	db_built_at BIGINT NOT NULL,
	status      TEXT NOT NULL,
	funnel      TEXT NOT NULL,
	appeared    BIGINT NOT NULL,
	disappeared BIGINT NOT NULL,
	document    {{blob}}
);
CREATE INDEX scans_cluster ON scans (cluster, id);

CREATE TABLE cluster_images (
	cluster    TEXT NOT NULL,
	digest     TEXT NOT NULL,
	running_in TEXT NOT NULL,
	PRIMARY KEY (cluster, digest)
);
CREATE INDEX cluster_images_digest ON cluster_images (digest);

CREATE TABLE workloads (
	cluster   TEXT NOT NULL,
	namespace TEXT NOT NULL,
	kind      TEXT NOT NULL,
	name      TEXT NOT NULL,
	data      {{blob}} NOT NULL,
	PRIMARY KEY (cluster, namespace, kind, name)
);

CREATE TABLE risks (
	id            TEXT PRIMARY KEY,
	cluster       TEXT NOT NULL,
	namespace     TEXT NOT NULL,
	workload      TEXT NOT NULL,
	digest        TEXT NOT NULL,
	vuln          TEXT NOT NULL,
	aliases       TEXT NOT NULL,
	package       TEXT NOT NULL,
	version       TEXT NOT NULL,
	tier_rank     BIGINT NOT NULL,
	nscore        DOUBLE PRECISION NOT NULL,
	state         TEXT NOT NULL,
	exposure      TEXT NOT NULL,
	severity      TEXT NOT NULL,
	owner         TEXT NOT NULL,
	fixed_version TEXT NOT NULL,
	suppressed    BIGINT NOT NULL,
	reference     TEXT NOT NULL,
	search        TEXT NOT NULL,
	first_seen    BIGINT NOT NULL,
	last_seen     BIGINT NOT NULL,
	data          {{blob}} NOT NULL
) {{update_room}};
CREATE INDEX risks_rank ON risks (suppressed, tier_rank, nscore, id);
CREATE INDEX risks_cluster ON risks (cluster, suppressed, tier_rank, nscore, id);
CREATE INDEX risks_namespace ON risks (cluster, namespace, suppressed, tier_rank, nscore, id);
CREATE INDEX risks_digest ON risks (digest);

CREATE TABLE changes (
	seq       {{serial}},
	at        BIGINT NOT NULL,
	kind      TEXT NOT NULL,
	cause     TEXT NOT NULL,
	cluster   TEXT NOT NULL,
	namespace TEXT NOT NULL,
	workload  TEXT NOT NULL,
	image     TEXT NOT NULL,
	vuln      TEXT NOT NULL,
	package   TEXT NOT NULL,
	version   TEXT NOT NULL,
	severity  TEXT NOT NULL,
	tier      TEXT NOT NULL,
	risk_id   TEXT NOT NULL
);
CREATE INDEX changes_at ON changes (at);
