package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrBusy: every hashing slot stayed taken for the whole wait. The caller
// should answer 503 with a Retry-After and let the person try again.
var ErrBusy = errors.New("too many password checks at once")

// Hasher runs password hashes and checks with a bounded number at once.
// An argon2id hash with DefaultParams takes 64 MiB for its duration, so
// fifty people signing in at the same moment would take over 3 GiB
// unbounded; with a Hasher the memory is slots × 64 MiB and the others wait
// their turn (at most Wait), which on a small server is also faster in
// total, since the hashes share the same cores either way.
type Hasher struct {
	slots  chan struct{}
	wait   time.Duration
	params Params
}

// HasherConfig sets a Hasher's bounds.
type HasherConfig struct {
	// Slots is how many hashes run at once (0 → 2: 128 MiB with
	// DefaultParams; each hash uses 2 threads, which fill 2 cores).
	Slots int
	// Wait is the longest a check waits for a slot (0 → 10 s).
	Wait time.Duration
	// Params are the costs of new hashes (zero → DefaultParams). Only
	// tests lower them: a check always uses the costs its hash names.
	Params Params
}

// NewHasher builds a Hasher.
func NewHasher(cfg HasherConfig) *Hasher {
	if cfg.Slots <= 0 {
		cfg.Slots = 2
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 10 * time.Second
	}
	if cfg.Params == (Params{}) {
		cfg.Params = DefaultParams
	}
	return &Hasher{slots: make(chan struct{}, cfg.Slots), wait: cfg.Wait, params: cfg.Params}
}

// RetryAfter is the wait a refused caller should suggest.
func (h *Hasher) RetryAfter() time.Duration { return 5 * time.Second }

// Acquire takes a slot, or gives up after the Hasher's wait or when ctx
// ends (ErrBusy, wrapping ctx's error in the latter case).
func (h *Hasher) Acquire(ctx context.Context) (release func(), err error) {
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	default:
	}
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
}

// Hash is HashPasswordParams with the Hasher's costs, in a slot.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	release, err := h.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return HashPasswordParams(password, h.params)
}

// Check is CheckPassword in a slot: nil, ErrMismatch, ErrBadHash or ErrBusy.
func (h *Hasher) Check(ctx context.Context, encoded, password string) error {
	release, err := h.Acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	return CheckPassword(encoded, password)
}

// CheckNoUser is CheckNoUser in a slot (ErrBusy when none came free), at
// the cost of the hasher's own parameters: those of the hashes it makes,
// so of the accounts whose check it stands in for.
func (h *Hasher) CheckNoUser(ctx context.Context, password string) error {
	release, err := h.Acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	checkNoUser(password, h.params)
	return nil
}
