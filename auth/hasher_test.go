package auth

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestHasherBoundsConcurrency: never more than Slots checks at once, and
// every caller gets its turn when the wait allows it.
func TestHasherBoundsConcurrency(t *testing.T) {
	h := NewHasher(HasherConfig{Slots: 2, Wait: time.Minute})
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			release, err := h.Acquire(context.Background())
			if err != nil {
				t.Errorf("acquire: %v", err)
				return
			}
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
			running.Add(-1)
			release()
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 2 || p < 1 {
		t.Errorf("peak concurrency %d, want 1..2", p)
	}
}

// TestHasherBusy: a caller finding every slot taken for its whole wait, or
// whose request ends, gets ErrBusy; the slot holders are unaffected.
func TestHasherBusy(t *testing.T) {
	h := NewHasher(HasherConfig{Slots: 1, Wait: 20 * time.Millisecond})
	release, err := h.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Check(context.Background(), "$argon2id$", "pw"); !errors.Is(err, ErrBusy) {
		t.Errorf("Check while full = %v, want ErrBusy", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h2 := NewHasher(HasherConfig{Slots: 1, Wait: time.Hour})
	r2, _ := h2.Acquire(context.Background())
	if _, err := h2.Hash(ctx, "pw"); !errors.Is(err, ErrBusy) || !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with an ended request = %v, want ErrBusy wrapping context.Canceled", err)
	}
	r2()
	release()
	// Free again: a check runs (cheap parameters, so the test stays fast).
	hash, err := HashPasswordParams("pw", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Check(context.Background(), hash, "pw"); err != nil {
		t.Errorf("Check after release = %v", err)
	}
	if err := h.Check(context.Background(), hash, "other"); !errors.Is(err, ErrMismatch) {
		t.Errorf("Check wrong = %v, want ErrMismatch", err)
	}
}
