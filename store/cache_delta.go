package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"

	"github.com/imagedash/imagedash/cloud"
)

// A write of one or two images (an operation's end, a copy shown as
// CREATING, an upsert or a delete) used to make every cached total, facet
// count and page stale. With a hundred operations in flight that is a
// write every few seconds, so under load nearly every list was a cold
// query (the facets alone cost 100+ ms over 100 000 images). Such a write
// now keeps what it cannot have changed:
//
//   - it learns, in its own transaction, how each written image stands
//     against the filters of the cached entries just before and just
//     after the change (one look-up per filter and image: docStates);
//   - a total moves by the images that entered or left its filter;
//   - a facet grid moves by the images that entered, left or moved cells;
//   - a page or a match list is kept when no written image matches its
//     filter before or after (its rows, order and neighbours are then
//     those of the new data too), and dropped otherwise;
//   - anything else is dropped.
//
// The generations make this safe with readers on other snapshots:
// beginWrite bumps the generation (g → g+1) before the write's
// transaction; a reader stores its value only if the generation did not
// move while it read (fetch), so an entry of generation g was read wholly
// before the write began. endWrite, after the commit, moves exactly those
// entries to g+2 with the write's changes applied and makes g+2 current.
// Entries stored under g+1 (read during the write, from either side of
// its commit) are never served. Two writes that overlap, or a write that
// overlaps a plain invalidate, find the generation moved by someone else
// at endWrite and fall back to making everything stale.

// maxDeltaFilters bounds the filters a write looks its images up against
// (each costs a look-up per image inside the write's transaction), and
// maxDeltaTextFilters those with search text among them (each also a
// search of the scratch index); the entries of the least recently used
// other filters are dropped.
const (
	maxDeltaFilters     = 256
	maxDeltaTextFilters = 64
)

// tagKind is what a tagged cache entry holds.
type tagKind int

const (
	tagTotal  tagKind = iota // int: the rows matching the filter
	tagFacets                // *facetGrid
	tagPage                  // ImagePage
	tagList                  // *matchList
)

// cacheTag says what a cached value is of: its kind and its query's
// filters (the query's filterKey, and the query itself to look images up
// against).
type cacheTag struct {
	kind   tagKind
	filter string
	q      ImageQuery
}

func newTag(kind tagKind, q ImageQuery) *cacheTag {
	q.Sort, q.Desc, q.Limit, q.After, q.Before = "", false, 0, "", ""
	return &cacheTag{kind: kind, filter: q.filterKey(), q: q}
}

// imageRef names an image a write touches.
type imageRef struct {
	svc cloud.Service
	id  string
}

// docState is how one image stands against one filter.
type docState struct {
	// other: the image exists and matches the filter's other fields
	// (everything but its statuses and families: a facet grid's rows).
	other          bool
	status, family string
}

// matches reports whether the image matches q's whole filter.
func (d docState) matches(q ImageQuery) bool {
	return d.other && (len(q.Statuses) == 0 || slices.Contains(q.Statuses, d.status)) &&
		(len(q.Families) == 0 || slices.Contains(q.Families, d.family))
}

// cacheDelta is what a write did to the filters it looked at: for each
// filter key, the state of each imageRef before and after.
type cacheDelta struct {
	before, after map[string][]docState
}

// beginWrite starts a write that may keep entries: it bumps the
// generation and returns the old one with the filters (at most max, most
// recently used first) of the tagged entries of that generation.
func (c *queryCache) beginWrite(max, maxText int) (uint64, map[string]ImageQuery) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.gen.Load()
	c.gen.Store(g + 1)
	c.writes++
	c.prev, c.prevOK = g, c.writes == 1
	filters := map[string]ImageQuery{}
	texts := 0
	for el := c.lru.Front(); el != nil && len(filters) < max; el = el.Next() {
		e := el.Value.(*cacheEntry)
		if e.gen != g || e.tag == nil {
			continue
		}
		if _, ok := filters[e.tag.filter]; ok {
			continue
		}
		if e.tag.q.ftsText() != "" {
			if texts == maxText {
				continue
			}
			texts++
		}
		filters[e.tag.filter] = e.tag.q
	}
	return g, filters
}

// committing ends the serving of the entries of before the write (see
// queryCache.prev): called in the write's transaction after its last
// change, before the commit makes it visible.
func (c *queryCache) committing() {
	c.mu.Lock()
	c.prevOK = false
	c.mu.Unlock()
}

// endWrite ends the write begun at generation g: with d, the entries of
// g it can vouch for move to g+2 (changed as d says) and the others are
// dropped; with d nil (the write failed, or could not look), or when
// another write moved the generation meanwhile, every entry goes stale.
func (c *queryCache) endWrite(g uint64, d *cacheDelta) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes--
	c.prevOK = false
	if d == nil || c.gen.Load() != g+1 {
		c.gen.Add(1)
		c.cleared.Add(1)
		return
	}
	for el := c.lru.Front(); el != nil; {
		next := el.Next()
		e := el.Value.(*cacheEntry)
		if e.gen == g {
			if e.tag != nil && d.keep(e) {
				e.gen = g + 2
				c.kept.Add(1)
			} else {
				c.remove(el)
				c.dropped.Add(1)
			}
		}
		el = next
	}
	c.gen.Store(g + 2)
}

// keep applies d to e's value and reports whether e is still right.
func (d *cacheDelta) keep(e *cacheEntry) bool {
	before, ok := d.before[e.tag.filter]
	if !ok {
		return false // not looked at: too many filters
	}
	after := d.after[e.tag.filter]
	q := e.tag.q
	switch e.tag.kind {
	case tagTotal:
		n := e.val.(int)
		for i := range before {
			n += int(b2i(after[i].matches(q)) - b2i(before[i].matches(q)))
		}
		e.val = n
		return true
	case tagFacets:
		changed := false
		for i := range before {
			changed = changed || before[i] != after[i]
		}
		if !changed {
			return true
		}
		// Values are shared with readers: change a copy.
		cells := maps.Clone(e.val.(*facetGrid).cells)
		for i := range before {
			if b := before[i]; b.other {
				k := facetCell{b.status, b.family}
				if cells[k]--; cells[k] <= 0 {
					delete(cells, k)
				}
			}
			if a := after[i]; a.other {
				cells[facetCell{a.status, a.family}]++
			}
		}
		e.val = &facetGrid{cells: cells}
		return true
	case tagPage, tagList:
		for i := range before {
			if before[i].matches(q) || after[i].matches(q) {
				return false
			}
		}
		return true
	}
	return false
}

// docStates looks each ref up against each filter, in tx: the filters but
// the text in SQL, one look-up by primary key each; the text in a scratch
// search index holding just the refs' images (scratchMatches), since a
// look-up in the real one reads each term's whole list of documents.
func docStates(ctx context.Context, tx *sql.Tx, filters map[string]ImageQuery, refs []imageRef) (map[string][]docState, error) {
	var texts map[string]map[int]bool // search expression → refs (by index) it matches
	out := make(map[string][]docState, len(filters))
	for key, q := range filters {
		text := q.ftsText()
		q.Text = ""
		states := make([]docState, len(refs))
		for i, r := range refs {
			if r.svc != q.Service {
				continue
			}
			sel := q.selection(bothFacets, textRow)
			sel.where = sel.where.with("i.id = ?", r.id)
			err := tx.QueryRowContext(ctx, `SELECT i.status, i.family`+sel.sql(), sel.where.args...).Scan(&states[i].status, &states[i].family)
			switch {
			case err == sql.ErrNoRows:
				continue
			case err != nil:
				return nil, fmt.Errorf("look up %s/%s: %w", r.svc, r.id, err)
			}
			states[i].other = true
			if text == "" {
				continue
			}
			if texts == nil {
				texts = map[string]map[int]bool{}
			}
			m, ok := texts[text]
			if !ok {
				if m, err = scratchMatches(ctx, tx, refs, text); err != nil {
					return nil, err
				}
				texts[text] = m
			}
			states[i].other = m[i]
		}
		out[key] = states
	}
	return out, nil
}

// scratchFTS is the scratch search index of docStates: the text columns of
// images_fts, with its tokenizer, in the writer connection's temp schema.
const scratchFTS = `CREATE VIRTUAL TABLE IF NOT EXISTS temp.delta_fts USING fts5 (
	name, description, id, family, labels,
	tokenize = 'unicode61 remove_diacritics 2'
)`

// scratchMatches reports which refs (by index) the search expression
// matches as they stand in tx, by loading their images alone into the
// scratch index (again for each expression: two or three rows).
func scratchMatches(ctx context.Context, tx *sql.Tx, refs []imageRef, expr string) (map[int]bool, error) {
	for _, q := range []string{scratchFTS, `DELETE FROM temp.delta_fts`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("scratch search index: %w", err)
		}
	}
	for i, r := range refs {
		img, err := scanImage(tx.QueryRowContext(ctx, `SELECT `+imageCols+` FROM images i WHERE i.service = ? AND i.id = ?`, string(r.svc), r.id))
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("scratch search index: read %s/%s: %w", r.svc, r.id, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO temp.delta_fts (rowid, name, description, id, family, labels) VALUES (?, ?, ?, ?, ?, ?)`,
			i+1, img.Name, img.Description, img.ID, img.Family, newImageRow(img).labelText()); err != nil {
			return nil, fmt.Errorf("scratch search index: %w", err)
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT rowid FROM temp.delta_fts WHERE delta_fts MATCH ?`, expr)
	if err != nil {
		return nil, fmt.Errorf("scratch search: %w", err)
	}
	defer rows.Close()
	m := map[int]bool{}
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		m[id-1] = true
	}
	return m, rows.Err()
}

// imageTx runs write, which changes at most the images refs names, in one
// transaction, and keeps the cached entries it cannot have changed (see
// the top of this file).
func (s *Store) imageTx(ctx context.Context, refs []imageRef, write func(tx *sql.Tx) error) error {
	refs = slices.Compact(refs) // an image named twice counts once
	s.imageWrites.Lock()
	defer s.imageWrites.Unlock()
	g, filters := s.cache.beginWrite(maxDeltaFilters, maxDeltaTextFilters)
	var (
		d        *cacheDelta
		changes  []memChange
		memErr   error
		caughtUp = func() {}
	)
	// Deferred, so that a panic (recovered by the server) leaves neither
	// the index's settle held nor the cache in a write (either would stop
	// every later write), and trusts neither the delta nor the index.
	done := false
	defer func() {
		if !done {
			d = nil
			s.mem.drop()
		}
		caughtUp()
		s.cache.endWrite(g, d)
	}()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// A look-up that fails costs the cache, not the write: every
		// entry then goes stale, as before this file.
		before, lookErr := docStates(ctx, tx, filters, refs)
		if err := write(tx); err != nil {
			return err
		}
		// Likewise a read-back that fails costs the in-memory index.
		changes, memErr = s.memChanges(ctx, tx, refs)
		if lookErr == nil {
			after, err := docStates(ctx, tx, filters, refs)
			if err == nil {
				d = &cacheDelta{before: before, after: after}
			}
		}
		// The last step before the commit: from here until the index
		// has changes, pages that disagree with it wait (settle), and
		// the entries of before the write are no longer served.
		caughtUp = s.mem.unsettle()
		s.cache.committing()
		return nil
	})
	switch {
	case err != nil:
		d = nil
	case memErr != nil:
		s.mem.drop()
	default:
		s.mem.apply(changes)
	}
	done = true
	return err
}
