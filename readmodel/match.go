package readmodel

import (
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/imagedash/imagedash/readmodel/search"
)

// match is the documents of p that q's filters keep, without its status
// filter when skipStatus and without its family filter when
// skipFamily. It may be one of the snapshot's bitmaps: not to be modified.
func (s *Snapshot) match(p *part, q Query, skipStatus, skipFamily bool) *roaring.Bitmap {
	sets := []*roaring.Bitmap{p.all}
	anyOf := func(x index, vals []string) bool {
		var bms []*roaring.Bitmap
		for _, v := range vals {
			if b := x.get(v); b != nil {
				bms = append(bms, b)
			}
		}
		switch len(bms) {
		case 0:
			return false
		case 1:
			sets = append(sets, bms[0])
		default:
			sets = append(sets, roaring.FastOr(bms...))
		}
		return true
	}
	if len(q.FolderIDs) > 0 && !anyOf(p.folders, q.FolderIDs) {
		return roaring.New()
	}
	if len(q.Statuses) > 0 && !skipStatus && !anyOf(p.statuses, q.Statuses) {
		return roaring.New()
	}
	if len(q.Families) > 0 && !skipFamily && !anyOf(p.families, q.Families) {
		return roaring.New()
	}
	if q.OS != "" && !anyOf(p.oses, []string{q.OS}) {
		return roaring.New()
	}
	for _, l := range q.Labels {
		ok := false
		if l.AnyValue {
			ok = anyOf(p.labelKeys, []string{l.Key})
		} else {
			ok = anyOf(p.labelPairs, []string{labelPairKey(l.Key, l.Value)})
		}
		if !ok {
			return roaring.New()
		}
	}
	words := search.Parse(q.Text)
	verify := false
	for _, w := range words {
		b := p.word(w)
		if b.IsEmpty() {
			return roaring.New()
		}
		sets = append(sets, b)
		verify = verify || len(w.Tokens) > 1
	}
	// Smallest first: each AND then costs at most the smaller side.
	slices.SortFunc(sets, func(a, b *roaring.Bitmap) int {
		return int(a.GetCardinality()) - int(b.GetCardinality())
	})
	if len(sets) == 1 && !verify {
		return sets[0]
	}
	m := roaring.FastAnd(sets...)
	if verify {
		// A word of several tokens is a phrase: its rows have every token
		// somewhere, and only the check of each row's text says where.
		var drop []uint32
		m.Iterate(func(doc uint32) bool {
			f := textFields(s.rows.get(doc).img)
			if !words.Match(f[:]...) {
				drop = append(drop, doc)
			}
			return true
		})
		for _, d := range drop {
			m.Remove(d)
		}
	}
	return m
}

// word is the documents whose text has every token of w (the last as a
// prefix when w is one): a superset of w's rows when w has several
// tokens, which must then be in one field one after another. Not to be
// modified.
func (p *part) word(w search.Word) *roaring.Bitmap {
	last := len(w.Tokens) - 1
	var sets []*roaring.Bitmap
	for i, t := range w.Tokens {
		if i == last && w.Prefix {
			sets = append(sets, p.terms.prefix(t))
			continue
		}
		ps := p.terms.posting(t)
		if ps.empty() {
			return roaring.New()
		}
		sets = append(sets, ps.bitmap())
	}
	if len(sets) == 1 {
		return sets[0]
	}
	return roaring.FastAnd(sets...)
}
