package cloud

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

// TestRediscoverStopsOnConfigError: an answer no retry can mend (a service
// address the configuration refuses) ends the background retries after one
// attempt; an unreachable cloud is tried again.
func TestRediscoverStopsOnConfigError(t *testing.T) {
	c := &Client{log: slog.New(slog.DiscardHandler)}
	fired := func(time.Duration) <-chan time.Time {
		ch := make(chan time.Time, 1)
		ch <- time.Time{}
		return ch
	}
	r := Rediscover{Initial: time.Second, Max: time.Minute, After: fired}
	tests := []struct {
		name      string
		errs      []error
		wantTries int
	}{
		{"config error", []error{configError(errors.New("bad address"))}, 1},
		{"unreachable, then found", []error{errors.New("unavailable"), errors.New("unavailable"), nil}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tries := 0
			c.rediscover(context.Background(), r, func(context.Context) error {
				err := tt.errs[min(tries, len(tt.errs)-1)]
				tries++
				return err
			})
			if tries != tt.wantTries {
				t.Errorf("tries = %d, want %d", tries, tt.wantTries)
			}
		})
	}
}
