package readmodel

import (
	"slices"
	"sort"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
)

// termDict is a service's search tokens, sorted, each with the documents
// whose text has it, in chunks that also keep the union of their
// tokens' documents: a prefix that covers many tokens (every id starts
// with "fd8") is answered from the unions of the chunks it covers whole.
type termDict struct {
	chunks []*termChunk
}

const (
	termChunkSize = 512
	termChunkMax  = 2 * termChunkSize
	// smallPosting is the most documents a token keeps in a slice before
	// it gets a bitmap: most tokens (ids, checksums) are of one image.
	smallPosting = 16
)

type termChunk struct {
	owner uint64
	terms []string
	posts []posting
	union *roaring.Bitmap // nil when dirty during a change
}

// posting is the documents of one token: docs (sorted) while few, else bm.
type posting struct {
	docs []uint32
	bm   *roaring.Bitmap
}

func (p posting) bitmap() *roaring.Bitmap {
	if p.bm != nil {
		return p.bm
	}
	return roaring.BitmapOf(p.docs...)
}

func (p posting) empty() bool { return p.bm == nil && len(p.docs) == 0 }

// with is p plus doc, sharing nothing with p that it changed.
func (p posting) with(doc uint32) posting {
	if p.bm != nil {
		b := p.bm.Clone()
		b.Add(doc)
		return posting{bm: b}
	}
	i, found := slices.BinarySearch(p.docs, doc)
	if found {
		return p
	}
	if len(p.docs) >= smallPosting {
		b := roaring.BitmapOf(p.docs...)
		b.Add(doc)
		return posting{bm: b}
	}
	return posting{docs: slices.Insert(slices.Clone(p.docs), i, doc)}
}

// without is p minus doc.
func (p posting) without(doc uint32) posting {
	if p.bm != nil {
		b := p.bm.Clone()
		b.Remove(doc)
		if b.GetCardinality() <= smallPosting {
			return posting{docs: b.ToArray()}
		}
		return posting{bm: b}
	}
	i, found := slices.BinarySearch(p.docs, doc)
	if !found {
		return p
	}
	return posting{docs: slices.Delete(slices.Clone(p.docs), i, i+1)}
}

// find is the chunk that holds t, or would, and t's index in it.
func (d *termDict) find(t string) (int, int) {
	ci := sort.Search(len(d.chunks), func(i int) bool {
		ts := d.chunks[i].terms
		return ts[len(ts)-1] >= t
	})
	if ci == len(d.chunks) {
		return ci, 0
	}
	i, _ := slices.BinarySearch(d.chunks[ci].terms, t)
	return ci, i
}

// posting is the documents of token t.
func (d *termDict) posting(t string) posting {
	ci, i := d.find(t)
	if ci == len(d.chunks) || d.chunks[ci].terms[i] != t {
		return posting{}
	}
	return d.chunks[ci].posts[i]
}

// prefix is the documents of every token that starts with p.
func (d *termDict) prefix(p string) *roaring.Bitmap {
	ci, i := d.find(p)
	var (
		bms  []*roaring.Bitmap
		docs []uint32
	)
	for ; ci < len(d.chunks); ci, i = ci+1, 0 {
		ch := d.chunks[ci]
		if i == 0 && strings.HasPrefix(ch.terms[len(ch.terms)-1], p) {
			bms = append(bms, ch.union) // every token of the chunk has p
			continue
		}
		for ; i < len(ch.terms) && strings.HasPrefix(ch.terms[i], p); i++ {
			if ps := ch.posts[i]; ps.bm != nil {
				bms = append(bms, ps.bm)
			} else {
				docs = append(docs, ps.docs...)
			}
		}
		if i < len(ch.terms) {
			break
		}
	}
	if len(docs) > 0 {
		slices.Sort(docs)
		bms = append(bms, roaring.BitmapOf(docs...))
	}
	switch len(bms) {
	case 0:
		return roaring.New()
	case 1:
		return bms[0]
	}
	// Or in place: the unions of many chunks, each sparse, make a dense
	// result, where FastOr's heap of many small inputs costs more.
	out := bms[0].Clone()
	for _, b := range bms[1:] {
		out.Or(b)
	}
	return out
}

// writableChunk is chunk ci, copied first unless owner made it, with its
// union marked dirty (see termDict.finish); the chunk list must be owner's.
func (d *termDict) writableChunk(owner uint64, ci int) *termChunk {
	ch := d.chunks[ci]
	if ch.owner != owner {
		ch = &termChunk{owner: owner, terms: slices.Clone(ch.terms), posts: slices.Clone(ch.posts)}
		d.chunks[ci] = ch
	}
	ch.union = nil
	return ch
}

// add records that doc has token t.
func (d *termDict) add(owner uint64, t string, doc uint32) {
	if len(d.chunks) == 0 {
		d.chunks = append(d.chunks, &termChunk{owner: owner, terms: []string{t}, posts: []posting{{docs: []uint32{doc}}}})
		return
	}
	ci, i := d.find(t)
	if ci == len(d.chunks) {
		ci = len(d.chunks) - 1
		i = len(d.chunks[ci].terms)
	}
	ch := d.writableChunk(owner, ci)
	if i < len(ch.terms) && ch.terms[i] == t {
		ch.posts[i] = ch.posts[i].with(doc)
		return
	}
	ch.terms = slices.Insert(ch.terms, i, t)
	ch.posts = slices.Insert(ch.posts, i, posting{docs: []uint32{doc}})
	if len(ch.terms) > termChunkMax {
		half := len(ch.terms) / 2
		second := &termChunk{owner: owner, terms: slices.Clone(ch.terms[half:]), posts: slices.Clone(ch.posts[half:])}
		ch.terms, ch.posts = ch.terms[:half:half], ch.posts[:half:half]
		d.chunks = slices.Insert(d.chunks, ci+1, second)
	}
}

// remove records that doc no longer has token t.
func (d *termDict) remove(owner uint64, t string, doc uint32) {
	ci, i := d.find(t)
	if ci == len(d.chunks) || d.chunks[ci].terms[i] != t {
		return
	}
	ch := d.writableChunk(owner, ci)
	ch.posts[i] = ch.posts[i].without(doc)
	if !ch.posts[i].empty() {
		return
	}
	ch.terms = slices.Delete(ch.terms, i, i+1)
	ch.posts = slices.Delete(ch.posts, i, i+1)
	if len(ch.terms) == 0 {
		d.chunks = slices.Delete(d.chunks, ci, ci+1)
	}
}

// finish computes the unions of the chunks a change made dirty.
func (d *termDict) finish() {
	for _, ch := range d.chunks {
		if ch.union == nil {
			ch.union = ch.unionOf()
		}
	}
}

func (ch *termChunk) unionOf() *roaring.Bitmap {
	var (
		bms  []*roaring.Bitmap
		docs []uint32
	)
	for _, p := range ch.posts {
		if p.bm != nil {
			bms = append(bms, p.bm)
		} else {
			docs = append(docs, p.docs...)
		}
	}
	b := roaring.New()
	if len(docs) > 0 {
		slices.Sort(docs)
		b = roaring.BitmapOf(docs...)
	}
	if len(bms) > 0 {
		b.Or(roaring.FastOr(bms...))
	}
	return b
}
