package handlers

import (
	"context"
	"sync"

	"github.com/imagedash/imagedash/store"
)

// OpsCache is an OpsStore that remembers the operations it read by id
// until the next write to the operations table (the store's
// OpsGeneration), so the badges that a crowd of browsers polls every 2 s
// cost no query while nothing changed: the first poll after a change reads
// the row, the rest of the crowd gets it from memory. Everything else goes
// straight to the store. It relies on every write going through the
// wrapped store in this process, as the generation counter does.
type OpsCache struct {
	OpsStore
	max int

	mu  sync.RWMutex
	gen uint64
	ops map[int64]store.Operation
}

// opsCacheMax bounds the operations remembered at one generation.
const opsCacheMax = 4096

// NewOpsCache wraps st.
func NewOpsCache(st OpsStore) *OpsCache {
	return &OpsCache{OpsStore: st, max: opsCacheMax, ops: map[int64]store.Operation{}}
}

var _ OpsStore = (*OpsCache)(nil)

// Operation is the operation with that id, from memory when no operation
// was written since it was read.
func (c *OpsCache) Operation(ctx context.Context, id int64) (store.Operation, error) {
	// The generation before the read: a write that lands during the read
	// moves it on, so what was read is never kept past that write.
	gen := c.OpsStore.OpsGeneration()
	c.mu.RLock()
	o, ok := c.ops[id]
	ok = ok && c.gen == gen
	c.mu.RUnlock()
	if ok {
		return o, nil
	}
	o, err := c.OpsStore.Operation(ctx, id)
	if err != nil {
		return o, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case gen > c.gen:
		c.gen = gen
		clear(c.ops)
	case gen < c.gen:
		return o, nil // read before a write another reader has seen: not kept
	}
	if len(c.ops) < c.max {
		c.ops[id] = o
	}
	return o, nil
}
