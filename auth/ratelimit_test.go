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

// fail is a sign-in attempt that turned out wrong: reserved, left counted.
func fail(t *testing.T, l *RateLimiter, user, ip string) {
	t.Helper()
	if _, _, ok := l.Reserve(user, ip); !ok {
		t.Fatalf("attempt for %s from %s refused, want counted", user, ip)
	}
}

func TestRateLimitPerUser(t *testing.T) {
	clock := newFakeClock()
	l := NewRateLimiter(RateLimitConfig{Now: clock.Now})
	for range 5 {
		fail(t, l, "alice", "10.0.0.1")
		clock.Advance(time.Minute)
	}
	_, retry, ok := l.Reserve("ALICE", "10.0.0.2") // another case, another address
	if ok || retry != 10*time.Minute {
		t.Errorf("after 5 failures: Reserve = %v, %t; want 10m0s, false", retry, ok)
	}
	if _, _, ok := l.Reserve("bob", "10.0.0.1"); !ok {
		t.Errorf("another user from the same address: refused, want allowed")
	}
	clock.Advance(10 * time.Minute)
	fail(t, l, "alice", "10.0.0.1")
	if _, _, ok := l.Reserve("alice", "10.0.0.1"); !ok {
		t.Errorf("one failure in a new window: refused, want allowed")
	}
}

func TestRateLimitPerIPAndSuccess(t *testing.T) {
	clock := newFakeClock()
	l := NewRateLimiter(RateLimitConfig{PerUser: 3, PerIP: 4, Now: clock.Now})
	for i := range 4 {
		fail(t, l, fmt.Sprintf("user%d", i), "2001:db8::1")
	}
	if _, _, ok := l.Reserve("fresh", "2001:db8::ffff"); ok { // same /64
		t.Errorf("address over its limit: allowed, want refused")
	}
	if _, _, ok := l.Reserve("fresh", "2001:db8:0:1::1"); !ok {
		t.Errorf("another /64: refused, want allowed")
	}
	fail(t, l, "carol", "192.0.2.1")
	fail(t, l, "carol", "192.0.2.2")
	r, _, _ := l.Reserve("carol", "192.0.2.5")
	r.Succeeded()
	fail(t, l, "carol", "192.0.2.3")
	fail(t, l, "carol", "192.0.2.3")
	if _, _, ok := l.Reserve("carol", "192.0.2.4"); !ok {
		t.Errorf("success reset the user's failures: refused, want allowed")
	}
}

// TestRateLimitRefunds: a cancelled attempt (no hashing slot) counts
// nowhere; a successful one not at the address; a refund never reaches a
// window opened after the attempt.
func TestRateLimitRefunds(t *testing.T) {
	clock := newFakeClock()
	l := NewRateLimiter(RateLimitConfig{PerUser: 2, PerIP: 3, Window: time.Minute, Now: clock.Now})
	for range 10 {
		r, _, ok := l.Reserve("dave", "192.0.2.9")
		if !ok {
			t.Fatal("a cancelled attempt was counted")
		}
		r.Cancel()
		r.Cancel() // twice is once
	}
	for i := range 10 {
		r, _, ok := l.Reserve(fmt.Sprint("ok", i), "192.0.2.10")
		if !ok {
			t.Fatal("a successful attempt was counted against the address")
		}
		r.Succeeded()
	}
	old, _, _ := l.Reserve("erin", "192.0.2.11")
	clock.Advance(time.Minute)
	fail(t, l, "erin", "192.0.2.11")
	fail(t, l, "erin", "192.0.2.11")
	old.Cancel() // belongs to the last window: must not free a slot in this one
	if _, _, ok := l.Reserve("erin", "192.0.2.11"); ok {
		t.Error("a refund from an old window opened the new one")
	}
}

// TestRateLimitBurst: 100 attempts at once for one name get exactly the
// limit through, and 100 at once from one address (different names) get
// exactly that limit: the attempt is counted as it is allowed.
func TestRateLimitBurst(t *testing.T) {
	tests := []struct {
		name string
		user func(i int) string
		ip   func(i int) string
		want int
	}{
		{"one name", func(int) string { return "victim" }, func(i int) string { return fmt.Sprintf("10.1.%d.%d", i/200, i%200) }, 5},
		{"one address", func(i int) string { return fmt.Sprint("name", i) }, func(int) string { return "198.51.100.1" }, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewRateLimiter(RateLimitConfig{})
			var (
				wg     sync.WaitGroup
				mu     sync.Mutex
				passed int
			)
			start := make(chan struct{})
			for i := range 100 {
				wg.Go(func() {
					<-start
					if _, _, ok := l.Reserve(tt.user(i), tt.ip(i)); ok {
						mu.Lock()
						passed++
						mu.Unlock()
					}
				})
			}
			close(start)
			wg.Wait()
			if passed != tt.want {
				t.Errorf("%d of 100 passed, want %d", passed, tt.want)
			}
		})
	}
}

func TestRateLimitBoundedMemory(t *testing.T) {
	clock := newFakeClock()
	l := NewRateLimiter(RateLimitConfig{PerUser: 2, MaxKeys: 10, Now: clock.Now})
	fail(t, l, "victim", "")
	fail(t, l, "victim", "")
	for i := range 100 {
		clock.Advance(time.Second)
		l.Reserve(fmt.Sprintf("u%d", i), "198.51.100.7")
	}
	if n := l.Len(); n > 10 {
		t.Errorf("Len = %d, want ≤ 10", n)
	}
	if _, _, ok := l.Reserve("victim", "203.0.113.1"); ok {
		t.Errorf("a flood of other names unblocked the victim")
	}
	clock.Advance(time.Hour)
	fail(t, l, "late", "198.51.100.8")
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
				if r, _, ok := l.Reserve(fmt.Sprint("u", j), fmt.Sprint(i)); ok && j%2 == 0 {
					r.Cancel()
				}
			}
		})
	}
	wg.Wait()
}
