package web

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// TestReadyzPanicEnds: a readiness check that panics answers unavailable,
// and the next interval runs a new check rather than waiting on the one
// that never ended.
func TestReadyzPanicEnds(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	calls := 0
	p := newReadyProbe(func(context.Context) error {
		calls++
		if calls == 1 {
			panic("boom")
		}
		return nil
	}, func() time.Time { return now }, 5*time.Second, slog.New(slog.DiscardHandler))
	if err := p.check(context.Background()); err == nil {
		t.Fatal("a panicking check answered ready")
	}
	now = now.Add(6 * time.Second)
	if err := p.check(context.Background()); err != nil || calls != 2 {
		t.Fatalf("after the panic: err %v after %d calls, want ready after 2", err, calls)
	}
}
