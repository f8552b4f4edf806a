package readmodel

import (
	"fmt"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
)

// Facets counts the images matching q per status and per family, each
// without q's own filter on that field. Sort, paging and cursors are
// ignored.
func (s *Snapshot) Facets(q Query) (Facets, error) {
	q.After, q.Before, q.Sort = "", "", ""
	if _, _, err := q.check(); err != nil {
		return Facets{}, fmt.Errorf("facets: %w", err)
	}
	p := s.parts[q.Service]
	if p == nil {
		return Facets{}, nil
	}
	// base: the other filters; each facet adds the other facet's filter.
	base := s.match(p, q, true, true)
	if base.IsEmpty() {
		return Facets{}, nil
	}
	byStatus := base
	if len(q.Families) > 0 {
		byStatus = roaring.And(base, s.anyOf(p.families, q.Families))
	}
	byFamily := base
	if len(q.Statuses) > 0 {
		byFamily = roaring.And(base, s.anyOf(p.statuses, q.Statuses))
	}
	all := p.all.GetCardinality()
	statuses := s.counts(byStatus, all, p.statuses, func(e *entry) string { return e.img.Status })
	families := s.counts(byFamily, all, p.families, func(e *entry) string { return e.img.Family })
	delete(families, "") // images without a family are not counted
	return Facets{Statuses: sortedCounts(statuses, -1), Families: sortedCounts(families, maxFamilyFacets)}, nil
}

// anyOf is the documents with any of vals in x.
func (s *Snapshot) anyOf(x index, vals []string) *roaring.Bitmap {
	var bms []*roaring.Bitmap
	for _, v := range vals {
		if b := x.get(v); b != nil {
			bms = append(bms, b)
		}
	}
	return roaring.FastOr(bms...)
}

// counts is the number of documents of m per value of a field, whose
// index is x and whose value in a row is val; all is the number of
// documents of the part.
//
// Three ways, by cost: m is the whole part (no other filter): each
// value's own count; m is small next to the values' bitmaps: read its
// rows; else intersect m with each value's bitmap.
func (s *Snapshot) counts(m *roaring.Bitmap, all uint64, x index, val func(*entry) string) map[string]int {
	out := map[string]int{}
	n := m.GetCardinality()
	if n == all {
		x.each(func(v string, b *roaring.Bitmap) { out[v] = int(b.GetCardinality()) })
		return out
	}
	// A row costs a look-up and a count (about 8 units); an intersection
	// costs about a unit an element of the value's sparse containers and
	// a fixed amount (128) a dense one, which holds up to 65 536.
	dense := 128 * (all>>16 + 1)
	var intersect uint64
	x.each(func(_ string, b *roaring.Bitmap) { intersect += min(b.GetCardinality(), dense) })
	if n <= uint64(s.tune.scanMax) || 8*n <= intersect {
		m.Iterate(func(doc uint32) bool {
			out[val(s.rows.get(doc))]++
			return true
		})
		return out
	}
	x.each(func(v string, b *roaring.Bitmap) {
		if n := m.AndCardinality(b); n > 0 {
			out[v] = int(n)
		}
	})
	return out
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
