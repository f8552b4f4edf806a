package readmodel

import (
	"fmt"
	"slices"
	"strings"

	"github.com/imagedash/imagedash/cloud"
)

// Families summarises the image families of a service in some folders
// (all when folderIDs is empty), by family name.
func (s *Snapshot) Families(svc cloud.Service, folderIDs []string) ([]FamilySummary, error) {
	if !svc.Valid() {
		return nil, fmt.Errorf("families: %w: unknown service %q", ErrInvalid, svc)
	}
	p := s.parts[svc]
	if p == nil {
		return nil, nil
	}
	m := s.match(p, Query{Service: svc, FolderIDs: folderIDs}, false, false)
	type best struct {
		n          int
		ready, any *entry
	}
	fams := map[string]*best{}
	newer := func(a, b *entry) bool { return b == nil || cmpEntries(a, b, colCreated) > 0 }
	m.Iterate(func(doc uint32) bool {
		e := s.rows.get(doc)
		if e.img.Family == "" {
			return true
		}
		b := fams[e.img.Family]
		if b == nil {
			b = &best{}
			fams[e.img.Family] = b
		}
		b.n++
		if newer(e, b.any) {
			b.any = e
		}
		if (e.img.Status == "READY" || e.img.Status == "ACTIVE") && newer(e, b.ready) {
			b.ready = e
		}
		return true
	})
	out := make([]FamilySummary, 0, len(fams))
	for f, b := range fams {
		latest := b.ready
		if latest == nil {
			latest = b.any
		}
		out = append(out, FamilySummary{Family: f, Count: b.n, Latest: latest.img})
	}
	slices.SortFunc(out, func(a, b FamilySummary) int { return strings.Compare(a.Family, b.Family) })
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
