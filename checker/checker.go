// Package checker answers the hot question — may this account do this now? — from memory.
// It keeps each account's standing (lifecycle and active restrictions, most severe first)
// in a sharded map, loads it from the store on first use, and drops it when the store
// reports a change after commit. A check reads no database row once the account is loaded
// and does not allocate.
package checker

import (
	"context"
	"sync"

	"standing"
)

const numShards = 128

// Cache is the in-memory standing of accounts.
type Cache struct {
	src    standing.StandingReader
	clock  standing.Clock
	shards [numShards]shard
	// MaxPerShard bounds memory: a full shard drops an arbitrary entry to make room.
	maxPerShard int
}

type shard struct {
	mu  sync.RWMutex
	m   map[string]*entry
	gen uint64 // bumped by every invalidation, so a load that raced one is not cached
}

type entry struct {
	st      standing.Standing
	missing bool
}

// New returns a cache over src holding at most maxEntries accounts (0: 4 million).
func New(src standing.StandingReader, clock standing.Clock, maxEntries int) *Cache {
	if maxEntries <= 0 {
		maxEntries = 4 << 20
	}
	c := &Cache{src: src, clock: clock, maxPerShard: maxEntries/numShards + 1}
	for i := range c.shards {
		c.shards[i].m = make(map[string]*entry)
	}
	return c
}

func (c *Cache) shard(id string) *shard { return &c.shards[shardIndex(id)] }

// shardIndex hashes id with FNV-1a, inlined so hashing does not allocate.
func shardIndex(id string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return h % numShards
}

// Check decides whether the account may use capability now. ENOTFOUND for an unknown
// account.
func (c *Cache) Check(ctx context.Context, accountID string, capability standing.Capability) (standing.Decision, error) {
	e, err := c.entry(ctx, accountID)
	if err != nil {
		return standing.Decision{}, err
	}
	return e.st.Check(capability, c.clock.Now()), nil
}

// Standing returns the cached standing of the account; the caller must not modify it.
func (c *Cache) Standing(ctx context.Context, accountID string) (*standing.Standing, error) {
	e, err := c.entry(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return &e.st, nil
}

func (c *Cache) entry(ctx context.Context, accountID string) (*entry, error) {
	sh := c.shard(accountID)
	sh.mu.RLock()
	e, ok := sh.m[accountID]
	gen := sh.gen
	sh.mu.RUnlock()
	if !ok {
		st, err := c.src.Standing(ctx, accountID)
		switch standing.ErrorCode(err) {
		case "":
			e = &entry{st: st}
		case standing.ENOTFOUND:
			e = &entry{missing: true}
		default:
			return nil, err
		}
		sh.mu.Lock()
		if sh.gen == gen {
			if len(sh.m) >= c.maxPerShard {
				for k := range sh.m {
					delete(sh.m, k)
					break
				}
			}
			sh.m[accountID] = e
		}
		sh.mu.Unlock()
	}
	if e.missing {
		return nil, standing.Errorf(standing.ENOTFOUND, "no account %q", accountID)
	}
	return e, nil
}

// Invalidate drops the accounts' entries; the store calls it after each commit that
// changed their standing.
func (c *Cache) Invalidate(accountIDs []string) {
	for _, id := range accountIDs {
		sh := c.shard(id)
		sh.mu.Lock()
		delete(sh.m, id)
		sh.gen++
		sh.mu.Unlock()
	}
}

// Reset drops every entry: after a gap in change notifications nothing cached can be
// trusted.
func (c *Cache) Reset() {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		sh.m = make(map[string]*entry)
		sh.gen++
		sh.mu.Unlock()
	}
}

// Len returns the number of accounts held.
func (c *Cache) Len() int {
	n := 0
	for i := range c.shards {
		c.shards[i].mu.RLock()
		n += len(c.shards[i].m)
		c.shards[i].mu.RUnlock()
	}
	return n
}

// Source streams the standing of every account, for warming the cache at start-up.
type Source interface {
	// EachStanding calls fn with the standing of each account, in any order.
	EachStanding(ctx context.Context, fn func(st standing.Standing) error) error
}

// Warm loads the standing of every account (up to the cache's bound) so that the first
// check of an account does not wait for the store. An account whose shard changed while
// warming is left to load on first use, so warming never installs a stale standing.
func (c *Cache) Warm(ctx context.Context, src Source) (int, error) {
	var gens [numShards]uint64
	for i := range c.shards {
		c.shards[i].mu.RLock()
		gens[i] = c.shards[i].gen
		c.shards[i].mu.RUnlock()
	}
	n := 0
	err := src.EachStanding(ctx, func(st standing.Standing) error {
		i := shardIndex(st.AccountID)
		sh := &c.shards[i]
		sh.mu.Lock()
		if sh.gen == gens[i] && len(sh.m) < c.maxPerShard {
			if _, ok := sh.m[st.AccountID]; !ok {
				sh.m[st.AccountID] = &entry{st: st}
				n++
			}
		}
		sh.mu.Unlock()
		return ctx.Err()
	})
	return n, err
}
