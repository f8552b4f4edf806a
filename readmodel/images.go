package readmodel

import (
	"fmt"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/imagedash/imagedash/cloud"
)

// Images is one page of the images that match q, in q's order. Paging is
// by keyset on (sort column, id): each page starts after (or ends before)
// the key in its cursor, so rows written between two pages are neither
// repeated nor skipped. A cursor not made for q's sort order is an
// ErrBadCursor.
func (s *Snapshot) Images(q Query) (Page, error) {
	col, limit, err := q.check()
	if err != nil {
		return Page{}, fmt.Errorf("list images: %w", err)
	}
	if q.After != "" && q.Before != "" {
		return Page{}, fmt.Errorf("list images: %w: both after and before", ErrBadCursor)
	}
	var at *key
	for _, c := range []string{q.After, q.Before} {
		if c == "" {
			continue
		}
		k, err := parseCursor(c, col, q.Desc)
		if err != nil {
			return Page{}, fmt.Errorf("list images: %w", err)
		}
		at = &k
	}
	p := s.parts[q.Service]
	if p == nil {
		return Page{}, nil
	}
	m := s.match(p, q, false, false)
	total := int(m.GetCardinality())
	if total == 0 {
		return Page{}, nil
	}
	w := walk{s: s, p: p, m: m, total: total, col: col, desc: q.Desc != (q.Before != "")}
	// A filter on the sort column itself: its matches are in runs of the
	// order, which the walk seeks to instead of stepping over the others.
	switch col {
	case colStatus:
		w.vals = q.Statuses
	case colFamily:
		w.vals = q.Families
	case colFolder:
		w.vals = q.FolderIDs
	case colOS:
		if q.OS != "" {
			w.vals = []string{q.OS}
		}
	}
	if len(w.vals) > 0 {
		w.vals = slices.Compact(slices.Sorted(slices.Values(w.vals)))
	}
	docs, more, behind := w.page(at, limit)

	page := Page{Total: total, Images: make([]cloud.Image, len(docs))}
	for i, d := range docs {
		page.Images[i] = s.rows.get(d).img
	}
	cursorOf := func(d uint32) string { return makeCursor(col, q.Desc, keyOf(s.rows.get(d), col)) }
	// The cursors at the two ends of the walk.
	var back, ahead string
	if more {
		ahead = cursorOf(docs[len(docs)-1])
	}
	if at != nil && behind {
		if len(docs) > 0 {
			back = cursorOf(docs[0])
		} else {
			back = makeCursor(col, q.Desc, *at)
		}
	}
	if q.Before == "" {
		page.Prev, page.Next = back, ahead
		return page, nil
	}
	slices.Reverse(page.Images)
	page.Prev, page.Next = ahead, back
	return page, nil
}

// walk reads a page of the matches m (total of them) of part p in
// column col's order, descending when desc.
type walk struct {
	s     *Snapshot
	p     *part
	m     *roaring.Bitmap
	total int
	col   column
	desc  bool
	// vals, when not nil, are the only values of col a match may have
	// (sorted).
	vals []string
}

// page is up to limit documents after at (from the start when nil) in
// the walk's direction, whether more follow, and whether a match lies at
// or behind at.
func (w walk) page(at *key, limit int) (docs []uint32, more, behind bool) {
	if w.total > w.s.tune.sortMax {
		// Walking costs about limit × rows/matches steps; past a few
		// times that (the matches bunch elsewhere in this order), sort.
		n := w.p.all.GetCardinality()
		budget := max(w.s.tune.budgetMin, 8*(limit+1)*int(n)/w.total)
		if docs, more, behind, ok := w.walked(at, limit, budget); ok {
			return docs, more, behind
		}
	}
	return w.sorted(at, limit)
}

// cmp orders documents a and b in the walk's direction.
func (w walk) cmp(a, b uint32) int {
	r := cmpEntries(w.s.rows.get(a), w.s.rows.get(b), w.col)
	if w.desc {
		return -r
	}
	return r
}

// ahead reports whether doc comes after at in the walk's direction.
func (w walk) ahead(doc uint32, at key) bool {
	r := cmpKey(w.s.rows.get(doc), w.col, at)
	if w.desc {
		return r < 0
	}
	return r > 0
}

// sorted is page by sorting the matches.
func (w walk) sorted(at *key, limit int) (docs []uint32, more, behind bool) {
	all := w.m.ToArray()
	after := all[:0]
	for _, d := range all {
		if at == nil || w.ahead(d, *at) {
			after = append(after, d)
		} else {
			behind = true
		}
	}
	docs = smallest(after, limit+1, w.cmp)
	if len(docs) > limit {
		return docs[:limit], true, behind
	}
	return docs, false, behind
}

// walked is page by walking the column's order from at, testing each
// document against the matches; ok false after budget steps.
func (w walk) walked(at *key, limit, budget int) (docs []uint32, more, behind, ok bool) {
	o := &w.p.orders[w.col]
	// start: the first place ahead of at; back: the first behind it.
	var start, back pos
	startOK, backOK := true, false
	switch {
	case at == nil && !w.desc:
		start = pos{}
		startOK = !o.end(start)
	case at == nil:
		start, startOK = o.last()
	default:
		ci, i := o.search(w.s, w.col, *at) // the first at or after at
		first := pos{ci, i}
		if !w.desc {
			start = first
			if !o.end(start) && cmpKey(w.s.rows.get(o.at(start)), w.col, *at) == 0 {
				back, backOK = start, true
				start = o.next(start)
			} else {
				back, backOK = o.prev(first)
			}
			startOK = !o.end(start)
		} else {
			start, startOK = o.prev(first)
			back, backOK = first, !o.end(first)
		}
	}
	steps := 0
	checked := -1 // the chunk last tested for matches at all
	for p := start; startOK; {
		if steps++; steps > budget {
			return nil, false, false, false
		}
		if p.c != checked {
			checked = p.c
			if !w.m.Intersects(o.chunks[p.c].set) {
				p, startOK = w.skipChunk(o, p, w.desc)
				continue
			}
		}
		d := o.at(p)
		if w.m.Contains(d) {
			if len(docs) == limit {
				more = true
				break
			}
			docs = append(docs, d)
		} else if w.vals != nil {
			if q, ok, seeked := w.seek(o, d); seeked {
				p, startOK = q, ok
				continue
			}
		}
		if w.desc {
			p, startOK = o.prev(p)
		} else {
			p = o.next(p)
			startOK = !o.end(p)
		}
	}
	checked = -1
	for p := back; at != nil && backOK; {
		if steps++; steps > budget {
			return nil, false, false, false
		}
		if p.c != checked {
			checked = p.c
			if !w.m.Intersects(o.chunks[p.c].set) {
				p, backOK = w.skipChunk(o, p, !w.desc)
				continue
			}
		}
		if w.m.Contains(o.at(p)) {
			behind = true
			break
		}
		if w.desc {
			p = o.next(p)
			backOK = !o.end(p)
		} else {
			p, backOK = o.prev(p)
		}
	}
	return docs, more, behind, true
}

// skipChunk is the place after p's chunk (before it when back), ok false
// past the end.
func (w walk) skipChunk(o *order, p pos, back bool) (pos, bool) {
	if back {
		if p.c == 0 {
			return p, false
		}
		return pos{p.c - 1, len(o.chunks[p.c-1].docs) - 1}, true
	}
	p = pos{p.c + 1, 0}
	return p, !o.end(p)
}

// seek is, when d's value is none of w.vals, the place of the first
// document of the next value of w.vals in the walk's direction (ok
// false: there is none); seeked false when d's value is one of them.
func (w walk) seek(o *order, d uint32) (p pos, ok, seeked bool) {
	x := keyOf(w.s.rows.get(d), w.col).s
	i, found := slices.BinarySearch(w.vals, x)
	if found {
		return pos{}, false, false
	}
	if !w.desc {
		if i == len(w.vals) {
			return pos{}, false, true
		}
		ci, ii := o.search(w.s, w.col, key{s: w.vals[i]})
		p = pos{ci, ii}
		return p, !o.end(p), true
	}
	if i == 0 {
		return pos{}, false, true
	}
	// The last document of value v: the one before the first key past
	// every (v, id).
	ci, ii := o.search(w.s, w.col, key{s: w.vals[i-1] + "\x00"})
	p, ok = o.prev(pos{ci, ii})
	return p, ok, true
}

// smallest is the n smallest of ds by cmp, in order (ds is reordered).
func smallest(ds []uint32, n int, cmp func(a, b uint32) int) []uint32 {
	if len(ds) <= 4*n {
		slices.SortFunc(ds, cmp)
		return ds[:min(n, len(ds))]
	}
	// A max-heap of the n smallest so far.
	h := slices.Clone(ds[:n])
	slices.SortFunc(h, func(a, b uint32) int { return cmp(b, a) }) // descending: a valid max-heap
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(h) {
				return
			}
			if r := l + 1; r < len(h) && cmp(h[r], h[l]) > 0 {
				l = r
			}
			if cmp(h[l], h[i]) <= 0 {
				return
			}
			h[i], h[l] = h[l], h[i]
			i = l
		}
	}
	for _, d := range ds[n:] {
		if cmp(d, h[0]) < 0 {
			h[0] = d
			down(0)
		}
	}
	slices.SortFunc(h, cmp)
	return h
}
