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
// UpsertImage, DeleteImage, FinishOperation). A sync that changed images
// bumps gen after it commits; a write of one or two images keeps, at a new
// generation, the entries it cannot have changed, with totals and facet
// counts moved by what it did (cache_delta.go). An entry is fresh exactly
// while its generation is the current one.
//
// A reader loads gen before it opens its read transaction and stores its
// value only if gen is still the same then: so a value is never stored
// under a generation newer than its data, and a value of generation g was
// read wholly before any write that followed g began. (A writer in
// another process is not seen: the file belongs to one process.)
//
// Entries form a bounded LRU; concurrent misses of one key wait for the
// first one's result instead of each running the query.
type queryCache struct {
	gen atomic.Uint64
	// prev, while prevOK, is the generation a write of a few images began
	// at (beginWrite) and has not committed yet: its entries are still
	// exact, so they are served until the write commits (committing).
	// Without this every ask during the write's transaction missed, and
	// after each copy a crowd of lists computed at once (the soak's p99).
	// Under mu, with writes: the writes begun and not ended (overlapping
	// writes serve no old entries).
	prev   uint64
	prevOK bool
	writes int

	// What happened to the entries, since start (CacheStats).
	hits, misses, kept, dropped, cleared atomic.Uint64

	mu      sync.Mutex
	max     int
	lru     *list.List // of *cacheEntry, most recent first
	entries map[string]*list.Element
	flight  map[string]*cacheCall

	// Weighted entries (the match lists of text queries, weight = rows)
	// are bounded apart: at most maxWeighted of them, weighing at most
	// maxWeight together. weight and weighted are the current sums.
	maxWeight, maxWeighted int
	weight, weighted       int

	// matchListMax is the most matches a text query may have for its
	// ordered match list to be cached (matchList); 0 or less disables the
	// lists. Tests lower it.
	matchListMax int

	// Pages (the rows of one page of a query, see Store.Images) are
	// bounded apart as well: at most maxPages of them, holding at most
	// maxPageRows rows together. maxPages 0 or less disables them (the
	// tests of the query plans do, so that every page is read by SQL).
	// pages and pageRows are the current sums.
	maxPages, maxPageRows int
	pages, pageRows       int
}

type cacheEntry struct {
	key    string
	gen    uint64
	val    any
	weight int  // rows of a match list or of a page; 0 for the others
	page   bool // a page: bounded by maxPages and maxPageRows
	// tag says what the value is of, so that a write of a few images can
	// keep it (see cache_delta.go); nil: any write makes it stale.
	tag *cacheTag
}

// cacheCall is a computation in progress.
type cacheCall struct {
	done chan struct{}
	val  any
	err  error
}

// errCachePanic answers the callers that waited on a computation that panicked.
var errCachePanic = errors.New("cached computation panicked")

// defaultCacheEntries bounds the cache: a total is a few hundred bytes, a
// facet grid a few kilobytes (one count per status and family). Many
// people filtering at once use thousands (a soak of 200 users kept 512
// too few: grids were evicted before they were asked again).
const defaultCacheEntries = 4096

// The bounds of the match lists: at most defaultMatchListMax rows each
// (16 bytes a row), defaultMatchLists of them, defaultMatchListRows rows
// (16 MiB) in all.
const (
	defaultMatchListMax  = 200_000
	defaultMatchLists    = 32
	defaultMatchListRows = 1 << 20
)

// The bounds of the cached pages: a row is about a kilobyte (the image and
// its labels), so at most defaultPageRows rows are about 32 MiB.
const (
	defaultPages    = 1024
	defaultPageRows = 32_768
)

func newQueryCache(max int) *queryCache {
	return &queryCache{
		max:          max,
		lru:          list.New(),
		entries:      make(map[string]*list.Element),
		flight:       make(map[string]*cacheCall),
		maxWeight:    defaultMatchListRows,
		maxWeighted:  defaultMatchLists,
		matchListMax: defaultMatchListMax,
		maxPages:     defaultPages,
		maxPageRows:  defaultPageRows,
	}
}

// has reports whether key has a value of the current generation.
func (c *queryCache) has(key string) bool {
	gen := c.gen.Load()
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	return ok && c.fresh(el.Value.(*cacheEntry), gen)
}

// fresh reports whether e may be served when the generation is gen.
// Under mu.
func (c *queryCache) fresh(e *cacheEntry, gen uint64) bool {
	return e.gen == gen || c.prevOK && e.gen == c.prev
}

// invalidate makes every entry stale (after a sync that changed images). Under mu, like beginWrite, so that
// fetch's check of the generation and its store are one step.
func (c *queryCache) invalidate() {
	c.mu.Lock()
	c.gen.Add(1)
	c.prevOK = false
	c.mu.Unlock()
	c.cleared.Add(1)
}

// CacheStats counts, since the store opened, what its list cache did: the
// asks it answered (Hits) and those it computed (Misses, a wait on
// another's computation included), the entries writes of a few images
// kept (Kept) and dropped (Dropped), and the times everything went stale
// at once (Cleared: a sync that changed images, or overlapping writes).
type CacheStats struct {
	Hits, Misses, Kept, Dropped, Cleared uint64
	// Of the pages computed (misses of the page cache): read with the
	// in-memory index, read again after a write it lagged, read by SQL.
	MemPages, MemRetries, SQLPages uint64
	// MemDrops counts the times the index was found wrong with no write
	// under way and dropped, to load again (a bug if ever more than 0).
	MemDrops uint64
}

// pageStats counts how computed pages were read (see CacheStats).
type pageStats struct {
	memory, memRetries, sql atomic.Uint64
	memDrops                atomic.Uint64 // the index dropped as wrong (memDrifted)
}

// CacheStats is what the list cache did since the store opened.
func (s *Store) CacheStats() CacheStats {
	c := s.cache
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Kept: c.kept.Load(),
		Dropped: c.dropped.Load(), Cleared: c.cleared.Load(),
		MemPages: s.pageStats.memory.Load(), MemRetries: s.pageStats.memRetries.Load(), SQLPages: s.pageStats.sql.Load(),
		MemDrops: s.pageStats.memDrops.Load()}
}

// get returns the value of key for the current generation, calling compute
// (at most once at a time per key and generation) on a miss. compute's
// error is returned and not cached. Values are shared: callers copy before
// handing out anything mutable.
func (c *queryCache) get(key string, compute func() (any, error)) (any, error) {
	return c.getWeighted(key, func() (any, int, error) {
		v, err := compute()
		return v, 0, err
	})
}

// getWeighted is get for a value that also says its weight (see
// queryCache.maxWeight); 0 is unweighted.
func (c *queryCache) getWeighted(key string, compute func() (any, int, error)) (any, error) {
	return c.fetch(key, false, nil, c.gen.Load(), compute)
}

// getTagged is getWeighted for a value tag describes (see cacheTag).
func (c *queryCache) getTagged(key string, tag *cacheTag, compute func() (any, int, error)) (any, error) {
	return c.fetch(key, false, tag, c.gen.Load(), compute)
}

// getTaggedAt is getTagged for a compute that reads in a transaction
// opened earlier: snap is the generation loaded before that transaction
// began, so the value is stored only if no write began since then.
func (c *queryCache) getTaggedAt(key string, tag *cacheTag, snap uint64, compute func() (any, int, error)) (any, error) {
	return c.fetch(key, false, tag, snap, compute)
}

// getPage is get for a page of rows, compute saying how many rows it
// holds (see queryCache.maxPages). With pages disabled it only computes.
func (c *queryCache) getPage(key string, compute func() (any, int, error)) (any, error) {
	return c.getPageTagged(key, nil, compute)
}

// getPageTagged is getPage for a page tag describes (see cacheTag).
func (c *queryCache) getPageTagged(key string, tag *cacheTag, compute func() (any, int, error)) (any, error) {
	c.mu.Lock()
	off := c.maxPages <= 0
	c.mu.Unlock()
	if off {
		v, _, err := compute()
		return v, err
	}
	return c.fetch(key, true, tag, c.gen.Load(), compute)
}

// fetch is getWeighted and getPage. gen is the generation loaded before
// compute's data is read (before its read transaction began): a current
// entry is served, else compute's value is stored under gen if the
// generation is still gen then.
func (c *queryCache) fetch(key string, page bool, tag *cacheTag, gen uint64, compute func() (any, int, error)) (any, error) {
	c.mu.Lock()
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*cacheEntry)
		if c.fresh(e, c.gen.Load()) {
			c.lru.MoveToFront(el)
			v := e.val // put may replace it once unlocked
			c.mu.Unlock()
			c.hits.Add(1)
			return v, nil
		}
	}
	c.misses.Add(1)
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

	var weight int
	func() {
		defer func() {
			if call.err == nil && call.val == nil {
				// compute panicked: let waiters retry on their own.
				call.err = errCachePanic
			}
			c.mu.Lock()
			delete(c.flight, fkey)
			// Stored only if no write began meanwhile: then the value was
			// read wholly before it, which a write that keeps entries
			// (endWrite) relies on. Checked under mu, as writes bump it.
			if call.err == nil && c.gen.Load() == gen {
				c.put(key, gen, call.val, weight, page, tag)
			}
			c.mu.Unlock()
			close(call.done)
		}()
		call.val, weight, call.err = compute()
	}()
	return call.val, call.err
}

// put stores val under key at gen, evicting the least recently used entry
// that is not a page beyond max, the least recently used weighted entries
// beyond the weighted bounds and the least recently used pages beyond the
// page bounds. A value
// of an older generation than the stored one is dropped, and so is a value
// heavier than all weighted entries (or all pages) may be.
func (c *queryCache) put(key string, gen uint64, val any, weight int, page bool, tag *cacheTag) {
	if page {
		weight = max(weight, 1)
		if c.maxPages <= 0 || weight > c.maxPageRows {
			return
		}
	} else if weight > c.maxWeight {
		return
	}
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*cacheEntry)
		if e.gen > gen {
			return
		}
		c.weigh(e, -1)
		e.gen, e.val, e.weight, e.page, e.tag = gen, val, weight, page, tag
		c.weigh(e, 1)
		c.lru.MoveToFront(el)
	} else {
		e := &cacheEntry{key: key, gen: gen, val: val, weight: weight, page: page, tag: tag}
		c.entries[key] = c.lru.PushFront(e)
		c.weigh(e, 1)
	}
	// Pages count only against their own bounds, so that they never push
	// out the totals and facets, which cost far more to compute again.
	c.evict(func() bool { return c.lru.Len()-c.pages > c.max }, func(e *cacheEntry) bool { return !e.page })
	c.evict(func() bool { return c.weight > c.maxWeight || c.weighted > c.maxWeighted },
		func(e *cacheEntry) bool { return e.weight > 0 && !e.page })
	if page {
		c.evict(func() bool { return c.pageRows > c.maxPageRows || c.pages > c.maxPages },
			func(e *cacheEntry) bool { return e.page })
	}
}

// evict removes the least recently used entries of a kind while over says
// the kind is over its bounds.
func (c *queryCache) evict(over func() bool, kind func(*cacheEntry) bool) {
	el := c.lru.Back()
	for el != nil && over() {
		prev := el.Prev()
		if kind(el.Value.(*cacheEntry)) {
			c.remove(el)
		}
		el = prev
	}
}

// weigh adds (sign 1) or takes (-1) e's weight to or from the sums.
func (c *queryCache) weigh(e *cacheEntry, sign int) {
	switch {
	case e.page:
		c.pageRows += sign * e.weight
		c.pages += sign
	case e.weight > 0:
		c.weight += sign * e.weight
		c.weighted += sign
	}
}

// remove drops the entry of el.
func (c *queryCache) remove(el *list.Element) {
	e := el.Value.(*cacheEntry)
	c.lru.Remove(el)
	delete(c.entries, e.key)
	c.weigh(e, -1)
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
