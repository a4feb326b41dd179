package httpapi

import (
	"context"
	"strings"
	"sync"
	"time"

	"standing"
)

// HashKey returns the stored hash of an API key's secret: standing.HashToken.
func HashKey(secret string) string { return standing.HashToken(secret) }

// NewKey returns a new API key with its secret, shown once.
func NewKey(name string, scopes []string, now time.Time) (standing.APIKey, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return standing.APIKey{}, "", standing.FieldErrorf(standing.EINVALID, "name", "a key needs a name of 1 to 100 characters")
	}
	if len(scopes) == 0 {
		return standing.APIKey{}, "", standing.FieldErrorf(standing.EINVALID, "scopes", "a key needs at least one scope; known: %s", strings.Join(standing.KnownScopes, ", "))
	}
	for _, sc := range scopes {
		if !standing.HasString(standing.KnownScopes, sc) {
			return standing.APIKey{}, "", standing.FieldErrorf(standing.EINVALID, "scopes", "unknown scope %q; known: %s", sc, strings.Join(standing.KnownScopes, ", "))
		}
	}
	secret := "sk_" + standing.RandomToken(32)
	k := standing.APIKey{ID: standing.NewID("key", now), Name: name, Prefix: secret[:10], Scopes: scopes, CreatedAt: now}
	return k, secret, nil
}

// keyCache remembers recently seen keys for a short while, so the hot path does not read
// the key table on every request; a revoked key stops working within keyTTL. keyTTL is
// wall-clock time, not the service clock: the cache is operational, and a stopped test
// or dev clock must not keep a revoked key working.
type keyCache struct {
	store standing.APIKeyStore
	mu    sync.RWMutex
	m     map[string]cachedKey
}

type cachedKey struct {
	key     *standing.APIKey // nil: no such key
	expires time.Time
}

const keyTTL = 10 * time.Second

func newKeyCache(store standing.APIKeyStore) *keyCache {
	return &keyCache{store: store, m: map[string]cachedKey{}}
}

// authenticate checks the Authorization header and the scope the route needs.
func (c *keyCache) authenticate(ctx context.Context, header, scope string) (*standing.APIKey, error) {
	secret, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || secret == "" {
		return nil, standing.Errorf(standing.EUNAUTHORIZED, "send an API key as Authorization: Bearer <key>")
	}
	hash := standing.HashToken(strings.TrimSpace(secret))
	now := time.Now()
	c.mu.RLock()
	ck, hit := c.m[hash]
	c.mu.RUnlock()
	if !hit || now.After(ck.expires) {
		k, err := c.store.APIKeyByHash(ctx, hash)
		switch standing.ErrorCode(err) {
		case "":
			ck = cachedKey{key: &k, expires: now.Add(keyTTL)}
		case standing.ENOTFOUND:
			ck = cachedKey{expires: now.Add(keyTTL)}
		default:
			return nil, err
		}
		c.mu.Lock()
		if len(c.m) > 10000 {
			c.m = map[string]cachedKey{}
		}
		c.m[hash] = ck
		c.mu.Unlock()
	}
	if ck.key == nil || ck.key.RevokedAt != nil {
		return nil, standing.Errorf(standing.EUNAUTHORIZED, "the API key is unknown or revoked")
	}
	if !ck.key.HasScope(scope) {
		return nil, standing.Errorf(standing.EFORBIDDEN, "the API key %q lacks the scope %q this route needs", ck.key.Name, scope)
	}
	return ck.key, nil
}
