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
	wg.Go(func() { p.terms = buildTerms(s, owner, docs) })
	wg.Go(func() { p.orders = buildOrders(s, owner, docs) })

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

// buildOrders is docs sorted by each column. The id order comes first:
// every other order breaks its ties by a row's rank in it, an integer,
// and a column of few values (status, folder...) is then sorted by
// bucketing the id order, without comparing at all.
func buildOrders(s *Snapshot, owner uint64, docs []uint32) [numColumns]order {
	var out [numColumns]order
	type byID struct {
		id  string
		doc uint32
	}
	ids := make([]byID, len(docs))
	for i, d := range docs {
		ids[i] = byID{s.rows.get(d).img.ID, d}
	}
	slices.SortFunc(ids, func(a, b byID) int { return cmp.Compare(a.id, b.id) })
	idOrder := make([]uint32, len(ids))
	for i, x := range ids {
		idOrder[i] = x.doc
	}
	ids = nil
	out[colID] = chunked(owner, idOrder)
	for c := range numColumns {
		switch {
		case c == colID:
		case c.numeric():
			out[c] = chunked(owner, sortStable(idOrder, func(d uint32) int64 { return keyOf(s.rows.get(d), c).n }))
		default:
			out[c] = chunked(owner, sortByText(s, c, idOrder))
		}
	}
	return out
}

// sortByText is idOrder (documents in id order) sorted by text column c.
func sortByText(s *Snapshot, c column, idOrder []uint32) []uint32 {
	buckets := map[string][]uint32{}
	for _, d := range idOrder {
		v := keyOf(s.rows.get(d), c).s
		if len(buckets) > 1<<16 {
			buckets = nil
			break
		}
		buckets[v] = append(buckets[v], d)
	}
	if buckets != nil {
		// Few values: each one's documents, in id order, one after another.
		vals := make([]string, 0, len(buckets))
		for v := range buckets {
			vals = append(vals, v)
		}
		slices.Sort(vals)
		out := make([]uint32, 0, len(idOrder))
		for _, v := range vals {
			out = append(out, buckets[v]...)
		}
		return out
	}
	return sortStable(idOrder, func(d uint32) string { return keyOf(s.rows.get(d), c).s })
}

// sortStable is idOrder (documents in id order) sorted by the value key
// gives each, documents of one value staying in id order.
func sortStable[K cmp.Ordered](idOrder []uint32, key func(doc uint32) K) []uint32 {
	type item struct {
		v    K
		rank uint32
		doc  uint32
	}
	items := make([]item, len(idOrder))
	for i, d := range idOrder {
		items[i] = item{key(d), uint32(i), d}
	}
	slices.SortFunc(items, func(a, b item) int {
		if r := cmp.Compare(a.v, b.v); r != 0 {
			return r
		}
		return cmp.Compare(a.rank, b.rank)
	})
	out := make([]uint32, len(items))
	for i, it := range items {
		out[i] = it.doc
	}
	return out
}

// chunked is an order of sorted documents.
func chunked(owner uint64, sorted []uint32) order {
	var o order
	for i := 0; i < len(sorted); i += orderChunkSize {
		part := sorted[i:min(i+orderChunkSize, len(sorted))]
		o.chunks = append(o.chunks, newOrderChunk(owner, slices.Clone(part)))
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
