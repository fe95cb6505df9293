-- The current unsuppressed risks counted per cluster, namespace and
-- tier, kept as the risks change (metrics read them on every scrape).
CREATE TABLE risk_counts (
	cluster   TEXT NOT NULL,
	namespace TEXT NOT NULL,
	tier_rank BIGINT NOT NULL,
	n         BIGINT NOT NULL,
	PRIMARY KEY (cluster, namespace, tier_rank)
);
INSERT INTO risk_counts (cluster, namespace, tier_rank, n) SELECT cluster, namespace, tier_rank, COUNT(*) FROM risks WHERE suppressed = 0 GROUP BY cluster, namespace, tier_rank;
