package cloud

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakePolicy records its pauses instead of sleeping, without jitter.
func fakePolicy(pauses *[]time.Duration) retryPolicy {
	p := defaultRetry()
	p.jitter = func(d time.Duration) time.Duration { return d }
	p.sleep = func(ctx context.Context, d time.Duration) error {
		*pauses = append(*pauses, d)
		return ctx.Err()
	}
	return p
}

func TestRetryPolicy(t *testing.T) {
	unavailable := status.Error(codes.Unavailable, "down")
	exhausted := status.Error(codes.ResourceExhausted, "slow down")
	notFound := status.Error(codes.NotFound, "no")
	ms := time.Millisecond
	tests := []struct {
		name       string
		give       []error // what each try returns; past the end, nil
		wantCalls  int
		wantCode   codes.Code
		wantPauses []time.Duration
	}{
		{"success first", nil, 1, codes.OK, nil},
		{"unavailable then success", []error{unavailable}, 2, codes.OK, []time.Duration{100 * ms}},
		{"exhausted twice then success", []error{exhausted, unavailable}, 3, codes.OK, []time.Duration{100 * ms, 200 * ms}},
		{"gives up after four", []error{unavailable, unavailable, unavailable, unavailable, unavailable}, 4, codes.Unavailable, []time.Duration{100 * ms, 200 * ms, 400 * ms}},
		{"not found is final", []error{notFound}, 1, codes.NotFound, nil},
		{"unavailable then not found", []error{unavailable, notFound}, 2, codes.NotFound, []time.Duration{100 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pauses []time.Duration
			p := fakePolicy(&pauses)
			calls := 0
			err := p.do(context.Background(), func(context.Context) error {
				calls++
				if calls <= len(tt.give) {
					return tt.give[calls-1]
				}
				return nil
			})
			if got := status.Code(err); got != tt.wantCode {
				t.Errorf("code = %v, want %v", got, tt.wantCode)
			}
			if calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tt.wantCalls)
			}
			if len(pauses) != len(tt.wantPauses) {
				t.Fatalf("pauses = %v, want %v", pauses, tt.wantPauses)
			}
			for i := range pauses {
				if pauses[i] != tt.wantPauses[i] {
					t.Errorf("pauses = %v, want %v", pauses, tt.wantPauses)
					break
				}
			}
		})
	}
}

func TestRetryBackoffCapAndJitter(t *testing.T) {
	p := retryPolicy{Attempts: 10, Initial: 100 * time.Millisecond, Multiplier: 2, Max: 2 * time.Second}
	p.jitter = func(d time.Duration) time.Duration { return d }
	want := []time.Duration{100, 200, 400, 800, 1600, 2000, 2000}
	for i, w := range want {
		if got := p.backoff(i + 1); got != w*time.Millisecond {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	for range 1000 {
		d := 400 * time.Millisecond
		if got := halfJitter(d); got < d/2 || got > d {
			t.Fatalf("halfJitter(%v) = %v, want within [%v, %v]", d, got, d/2, d)
		}
	}
}

func TestRetryStopsWhenContextDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p := defaultRetry()
	p.Initial = time.Hour // the wait can only end by cancellation
	calls := 0
	done := make(chan error, 1)
	go func() {
		done <- p.do(ctx, func(context.Context) error {
			calls++
			return status.Error(codes.Unavailable, "down")
		})
	}()
	cancel()
	select {
	case err := <-done:
		if got := status.Code(err); got != codes.Unavailable {
			t.Errorf("code = %v, want %v (the call's own error)", got, codes.Unavailable)
		}
		if calls != 1 {
			t.Errorf("calls = %d, want 1", calls)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("retry did not stop when the context ended")
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		give error
		want bool
	}{
		{status.Error(codes.Unavailable, ""), true},
		{status.Error(codes.ResourceExhausted, ""), true},
		{status.Error(codes.DeadlineExceeded, ""), false},
		{status.Error(codes.Internal, ""), false},
		{status.Error(codes.InvalidArgument, ""), false},
		{errors.New("plain"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := retryable(tt.give); got != tt.want {
			t.Errorf("retryable(%v) = %v, want %v", tt.give, got, tt.want)
		}
	}
}
