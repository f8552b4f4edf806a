package sim

import "slices"

// UpdateMask is the update_mask of the Update call that started operation
// id, as the emulator took it (each path once, in the order sent), so tests
// can see exactly which fields a client asked to change. ok is false when
// the emulator knows no update operation of that id.
func (s *Sim) UpdateMask(id string) (mask []string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, found := s.ops[id]
	if !found || st.kind != opUpdate {
		return nil, false
	}
	return slices.Clone(st.mask), true
}
