package cloud_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/cloud/sim"
)

// stepTimer is Rediscover.After under the test's control: each pause the
// client asks for arrives on asked, and the pause ends when the test sends
// on fire.
type stepTimer struct {
	asked chan time.Duration
	fire  chan time.Time
}

func (s stepTimer) After(d time.Duration) <-chan time.Time {
	s.asked <- d
	return s.fire
}

// TestDialUnreachableRetriesInBackground: a cloud that does not answer at
// Dial does not fail it; the client says it is unreachable and since when,
// its calls fail with ErrUnavailable, and discovery is tried again after
// pauses of 1, 2, 4, 4 s (the injected timer) until the cloud, started
// meanwhile on that address, answers; then the client works, with no new
// Dial, and stops retrying.
func TestDialUnreachableRetriesInBackground(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close() // nothing listens there now

	at := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	timer := stepTimer{asked: make(chan time.Duration), fire: make(chan time.Time)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := cloud.Dial(ctx, cloud.Config{Endpoint: addr, Insecure: true, CallTimeout: 2 * time.Second,
		Now:        func() time.Time { return at },
		Rediscover: cloud.Rediscover{Initial: time.Second, Max: 4 * time.Second, After: timer.After}})
	if err != nil {
		t.Fatalf("Dial to a closed port: %v, want a client that retries", err)
	}
	defer c.Close()
	cloud.FastRetries(c)
	if c.Reachable() {
		t.Error("Reachable before the cloud answered")
	}
	if since, down := c.UnreachableSince(); !down || !since.Equal(at) {
		t.Errorf("UnreachableSince = %v, %v; want %v, true", since, down, at)
	}
	if _, err := c.Folders(ctx, "any"); !errors.Is(err, cloud.ErrUnavailable) {
		t.Errorf("a call before discovery: %v, want ErrUnavailable", err)
	}

	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second} {
		if got := <-timer.asked; got != want {
			t.Errorf("pause %d = %v, want %v", i, got, want)
		}
		if i == 3 {
			break // the cloud comes up during this pause
		}
		timer.fire <- at // an attempt, which fails: nothing listens
	}
	if c.Reachable() {
		t.Fatal("Reachable with nothing listening")
	}

	emu, err := sim.New(sim.Options{Seed: 1, Images: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := emu.Start(addr); err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	timer.fire <- at
	select {
	case <-c.Discovered():
	case d := <-timer.asked:
		t.Fatalf("discovery failed with the cloud up; next pause %v", d)
	case <-ctx.Done():
		t.Fatal("no discovery before the deadline")
	}
	if !c.Reachable() {
		t.Error("not Reachable after discovery")
	}
	if _, down := c.UnreachableSince(); down {
		t.Error("UnreachableSince still says down")
	}
	if _, err := c.AllFolders(ctx); err != nil {
		t.Errorf("a call after discovery: %v", err)
	}
}
