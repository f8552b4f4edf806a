package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/store/storetest"
	"github.com/imagedash/imagedash/web"
	"github.com/imagedash/imagedash/web/webtest"
)

// clock is a settable clock for sessions and the rate limiter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type authEnv struct {
	srv    http.Handler
	store  *store.Store
	clock  *clock
	hasher *auth.Hasher
}

// newAuthEnv is the router with sign-in, on a fake clock: sessions idle out
// after 30 min and end 8 h after sign-in; 3 failed sign-ins lock a name
// for 10 min.
func newAuthEnv(t *testing.T) *authEnv {
	t.Helper()
	st, err := store.Open(context.Background(), storetest.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	sessions, err := auth.NewSessionStore(st, auth.SessionConfig{
		KeyPairs: [][]byte{webtest.SessionKey, nil}, Idle: 30 * time.Minute, Absolute: 8 * time.Hour, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	hasher := auth.NewHasher(auth.HasherConfig{Slots: 1, Wait: 50 * time.Millisecond})
	h := handlers.New(handlers.Config{
		Store: st, People: st, Sessions: sessions,
		Limiter: auth.NewRateLimiter(auth.RateLimitConfig{PerUser: 3, PerIP: 100, Window: 10 * time.Minute, Now: clk.Now}),
		Hasher:  hasher,
		Now:     clk.Now,
	})
	e, err := web.New(web.Config{}, web.Deps{Logger: slog.New(slog.DiscardHandler), Handlers: h, Sessions: sessions, Directory: auth.NewDirectory(st)})
	if err != nil {
		t.Fatal(err)
	}
	webtest.AddUser(t, st, "alice", false)
	return &authEnv{srv: e, store: st, clock: clk, hasher: hasher}
}

func TestSignInFlow(t *testing.T) {
	e := newAuthEnv(t)
	b := webtest.NewBrowser(t, e.srv)

	// A stranger is sent to sign in, with the way back.
	rec := b.Get("/families?service=desktop")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login?next=%2Ffamilies%3Fservice%3Ddesktop" {
		t.Fatalf("anonymous GET = %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	// An HTMX partial is answered HX-Redirect, back to the page it came from.
	rec = b.Get("/?status=READY", handlers.HeaderRequest, "true", handlers.HeaderCurrentURL, "http://127.0.0.1:8080/?q=deb")
	if rec.Header().Get(handlers.HeaderRedirect) != "/login?next=%2F%3Fq%3Ddeb" {
		t.Errorf("anonymous htmx: HX-Redirect = %q", rec.Header().Get(handlers.HeaderRedirect))
	}
	page := b.Get("/login?next=%2Ffamilies%3Fservice%3Ddesktop")
	// A form post without a session (but with the token): 401, nothing done.
	if rec := b.Post("/sync", url.Values{"service": {"compute"}}); rec.Code != http.StatusUnauthorized {
		t.Errorf("anonymous POST = %d, want 401", rec.Code)
	}
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), `name="next" value="/families?service=desktop"`) {
		t.Fatalf("sign-in page: %d\n%s", page.Code, page.Body.String())
	}
	for _, c := range page.Result().Cookies() {
		if c.Name == "_csrf" && (!c.HttpOnly || c.SameSite != http.SameSiteStrictMode) {
			t.Errorf("CSRF cookie flags: %+v", c)
		}
	}
	// A session planted before sign-in (fixation) must not survive it.
	b.Post("/login", url.Values{"username": {"alice"}, "password": {"wrong password"}})
	planted := b.SessionCookie()

	rec = b.Post("/login", url.Values{"username": {"alice"}, "password": {webtest.Password}, "next": {"/families?service=desktop"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/families?service=desktop" {
		t.Fatalf("sign in = %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	sess := b.SessionCookie()
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" {
		t.Fatalf("session cookie = %+v", sess)
	}
	if planted != nil && planted.Value == sess.Value {
		t.Error("the session id did not change at sign-in")
	}
	if rec := b.Get("/families?service=desktop"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `data-testid="me">alice<`) {
		t.Fatalf("after sign in: %d", rec.Code)
	}
	// The sign-in page sends a signed-in person on.
	if rec := b.Get("/login?next=/families"); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/families" {
		t.Errorf("GET /login signed in = %d to %q", rec.Code, rec.Header().Get("Location"))
	}

	// Sign out: the row is gone, the old cookie is worthless, a notice shows.
	old := *sess
	rec = b.Post("/logout", nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
		t.Fatalf("sign out = %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := b.Get("/login"); !strings.Contains(rec.Body.String(), "You have signed out.") {
		t.Error("no signed-out notice")
	}
	if rec := b.Get("/login"); strings.Contains(rec.Body.String(), "You have signed out.") {
		t.Error("the notice shows twice")
	}
	replay := webtest.NewBrowser(t, e.srv)
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&old)
	if rec := replay.Do(req); rec.Code != http.StatusSeeOther {
		t.Errorf("the signed-out cookie still works: %d", rec.Code)
	}

	entries, err := e.store.AuditLog(context.Background(), store.AuditQuery{User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range entries {
		got = append(got, a.Action+":"+string(a.Outcome))
	}
	if strings.Join(got, " ") != "logout:success login:success login:failure" {
		t.Errorf("audit = %v", got)
	}
}

func TestSignInRejects(t *testing.T) {
	e := newAuthEnv(t)
	b := webtest.NewBrowser(t, e.srv)
	b.Get("/login")
	tests := []struct {
		name     string
		form     url.Values
		wantCode int
		wantText string
	}{
		{"empty", url.Values{"username": {""}, "password": {""}}, 422, "Enter your username and password."},
		{"unknown user", url.Values{"username": {"mallory"}, "password": {"whatever"}}, 401, "Wrong username or password."},
		{"wrong password", url.Values{"username": {"alice"}, "password": {"nope"}}, 401, "Wrong username or password."},
		{"huge password", url.Values{"username": {"alice"}, "password": {strings.Repeat("x", 100000)}}, 422, "Wrong username or password."},
		{"open redirect", url.Values{"username": {"x"}, "password": {"y"}, "next": {"//evil.example/"}}, 401, `name="next" value="/"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := b.Post("/login", tt.form)
			if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.wantText) {
				t.Errorf("= %d, want %d with %q:\n%s", rec.Code, tt.wantCode, tt.wantText, rec.Body.String())
			}
			if strings.Contains(rec.Body.String(), "nope") {
				t.Error("the password was echoed")
			}
		})
	}
	// Without the CSRF token, or from another site, the form is refused.
	if rec := b.PostRaw("/login", url.Values{"username": {"alice"}, "password": {webtest.Password}}); rec.Code != http.StatusForbidden {
		t.Errorf("sign in without token = %d, want 403", rec.Code)
	}
	if rec := b.Post("/login", url.Values{"username": {"alice"}, "password": {webtest.Password}}, "Sec-Fetch-Site", "cross-site"); rec.Code != http.StatusForbidden {
		t.Errorf("cross-site sign in = %d, want 403", rec.Code)
	}
}

func TestSignInRateLimit(t *testing.T) {
	e := newAuthEnv(t)
	b := webtest.NewBrowser(t, e.srv)
	b.Get("/login")
	for range 3 {
		b.Post("/login", url.Values{"username": {"alice"}, "password": {"guess"}})
	}
	// Locked: even the right password is refused, with the wait.
	rec := b.Post("/login", url.Values{"username": {"alice"}, "password": {webtest.Password}})
	if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "Try again in 10 minutes.") ||
		rec.Header().Get("Retry-After") != "600" {
		t.Fatalf("locked = %d (Retry-After %q):\n%s", rec.Code, rec.Header().Get("Retry-After"), rec.Body.String())
	}
	e.clock.Advance(10 * time.Minute)
	if rec := b.Post("/login", url.Values{"username": {"alice"}, "password": {webtest.Password}}); rec.Code != http.StatusSeeOther {
		t.Errorf("after the window = %d, want 303", rec.Code)
	}
	denied, err := e.store.AuditLog(context.Background(), store.AuditQuery{Outcome: store.OutcomeDenied})
	if err != nil || len(denied) != 1 || denied[0].Detail != "rate limited" {
		t.Errorf("denied entries = %+v, %v", denied, err)
	}
}

// TestSignInBusy: while every hashing slot is taken, a sign-in waits its
// turn and then is told to retry (503, Retry-After) without counting as a
// failed attempt; once a slot is free the same password signs in.
func TestSignInBusy(t *testing.T) {
	e := newAuthEnv(t)
	b := webtest.NewBrowser(t, e.srv)
	b.Get("/login")
	release, err := e.hasher.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "alice", "alice", "alice", "nobody"} {
		rec := b.Post("/login", url.Values{"username": {name}, "password": {webtest.Password}})
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "5" ||
			!strings.Contains(rec.Body.String(), "Many people are signing in at this moment. Try again in a few seconds.") {
			t.Fatalf("busy %s = %d (Retry-After %q):\n%s", name, rec.Code, rec.Header().Get("Retry-After"), rec.Body.String())
		}
	}
	release()
	// Four busy answers for alice, over the limiter's 3: none counted.
	if rec := b.Post("/login", url.Values{"username": {"alice"}, "password": {webtest.Password}}); rec.Code != http.StatusSeeOther {
		t.Errorf("after the slot freed = %d, want 303:\n%s", rec.Code, rec.Body.String())
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newAuthEnv(t)
	b := webtest.NewBrowser(t, e.srv)
	b.Login("alice", webtest.Password)
	signedIn := func() bool { return b.Get("/families").Code == http.StatusOK }

	// Idle: each request moves the deadline.
	for range 4 {
		e.clock.Advance(25 * time.Minute)
		if !signedIn() {
			t.Fatal("signed out while active")
		}
	}
	e.clock.Advance(31 * time.Minute)
	if signedIn() {
		t.Error("still signed in after 31 idle minutes")
	}

	// Absolute: 8 h after sign-in, however active.
	b.Login("alice", webtest.Password)
	for range 16 {
		e.clock.Advance(29 * time.Minute)
		if !signedIn() {
			t.Fatal("signed out early")
		}
	}
	e.clock.Advance(29 * time.Minute) // 8 h 12 min in
	if signedIn() {
		t.Error("still signed in past the absolute lifetime")
	}
}

func TestDisabledAccountIsSignedOut(t *testing.T) {
	e := newAuthEnv(t)
	b := webtest.NewBrowser(t, e.srv)
	b.Login("alice", webtest.Password)
	u, err := e.store.UserByName(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetDisabled(context.Background(), u.ID, true); err != nil {
		t.Fatal(err)
	}
	// The next request already reads as anonymous (no stale cache).
	if rec := b.Get("/families"); rec.Code != http.StatusSeeOther {
		t.Errorf("disabled account's request = %d, want a redirect to sign in", rec.Code)
	}
	b.Get("/login")
	rec := b.Post("/login", url.Values{"username": {"alice"}, "password": {webtest.Password}})
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "Wrong username or password.") {
		t.Errorf("disabled sign in = %d", rec.Code)
	}
}
