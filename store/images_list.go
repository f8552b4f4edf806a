package store

import (
	"context"
	"fmt"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/readmodel"
)

// The list's vocabulary is the read model's (package readmodel); these
// names let callers written against the store compile while they move.
type (
	ImageQuery    = readmodel.Query
	LabelFilter   = readmodel.LabelFilter
	ImagePage     = readmodel.Page
	Facets        = readmodel.Facets
	FacetCount    = readmodel.FacetCount
	FamilySummary = readmodel.FamilySummary
)

// Page sizes (see readmodel).
const (
	DefaultLimit = readmodel.DefaultLimit
	MaxLimit     = readmodel.MaxLimit
)

// ValidSort reports whether sort is a value ImageQuery.Sort accepts.
func ValidSort(sort string) bool { return readmodel.ValidSort(sort) }

// ImageList is a page of a query and its facet counts, read from one
// snapshot, so they agree.
type ImageList struct {
	Page   ImagePage
	Facets Facets
	// Ready is the snapshot's: false while the images are still loading.
	Ready bool
}

// List is a page of q and its facet counts from one snapshot (the list
// page's read: a write published between two loads could otherwise give
// a total and counts that disagree).
func (s *Store) List(ctx context.Context, q ImageQuery) (ImageList, error) {
	if err := ctx.Err(); err != nil {
		return ImageList{}, err
	}
	snap := s.Snapshot()
	p, err := snap.Images(q)
	if err != nil {
		return ImageList{}, fmt.Errorf("store: %w", err)
	}
	f, err := snap.Facets(q)
	if err != nil {
		return ImageList{}, fmt.Errorf("store: %w", err)
	}
	return ImageList{Page: p, Facets: f, Ready: snap.Ready()}, nil
}

// Images is one page of the cached images that match q, from the current
// snapshot (see Snapshot).
func (s *Store) Images(_ context.Context, q ImageQuery) (ImagePage, error) {
	p, err := s.Snapshot().Images(q)
	if err != nil {
		return ImagePage{}, fmt.Errorf("store: %w", err)
	}
	return p, nil
}

// Facets counts the images matching q per status and per family, from
// the current snapshot.
func (s *Store) Facets(_ context.Context, q ImageQuery) (Facets, error) {
	f, err := s.Snapshot().Facets(q)
	if err != nil {
		return Facets{}, fmt.Errorf("store: %w", err)
	}
	return f, nil
}

// Families summarises the image families of a service in some folders,
// from the current snapshot.
func (s *Store) Families(_ context.Context, svc cloud.Service, folderIDs []string) ([]FamilySummary, error) {
	f, err := s.Snapshot().Families(svc, folderIDs)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return f, nil
}
