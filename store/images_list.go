package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/imagedash/imagedash/cloud"
)

// Page sizes: DefaultLimit when ImageQuery.Limit is not set, never more
// than MaxLimit.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// ImageQuery selects, orders and pages cached images. Filters of different
// fields are ANDed; the values of one list field are ORed.
type ImageQuery struct {
	Service cloud.Service
	// FolderIDs limits the images to these folders; empty means all.
	FolderIDs []string
	// Text is what the person typed in the search box: every word must
	// occur in the name, description, id, family or labels ("key=value"),
	// the last word as a prefix. Any text is safe; punctuation is ignored.
	Text     string
	Statuses []string
	Families []string
	OS       string
	Labels   []LabelFilter
	// Sort is one of name, id, folder, family, status, os, size,
	// storage_size, min_disk_size, checksum, created_at ("" is name). Ties
	// are broken by id, in the same direction. Folder orders by the folder's
	// id, not its name: it groups each folder's rows together by the
	// (service, folder_id, id) index, where ordering by name would need the
	// folders joined into every page.
	Sort string
	Desc bool
	// Limit is the page size, 1..MaxLimit; 0 or less means DefaultLimit,
	// more than MaxLimit means MaxLimit.
	Limit int
	// After is ImagePage.Next of the previous page; Before is ImagePage.Prev
	// of the next one. At most one is set; neither means the first page.
	After  string
	Before string
}

// LabelFilter keeps images with label Key equal to Value, or with label
// Key at all when AnyValue is set.
type LabelFilter struct {
	Key      string
	Value    string
	AnyValue bool
}

// ImagePage is one page of an ImageQuery.
type ImagePage struct {
	// Images are the page's rows; their Labels and ProductIDs are shared
	// with the store's cache and must not be modified (see Store.Images).
	Images []cloud.Image
	// Total counts every image that matches the filters, on all pages.
	Total int
	// Next and Prev are the cursors of the pages after and before this one
	// (for ImageQuery.After and Before); "" when there is none.
	Next, Prev string
	// Memo is shared by every caller that gets this page from the cache
	// (until the next write): what a caller derives from the page alone
	// (formatted rows) it may compute once and keep there. Never nil.
	Memo *Memo
}

// Memo holds one value derived from a cached page, computed once.
type Memo struct {
	once sync.Once
	v    any
}

// Do returns the memo's value, calling f to compute it the first time.
func (m *Memo) Do(f func() any) any {
	m.once.Do(func() { m.v = f() })
	return m.v
}

// FacetCount is how many images have one value of a field.
type FacetCount struct {
	Value string
	Count int
}

// Facets are the counts of images per status and per family (the 30
// largest families; images without a family are not counted) for a query,
// each computed without the query's own filter on that field, so the
// counts say what choosing another value would give.
type Facets struct {
	Statuses []FacetCount
	Families []FacetCount
}

// maxFamilyFacets is how many families Facets returns.
const maxFamilyFacets = 30

// FamilySummary is one image family.
type FamilySummary struct {
	Family string
	Count  int
	// Latest is the newest READY (or ACTIVE) image of the family, or the
	// newest image when none is ready.
	Latest cloud.Image
}

// sortColumn is a column ImageQuery.Sort may name.
type sortColumn struct {
	name    string
	numeric bool
}

// sortColumnOf maps a Sort to its column.
func sortColumnOf(sort string) (sortColumn, bool) {
	switch sort {
	case "", "name":
		return sortColumn{name: "name"}, true
	case "id", "family", "status", "os", "checksum":
		return sortColumn{name: sort}, true
	case "folder":
		return sortColumn{name: "folder_id"}, true
	case "size", "storage_size", "min_disk_size", "created_at":
		return sortColumn{name: sort, numeric: true}, true
	}
	return sortColumn{}, false
}

// ValidSort reports whether sort is a value ImageQuery.Sort accepts.
func ValidSort(sort string) bool {
	_, ok := sortColumnOf(sort)
	return ok
}

// value is img's value in the column, as stored.
func (c sortColumn) value(img cloud.Image) any {
	switch c.name {
	case "name":
		return img.Name
	case "folder_id":
		return img.FolderID
	case "family":
		return img.Family
	case "status":
		return img.Status
	case "os":
		return img.OS
	case "size":
		return img.Size
	case "storage_size":
		return img.StorageSize
	case "min_disk_size":
		return img.MinDiskSize
	case "checksum":
		return img.Checksum
	case "created_at":
		return ms(img.CreatedAt)
	}
	return nil // id: the cursor's id is the value
}

// where is a conjunction of SQL conditions with their arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// in adds "expr IN (?, ...)" for vals.
func (w *where) in(expr string, vals []string) {
	ph := strings.Repeat("?, ", len(vals))
	ph = ph[:len(ph)-2]
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	w.add(expr+" IN ("+ph+")", args...)
}

// sql is the WHERE clause.
func (w where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// with is a copy of w with one more condition.
func (w where) with(cond string, args ...any) where {
	return where{
		conds: append(slices.Clip(w.conds), cond),
		args:  append(slices.Clip(w.args), args...),
	}
}

// facet names a filter that Facets leaves out.
type facet int

const (
	noFacet facet = iota
	statusFacet
	familyFacet
	bothFacets // leaves out the status and the family filters
)

// check validates q and returns its sort column and page size.
func (q ImageQuery) check() (sortColumn, int, error) {
	if !q.Service.Valid() {
		return sortColumn{}, 0, fmt.Errorf("%w: unknown service %q", ErrInvalid, q.Service)
	}
	col, ok := sortColumnOf(q.Sort)
	if !ok {
		return col, 0, fmt.Errorf("%w: cannot sort by %q", ErrInvalid, q.Sort)
	}
	for _, l := range q.Labels {
		if l.Key == "" {
			return col, 0, fmt.Errorf("%w: label filter without a key", ErrInvalid)
		}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	return col, min(limit, MaxLimit), nil
}

// defaultFTSDriveMax is the number of matching rows up to which a page of
// a text search is read from the search index (textDrive: look up every
// match, sort them) rather than by walking the sort column's index and
// testing each row against the matches (textSet). The walk costs about
// limit × rows/matches steps, the look-ups one step a match: with 100 000
// images the walk wins past a couple of thousand matches.
const defaultFTSDriveMax = 2000

// selection is the FROM and WHERE of a query over images (alias i).
type selection struct {
	from  string
	where where
}

// sql is "FROM ... WHERE ...".
func (sel selection) sql() string { return " FROM " + sel.from + sel.where.sql() }

// textPlan is how a query uses the search index when q has text.
type textPlan int

const (
	// textSet: the matches are a set each row read from an images index
	// is tested against (good when most rows match).
	textSet textPlan = iota
	// textDrive: the search index drives, one look-up per match (good
	// when few rows match).
	textDrive
	// textRow: each row is tested on its own (for a query of one row).
	textRow
	// textSetProbe: textSet, with label filters tested by a look-up a row
	// (for a page that walks a sort index past many matches).
	textSetProbe
)

// selection is the rows of q, without the filter of skip, with text
// matched as plan says.
func (q ImageQuery) selection(skip facet, plan textPlan) selection {
	sel := selection{from: "images i"}
	w := &sel.where
	if m := q.ftsText(); m != "" {
		switch plan {
		case textDrive:
			sel.from = "images_fts f CROSS JOIN images i ON i.doc = f.rowid"
			w.add("f.images_fts MATCH ?", m)
		case textRow:
			w.add("EXISTS (SELECT 1 FROM images_fts WHERE images_fts MATCH ? AND rowid = i.doc)", m)
		default:
			w.add("i.doc IN (SELECT rowid FROM images_fts WHERE images_fts MATCH ?)", m)
		}
	}
	w.add("i.service = ?", string(q.Service))
	if len(q.FolderIDs) > 0 {
		w.in("i.folder_id", q.FolderIDs)
	}
	if len(q.Statuses) > 0 && skip != statusFacet && skip != bothFacets {
		w.in("i.status", q.Statuses)
	}
	if len(q.Families) > 0 && skip != familyFacet && skip != bothFacets {
		w.in("i.family", q.Families)
	}
	if q.OS != "" {
		w.add("i.os = ?", q.OS)
	}
	for _, l := range q.Labels {
		if plan == textRow || plan == textSetProbe {
			// One look-up in the labels' primary key a row: for a walk of
			// a sort index that meets many matches, cheaper than building
			// the set of all of them.
			cond := `EXISTS (SELECT 1 FROM image_labels l WHERE l.service = i.service AND l.image_id = i.id AND l.key = ?`
			if l.AnyValue {
				w.add(cond+`)`, l.Key)
			} else {
				w.add(cond+` AND l.value = ?)`, l.Key, l.Value)
			}
			continue
		}
		if l.AnyValue {
			w.add(`i.id IN (SELECT l.image_id FROM image_labels l WHERE l.service = ? AND l.key = ?)`,
				string(q.Service), l.Key)
			continue
		}
		w.add(`i.id IN (SELECT l.image_id FROM image_labels l WHERE l.service = ? AND l.key = ? AND l.value = ?)`,
			string(q.Service), l.Key, l.Value)
	}
	return sel
}

// rowKey is the (sort value, id) of a row, where a page starts or ends.
type rowKey struct {
	value any
	id    string
}

// order is a direction of the keyset (col, id).
type order struct {
	col  sortColumn
	desc bool
	// sorted: order the matches found by the filters' indexes rather
	// than walk the sort column's index (unary + keeps SQLite off it).
	// For a filter with few matches, such as a rare status: the walk would
	// read the whole index, and its rows, to find them (100+ ms over
	// 60 000 rows), where sorting a few hundred costs about a millisecond.
	sorted bool
}

// by is the ORDER BY.
func (o order) by() string {
	dir := " ASC"
	if o.desc {
		dir = " DESC"
	}
	p := o.prefix()
	if o.col.name == "id" {
		return p + "i.id" + dir
	}
	return p + "i." + o.col.name + dir + ", " + p + "i.id" + dir
}

// prefix is what goes before a column: "+" when sorted.
func (o order) prefix() string {
	if o.sorted {
		return "+"
	}
	return ""
}

// after is the condition "the row comes after k in this order"; orEqual
// includes k itself.
func (o order) after(k rowKey, orEqual bool) (string, []any) {
	op := ">"
	if o.desc {
		op = "<"
	}
	if orEqual {
		op += "="
	}
	p := o.prefix()
	if o.col.name == "id" {
		return p + "i.id " + op + " ?", []any{k.id}
	}
	return "(" + p + "i." + o.col.name + ", " + p + "i.id) " + op + " (?, ?)", []any{k.value, k.id}
}

// reverse is the opposite order.
func (o order) reverse() order { return order{o.col, !o.desc, o.sorted} }

// Images is one page of the cached images that match q, in q's order.
// Paging is by keyset on (sort column, id): each page starts after (or
// ends before) the key in its cursor, so a deep page costs what the first
// one does and rows written between two pages are neither repeated nor
// skipped. A cursor not made for q's sort order is an ErrBadCursor.
//
// In one read transaction: the count (by FTS5 alone when there is text),
// the page, and, after a cursor, whether rows lie on its other side (for
// Prev or Next). A text query asked again within a write generation pages
// from its cached match list instead (see matchList).
//
// The page itself is cached too, per write generation, under q's filters,
// sort, page size and cursor (see pageKey): the list partial asks for the
// same few pages again and again between two syncs, and a write makes
// stale the cached pages whose filters the written images match (before
// or after the write; see cache_delta.go). Like the totals, a page read
// in the moment between a write's commit and the generation's bump may be
// the one of the snapshot just before the write. The images' Labels maps and
// ProductIDs slices are shared with the cache (copying them cost more than
// the rest of a cached page): read them, never modify them.
func (s *Store) Images(ctx context.Context, q ImageQuery) (ImagePage, error) {
	col, limit, err := q.check()
	if err != nil {
		return ImagePage{}, fmt.Errorf("store: list images: %w", err)
	}
	if q.After != "" && q.Before != "" {
		return ImagePage{}, fmt.Errorf("store: list images: %w: both after and before", ErrBadCursor)
	}
	var key *rowKey
	for _, c := range []string{q.After, q.Before} {
		if c == "" {
			continue
		}
		v, id, err := parseCursor(c, col, q.Desc)
		if err != nil {
			return ImagePage{}, fmt.Errorf("store: list images: %w", err)
		}
		key = &rowKey{value: v, id: id}
	}
	compute := func() (any, int, error) {
		p, err := s.images(ctx, q, col, limit, key)
		p.Memo = &Memo{}
		return p, len(p.Images), err
	}
	v, err := s.cache.getPageTagged(q.pageKey(col, limit), newTag(tagPage, q), compute)
	if err != nil && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// The request this one waited on was cancelled, not this one.
		v, _, err = compute()
	}
	if err != nil {
		return ImagePage{}, fmt.Errorf("store: list images: %w", err)
	}
	page := v.(ImagePage)
	page.Images = slices.Clone(page.Images) // the maps and slices in it are shared
	return page, nil
}

// pageKey is the cache key of q's page: its filters (filterKey), sort
// column and direction, page size and cursor.
func (q ImageQuery) pageKey(col sortColumn, limit int) string {
	desc := "a"
	if q.Desc {
		desc = "d"
	}
	return "P" + col.name + "\x00" + desc + uitoa(uint64(limit)) + "\x00" + q.After + "\x00" + q.Before + "\x00" + q.filterKey()
}

// images is Images after the checks, without the page cache.
func (s *Store) images(ctx context.Context, q ImageQuery, col sortColumn, limit int, key *rowKey) (ImagePage, error) {
	var page ImagePage
	shown := order{col: col, desc: q.Desc}
	// walk is the order rows are read in: backwards for a Before page.
	walk := shown
	if q.Before != "" {
		walk = shown.reverse()
	}
	cursorOf := func(img cloud.Image) string { return makeCursor(col, q.Desc, col.value(img), img.ID) }

	// The total first, outside the page's read transaction: it may wait
	// for another request's count of the same grid, and waiting while
	// holding a reader connection could leave that count none to run on.
	warm := s.cache.has("T" + q.filterKey())
	total, err := s.total(ctx, q)
	if err != nil {
		return ImagePage{}, fmt.Errorf("count: %w", err)
	}
	page.Total = total
	s.memReady(ctx) // loaded, when it must be, before taking a reader
	for attempt := 1; ; attempt++ {
		err = s.readPage(ctx, q, col, walk, key, limit, total, warm, attempt, &page, cursorOf)
		if !errors.Is(err, errMemStale) {
			break
		}
		// A write committed and its rows are not in the index yet (or
		// the other way round): once it has them, read again.
		s.pageStats.memRetries.Add(1)
		s.mem.settled()
	}
	if err != nil {
		return ImagePage{}, err
	}
	return page, nil
}

// memPageAttempts is how many times a page is read with the in-memory
// index before a disagreement with SQLite sends it down the SQL path.
const memPageAttempts = 3

// memDrifted drops the in-memory index after a page found it wrong on
// every attempt: with no write under way (imageWrites free) it disagrees
// with the database for good, which only a bug could do, and it loads
// again from the database on a later list rather than send every page
// down three reads and SQL.
func (s *Store) memDrifted() {
	if !s.imageWrites.TryLock() {
		return // a write is under way: the disagreement may be its own
	}
	defer s.imageWrites.Unlock()
	s.mem.drop()
	s.pageStats.memDrops.Add(1)
}

// errMemStale: a page's rows read from SQLite disagree with the index.
var errMemStale = errors.New("in-memory index is behind the database")

// readPage is one attempt of images at reading the page into page:
// errMemStale when the index disagreed with the rows and attempts remain.
func (s *Store) readPage(ctx context.Context, q ImageQuery, col sortColumn, walk order, key *rowKey, limit, total int, warm bool,
	attempt int, page *ImagePage, cursorOf func(cloud.Image) string) error {
	snap := s.cache.gen.Load() // before the page's snapshot: see matchList
	return s.read(ctx, func(tx *sql.Tx) error {
		rows, more, behind, err := s.listPage(ctx, tx, snap, q, col, walk, key, limit, total, warm)
		if errors.Is(err, errMemStale) && attempt < memPageAttempts {
			return err
		}
		if errors.Is(err, errMemStale) {
			s.pageStats.sql.Add(1) // (a stale match list counted already)
			s.memDrifted()
		}
		if errors.Is(err, errListStale) || errors.Is(err, errMemStale) {
			rows, more, behind, err = s.sqlPage(ctx, tx, q, walk, key, limit, total)
		}
		if err != nil {
			return err
		}
		// The cursors at the two ends of the walk.
		var back, ahead string
		if more {
			ahead = cursorOf(rows[len(rows)-1])
		}
		if key != nil {
			switch {
			case !behind:
			case len(rows) > 0:
				back = cursorOf(rows[0])
			default:
				back = makeCursor(col, q.Desc, key.value, key.id)
			}
		}
		if q.Before == "" {
			page.Images, page.Prev, page.Next = rows, back, ahead
			return nil
		}
		slices.Reverse(rows)
		page.Images, page.Prev, page.Next = rows, ahead, back
		return nil
	})
}

// listPage is up to limit rows of q after key (when not nil) in the walk
// order, whether more follow and whether a row of q lies at or behind key:
// from q's match list when it has one (see useMatchList), else by SQL.
// errListStale when the list no longer fits the rows.
func (s *Store) listPage(ctx context.Context, tx *sql.Tx, snap uint64, q ImageQuery, col sortColumn, walk order, key *rowKey, limit, total int, warm bool) ([]cloud.Image, bool, bool, error) {
	if total == 0 {
		return nil, false, false, nil // nothing matches: nothing to read
	}
	if docs, fps, behind, ok, err := s.memPage(ctx, tx, snap, q, walk, key, limit+1); err != nil {
		return nil, false, false, err
	} else if ok {
		more := len(docs) > limit
		if more {
			docs, fps = docs[:limit], fps[:limit]
		}
		rows, err := rowsOfDocs(ctx, tx, docs, fps)
		if errors.Is(err, errListStale) {
			return nil, false, false, errMemStale
		}
		if err == nil {
			s.pageStats.memory.Add(1)
		}
		return rows, more, behind, err
	}
	s.pageStats.sql.Add(1)
	if s.useMatchList(q, total, warm) {
		l, err := s.matchList(ctx, tx, snap, q, col)
		if err != nil {
			return nil, false, false, fmt.Errorf("match list: %w", err)
		}
		if !l.tooMany {
			return l.page(ctx, tx, q, walk, key, limit)
		}
	}
	return s.sqlPage(ctx, tx, q, walk, key, limit, total)
}

// sqlPage is listPage by one query for the page (as planFor says) and, after
// a cursor, one or two for what lies behind it.
func (s *Store) sqlPage(ctx context.Context, tx *sql.Tx, q ImageQuery, walk order, key *rowKey, limit, total int) (rows []cloud.Image, more, behind bool, err error) {
	if total == 0 {
		return nil, false, false, nil // nothing matches: nothing to read
	}
	if total <= s.sortedPageMax && q.ftsText() == "" {
		walk.sorted = true
	}
	query, args := q.pageSQL(s.planFor(q, total), walk, key, limit+1)
	rows, err = queryImages(ctx, tx, query, args...)
	if err != nil {
		return nil, false, false, err
	}
	more = len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	if key != nil {
		if behind, err = anyBehind(ctx, tx, q, walk, *key); err != nil {
			return nil, false, false, fmt.Errorf("probe: %w", err)
		}
	}
	return rows, more, behind, nil
}

// defaultSortedPageMax is the most matches a query without text may have
// for its pages to sort the matches instead of walking the sort index
// (see order.sorted).
const defaultSortedPageMax = 1000

// planFor is how the page of q, with total matches, uses the search index.
//
// Many matches: walk the sort column's index, testing the text against the
// set of matches and each label filter by one look-up a row
// (textSetProbe), about limit × rows/matches look-ups, instead of
// collecting every label match first. (FTS5 has no cheap look-up a row:
// each MATCH reads the term's whole doclist.)
func (s *Store) planFor(q ImageQuery, total int) textPlan {
	if total <= s.ftsDriveMax {
		return textDrive
	}
	return textSetProbe
}

// pageSQL is the query of up to n rows of q after key (when not nil) in
// the walk order.
func (q ImageQuery) pageSQL(plan textPlan, walk order, key *rowKey, n int) (string, []any) {
	sel := q.selection(noFacet, plan)
	if key != nil {
		cond, args := walk.after(*key, false)
		sel.where = sel.where.with(cond, args...)
	}
	return `SELECT ` + imageCols + sel.sql() + ` ORDER BY ` + walk.by() + ` LIMIT ?`, append(sel.where.args, n)
}

// total is the number of rows of q, from the cache when no write happened
// since it was last counted. Sort and cursors do not change it, so paging
// and re-sorting never recount. Without text it is summed from q's facet
// grid (read in a read transaction of its own when not cached), which
// every status and family filter over the same other filters shares.
func (s *Store) total(ctx context.Context, q ImageQuery) (int, error) {
	v, err := s.cache.getTagged("T"+q.filterKey(), newTag(tagTotal, q), func() (any, int, error) {
		if q.ftsText() != "" && !s.memReady(ctx) {
			// Without the in-memory index a search is counted by FTS5
			// alone (countSQL), so its page need not wait for the facet
			// grid, which the list asks for at the same time and which
			// costs a visit of every match in SQL.
			var n int
			err := s.read(ctx, func(tx *sql.Tx) error {
				query, args := q.countSQL()
				return tx.QueryRowContext(ctx, query, args...).Scan(&n)
			})
			return n, 0, err
		}
		g, err := s.grid(ctx, q)
		if err != nil {
			return nil, 0, err
		}
		return g.total(q), 0, nil
	})
	if err != nil {
		return 0, err
	}
	return v.(int), nil
}

// countSQL is the query that counts the rows of q.
func (q ImageQuery) countSQL() (string, []any) {
	if m := q.ftsFiltered(); m != "" {
		return `SELECT count(*) FROM images_fts WHERE images_fts MATCH ?`, []any{m}
	}
	sel := q.selection(noFacet, textSet)
	return `SELECT count(*)` + sel.sql(), sel.where.args
}

// anyBehind reports whether a row of q lies at or behind key in the walk
// order: the row of the key itself (the common case, one look-up), or
// else any row before it.
func anyBehind(ctx context.Context, tx *sql.Tx, q ImageQuery, walk order, key rowKey) (bool, error) {
	back := walk.reverse()
	exists := func(sel selection) (bool, error) {
		var ok bool
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1`+sel.sql()+`)`, sel.where.args...).Scan(&ok)
		return ok, err
	}
	// The key's own row, if it still matches and has not moved ahead.
	sel := q.selection(noFacet, textRow)
	cond, args := back.after(key, true)
	sel.where = sel.where.with("i.id = ?", key.id).with(cond, args...)
	if ok, err := exists(sel); ok || err != nil {
		return ok, err
	}
	sel = q.selection(noFacet, textSet)
	cond, args = back.after(key, false)
	sel.where = sel.where.with(cond, args...)
	return exists(sel)
}

// queryImages reads the images a query of imageCols returns.
func queryImages(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]cloud.Image, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var imgs []cloud.Image
	for rows.Next() {
		img, err := scanImage(rows)
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, img)
	}
	return imgs, rows.Err()
}

// Facets counts the images matching q per status and per family, each
// without q's own filter on that field. Sort, paging and cursors are ignored.
//
// One pass counts the rows of q's other filters per (status, family) (the
// facet grid); both facets are sums over that grid. The grid is cached
// under q's other filters only, so a person trying statuses and families
// one after another counts it once; a write of a few images moves its
// cells (cache_delta.go).
func (s *Store) Facets(ctx context.Context, q ImageQuery) (Facets, error) {
	q.After, q.Before, q.Sort = "", "", ""
	if _, _, err := q.check(); err != nil {
		return Facets{}, fmt.Errorf("store: facets: %w", err)
	}
	g, err := s.grid(ctx, q)
	if err != nil {
		return Facets{}, fmt.Errorf("store: facets: %w", err)
	}
	return g.facets(q), nil
}

// grid is the facet grid of q's filters but its statuses and families,
// from the cache or counted in a read transaction of its own. Never call
// it while holding a reader connection (see images).
//
// The grid of several folders is the sum of each folder's grid, each
// cached on its own: a person's "all my folders" and each of those folders
// alone then count every row once between them, and one folder's grid is
// read from the (folder, status, family) index alone.
func (s *Store) grid(ctx context.Context, q ImageQuery) (*facetGrid, error) {
	q.Statuses, q.Families = nil, nil
	if folders := slices.Compact(slices.Sorted(slices.Values(q.FolderIDs))); len(folders) > 1 {
		sum := &facetGrid{cells: map[facetCell]int{}}
		for _, f := range folders {
			one := q
			one.FolderIDs = []string{f}
			g, err := s.grid(ctx, one)
			if err != nil {
				return nil, err
			}
			for c, n := range g.cells {
				sum.cells[c] += n
			}
		}
		return sum, nil
	}
	v, err := s.cache.getTagged("G"+q.filterKey(), newTag(tagFacets, q), func() (any, int, error) {
		if g, ok, err := s.memGrid(ctx, q); ok || err != nil {
			return g, 0, err
		}
		var g *facetGrid
		err := s.read(ctx, func(tx *sql.Tx) error {
			var err error
			g, err = facetGridOf(ctx, tx, q)
			return err
		})
		return g, 0, err
	})
	if err != nil {
		return nil, err
	}
	return v.(*facetGrid), nil
}

// facetsSQL counts the rows of q, without its status and family filters,
// per (status, family).
func (q ImageQuery) facetsSQL() (string, []any) {
	sel := q.selection(bothFacets, textDrive)
	return `SELECT i.status, i.family, count(*)` + sel.sql() + ` GROUP BY i.status, i.family`, sel.where.args
}

// facetCell is one (status, family) of a facet grid.
type facetCell struct{ status, family string }

// facetGrid is the rows of a query without its status and family filters,
// counted per (status, family): both facets and the query's total are
// sums over it, and a write of one image moves at most two of its cells
// (see cache_delta.go). Shared by readers once cached: never modified,
// only replaced.
type facetGrid struct {
	cells map[facetCell]int
}

// facetGridOf counts q's facet grid.
func facetGridOf(ctx context.Context, tx *sql.Tx, q ImageQuery) (*facetGrid, error) {
	query, args := q.facetsSQL()
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	g := &facetGrid{cells: map[facetCell]int{}}
	for rows.Next() {
		var (
			c facetCell
			n int
		)
		if err := rows.Scan(&c.status, &c.family, &n); err != nil {
			return nil, err
		}
		g.cells[c] = n
	}
	return g, rows.Err()
}

// facets sums g for q's statuses and families.
func (g *facetGrid) facets(q ImageQuery) Facets {
	statuses, families := map[string]int{}, map[string]int{}
	for c, n := range g.cells {
		if len(q.Families) == 0 || slices.Contains(q.Families, c.family) {
			statuses[c.status] += n
		}
		if c.family != "" && (len(q.Statuses) == 0 || slices.Contains(q.Statuses, c.status)) {
			families[c.family] += n
		}
	}
	return Facets{Statuses: sortedCounts(statuses, -1), Families: sortedCounts(families, maxFamilyFacets)}
}

// total is the rows of g in q's statuses and families.
func (g *facetGrid) total(q ImageQuery) int {
	n := 0
	for c, k := range g.cells {
		if (len(q.Statuses) == 0 || slices.Contains(q.Statuses, c.status)) &&
			(len(q.Families) == 0 || slices.Contains(q.Families, c.family)) {
			n += k
		}
	}
	return n
}

// facets computes the Facets of q.
func facets(ctx context.Context, tx *sql.Tx, q ImageQuery) (Facets, error) {
	g, err := facetGridOf(ctx, tx, q)
	if err != nil {
		return Facets{}, err
	}
	return g.facets(q), nil
}

// sortedCounts is m by count, largest first, then by value; at most limit
// of them unless limit is negative. Nil when m is empty.
func sortedCounts(m map[string]int, limit int) []FacetCount {
	if len(m) == 0 {
		return nil
	}
	out := make([]FacetCount, 0, len(m))
	for v, n := range m {
		out = append(out, FacetCount{Value: v, Count: n})
	}
	slices.SortFunc(out, func(a, b FacetCount) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Value, b.Value)
	})
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// Families summarises the image families of a service in some folders
// (all when folderIDs is empty), by family name.
func (s *Store) Families(ctx context.Context, svc cloud.Service, folderIDs []string) ([]FamilySummary, error) {
	if !svc.Valid() {
		return nil, fmt.Errorf("store: families: %w: unknown service %q", ErrInvalid, svc)
	}
	q := ImageQuery{Service: svc, FolderIDs: folderIDs}
	v, err := s.cache.get("M"+q.filterKey(), func() (any, error) { return s.families(ctx, q) })
	if err != nil {
		return nil, fmt.Errorf("store: families of %s: %w", svc, err)
	}
	return slices.Clone(v.([]FamilySummary)), nil
}

// families counts the images of each family with one GROUP BY, then finds
// each family's latest image with an ORDER BY ... LIMIT 1 that walks the
// (service, family, created_at, id) index backwards. Window functions over
// every row did the same in about a second at 100 000 images.
func (s *Store) families(ctx context.Context, q ImageQuery) ([]FamilySummary, error) {
	sel := q.selection(noFacet, textSet)
	sel.where = sel.where.with("i.family <> ''")
	var out []FamilySummary
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT i.family, count(*)"+sel.sql()+" GROUP BY i.family ORDER BY i.family", sel.where.args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var fs FamilySummary
			if err := rows.Scan(&fs.Family, &fs.Count); err != nil {
				rows.Close()
				return err
			}
			out = append(out, fs)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for i := range out {
			// The newest ready image, or the newest of any status when none is ready.
			for _, cond := range []string{"i.status IN ('READY', 'ACTIVE')", "1"} {
				fam := sel.where.with("i.family = ?", out[i].Family).with(cond)
				row := tx.QueryRowContext(ctx, "SELECT "+imageCols+" FROM "+sel.from+fam.sql()+
					" ORDER BY i.created_at DESC, i.id DESC LIMIT 1", fam.args...)
				img, err := scanImage(row)
				if errors.Is(err, sql.ErrNoRows) {
					continue
				}
				if err != nil {
					return err
				}
				out[i].Latest = img
				break
			}
		}
		return nil
	})
	return out, err
}
