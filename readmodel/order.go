package readmodel

import (
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
)

// order is a service's documents sorted by one column's key, ascending,
// in chunks: a change copies the chunks it touches and the chunk list.
type order struct {
	chunks []*orderChunk
}

// Chunk sizes: a built order's chunks hold orderChunk docs; an insert
// that fills one past orderChunkMax splits it.
const (
	orderChunkSize = 1024
	orderChunkMax  = 2 * orderChunkSize
)

type orderChunk struct {
	owner uint64
	docs  []uint32
	// set is docs as a bitmap: a walk skips a chunk without one match in
	// one intersection, where the matches bunch elsewhere in the order
	// (a search for "ubuntu" sorted by name).
	set *roaring.Bitmap
}

func newOrderChunk(owner uint64, docs []uint32) *orderChunk {
	return &orderChunk{owner: owner, docs: docs, set: roaring.BitmapOf(docs...)}
}

// pos is a place in an order: chunk and index in it. The end is
// {len(chunks), 0}.
type pos struct{ c, i int }

// search is the place of the first document whose key is at least k.
func (o *order) search(s *Snapshot, c column, k key) (int, int) {
	ci := sort.Search(len(o.chunks), func(i int) bool {
		d := o.chunks[i].docs
		return cmpKey(s.rows.get(d[len(d)-1]), c, k) >= 0
	})
	if ci == len(o.chunks) {
		return ci, 0
	}
	d := o.chunks[ci].docs
	i := sort.Search(len(d), func(i int) bool { return cmpKey(s.rows.get(d[i]), c, k) >= 0 })
	return ci, i
}

// next is the place after p (p before the end).
func (o *order) next(p pos) pos {
	p.i++
	if p.i == len(o.chunks[p.c].docs) {
		return pos{p.c + 1, 0}
	}
	return p
}

// prev is the place before p, ok false at the start.
func (o *order) prev(p pos) (pos, bool) {
	if p.i > 0 {
		return pos{p.c, p.i - 1}, true
	}
	if p.c == 0 {
		return p, false
	}
	return pos{p.c - 1, len(o.chunks[p.c-1].docs) - 1}, true
}

func (o *order) at(p pos) uint32 { return o.chunks[p.c].docs[p.i] }

func (o *order) end(p pos) bool { return p.c >= len(o.chunks) }

// last is the place of the last document, ok false when empty.
func (o *order) last() (pos, bool) {
	if len(o.chunks) == 0 {
		return pos{}, false
	}
	return pos{len(o.chunks) - 1, len(o.chunks[len(o.chunks)-1].docs) - 1}, true
}

// writableChunk is chunk ci, copied first unless owner made it; the
// chunk list must be owner's.
func (o *order) writableChunk(owner uint64, ci int) *orderChunk {
	ch := o.chunks[ci]
	if ch.owner != owner {
		ch = &orderChunk{owner: owner, docs: append(make([]uint32, 0, len(ch.docs)+1), ch.docs...), set: ch.set.Clone()}
		o.chunks[ci] = ch
	}
	return ch
}

// insert places doc, whose entry in s is e, in column c's order.
func (o *order) insert(owner uint64, s *Snapshot, c column, doc uint32, e *entry) {
	k := keyOf(e, c)
	if len(o.chunks) == 0 {
		o.chunks = append(o.chunks, newOrderChunk(owner, []uint32{doc}))
		return
	}
	ci, i := o.search(s, c, k)
	if ci == len(o.chunks) { // after every key: the end of the last chunk
		ci = len(o.chunks) - 1
		i = len(o.chunks[ci].docs)
	}
	ch := o.writableChunk(owner, ci)
	ch.docs = append(ch.docs, 0)
	copy(ch.docs[i+1:], ch.docs[i:])
	ch.docs[i] = doc
	ch.set.Add(doc)
	if len(ch.docs) > orderChunkMax {
		half := len(ch.docs) / 2
		second := newOrderChunk(owner, append([]uint32(nil), ch.docs[half:]...))
		ch.docs = ch.docs[:half:half]
		ch.set = roaring.BitmapOf(ch.docs...)
		o.chunks = append(o.chunks, nil)
		copy(o.chunks[ci+2:], o.chunks[ci+1:])
		o.chunks[ci+1] = second
	}
}

// remove takes doc, whose entry in s is e, out of column c's order.
func (o *order) remove(owner uint64, s *Snapshot, c column, doc uint32, e *entry) {
	ci, i := o.search(s, c, keyOf(e, c))
	if ci == len(o.chunks) || o.chunks[ci].docs[i] != doc {
		panic("readmodel: removing a document its order does not hold")
	}
	ch := o.writableChunk(owner, ci)
	ch.docs = append(ch.docs[:i], ch.docs[i+1:]...)
	ch.set.Remove(doc)
	if len(ch.docs) == 0 {
		o.chunks = append(o.chunks[:ci], o.chunks[ci+1:]...)
	}
}
