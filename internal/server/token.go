package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/runlens/runlens/internal/store"
)

// TokenPrefix starts every runlens token.
const TokenPrefix = "rl_"

// NewSecret returns a new token secret: TokenPrefix and 32 random bytes
// in unpadded base64url.
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("making a token: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// HashSecret is what the store keeps of a secret: its SHA-256. Looking
// a token up by its hash compares no secret byte by byte, so the lookup
// leaks nothing of the secret through timing.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(strings.TrimSpace(secret)))
	return h[:]
}

// CheckScope validates a token's scope and cluster.
func CheckScope(scope, cluster string) error {
	switch scope {
	case store.ScopeRead, store.ScopeAdmin:
		if cluster != "" {
			return fmt.Errorf("a %s token is not bound to a cluster (leave out the cluster)", scope)
		}
	case store.ScopeWriteCluster:
		if cluster == "" {
			return errors.New("a write-cluster token needs its cluster")
		}
	default:
		return fmt.Errorf("scope %q: want read, write-cluster or admin", scope)
	}
	return nil
}

// CreateToken makes a token, stores its hash, and returns its row and
// the secret, which is shown once and never stored.
func CreateToken(ctx context.Context, st store.Store, name, scope, cluster string, now time.Time) (store.Token, string, error) {
	if strings.TrimSpace(name) == "" {
		return store.Token{}, "", errors.New("a token needs a name")
	}
	if err := CheckScope(scope, cluster); err != nil {
		return store.Token{}, "", err
	}
	secret, err := NewSecret()
	if err != nil {
		return store.Token{}, "", err
	}
	t, err := st.CreateToken(ctx, store.Token{Name: name, Scope: scope, Cluster: cluster, Hash: HashSecret(secret), CreatedAt: now.UTC()})
	if err != nil {
		return store.Token{}, "", fmt.Errorf("storing the token: %w", err)
	}
	return t, secret, nil
}

// EnsureAdmin creates an admin token named "initial-admin" when the store
// has no token at all, and returns its secret ("" when tokens exist).
func EnsureAdmin(ctx context.Context, st store.Store, now time.Time) (string, error) {
	list, err := st.Tokens(ctx)
	if err != nil {
		return "", fmt.Errorf("listing tokens: %w", err)
	}
	if len(list) > 0 {
		return "", nil
	}
	_, secret, err := CreateToken(ctx, st, "initial-admin", store.ScopeAdmin, "", now)
	return secret, err
}
