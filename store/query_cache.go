package store

import (
	"container/list"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// queryCache keeps what is costly to compute and the same for every page
// and sort of a query: the exact total of its filters and its facets. The
// image rows change only through the store's writes (ReplaceFolderImages,
// UpsertImage, DeleteImage), each of which bumps gen after it commits, so
// an entry is fresh exactly while its generation is the current one.
//
// A reader loads gen before it opens its read transaction: whatever the
// snapshot it then sees is at least as new as that generation, so a value
// is never stored under a generation newer than its data. (A writer in
// another process is not seen: the file belongs to one process.)
//
// Entries form a bounded LRU; concurrent misses of one key wait for the
// first one's result instead of each running the query.
type queryCache struct {
	gen atomic.Uint64

	mu      sync.Mutex
	max     int
	lru     *list.List // of *cacheEntry, most recent first
	entries map[string]*list.Element
	flight  map[string]*cacheCall
}

type cacheEntry struct {
	key string
	gen uint64
	val any
}

// cacheCall is a computation in progress.
type cacheCall struct {
	done chan struct{}
	val  any
	err  error
}

// errCachePanic answers the callers that waited on a computation that panicked.
var errCachePanic = errors.New("cached computation panicked")

// defaultCacheEntries bounds the cache: an entry is a few hundred bytes.
const defaultCacheEntries = 512

func newQueryCache(max int) *queryCache {
	return &queryCache{
		max:     max,
		lru:     list.New(),
		entries: make(map[string]*list.Element),
		flight:  make(map[string]*cacheCall),
	}
}

// invalidate makes every entry stale; the store calls it after each write
// to the images.
func (c *queryCache) invalidate() { c.gen.Add(1) }

// get returns the value of key for the current generation, calling compute
// (at most once at a time per key and generation) on a miss. compute's
// error is returned and not cached. Values are shared: callers copy before
// handing out anything mutable.
func (c *queryCache) get(key string, compute func() (any, error)) (any, error) {
	gen := c.gen.Load()
	c.mu.Lock()
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*cacheEntry)
		if e.gen == gen {
			c.lru.MoveToFront(el)
			c.mu.Unlock()
			return e.val, nil
		}
	}
	// In-flight calls are keyed by generation too: a call started before a
	// write must not answer a request made after it.
	fkey := key + "\x00" + uitoa(gen)
	if call, ok := c.flight[fkey]; ok {
		c.mu.Unlock()
		<-call.done
		return call.val, call.err
	}
	call := &cacheCall{done: make(chan struct{})}
	c.flight[fkey] = call
	c.mu.Unlock()

	func() {
		defer func() {
			if call.err == nil && call.val == nil {
				// compute panicked: let waiters retry on their own.
				call.err = errCachePanic
			}
			c.mu.Lock()
			delete(c.flight, fkey)
			if call.err == nil {
				c.put(key, gen, call.val)
			}
			c.mu.Unlock()
			close(call.done)
		}()
		call.val, call.err = compute()
	}()
	return call.val, call.err
}

// put stores val under key at gen, evicting the least recently used entry
// beyond max. A value of an older generation than the stored one is dropped.
func (c *queryCache) put(key string, gen uint64, val any) {
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*cacheEntry)
		if e.gen > gen {
			return
		}
		e.gen, e.val = gen, val
		c.lru.MoveToFront(el)
		return
	}
	c.entries[key] = c.lru.PushFront(&cacheEntry{key: key, gen: gen, val: val})
	for c.lru.Len() > c.max {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.entries, old.Value.(*cacheEntry).key)
	}
}

// len is the number of entries (for tests).
func (c *queryCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

func uitoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

// filterKey is a canonical form of q's filters (not its sort, page size or
// cursors): two queries with the same key select the same rows. List
// values are sorted and deduplicated (they are ORed, or ANDed for labels),
// the text is reduced to its search terms.
func (q ImageQuery) filterKey() string {
	var b strings.Builder
	field := func(s string) {
		b.WriteString(s)
		b.WriteByte(0)
	}
	list := func(vals []string) {
		vals = slices.Compact(slices.Sorted(slices.Values(vals)))
		b.WriteString(uitoa(uint64(len(vals))))
		b.WriteByte(0)
		for _, v := range vals {
			field(v)
		}
	}
	field(string(q.Service))
	list(q.FolderIDs)
	field(ftsTerms(q.Text))
	list(q.Statuses)
	list(q.Families)
	field(q.OS)
	labels := make([]string, len(q.Labels))
	for i, l := range q.Labels {
		if l.AnyValue {
			labels[i] = "*" + l.Key
		} else {
			labels[i] = "=" + l.Key + "\x00" + l.Value
		}
	}
	list(labels)
	return b.String()
}
