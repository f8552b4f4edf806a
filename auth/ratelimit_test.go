package auth

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestRateLimitPerUser(t *testing.T) {
	clock := newFakeClock()
	l := NewRateLimiter(RateLimitConfig{Now: clock.Now})
	for i := range 5 {
		if _, ok := l.Allow("alice", "10.0.0.1"); !ok {
			t.Fatalf("attempt %d refused, want allowed", i+1)
		}
		l.Failure("alice", "10.0.0.1")
		clock.Advance(time.Minute)
	}
	retry, ok := l.Allow("ALICE", "10.0.0.2") // another case, another address
	if ok || retry != 10*time.Minute {
		t.Errorf("after 5 failures: Allow = %v, %t; want 10m0s, false", retry, ok)
	}
	if _, ok := l.Allow("bob", "10.0.0.1"); !ok {
		t.Errorf("another user from the same address: refused, want allowed")
	}
	clock.Advance(10 * time.Minute)
	if _, ok := l.Allow("alice", "10.0.0.1"); !ok {
		t.Errorf("after the window: refused, want allowed")
	}
	l.Failure("alice", "10.0.0.1")
	if _, ok := l.Allow("alice", "10.0.0.1"); !ok {
		t.Errorf("one failure in a new window: refused, want allowed")
	}
}

func TestRateLimitPerIPAndSuccess(t *testing.T) {
	clock := newFakeClock()
	l := NewRateLimiter(RateLimitConfig{PerUser: 3, PerIP: 4, Now: clock.Now})
	for i := range 4 {
		l.Failure(fmt.Sprintf("user%d", i), "2001:db8::1")
	}
	if _, ok := l.Allow("fresh", "2001:db8::ffff"); ok { // same /64
		t.Errorf("address over its limit: allowed, want refused")
	}
	if _, ok := l.Allow("fresh", "2001:db8:0:1::1"); !ok {
		t.Errorf("another /64: refused, want allowed")
	}
	l.Failure("carol", "192.0.2.1")
	l.Failure("carol", "192.0.2.2")
	l.Success("carol")
	l.Failure("carol", "192.0.2.3")
	if _, ok := l.Allow("carol", "192.0.2.4"); !ok {
		t.Errorf("success reset the user's failures: refused, want allowed")
	}
}

func TestRateLimitBoundedMemory(t *testing.T) {
	clock := newFakeClock()
	l := NewRateLimiter(RateLimitConfig{PerUser: 2, MaxKeys: 10, Now: clock.Now})
	l.Failure("victim", "")
	l.Failure("victim", "")
	for i := range 100 {
		clock.Advance(time.Second)
		l.Failure(fmt.Sprintf("u%d", i), "198.51.100.7")
	}
	if n := l.Len(); n > 10 {
		t.Errorf("Len = %d, want ≤ 10", n)
	}
	if _, ok := l.Allow("victim", "203.0.113.1"); ok {
		t.Errorf("a flood of other names unblocked the victim")
	}
	clock.Advance(time.Hour)
	l.Failure("late", "198.51.100.8")
	if n := l.Len(); n > 10 {
		t.Errorf("Len = %d, want ≤ 10", n)
	}
}

func TestRateLimitConcurrent(t *testing.T) {
	l := NewRateLimiter(RateLimitConfig{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				l.Allow("u", fmt.Sprint(i))
				l.Failure(fmt.Sprint("u", j), fmt.Sprint(i))
			}
		})
	}
	wg.Wait()
}
