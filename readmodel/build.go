package readmodel

import (
	"cmp"
	"slices"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/imagedash/imagedash/cloud"
)

// Build is the snapshot of rows (when two share a document, the last
// wins), ready to answer.
func Build(rows []Row) *Snapshot {
	const owner = 1
	s := &Snapshot{version: 1, ready: true, parts: map[cloud.Service]*part{}, tune: defaultTuning}
	for _, r := range rows {
		if s.rows.get(r.Doc) == nil {
			s.count++
		}
		s.rows.set(owner, r.Doc, newEntry(r.Image))
	}
	docs := map[cloud.Service][]uint32{}
	for ci, ch := range s.rows.chunks {
		if ch == nil {
			continue
		}
		for i, e := range ch.e {
			if e != nil {
				svc := e.img.Service
				docs[svc] = append(docs[svc], uint32(ci<<rowChunkBits|i))
			}
		}
	}
	for svc, ds := range docs {
		s.parts[svc] = buildPart(s, owner, ds)
	}
	return s
}

// buildPart is the part of docs (ascending), whose entries s holds.
func buildPart(s *Snapshot, owner uint64, docs []uint32) *part {
	p := newPart(owner)
	p.all = roaring.BitmapOf(docs...)
	var wg sync.WaitGroup
	// The orders, two at a time beside the rest (the box has few cores).
	sem := make(chan struct{}, 2)
	for c := range numColumns {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			p.orders[c] = buildOrder(s, owner, c, docs)
		})
	}
	wg.Go(func() { p.terms = buildTerms(s, owner, docs) })

	vals := [6]map[string][]uint32{}
	for i := range vals {
		vals[i] = map[string][]uint32{}
	}
	for _, d := range docs {
		e := s.rows.get(d)
		for i, v := range fields(e) {
			vals[i][v] = append(vals[i][v], d)
		}
		for k, v := range e.img.Labels {
			vals[4][k] = append(vals[4][k], d)
			pk := labelPairKey(k, v)
			vals[5][pk] = append(vals[5][pk], d)
		}
	}
	for i, x := range p.indexes() {
		for v, ds := range vals[i] {
			x.writable(owner, v)[v] = roaring.BitmapOf(ds...)
		}
	}
	wg.Wait()
	return p
}

// buildOrder is docs sorted by column c.
func buildOrder(s *Snapshot, owner uint64, c column, docs []uint32) order {
	type item struct {
		e   *entry
		doc uint32
	}
	items := make([]item, len(docs))
	for i, d := range docs {
		items[i] = item{s.rows.get(d), d}
	}
	if c.numeric() {
		slices.SortFunc(items, func(a, b item) int {
			ka, kb := keyOf(a.e, c), keyOf(b.e, c)
			if r := cmp.Compare(ka.n, kb.n); r != 0 {
				return r
			}
			return cmp.Compare(ka.id, kb.id)
		})
	} else {
		slices.SortFunc(items, func(a, b item) int { return cmpEntries(a.e, b.e, c) })
	}
	var o order
	for i := 0; i < len(items); i += orderChunkSize {
		part := items[i:min(i+orderChunkSize, len(items))]
		ch := &orderChunk{owner: owner, docs: make([]uint32, len(part))}
		for j, it := range part {
			ch.docs[j] = it.doc
		}
		o.chunks = append(o.chunks, ch)
	}
	return o
}

// buildTerms is the token dictionary of docs (ascending).
func buildTerms(s *Snapshot, owner uint64, docs []uint32) termDict {
	m := map[string][]uint32{}
	for _, d := range docs {
		for _, t := range tokensOf(s.rows.get(d)) {
			m[t] = append(m[t], d)
		}
	}
	terms := make([]string, 0, len(m))
	for t := range m {
		terms = append(terms, t)
	}
	slices.Sort(terms)
	var d termDict
	for i := 0; i < len(terms); i += termChunkSize {
		ts := terms[i:min(i+termChunkSize, len(terms))]
		ch := &termChunk{owner: owner, terms: ts[:len(ts):len(ts)], posts: make([]posting, len(ts))}
		for j, t := range ts {
			ds := m[t]
			if len(ds) > smallPosting {
				ch.posts[j] = posting{bm: roaring.BitmapOf(ds...)}
			} else {
				ch.posts[j] = posting{docs: ds[:len(ds):len(ds)]}
			}
		}
		ch.union = ch.unionOf()
		d.chunks = append(d.chunks, ch)
	}
	return d
}
