package readmodel

import "sync/atomic"

// Model is where the current Snapshot is published.
//
// Who writes: one writer only (the store, under its lock of image
// writes), after each commit that changed images: it applies the
// commit's Change to the current snapshot and publishes the result.
// When replaced: after every such commit, and once when the images were
// first loaded. What readers may assume: a Snapshot from Load never
// changes; it is the images as of some commit (never half a write), and
// a later Load returns the same one or a newer one. A reader loads once
// per request, so the page, its total and its facets agree.
type Model struct {
	cur atomic.Pointer[Snapshot]
}

// Load is the current snapshot: an empty one, not Ready, before the
// first Publish.
func (m *Model) Load() *Snapshot {
	if s := m.cur.Load(); s != nil {
		return s
	}
	return &Snapshot{}
}

// Publish makes s the current snapshot. Only the one writer calls it.
func (m *Model) Publish(s *Snapshot) { m.cur.Store(s) }
