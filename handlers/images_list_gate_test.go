package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/web"
	"github.com/imagedash/imagedash/web/webtest"
)

// TestRefusedSearchKeepsTheList: a search over the bounds (the 60 one-letter
// prefixes of issue 15, and too many words) answers 400 with the list
// still there, without the search, the box holding what was typed and the
// message under it; an HTMX live search gets the same in its partial (the
// message out of band, no toast, the address not pushed).
func TestRefusedSearchKeepsTheList(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 30})
	tests := []struct {
		name, give, wantMsg string
	}{
		{"sixty prefixes", strings.Repeat("a* ", 60), "too short a prefix"},
		{"one short prefix", "ubuntu b*", "too short a prefix"},
		{"nine words", "debian ubuntu alma rocky centos fedora arch suse gentoo", "at most 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := "/?status=READY&q=" + url.QueryEscape(tt.give)
			full := e.get(target, nil)
			if full.code != http.StatusBadRequest {
				t.Fatalf("GET = %d, want 400", full.code)
			}
			if got := full.text(`[data-testid="search-error"]`); !strings.Contains(got, tt.wantMsg) {
				t.Errorf("message under the box = %q, want it to say %q", got, tt.wantMsg)
			}
			if got := full.attr(`[data-testid="search"]`, "value"); got != tt.give {
				t.Errorf("search box holds %q, want %q", got, tt.give)
			}
			if full.attr(`[data-testid="search"]`, "aria-invalid") != "true" {
				t.Error("search box not marked invalid")
			}
			if len(full.rowIDs()) == 0 {
				t.Error("the list is not shown")
			}
			if full.doc.Find(`[data-testid="filter-chip"][data-kind="text"]`).Length() != 0 {
				t.Error("the refused search is shown as a filter in effect")
			}

			part := e.get(target, htmx)
			if part.code != http.StatusBadRequest {
				t.Fatalf("HTMX GET = %d, want 400", part.code)
			}
			if part.hdr.Get(handlers.HeaderRetarget) != "" {
				t.Errorf("HTMX answer retargeted to %q (a toast), want the partial", part.hdr.Get(handlers.HeaderRetarget))
			}
			if got := part.hdr.Get(handlers.HeaderPushURL); got != "false" {
				t.Errorf("HX-Push-Url = %q, want false", got)
			}
			msg := part.doc.Find(`[data-testid="search-error"][hx-swap-oob]`)
			if !strings.Contains(msg.Text(), tt.wantMsg) {
				t.Errorf("partial's out-of-band message = %q, want %q", msg.Text(), tt.wantMsg)
			}
			if len(part.rowIDs()) == 0 {
				t.Error("the partial has no list")
			}
		})
	}
	// The next search that is taken clears the message.
	ok := e.get("/?q=packer", htmx)
	if ok.code != http.StatusOK {
		t.Fatalf("GET ?q=packer = %d", ok.code)
	}
	if msg := ok.doc.Find(`[data-testid="search-error"][hx-swap-oob]`); msg.Length() != 1 || strings.TrimSpace(msg.Text()) != "" {
		t.Errorf("a search taken does not clear the message (%d slots, %q)", msg.Length(), msg.Text())
	}
}

// blockingStore is the real store whose page of a search for slowText
// blocks until release is closed (or its context ends), counting the pages
// in flight per person.
type blockingStore struct {
	*store.Store
	entered chan string   // the username, as a page enters
	release chan struct{} // closed: every page goes on

	mu       sync.Mutex
	inFlight map[string]int
	maxSeen  map[string]int
}

const slowText = "slow"

func (s *blockingStore) List(ctx context.Context, q store.ImageQuery) (store.ImageList, error) {
	if q.Text != slowText {
		return s.Store.List(ctx, q)
	}
	v, _ := handlers.ViewerFrom(ctx)
	who := v.User.Username
	s.mu.Lock()
	s.inFlight[who]++
	s.maxSeen[who] = max(s.maxSeen[who], s.inFlight[who])
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight[who]--
		s.mu.Unlock()
	}()
	s.entered <- who
	select {
	case <-s.release:
		return s.Store.List(ctx, q)
	case <-ctx.Done():
		return store.ImageList{}, ctx.Err()
	}
}

// gateEnv is the router over handlers whose store is bs, with limits l,
// and two people signed in.
func gateEnv(t *testing.T, l handlers.ListLimits) (srv http.Handler, bs *blockingStore, cookies map[string]string) {
	t.Helper()
	e := newEnv(t, envOptions{compute: 40})
	bs = &blockingStore{Store: e.store, entered: make(chan string, 64), release: make(chan struct{}),
		inFlight: map[string]int{}, maxSeen: map[string]int{}}
	sessions, dir := webtest.People(t, e.store, nil)
	h := handlers.New(handlers.Config{Store: bs, People: e.store, Sessions: sessions, Ops: e.store,
		Syncer: e.syncer, ListLimits: l, Now: func() time.Time { return now }})
	srv, err := web.New(web.Config{}, web.Deps{Handlers: h, Sessions: sessions, Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	cookies = map[string]string{}
	for _, name := range []string{"ann", "bob"} {
		webtest.AddUser(t, e.store, name, true)
		b := webtest.NewBrowser(t, srv)
		b.Login(name, webtest.Password)
		c := b.SessionCookie()
		cookies[name] = c.Name + "=" + c.Value
	}
	return srv, bs, cookies
}

// list sends one list request as the person of cookie.
func list(srv http.Handler, cookie, target string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Cookie", cookie)
	req.Header.Set(handlers.HeaderRequest, "true")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

// TestListGatePerPerson: one person hammering slow searches has at most 2
// computed at once; the rest wait their short while and get 429 with a
// Retry-After and a plain message; another person's search is not held.
func TestListGatePerPerson(t *testing.T) {
	t.Parallel()
	after := make(chan time.Time)
	close(after) // every wait for a slot ends at once: refused when full
	// Room for everyone's searches server-wide: the person's bound is tested.
	srv, bs, cookies := gateEnv(t, handlers.ListLimits{Searches: 8, After: func(time.Duration) <-chan time.Time { return after }})
	target := "/?q=" + slowText

	type answer struct{ rec *httptest.ResponseRecorder }
	answers := make(chan answer, 16)
	send := func(who string) { go func() { answers <- answer{list(srv, cookies[who], target)} }() }

	// Ann's two searches take her two slots and block in the store.
	send("ann")
	send("ann")
	for range 2 {
		if who := <-bs.entered; who != "ann" {
			t.Fatalf("%s entered the store, want ann", who)
		}
	}
	// Six more of Ann's (and her families view) are refused while both run.
	const extra = 6
	for range extra {
		send("ann")
	}
	for range extra {
		a := <-answers
		if a.rec.Code != http.StatusTooManyRequests {
			t.Fatalf("extra search = %d, want 429; body %.300s", a.rec.Code, a.rec.Body)
		}
		if a.rec.Header().Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		if !strings.Contains(a.rec.Body.String(), "You already have searches running; wait for them to finish.") {
			t.Errorf("429 body lacks the message: %.300s", a.rec.Body)
		}
	}
	if rec := list(srv, cookies["ann"], "/families"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("families view while both slots are taken = %d, want 429", rec.Code)
	}
	// Bob is not held by Ann's searches: his enters the store now.
	send("bob")
	if who := <-bs.entered; who != "bob" {
		t.Fatalf("%s entered the store, want bob", who)
	}
	close(bs.release)
	for range 3 {
		if a := <-answers; a.rec.Code != http.StatusOK {
			t.Errorf("search = %d, want 200", a.rec.Code)
		}
	}
	if got := bs.maxSeen["ann"]; got != 2 {
		t.Errorf("ann had %d searches computed at once, want 2", got)
	}
	// Her slots are free again.
	if rec := list(srv, cookies["ann"], target); rec.Code != http.StatusOK {
		t.Errorf("search after the others finished = %d, want 200", rec.Code)
	}
}

// TestListGateWait: an extra search waits for a slot rather than failing
// at once, and gets the one freed; a wait ends with the request.
func TestListGateWait(t *testing.T) {
	t.Parallel()
	timer := make(chan time.Time)
	g := handlers.NewListGate(handlers.ListLimits{PerPerson: 2, After: func(time.Duration) <-chan time.Time { return timer }})
	ctx := context.Background()
	var releases []func()
	for range 2 {
		r, err := g.Acquire(ctx, "u1")
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}
	got := make(chan error, 1)
	go func() {
		r, err := g.Acquire(ctx, "u1")
		if err == nil {
			r()
		}
		got <- err
	}()
	// Another key is not held.
	r, err := g.Acquire(ctx, "u2")
	if err != nil {
		t.Fatalf("another person waits: %v", err)
	}
	r()
	releases[0]()
	if err := <-got; err != nil {
		t.Fatalf("the waiting search = %v, want the freed slot", err)
	}

	// Full again: a wait the timer ends is refused, one the request ends too.
	r, err = g.Acquire(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, err := g.Acquire(ctx, "u1"); got <- err }()
	timer <- time.Time{}
	if err := <-got; err == nil {
		t.Error("a wait past the timer got a slot")
	}
	cctx, cancel := context.WithCancel(ctx)
	go func() { _, err := g.Acquire(cctx, "u1"); got <- err }()
	cancel()
	if err := <-got; err == nil {
		t.Error("a cancelled wait got a slot")
	}
	r()
	releases[1]()
}

// TestListDeadline: a list whose computation outlives the deadline is
// stopped and answered 503 with a plain message, not 500.
func TestListDeadline(t *testing.T) {
	t.Parallel()
	srv, bs, cookies := gateEnv(t, handlers.ListLimits{Timeout: time.Millisecond})
	go func() {
		for range bs.entered { // the store waits for its context alone
		}
	}()
	rec := list(srv, cookies["ann"], "/?q="+slowText)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("GET = %d, want 503; body %.300s", rec.Code, rec.Body)
	}
	if !strings.Contains(rec.Body.String(), "This search took too long") {
		t.Errorf("503 body lacks the message: %.300s", rec.Body)
	}
	// The real store's SQL under the same deadline: done in time (200) or
	// interrupted (503), never a 500.
	rec = list(srv, cookies["bob"], "/?q="+url.QueryEscape("fd* co* im*"))
	if rec.Code != http.StatusOK && rec.Code != http.StatusServiceUnavailable {
		t.Errorf("real search under a 1 ms deadline = %d, want 200 or 503; body %.300s", rec.Code, rec.Body)
	}
	close(bs.entered)
}

// TestSearchGateServerWide: with one search slot for the server, Ann's slow
// search holds it; Bob's search is refused (503, Retry-After, a plain
// message) once his short wait ends, while his plain list, which takes no
// search slot, is served at once. With the slot free his search runs.
func TestSearchGateServerWide(t *testing.T) {
	t.Parallel()
	after := make(chan time.Time)
	close(after) // every wait for a slot ends at once
	srv, bs, cookies := gateEnv(t, handlers.ListLimits{Searches: 1, After: func(time.Duration) <-chan time.Time { return after }})
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() { done <- list(srv, cookies["ann"], "/?q="+slowText) }()
	if who := <-bs.entered; who != "ann" {
		t.Fatalf("%s entered the store, want ann", who)
	}
	rec := list(srv, cookies["bob"], "/?q="+slowText)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
		!strings.Contains(rec.Body.String(), "Many searches are running at this moment.") {
		t.Errorf("bob's search while the slot is taken = %d (Retry-After %q):\n%.300s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if rec := list(srv, cookies["bob"], "/?sort=name"); rec.Code != http.StatusOK {
		t.Errorf("bob's plain list while a search runs = %d, want 200", rec.Code)
	}
	close(bs.release)
	if rec := <-done; rec.Code != http.StatusOK {
		t.Errorf("ann's search = %d, want 200", rec.Code)
	}
	if rec := list(srv, cookies["bob"], "/?q="+slowText); rec.Code != http.StatusOK {
		t.Errorf("bob's search with the slot free = %d, want 200", rec.Code)
	}
}
