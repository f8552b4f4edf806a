package store

import "sync"

// metaCache holds the folders and each service's sync states as last
// read: every page reads them (the folder picker, the freshness line),
// and only the sync writes them.
//
// Who writes: a reader that finds no value reads SQL and stores what it
// read, unless the version moved meanwhile (a write committed: what it
// read may be older). SaveFolders and RecordSync call invalidate after
// their transaction, failed or not; any other write to the folders or
// sync_state tables must too. When replaced: invalidate drops every
// value and moves the version. What readers may assume: a value served
// was read after the last invalidate began, so it is at least as new as
// every write that finished before the call; values are shared, so
// callers copy what they hand out. Concurrent misses each read SQL: no
// reader waits on another's read, nor inherits its cancellation.
type metaCache struct {
	mu      sync.Mutex
	version uint64
	vals    map[string]any
}

// get is the value of key, from the cache or read.
func (c *metaCache) get(key string, read func() (any, error)) (any, error) {
	c.mu.Lock()
	v, ok := c.vals[key]
	version := c.version
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := read()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version == version {
		if c.vals == nil {
			c.vals = map[string]any{}
		}
		c.vals[key] = v
	}
	return v, nil
}

// invalidate drops every value: the tables changed.
func (c *metaCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.version++
	c.vals = nil
}
