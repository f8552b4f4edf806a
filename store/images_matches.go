package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/imagedash/imagedash/cloud"
)

// A text search with many matches, sorted by another column, cannot page
// off an index: FTS5 reads the term's whole doclist at each MATCH (9 ms
// for a word in 30 000 of 100 000 images), whether the page then walks the
// sort index against the set of matches or sorts them. So the first time
// a text query is asked again within a write generation, the store reads
// all its matches once, in (sort column, id) order, and keeps that list
// (docs and fingerprints, 16 bytes a match) in the query cache. Every page
// of the query, either direction, forwards or back, is then a binary
// search for the cursor and one look-up of the page's rows by doc.
//
// The list is of one generation: a write bumps it, and the list is used
// again only if the write kept it (no written image matched the query,
// before or after: cache_delta.go). Between a write's commit and that bump
// a reader may still use the list while reading rows of the newer snapshot; each row of the page is
// checked against the fingerprint it had in the list, and any difference
// (a changed or deleted row) sends the page down the SQL path instead. So
// a page from a list is exactly the page of the list's snapshot.

// matchList is the rows of a query in ascending (sort column, id) order.
type matchList struct {
	docs []int64
	fps  []int64 // the rows' fingerprints, to tell a row changed since
	// tooMany: more rows than the cache keeps; the query uses SQL.
	tooMany bool
}

// errListStale: a row the list names changed since the list was read.
var errListStale = errors.New("match list is stale")

// useMatchList reports whether the page of q, with total matches, comes
// from a match list: q has text, the same filters were counted before in
// this generation (so the query is being paged, re-sorted or polled, not
// typed), and the matches are not too many to keep.
func (s *Store) useMatchList(q ImageQuery, total int, warm bool) bool {
	return warm && total > 0 && total <= s.cache.matchListMax && q.ftsText() != ""
}

// matchList is the cached list of q's rows in col order, read in tx when
// the cache has none of this generation.
//
// snap is the generation loaded before tx began: the list is read in tx,
// so it may be stored only if no write began since (a list of an older
// snapshot kept as current would miss rows a write added).
func (s *Store) matchList(ctx context.Context, tx *sql.Tx, snap uint64, q ImageQuery, col sortColumn) (*matchList, error) {
	limit := s.cache.matchListMax
	v, err := s.cache.getTaggedAt("L"+col.name+"\x00"+q.filterKey(), newTag(tagList, q), snap, func() (any, int, error) {
		// From the search index, one look-up a match, sorted: the
		// cheapest of the plans tried (walking the sort index against
		// the set of matches costs the same and reads every row).
		sel := q.selection(noFacet, textDrive)
		rows, err := tx.QueryContext(ctx, `SELECT i.doc, i.fingerprint`+sel.sql()+` ORDER BY `+order{col: col}.by(), sel.where.args...)
		if err != nil {
			return nil, 0, err
		}
		defer rows.Close()
		l := &matchList{}
		for rows.Next() {
			if len(l.docs) == limit {
				return &matchList{tooMany: true}, 0, nil
			}
			var doc, fp int64
			if err := rows.Scan(&doc, &fp); err != nil {
				return nil, 0, err
			}
			l.docs = append(l.docs, doc)
			l.fps = append(l.fps, fp)
		}
		if err := rows.Err(); err != nil {
			return nil, 0, err
		}
		l.docs, l.fps = slices.Clip(l.docs), slices.Clip(l.fps)
		return l, max(len(l.docs), 1), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*matchList), nil
}

// page is up to limit rows of l after key (when not nil) in the walk
// order, whether more follow, and whether a row lies at or behind key.
// errListStale when a row it reads changed since l was read.
func (l *matchList) page(ctx context.Context, tx *sql.Tx, q ImageQuery, walk order, key *rowKey, limit int) (rows []cloud.Image, more, behind bool, err error) {
	n := len(l.docs)
	// at is the index in l of the j-th row of the walk.
	at := func(j int) int {
		if walk.desc {
			return n - 1 - j
		}
		return j
	}
	p := 0 // the first row of the walk after key
	if key != nil {
		// first: in l, the first row after key (ascending walk), or the
		// first at or after it, so that the rows before it are the ones
		// after key in a descending walk.
		first, err := l.search(ctx, tx, q, walk.col, *key, !walk.desc)
		if err != nil {
			return nil, false, false, err
		}
		if walk.desc {
			p = n - first
		} else {
			p = first
		}
	}
	end := min(n, p+limit)
	more, behind = n > end, p > 0
	if p >= end {
		return nil, more, behind, nil
	}
	docs, fps := make([]int64, 0, end-p), make([]int64, 0, end-p)
	for j := p; j < end; j++ {
		docs, fps = append(docs, l.docs[at(j)]), append(fps, l.fps[at(j)])
	}
	rows, err = rowsOfDocs(ctx, tx, docs, fps)
	return rows, more, behind, err
}

// rowsOfDocs reads the images of docs, in that order, each checked against
// its fingerprint in fps: errListStale when one changed or is gone.
func rowsOfDocs(ctx context.Context, tx *sql.Tx, docs, fps []int64) ([]cloud.Image, error) {
	if len(docs) == 0 {
		return nil, nil
	}
	byDoc, err := imagesByDoc(ctx, tx, docs)
	if err != nil {
		return nil, err
	}
	rows := make([]cloud.Image, 0, len(docs))
	for j, doc := range docs {
		r, ok := byDoc[doc]
		if !ok || r.fp != fps[j] {
			return nil, errListStale
		}
		rows = append(rows, r.img)
	}
	return rows, nil
}

// search is the index in l of the first row whose key is greater than k
// (after) or not less than k (!after), in ascending order.
func (l *matchList) search(ctx context.Context, tx *sql.Tx, q ImageQuery, col sortColumn, k rowKey, after bool) (int, error) {
	// The common case: the cursor's row is still where it was.
	if i, ok, err := l.find(ctx, tx, q, col, k); err != nil || ok {
		if after {
			i++
		}
		return i, err
	}
	// Binary search, reading the key of each probed row.
	stmt, err := tx.PrepareContext(ctx, `SELECT `+keyCols(col)+`, i.fingerprint FROM images i WHERE i.doc = ?`)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	lo, hi := 0, len(l.docs)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		rk, fp, err := scanKey(stmt.QueryRowContext(ctx, l.docs[mid]), col)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, errListStale
		}
		if err != nil {
			return 0, err
		}
		if fp != l.fps[mid] {
			return 0, errListStale
		}
		c := compareKeys(col, rk, k)
		if c < 0 || (after && c == 0) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, nil
}

// find is the index in l of the row of key k, when that row still has
// that key and is in l unchanged.
func (l *matchList) find(ctx context.Context, tx *sql.Tx, q ImageQuery, col sortColumn, k rowKey) (int, bool, error) {
	var doc int64
	row := tx.QueryRowContext(ctx, `SELECT `+keyCols(col)+`, i.fingerprint, i.doc FROM images i WHERE i.service = ? AND i.id = ?`,
		string(q.Service), k.id)
	rk, fp, err := scanKey(row, col, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil || compareKeys(col, rk, k) != 0 {
		return 0, false, err
	}
	i := slices.Index(l.docs, doc)
	if i < 0 || l.fps[i] != fp {
		return 0, false, nil
	}
	return i, true, nil
}

// keyCols are the columns of a row's key in col's order, for scanKey.
func keyCols(col sortColumn) string {
	if col.name == "id" {
		return "i.id, i.id"
	}
	return "i." + col.name + ", i.id"
}

// scanKey reads keyCols, the fingerprint and extra destinations.
func scanKey(sc scanner, col sortColumn, extra ...any) (rowKey, int64, error) {
	var (
		k   rowKey
		num int64
		str string
		fp  int64
	)
	var v any = &str
	if col.numeric {
		v = &num
	}
	if err := sc.Scan(append([]any{v, &k.id, &fp}, extra...)...); err != nil {
		return k, 0, err
	}
	switch {
	case col.name == "id":
	case col.numeric:
		k.value = num
	default:
		k.value = str
	}
	return k, fp, nil
}

// compareKeys compares two keys of col as SQLite orders them (text by
// bytes, the BINARY collation).
func compareKeys(col sortColumn, a, b rowKey) int {
	if col.name != "id" {
		var c int
		if col.numeric {
			c = cmp.Compare(a.value.(int64), b.value.(int64))
		} else {
			c = strings.Compare(a.value.(string), b.value.(string))
		}
		if c != 0 {
			return c
		}
	}
	return strings.Compare(a.id, b.id)
}

// docImage is an image with its stored fingerprint.
type docImage struct {
	img cloud.Image
	fp  int64
}

// imagesByDoc reads the images of docs.
func imagesByDoc(ctx context.Context, tx *sql.Tx, docs []int64) (map[int64]docImage, error) {
	args := make([]any, len(docs))
	for i, d := range docs {
		args[i] = d
	}
	ph := strings.Repeat("?, ", len(docs))
	rows, err := tx.QueryContext(ctx, `SELECT `+imageCols+`, i.doc, i.fingerprint FROM images i WHERE i.doc IN (`+ph[:len(ph)-2]+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int64]docImage, len(docs))
	for rows.Next() {
		var (
			doc int64
			r   docImage
		)
		if r.img, err = scanImage(rows, &doc, &r.fp); err != nil {
			return nil, err
		}
		out[doc] = r
	}
	return out, rows.Err()
}
