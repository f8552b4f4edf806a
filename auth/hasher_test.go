package auth

import (
	"context"
	"errors"
	"runtime"
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

// TestCheckNoUserCostsWhatACheckCosts: a login for no account costs what
// checking an account the hasher hashed costs, with the hasher's own
// parameters (argon2's cost is its memory, counted here in bytes
// allocated): not the default ones whatever the hasher was given, which
// made a test hasher's unknown-user logins 1 000 times dearer than its
// checks, and would make a deployment with stronger costs answer an
// unknown name faster than a known one.
func TestCheckNoUserCostsWhatACheckCosts(t *testing.T) {
	ctx := context.Background()
	for _, p := range []Params{
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 4 << 10, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32},
	} {
		h := NewHasher(HasherConfig{Params: p})
		hash, err := h.Hash(ctx, "a password")
		if err != nil {
			t.Fatal(err)
		}
		check := allocated(t, func() error { return h.Check(ctx, hash, "another one") })
		noUser := allocated(t, func() error { return h.CheckNoUser(ctx, "another one") })
		if noUser < check/2 || noUser > check*2 {
			t.Errorf("memory %d KiB: a check allocates %d bytes, a login for no account %d", p.Memory, check, noUser)
		}
	}
}

// allocated is the bytes fn allocates.
func allocated(t *testing.T, fn func() error) uint64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := fn()
	runtime.ReadMemStats(&after)
	if err != nil && !errors.Is(err, ErrMismatch) {
		t.Fatal(err)
	}
	return after.TotalAlloc - before.TotalAlloc
}
