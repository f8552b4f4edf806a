package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/web"
	"github.com/imagedash/imagedash/web/webtest"
)

// cloudDown is what a real probe's error looks like: the endpoint and the
// gRPC internals, which no anonymous caller may read.
var cloudDown = errors.New("cloud: rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial tcp 10.20.30.40:443: connect: connection refused\"")

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// readyServer is a server whose Ready counts its calls, fails while down
// is set, and first waits for hold to close (when hold is not nil).
type readyServer struct {
	server
	clock *fakeClock
	calls atomic.Int64
	down  atomic.Bool
}

func newReadyServer(t *testing.T, hold <-chan struct{}) *readyServer {
	t.Helper()
	r := &readyServer{clock: &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}
	ready := func(ctx context.Context) error {
		r.calls.Add(1)
		if hold != nil {
			<-hold
		}
		if r.down.Load() {
			return cloudDown
		}
		return nil
	}
	r.server = newServerWithDeps(t, web.Config{ReadyInterval: 5 * time.Second}, ready, r.clock.now)
	return r
}

func (r *readyServer) hit(t *testing.T, b *webtest.Browser) *httptest.ResponseRecorder {
	t.Helper()
	if b != nil {
		return b.Get("/readyz")
	}
	rec := httptest.NewRecorder()
	r.e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	return rec
}

// TestReadyzCached: a thousand concurrent hits cost one upstream call, and
// then at most one per interval, however many hits come.
func TestReadyzCached(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hold := make(chan struct{})
		r := newReadyServer(t, hold)
		r.down.Store(true)
		var wg sync.WaitGroup
		codes := make([]int, 1000)
		for i := range codes {
			wg.Go(func() { codes[i] = r.hit(t, nil).Code })
		}
		synctest.Wait() // all 1000 are in: one in Ready, the rest waiting for it
		close(hold)
		wg.Wait()
		if n := r.calls.Load(); n != 1 {
			t.Errorf("1000 concurrent hits made %d upstream calls, want 1", n)
		}
		for i, c := range codes {
			if c != http.StatusServiceUnavailable {
				t.Fatalf("hit %d = %d, want 503", i, c)
			}
		}
	})

	r := newReadyServer(t, nil)
	for interval := range 4 {
		for range 250 {
			r.hit(t, nil)
			r.clock.add(time.Second / 100) // 250 hits over 2.5 s: half an interval
		}
		r.clock.add(2500 * time.Millisecond)
		if n, want := r.calls.Load(), int64(interval+1); n != want {
			t.Errorf("after %d intervals of hits, %d upstream calls, want %d", interval+1, n, want)
		}
	}
}

// TestReadyzAnonymous: anonymous callers and people who are not admins read
// only "ok" or "unavailable"; the detail goes to signed-in admins and to
// the log, once per change of state.
func TestReadyzAnonymous(t *testing.T) {
	r := newReadyServer(t, nil)
	webtest.AddUser(t, r.store, "alice", false)
	alice := webtest.NewBrowser(t, r.e)
	alice.Login("alice", webtest.Password)

	if rec := r.hit(t, nil); rec.Code != http.StatusOK || rec.Body.String() != "ok" {
		t.Errorf("ready: %d %q, want 200 ok", rec.Code, rec.Body.String())
	}
	r.down.Store(true)
	for range 3 { // three intervals of hits while down: one log line
		r.clock.add(5 * time.Second)
		for _, b := range []*webtest.Browser{nil, alice, nil} {
			rec := r.hit(t, b)
			if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "unavailable" {
				t.Errorf("anonymous or non-admin while down: %d %q, want 503 \"unavailable\"", rec.Code, rec.Body.String())
			}
		}
		rec := r.hit(t, r.admin)
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "10.20.30.40:443") {
			t.Errorf("admin while down: %d %q, want 503 with the detail", rec.Code, rec.Body.String())
		}
	}
	// A forged or stale session cookie is an anonymous caller, not a 500.
	req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	req.Header.Set("Cookie", handlers.SessionName+"=forged")
	rec := httptest.NewRecorder()
	r.e.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "unavailable" {
		t.Errorf("forged cookie: %d %q", rec.Code, rec.Body.String())
	}
	r.down.Store(false)
	r.clock.add(5 * time.Second)
	r.hit(t, nil)
	r.hit(t, nil)

	logs := r.log.String()
	if n := strings.Count(logs, `msg="not ready"`); n != 1 {
		t.Errorf("%d \"not ready\" log lines for one outage, want 1:\n%s", n, logs)
	}
	if n := strings.Count(logs, `msg="ready again"`); n != 1 {
		t.Errorf("%d \"ready again\" log lines, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs, "10.20.30.40:443") {
		t.Errorf("the detail is not in the log:\n%s", logs)
	}
}
