package readmodel

import (
	"maps"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/readmodel/search"
)

// Apply is the snapshot after ch. s is not modified: the new snapshot
// copies the chunks, maps and bitmaps ch touches and shares the rest. An
// empty change, or one that changes nothing, returns s itself.
func (s *Snapshot) Apply(ch Change) *Snapshot {
	if ch.Empty() {
		return s
	}
	n := &Snapshot{
		version: s.version + 1,
		ready:   s.ready,
		count:   s.count,
		rows:    rowTable{chunks: slices.Clone(s.rows.chunks)},
		parts:   maps.Clone(s.parts),
		tune:    s.tune,
	}
	if n.parts == nil {
		n.parts = map[cloud.Service]*part{}
	}
	a := &applier{s: n, owner: n.version, fresh: map[*roaring.Bitmap]bool{}}
	changed := false
	for _, doc := range ch.Removes {
		old := n.rows.get(doc)
		if old == nil {
			continue
		}
		changed = true
		p := a.part(old.img.Service)
		a.unindex(p, doc, old, nil)
		n.rows.set(a.owner, doc, nil)
		n.count--
	}
	for _, r := range ch.Upserts {
		old := n.rows.get(r.Doc)
		if old != nil && sameImage(old.img, r.Image) {
			continue
		}
		changed = true
		e := newEntry(r.Image)
		if old != nil && old.img.Service != e.img.Service {
			a.unindex(a.part(old.img.Service), r.Doc, old, nil)
			n.rows.set(a.owner, r.Doc, nil)
			n.count--
			old = nil
		}
		p := a.part(e.img.Service)
		if old != nil {
			a.unindex(p, r.Doc, old, e)
		} else {
			n.count++
		}
		n.rows.set(a.owner, r.Doc, e)
		a.index(p, r.Doc, e, old)
	}
	if !changed {
		return s
	}
	for _, p := range n.parts {
		if p.owner == a.owner {
			p.terms.finish()
		}
	}
	return n
}

// applier makes one new snapshot: every chunk, map and bitmap it copied
// is the new snapshot's own (owner, fresh) and changed in place after.
type applier struct {
	s     *Snapshot
	owner uint64
	fresh map[*roaring.Bitmap]bool
}

// part is svc's part of the new snapshot, its own.
func (a *applier) part(svc cloud.Service) *part {
	p := a.s.parts[svc]
	switch {
	case p == nil:
		p = newPart(a.owner)
		a.s.parts[svc] = p
	case p.owner != a.owner:
		cp := *p
		cp.owner = a.owner
		for _, x := range cp.indexes() {
			arr := *x.shards
			x.shards = &arr
		}
		for c := range cp.orders {
			cp.orders[c].chunks = slices.Clone(cp.orders[c].chunks)
		}
		cp.terms.chunks = slices.Clone(cp.terms.chunks)
		p = &cp
		a.s.parts[svc] = p
	}
	return p
}

func newPart(owner uint64) *part {
	p := &part{owner: owner, all: roaring.New()}
	for _, x := range p.indexes() {
		x.shards = new([indexShards]*indexShard)
	}
	return p
}

func (p *part) indexes() []*index {
	return []*index{&p.folders, &p.statuses, &p.families, &p.oses, &p.labelKeys, &p.labelPairs}
}

// bitmap is b as the new snapshot's own, to change in place.
func (a *applier) bitmap(b *roaring.Bitmap) *roaring.Bitmap {
	if b == nil {
		b = roaring.New()
	} else if !a.fresh[b] {
		b = b.Clone()
	}
	a.fresh[b] = true
	return b
}

func (a *applier) add(x *index, v string, doc uint32) {
	m := x.writable(a.owner, v)
	b := a.bitmap(m[v])
	b.Add(doc)
	m[v] = b
}

func (a *applier) remove(x *index, v string, doc uint32) {
	m := x.writable(a.owner, v)
	b, ok := m[v]
	if !ok {
		return
	}
	b = a.bitmap(b)
	b.Remove(doc)
	if b.IsEmpty() {
		delete(m, v)
		return
	}
	m[v] = b
}

// fields are the values of e a part indexes in bitmaps, by index.
func fields(e *entry) [4]string {
	return [4]string{e.img.FolderID, e.img.Status, e.img.Family, e.img.OS}
}

// unindex takes doc, whose entry is old, out of p's indexes, leaving
// what is the same in keep (when not nil), which index then adds.
func (a *applier) unindex(p *part, doc uint32, old, keep *entry) {
	if keep == nil {
		p.all = a.bitmap(p.all)
		p.all.Remove(doc)
	}
	of := fields(old)
	var kf [4]string
	if keep != nil {
		kf = fields(keep)
	}
	for i, x := range p.indexes()[:4] {
		if keep == nil || of[i] != kf[i] {
			a.remove(x, of[i], doc)
		}
	}
	for k, v := range old.img.Labels {
		kv, ok := "", false
		if keep != nil {
			kv, ok = keep.img.Labels[k]
		}
		if !ok {
			a.remove(&p.labelKeys, k, doc)
		}
		if !ok || kv != v {
			a.remove(&p.labelPairs, labelPairKey(k, v), doc)
		}
	}
	var kt []string
	if keep != nil {
		kt = tokensOf(keep)
	}
	for _, t := range tokensOf(old) {
		if _, found := slices.BinarySearch(kt, t); !found {
			p.terms.remove(a.owner, t, doc)
		}
	}
	for c := range numColumns {
		if keep == nil || cmpEntries(old, keep, c) != 0 {
			p.orders[c].remove(a.owner, a.s, c, doc, old)
		}
	}
}

// index adds doc, whose entry is e (already in the rows), to p's
// indexes, but for what it has in common with old (when not nil).
func (a *applier) index(p *part, doc uint32, e, old *entry) {
	if old == nil {
		p.all = a.bitmap(p.all)
		p.all.Add(doc)
	}
	ef := fields(e)
	var of [4]string
	if old != nil {
		of = fields(old)
	}
	for i, x := range p.indexes()[:4] {
		if old == nil || of[i] != ef[i] {
			a.add(x, ef[i], doc)
		}
	}
	for k, v := range e.img.Labels {
		ov, ok := "", false
		if old != nil {
			ov, ok = old.img.Labels[k]
		}
		if !ok {
			a.add(&p.labelKeys, k, doc)
		}
		if !ok || ov != v {
			a.add(&p.labelPairs, labelPairKey(k, v), doc)
		}
	}
	var ot []string
	if old != nil {
		ot = tokensOf(old)
	}
	for _, t := range tokensOf(e) {
		if _, found := slices.BinarySearch(ot, t); !found {
			p.terms.add(a.owner, t, doc)
		}
	}
	for c := range numColumns {
		if old == nil || cmpEntries(old, e, c) != 0 {
			p.orders[c].insert(a.owner, a.s, c, doc, e)
		}
	}
}

// textFields are the five texts the search box looks at, cut into tokens.
func textFields(img cloud.Image) [5][]string {
	return [5][]string{
		search.Tokens(nil, img.Name),
		search.Tokens(nil, img.Description),
		search.Tokens(nil, img.ID),
		search.Tokens(nil, img.Family),
		search.Tokens(nil, search.LabelText(img.Labels)),
	}
}

// tokensOf is the distinct tokens of e's text, sorted.
func tokensOf(e *entry) []string {
	f := textFields(e.img)
	all := make([]string, 0, len(f[0])+len(f[1])+len(f[2])+len(f[3])+len(f[4]))
	for _, ts := range f {
		all = append(all, ts...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}
