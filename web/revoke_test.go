package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/store/storetest"
	"github.com/imagedash/imagedash/web"
	"github.com/imagedash/imagedash/web/webtest"
)

// hookBackend is the store under the session store, running onLoad once
// right after a session of user `user` is loaded: the moment a request
// holds the session in memory and has not yet written it back.
type hookBackend struct {
	*store.Store
	user   int64
	onLoad func()
}

func (b *hookBackend) LoadSession(ctx context.Context, id string, now time.Time) (store.Session, error) {
	s, err := b.Store.LoadSession(ctx, id, now)
	if err == nil && s.UserID == b.user && b.onLoad != nil {
		f := b.onLoad
		b.onLoad = nil
		f()
	}
	return s, err
}

// hookHasher runs after once after the next password check: the moment a
// sign-in has checked the password and not yet written its session.
type hookHasher struct {
	handlers.PasswordHasher
	after func()
}

func (h *hookHasher) Check(ctx context.Context, encoded, password string) error {
	err := h.PasswordHasher.Check(ctx, encoded, password)
	if f := h.after; f != nil {
		h.after = nil
		f()
	}
	return err
}

type revokeEnv struct {
	srv      http.Handler
	st       *store.Store
	back     *hookBackend
	hasher   *hookHasher
	sessions *auth.SessionStore
	alice    store.User
	admin    *webtest.Browser
}

func newRevokeEnv(t *testing.T) *revokeEnv {
	t.Helper()
	st, err := store.Open(context.Background(), storetest.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	back := &hookBackend{Store: st}
	sessions, err := auth.NewSessionStore(back, auth.SessionConfig{KeyPairs: [][]byte{webtest.SessionKey, nil}})
	if err != nil {
		t.Fatal(err)
	}
	hasher := &hookHasher{PasswordHasher: auth.NewHasher(auth.HasherConfig{})}
	h := handlers.New(handlers.Config{Store: st, People: st, Sessions: sessions, Hasher: hasher})
	e, err := web.New(web.Config{}, web.Deps{Logger: slog.New(slog.DiscardHandler), Handlers: h, Sessions: sessions,
		Directory: auth.NewDirectory(st)})
	if err != nil {
		t.Fatal(err)
	}
	env := &revokeEnv{srv: e, st: st, back: back, hasher: hasher, sessions: sessions}
	webtest.AddUser(t, st, "root", true)
	env.alice = webtest.AddUser(t, st, "alice", false)
	env.admin = webtest.NewBrowser(t, e)
	env.admin.Login("root", webtest.Password)
	back.user = env.alice.ID
	return env
}

// revocations are the ways alice's sessions end, each done while one of
// her requests is in flight; self is her own browser (for sign-out).
func revocations(e *revokeEnv) []struct {
	name   string
	revoke func(t *testing.T, self *http.Cookie)
} {
	admin := func(path string, form url.Values) func(t *testing.T, _ *http.Cookie) {
		return func(t *testing.T, _ *http.Cookie) {
			if rec := e.admin.Post(fmt.Sprintf(path, e.alice.ID), form); rec.Code != http.StatusSeeOther {
				t.Fatalf("admin %s = %d:\n%s", path, rec.Code, rec.Body.String())
			}
		}
	}
	return []struct {
		name   string
		revoke func(t *testing.T, self *http.Cookie)
	}{
		{"end sessions", admin("/admin/users/%d/sessions", nil)},
		{"password reset", admin("/admin/users/%d/password", url.Values{"password": {"a brand new passphrase"}, "end_sessions": {"true"}})},
		{"disable", admin("/admin/users/%d/disable", nil)},
		{"delete account", admin("/admin/users/%d/delete", url.Values{"confirm": {"yes"}})},
		{"sign out in another tab", func(t *testing.T, self *http.Cookie) {
			if self == nil {
				return // a sign-in in flight has no session yet
			}
			req := httptest.NewRequest(http.MethodPost, "/logout", nil)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			req.AddCookie(self)
			rec := httptest.NewRecorder()
			e.srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("sign out = %d", rec.Code)
			}
		}},
		{"ended by its owner", func(t *testing.T, self *http.Cookie) {
			if self == nil {
				return
			}
			// From her sessions page in another tab.
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.AddCookie(self)
			sess, err := e.sessions.Get(req, handlers.SessionName)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.st.EndUserSession(context.Background(), e.alice.ID, auth.RowID(sess)); err != nil {
				t.Fatal(err)
			}
		}},
	}
}

// signedIn counts alice's signed-in sessions in the store.
func (e *revokeEnv) signedIn(t *testing.T) int {
	t.Helper()
	ss, err := e.st.UserSessions(context.Background(), e.alice.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return len(ss)
}

// TestRevokedSessionStaysEnded: alice's page load has read her session
// (which holds a notice to show once, so the request writes it back) when
// her sessions are ended; the write must not bring the session back: the
// request already reads as signed out, and her cookie stays worthless.
func TestRevokedSessionStaysEnded(t *testing.T) {
	for _, rv := range revocations(newRevokeEnv(t)) {
		t.Run(rv.name, func(t *testing.T) {
			e := newRevokeEnv(t)
			rv := revocations(e)[indexOf(revocations(e), rv.name)]
			alice := webtest.NewBrowser(t, e.srv)
			alice.Login("alice", webtest.Password)
			cookie := alice.SessionCookie()
			// A notice from her last action waits in the session.
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.AddCookie(cookie)
			sess, err := e.sessions.Get(req, handlers.SessionName)
			if err != nil || sess.IsNew {
				t.Fatalf("her session: %v (new %t)", err, sess.IsNew)
			}
			sess.AddFlash("Copy started.")
			if err := e.sessions.Save(req, httptest.NewRecorder(), sess); err != nil {
				t.Fatal(err)
			}

			e.back.onLoad = func() { rv.revoke(t, cookie) }
			rec := alice.Get("/login")
			if rec.Code != http.StatusOK {
				t.Errorf("the request in flight = %d, want the sign-in page (signed out)", rec.Code)
			}
			if n := e.signedIn(t); n != 0 {
				t.Errorf("signed-in sessions of alice after %s = %d, want 0", rv.name, n)
			}
			replay := webtest.NewBrowser(t, e.srv)
			req = httptest.NewRequest(http.MethodGet, "/login", nil)
			req.AddCookie(cookie)
			if rec := replay.Do(req); rec.Code != http.StatusOK {
				t.Errorf("her old cookie = %d, want the sign-in page", rec.Code)
			}
		})
	}
}

// TestSignInRacingRevocation: alice's sign-in has checked her password
// when an admin ends her sessions, resets her password or disables her:
// the sign-in must not leave a session behind.
func TestSignInRacingRevocation(t *testing.T) {
	for _, name := range []string{"end sessions", "password reset", "disable", "delete account"} {
		t.Run(name, func(t *testing.T) {
			e := newRevokeEnv(t)
			rv := revocations(e)[indexOf(revocations(e), name)]
			alice := webtest.NewBrowser(t, e.srv)
			alice.Get("/login")
			e.hasher.after = func() { rv.revoke(t, nil) }
			rec := alice.Post("/login", url.Values{"username": {"alice"}, "password": {webtest.Password}})
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("sign-in = %d, want 401", rec.Code)
			}
			if n := e.signedIn(t); n != 0 {
				t.Errorf("signed-in sessions of alice = %d, want 0", n)
			}
			if rec := alice.Get("/login"); rec.Code != http.StatusOK {
				t.Errorf("after the sign-in: %d, want the sign-in page", rec.Code)
			}
		})
	}
}

func indexOf[T any](xs []struct {
	name   string
	revoke T
}, name string) int {
	for i, x := range xs {
		if x.name == name {
			return i
		}
	}
	panic("no " + name)
}
