package store

import "context"

// OpenUpTo opens a store applying migrations up to upTo only.
func OpenUpTo(ctx context.Context, dsn string, upTo int) (Store, error) {
	return openUpTo(ctx, dsn, upTo)
}

// SchemaVersion is the store's highest applied migration.
func SchemaVersion(ctx context.Context, st Store) (int, error) {
	return schemaVersion(ctx, st.(*sqlStore).r)
}
