package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/imagedash/imagedash/cloud"
)

// The 200-user soak (issue #6) showed where a list's time goes once the
// cache answers what was asked before: the first ask of a filter. The load
// tool, like people, keeps combining statuses, families, labels, folders
// and sorts nobody asked before, and each such page or facet grid cost
// 20–200 ms of SQLite over 60 000 rows (a sort index walked against a
// filter, a GROUP BY visiting every match).
//
// So the store also keeps, in memory, the fields a list filters and sorts
// on of every cached image (about 200 bytes an image: ~20 MiB at 100 000)
// and answers from them: one pass over the service's rows filters, counts
// the facet grid, or keeps the page's rows in a bounded heap, in 1–5 ms at
// 100 000 images. A search first reads the docs its text matches from
// FTS5 (once per write generation: textMatches) and passes over those
// only. The page's rows are then read from SQLite, by doc, and each is
// checked against the fingerprint the index has for it; any difference
// sends the page down the SQL path (a write committed but not yet applied
// here).
//
// The index follows the writes exactly: every write of images holds
// imageWrites from before its transaction until after its change is
// applied here, and reads back, inside its transaction, the rows it
// wrote. So the index is always the state of the last commit, or of the
// one before while a write is being applied; and it is applied between a
// write's beginWrite and endWrite (or before a sync's invalidate), so a
// cached value computed from it follows the generations' rules like one
// read from SQL. It is loaded on first use, by the first request that
// finds no write under way (the others use SQL meanwhile); a write that
// cannot read its rows back drops it, to be loaded again.

// memLabel is one label of a row: the ids of its key and of "key\x00value".
type memLabel struct{ key, pair uint32 }

// memRow is what the index keeps of an image.
type memRow struct {
	doc, fp                         int64
	id, name, checksum              string
	size, storage, minDisk, created int64
	folder, status, family, os      uint32 // ids of memIndex.strs
	labels                          []memLabel
}

// memRows are the rows of one service.
type memRows struct {
	rows  []memRow
	byID  map[string]int32 // index in rows
	byDoc map[int64]int32  // index in rows, for the matches of a search
}

// each calls fn for every row, or, when docs is not nil (the matches of
// a search), for the rows of docs (docs of other services are not here).
func (rs *memRows) each(docs []int64, fn func(r *memRow)) {
	if docs == nil {
		for i := range rs.rows {
			fn(&rs.rows[i])
		}
		return
	}
	for _, d := range docs {
		if i, ok := rs.byDoc[d]; ok {
			fn(&rs.rows[i])
		}
	}
}

// memIndex is the in-memory index of the cached images.
type memIndex struct {
	// loaded is set once the index holds every image; changed under both
	// Store.imageWrites and mu.
	loaded atomic.Bool

	// settle is held by a write from its last statement until the index
	// has its rows (or was dropped): between the commit and the apply a
	// page read from SQLite disagrees with the index. A page that found
	// such a disagreement waits on it and reads again (Store.images)
	// rather than take the slow SQL path.
	settle sync.RWMutex

	mu   sync.RWMutex
	strs []string          // interned values (folders, statuses, families, OSes, label keys and pairs) by id
	ids  map[string]uint32 // value → id
	svcs map[cloud.Service]*memRows
}

// unsettle marks a write's commit under way (see settle); the func it
// returns marks the index caught up.
func (x *memIndex) unsettle() func() {
	x.settle.Lock()
	return x.settle.Unlock
}

// settled waits until no write is between its commit and the index.
func (x *memIndex) settled() {
	x.settle.RLock()
	x.settle.RUnlock() //nolint:staticcheck // an empty critical section: waiting is the point
}

// intern is the id of s, added when new. Under mu.Lock.
func (x *memIndex) intern(s string) uint32 {
	if id, ok := x.ids[s]; ok {
		return id
	}
	id := uint32(len(x.strs))
	x.strs = append(x.strs, s)
	x.ids[s] = id
	return id
}

// memImage is a row read from SQLite, before interning.
type memImage struct {
	svc                     cloud.Service
	doc, fp                 int64
	id, folder, name        string
	family, status, os, sum string
	size, storage, minDisk  int64
	created                 int64
	labels                  map[string]string
}

// memCols are the columns scanMem reads, for the alias i.
const memCols = `i.service, i.doc, i.fingerprint, i.id, i.folder_id, i.name, i.family, i.status, i.os,
	i.size, i.storage_size, i.min_disk_size, i.checksum, i.created_at, i.labels`

func scanMem(sc scanner) (memImage, error) {
	var (
		m           memImage
		svc, labels string
	)
	err := sc.Scan(&svc, &m.doc, &m.fp, &m.id, &m.folder, &m.name, &m.family, &m.status, &m.os,
		&m.size, &m.storage, &m.minDisk, &m.sum, &m.created, &labels)
	if err != nil {
		return m, err
	}
	m.svc = cloud.Service(svc)
	if labels != "{}" && labels != "" {
		if err := json.Unmarshal([]byte(labels), &m.labels); err != nil {
			return m, fmt.Errorf("image %s: labels: %w", m.id, err)
		}
	}
	return m, nil
}

// readMem reads the rows of a query of memCols.
func readMem(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]memImage, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []memImage
	for rows.Next() {
		m, err := scanMem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// set makes the row of svc/id m, or removes it when m is nil. Under mu.Lock.
func (x *memIndex) set(svc cloud.Service, id string, m *memImage) {
	rs := x.svcs[svc]
	if rs == nil {
		rs = &memRows{byID: map[string]int32{}, byDoc: map[int64]int32{}}
		x.svcs[svc] = rs
	}
	i, had := rs.byID[id]
	if had && (m == nil || m.doc != rs.rows[i].doc) {
		delete(rs.byDoc, rs.rows[i].doc)
	}
	if m == nil {
		if !had {
			return
		}
		last := int32(len(rs.rows) - 1)
		if i != last {
			rs.rows[i] = rs.rows[last]
			rs.byID[rs.rows[i].id] = i
			rs.byDoc[rs.rows[i].doc] = i
		}
		rs.rows[last] = memRow{}
		rs.rows = rs.rows[:last]
		delete(rs.byID, id)
		return
	}
	r := memRow{doc: m.doc, fp: m.fp, id: m.id, name: m.name, checksum: m.sum,
		size: m.size, storage: m.storage, minDisk: m.minDisk, created: m.created,
		folder: x.intern(m.folder), status: x.intern(m.status), family: x.intern(m.family), os: x.intern(m.os)}
	if len(m.labels) > 0 {
		r.labels = make([]memLabel, 0, len(m.labels))
		for _, k := range slices.Sorted(maps.Keys(m.labels)) {
			r.labels = append(r.labels, memLabel{key: x.intern(k), pair: x.intern(k + "\x00" + m.labels[k])})
		}
	}
	if had {
		rs.rows[i] = r
		rs.byDoc[r.doc] = i
		return
	}
	rs.byID[id] = int32(len(rs.rows))
	rs.byDoc[r.doc] = int32(len(rs.rows))
	rs.rows = append(rs.rows, r)
}

// memChange is the state a write left one image in: m nil when deleted.
type memChange struct {
	svc cloud.Service
	id  string
	m   *memImage
}

// apply puts a write's changes into the index, if it is loaded. Under
// imageWrites.
func (x *memIndex) apply(changes []memChange) {
	if !x.loaded.Load() || len(changes) == 0 {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, c := range changes {
		x.set(c.svc, c.id, c.m)
	}
}

// drop empties the index (a write could not read its rows back); it is
// loaded again on next use. Under imageWrites.
func (x *memIndex) drop() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.loaded.Store(false)
	x.strs, x.ids, x.svcs = nil, nil, nil
}

// memChanges reads back, inside a write's transaction, the rows of the
// images refs names (several of one service are read in one statement),
// for memIndex.apply; nil when the index is not loaded.
func (s *Store) memChanges(ctx context.Context, tx *sql.Tx, refs []imageRef) ([]memChange, error) {
	if !s.mem.loaded.Load() || len(refs) == 0 {
		return nil, nil
	}
	bySvc := map[cloud.Service][]string{}
	for _, r := range refs {
		bySvc[r.svc] = append(bySvc[r.svc], r.id)
	}
	var out []memChange
	for svc, ids := range bySvc {
		b, err := json.Marshal(ids)
		if err != nil {
			return nil, err
		}
		// CROSS JOIN keeps json_each outside: one look-up an id.
		ms, err := readMem(ctx, tx, `SELECT `+memCols+` FROM json_each(?) j
CROSS JOIN images i ON i.service = ? AND i.id = j.value`, string(b), string(svc))
		if err != nil {
			return nil, fmt.Errorf("read back written images: %w", err)
		}
		found := make(map[string]*memImage, len(ms))
		for i := range ms {
			found[ms[i].id] = &ms[i]
		}
		for _, id := range ids {
			out = append(out, memChange{svc: svc, id: id, m: found[id]})
		}
	}
	return out, nil
}

// memReady reports whether the index may answer, loading it when it is
// not loaded and no write is under way (TryLock: a request that finds a
// write, or another request loading, uses SQL rather than wait). A failed
// load is not an error: the caller uses SQL.
func (s *Store) memReady(ctx context.Context) bool {
	if s.memOff {
		return false
	}
	if s.mem.loaded.Load() {
		return true
	}
	if !s.imageWrites.TryLock() {
		return false
	}
	defer s.imageWrites.Unlock()
	if s.mem.loaded.Load() {
		return true
	}
	return s.loadMem(ctx) == nil
}

// loadMem reads every cached image into the index. Under imageWrites, so
// no write commits between the read and the index's first use.
func (s *Store) loadMem(ctx context.Context) error {
	var all []memImage
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		all, err = readMem(ctx, tx, `SELECT `+memCols+` FROM images i`)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: load the image index: %w", err)
	}
	x := &s.mem
	x.mu.Lock()
	defer x.mu.Unlock()
	x.strs, x.ids, x.svcs = nil, map[string]uint32{}, map[cloud.Service]*memRows{}
	for i := range all {
		x.set(all[i].svc, all[i].id, &all[i])
	}
	x.loaded.Store(true)
	return nil
}

// memFilter is a query's filters as ids of the index.
type memFilter struct {
	// none: a value the query asks for is in no image, so nothing matches.
	none                        bool
	folders, statuses, families idSet // nil: any
	os                          uint32
	hasOS                       bool
	labels                      []memLabelFilter
}

// idSet is a set of interned ids, a bit each: match tests one per row
// and list, 100 000 rows a page, where a slice's scan showed in profiles.
// Sized to its largest id: one word for the values the first rows
// interned, at most one bit per interned value.
type idSet []uint64

// with is s with id added.
func (s idSet) with(id uint32) idSet {
	w := int(id >> 6)
	if w >= len(s) {
		s = append(s, make(idSet, w+1-len(s))...)
	}
	s[w] |= 1 << (id & 63)
	return s
}

func (s idSet) has(id uint32) bool {
	w := int(id >> 6)
	return w < len(s) && s[w]&(1<<(id&63)) != 0
}

// memLabelFilter is a LabelFilter: the id of its key (any value) or of
// its key and value.
type memLabelFilter struct {
	id       uint32
	anyValue bool
}

// filterOf is q's filters but skip's, without q's text. Under mu.RLock.
func (x *memIndex) filterOf(q ImageQuery, skip facet) memFilter {
	var f memFilter
	list := func(vals []string) idSet {
		if len(vals) == 0 {
			return nil
		}
		var out idSet
		for _, v := range vals {
			if id, ok := x.ids[v]; ok {
				out = out.with(id)
			}
		}
		if out == nil {
			f.none = true
		}
		return out
	}
	f.folders = list(q.FolderIDs)
	if skip != statusFacet && skip != bothFacets {
		f.statuses = list(q.Statuses)
	}
	if skip != familyFacet && skip != bothFacets {
		f.families = list(q.Families)
	}
	if q.OS != "" {
		f.os, f.hasOS = x.ids[q.OS]
		f.none = f.none || !f.hasOS
	}
	for _, l := range q.Labels {
		v := l.Key
		if !l.AnyValue {
			v += "\x00" + l.Value
		}
		id, ok := x.ids[v]
		f.none = f.none || !ok
		f.labels = append(f.labels, memLabelFilter{id: id, anyValue: l.AnyValue})
	}
	return f
}

// match reports whether r passes f.
func (f *memFilter) match(r *memRow) bool {
	if f.folders != nil && !f.folders.has(r.folder) ||
		f.statuses != nil && !f.statuses.has(r.status) ||
		f.families != nil && !f.families.has(r.family) ||
		f.hasOS && r.os != f.os {
		return false
	}
	for _, l := range f.labels {
		found := false
		for _, rl := range r.labels {
			if l.anyValue && rl.key == l.id || !l.anyValue && rl.pair == l.id {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// textDocs are the docs whose text matches q's (FTS5 alone, without the
// attrs tokens: intersecting the long lists of common values costs more
// than testing the matches in memory); nil when q has no text.
func textDocs(ctx context.Context, tx *sql.Tx, q ImageQuery) ([]int64, error) {
	m := q.ftsText()
	if m == "" {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT rowid FROM images_fts WHERE images_fts MATCH ?`, m)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	docs := []int64{}
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return docs, rows.Err()
}

// textMatches are the docs of q's service whose text matches q's text
// (nil when q has none), cached like a match list (a write keeps them
// unless a written image matches the text) so that a search's grid and
// each of its pages read the search index once, not each time. tx is a
// read transaction begun after snap was loaded (see matchList). Only docs
// the index has for the service are kept: a doc of another service, or of
// an image since deleted, could be reused by an image the list was never
// checked against.
func (s *Store) textMatches(ctx context.Context, tx *sql.Tx, snap uint64, q ImageQuery) ([]int64, error) {
	if q.ftsText() == "" {
		return nil, nil
	}
	t := ImageQuery{Service: q.Service, Text: q.Text}
	v, err := s.cache.getTaggedAt("D"+t.filterKey(), newTag(tagList, t), snap, func() (any, int, error) {
		docs, err := textDocs(ctx, tx, t)
		if err != nil {
			return nil, 0, err
		}
		x := &s.mem
		x.mu.RLock()
		rs := x.svcs[t.Service]
		kept := docs[:0]
		for _, d := range docs {
			if _, ok := rs.byDoc[d]; rs != nil && ok {
				kept = append(kept, d)
			}
		}
		x.mu.RUnlock()
		kept = slices.Clip(kept)
		return kept, max(len(kept), 1), nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]int64), nil
}

// memGrid is the facet grid of q (its statuses and families ignored) from
// the index, a search's matches read from FTS5 first in a read
// transaction of its own; false when the index cannot answer.
//
// A search's matches are of the snapshot of that transaction and the
// fields of the index's state, which differ only while a write is under
// way: a grid read then is never cached (the write moved the generation
// before it committed), so only its first asker sees it.
func (s *Store) memGrid(ctx context.Context, q ImageQuery) (*facetGrid, bool, error) {
	if !s.memReady(ctx) {
		return nil, false, nil
	}
	var docs []int64
	if q.ftsText() != "" {
		snap := s.cache.gen.Load()
		err := s.read(ctx, func(tx *sql.Tx) error {
			var err error
			docs, err = s.textMatches(ctx, tx, snap, q)
			return err
		})
		if err != nil {
			return nil, false, err
		}
	}
	x := &s.mem
	x.mu.RLock()
	defer x.mu.RUnlock()
	if !x.loaded.Load() {
		return nil, false, nil // dropped since memReady: SQL
	}
	g := &facetGrid{cells: map[facetCell]int{}}
	f := x.filterOf(q, bothFacets)
	rs := x.svcs[q.Service]
	if f.none || rs == nil {
		return g, true, nil
	}
	counts := map[[2]uint32]int{}
	rs.each(docs, func(r *memRow) {
		if f.match(r) {
			counts[[2]uint32{r.status, r.family}]++
		}
	})
	for k, n := range counts {
		g.cells[facetCell{x.strs[k[0]], x.strs[k[1]]}] = n
	}
	return g, true, nil
}

// compare orders a and b by (col, id) ascending, as SQLite does. Under
// mu.RLock (for the interned columns).
func (x *memIndex) compare(col sortColumn, a, b *memRow) int {
	if c := x.compareValue(col, a, b); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

func (x *memIndex) compareValue(col sortColumn, a, b *memRow) int {
	switch col.name {
	case "name":
		return strings.Compare(a.name, b.name)
	case "folder_id":
		return strings.Compare(x.strs[a.folder], x.strs[b.folder])
	case "family":
		return strings.Compare(x.strs[a.family], x.strs[b.family])
	case "status":
		return strings.Compare(x.strs[a.status], x.strs[b.status])
	case "os":
		return strings.Compare(x.strs[a.os], x.strs[b.os])
	case "checksum":
		return strings.Compare(a.checksum, b.checksum)
	case "size":
		return cmp.Compare(a.size, b.size)
	case "storage_size":
		return cmp.Compare(a.storage, b.storage)
	case "min_disk_size":
		return cmp.Compare(a.minDisk, b.minDisk)
	case "created_at":
		return cmp.Compare(a.created, b.created)
	}
	return 0 // id
}

// keyRow is a row that compares like key k of col (its id and sort value).
func keyRow(col sortColumn, k rowKey) memRow {
	r := memRow{id: k.id}
	switch v := k.value.(type) {
	case string:
		switch col.name {
		case "name":
			r.name = v
		case "checksum":
			r.checksum = v
		}
	case int64:
		r.size, r.storage, r.minDisk, r.created = v, v, v, v
	}
	return r
}

// compareKey orders r against key k of col.
func (x *memIndex) compareKey(col sortColumn, r *memRow, k rowKey, kr *memRow) int {
	var c int
	switch col.name {
	case "folder_id":
		c = strings.Compare(x.strs[r.folder], k.value.(string))
	case "family":
		c = strings.Compare(x.strs[r.family], k.value.(string))
	case "status":
		c = strings.Compare(x.strs[r.status], k.value.(string))
	case "os":
		c = strings.Compare(x.strs[r.os], k.value.(string))
	default:
		c = x.compareValue(col, r, kr)
	}
	if c != 0 {
		return c
	}
	return strings.Compare(r.id, k.id)
}

// memPage is the docs and fingerprints of up to n rows of q after key
// (when not nil) in the walk order, and whether a row of q lies at or
// behind key; false when the index cannot answer. A search's matches are
// read from FTS5 in tx first.
func (s *Store) memPage(ctx context.Context, tx *sql.Tx, snap uint64, q ImageQuery, walk order, key *rowKey, n int) (docs, fps []int64, behind, ok bool, err error) {
	if !s.memReady(ctx) {
		return nil, nil, false, false, nil
	}
	matches, err := s.textMatches(ctx, tx, snap, q)
	if err != nil {
		return nil, nil, false, false, err
	}
	x := &s.mem
	x.mu.RLock()
	defer x.mu.RUnlock()
	if !x.loaded.Load() {
		return nil, nil, false, false, nil // dropped since memReady: SQL
	}
	f := x.filterOf(q, noFacet)
	rs := x.svcs[q.Service]
	if f.none || rs == nil {
		return nil, nil, false, true, nil
	}
	dir := 1
	if walk.desc {
		dir = -1
	}
	var kr memRow
	if key != nil {
		kr = keyRow(walk.col, *key)
	}
	// top is a max-heap in walk order of the best n rows so far: its root
	// is the last of them, the one a better row replaces.
	top := make([]*memRow, 0, n)
	worse := func(i, j int) bool { return dir*x.compare(walk.col, top[i], top[j]) > 0 }
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(top) {
				return
			}
			m := l
			if r := l + 1; r < len(top) && worse(r, l) {
				m = r
			}
			if !worse(m, i) {
				return
			}
			top[i], top[m] = top[m], top[i]
			i = m
		}
	}
	rs.each(matches, func(r *memRow) {
		if !f.match(r) {
			return
		}
		if key != nil && dir*x.compareKey(walk.col, r, *key, &kr) <= 0 {
			behind = true
			return
		}
		if len(top) < n {
			top = append(top, r)
			for j := len(top) - 1; j > 0; {
				p := (j - 1) / 2
				if !worse(j, p) {
					break
				}
				top[j], top[p] = top[p], top[j]
				j = p
			}
			return
		}
		if n > 0 && dir*x.compare(walk.col, r, top[0]) < 0 {
			top[0] = r
			down(0)
		}
	})
	slices.SortFunc(top, func(a, b *memRow) int { return dir * x.compare(walk.col, a, b) })
	docs, fps = make([]int64, len(top)), make([]int64, len(top))
	for i, r := range top {
		docs[i], fps[i] = r.doc, r.fp
	}
	return docs, fps, behind, true, nil
}
