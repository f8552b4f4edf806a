package cloud

import (
	"context"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// retryPolicy retries read calls that failed with a transient code. Mutations
// never go through it: a second send of a mutation is the caller's decision,
// made with the same idempotency key.
type retryPolicy struct {
	Attempts   int           // total tries, the first included
	Initial    time.Duration // the pause before the second try
	Multiplier float64       // growth of the pause per try
	Max        time.Duration // cap of one pause
	// jitter maps a pause to the one actually slept; nil means a uniform
	// pick in [d/2, d].
	jitter func(time.Duration) time.Duration
	// sleep waits d or until ctx is done; nil means a timer.
	sleep func(ctx context.Context, d time.Duration) error
}

// defaultRetry is 100ms, 200ms, 400ms between four tries, each with jitter,
// never a pause above 2s.
func defaultRetry() retryPolicy {
	return retryPolicy{Attempts: 4, Initial: 100 * time.Millisecond, Multiplier: 2, Max: 2 * time.Second}
}

// retryable reports whether a failed read may be sent again: the server was
// unreachable or asked us to slow down.
func retryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.ResourceExhausted:
		return true
	}
	return false
}

// do calls fn until it succeeds, fails with an error that is not retryable,
// runs out of attempts, or ctx is done. It returns fn's last error.
func (p retryPolicy) do(ctx context.Context, fn func(ctx context.Context) error) error {
	attempts := max(p.Attempts, 1)
	var err error
	for try := 0; try < attempts; try++ {
		if try > 0 {
			if serr := p.wait(ctx, p.backoff(try)); serr != nil {
				return err // the context ended while waiting: report the call's own failure
			}
		}
		err = fn(ctx)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// backoff is the pause before try number try (1 is the first retry), jitter
// included.
func (p retryPolicy) backoff(try int) time.Duration {
	d := float64(p.Initial)
	for i := 1; i < try; i++ {
		d *= p.Multiplier
		if p.Max > 0 && d > float64(p.Max) {
			break
		}
	}
	pause := time.Duration(d)
	if p.Max > 0 && pause > p.Max {
		pause = p.Max
	}
	if p.jitter != nil {
		return p.jitter(pause)
	}
	return halfJitter(pause)
}

// halfJitter picks a pause uniformly in [d/2, d], so clients that failed
// together do not come back together.
func halfJitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

func (p retryPolicy) wait(ctx context.Context, d time.Duration) error {
	if p.sleep != nil {
		return p.sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
