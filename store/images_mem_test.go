package store

import "testing"

func TestIDSet(t *testing.T) {
	var s idSet
	if s.has(0) {
		t.Error("the empty set has 0")
	}
	for _, id := range []uint32{0, 63, 64, 1000} {
		s = s.with(id)
	}
	for _, c := range []struct {
		id   uint32
		want bool
	}{{0, true}, {1, false}, {63, true}, {64, true}, {65, false}, {999, false}, {1000, true}, {1001, false}, {1 << 20, false}} {
		if got := s.has(c.id); got != c.want {
			t.Errorf("has(%d) = %v, want %v", c.id, got, c.want)
		}
	}
	if len(s) != 1000/64+1 {
		t.Errorf("%d words for ids up to 1000", len(s))
	}
}
