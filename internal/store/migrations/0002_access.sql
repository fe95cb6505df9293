-- Who may read and write, the side documents a ranking uses, accepted
-- risks, and the feed read per cluster.
CREATE TABLE tokens (
	id         {{serial}},
	name       TEXT NOT NULL,
	scope      TEXT NOT NULL,
	cluster    TEXT NOT NULL,
	hash       {{blob}} NOT NULL UNIQUE,
	created_at BIGINT NOT NULL
);

CREATE TABLE documents (
	kind        TEXT NOT NULL,
	cluster     TEXT NOT NULL,
	name        TEXT NOT NULL,
	body        {{blob}} NOT NULL,
	received_at BIGINT NOT NULL,
	PRIMARY KEY (kind, cluster, name)
);

CREATE TABLE acceptances (
	id         {{serial}},
	vuln       TEXT NOT NULL,
	package    TEXT NOT NULL,
	cluster    TEXT NOT NULL,
	namespace  TEXT NOT NULL,
	workload   TEXT NOT NULL,
	image      TEXT NOT NULL,
	reason     TEXT NOT NULL,
	expires    BIGINT NOT NULL,
	by_whom    TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE INDEX changes_cluster ON changes (cluster, seq);
