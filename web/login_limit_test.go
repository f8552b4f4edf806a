package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/store/storetest"
	"github.com/imagedash/imagedash/web"
	"github.com/imagedash/imagedash/web/webtest"
)

// gateHasher counts the password checks and holds each until the gate
// opens, so that every request of a burst is in flight at once.
type gateHasher struct {
	checks  atomic.Int64
	entered chan struct{}
	gate    chan struct{}
}

func (g *gateHasher) hold() {
	g.checks.Add(1)
	g.entered <- struct{}{}
	<-g.gate
}

func (g *gateHasher) Hash(context.Context, string) (string, error) { return "", nil }
func (g *gateHasher) Check(context.Context, string, string) error {
	g.hold()
	return auth.ErrMismatch
}
func (g *gateHasher) CheckNoUser(context.Context, string) error { g.hold(); return nil }
func (g *gateHasher) RetryAfter() time.Duration                 { return 5 * time.Second }

func newLimitEnv(t *testing.T, hasher handlers.PasswordHasher) (http.Handler, *store.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), storetest.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sessions, dir := webtest.People(t, st, nil)
	h := handlers.New(handlers.Config{Store: st, People: st, Sessions: sessions,
		Limiter: auth.NewRateLimiter(auth.RateLimitConfig{}), Hasher: hasher})
	e, err := web.New(web.Config{}, web.Deps{Logger: slog.New(slog.DiscardHandler), Handlers: h, Sessions: sessions, Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	webtest.AddUser(t, st, "alice", false)
	return e, st
}

// TestSignInBurst: 100 wrong guesses posted at once, all in flight
// together, for one name (from 100 addresses) or from one address (for 100
// names): at most the limit (5 a name, 20 an address) reach the password
// hash, and every other one is answered 429 without a hash.
func TestSignInBurst(t *testing.T) {
	tests := []struct {
		name string
		user func(i int) string
		addr func(i int) string
		want int
	}{
		{"one name", func(int) string { return "alice" }, func(i int) string { return fmt.Sprintf("10.2.0.%d:1234", i) }, 5},
		{"one address", func(i int) string { return fmt.Sprint("guess", i) }, func(int) string { return "198.51.100.4:1234" }, 20},
		{"one address, one name", func(int) string { return "alice" }, func(int) string { return "198.51.100.5:1234" }, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 100
			g := &gateHasher{entered: make(chan struct{}, n), gate: make(chan struct{})}
			srv, _ := newLimitEnv(t, g)
			codes := make(chan int, n)
			for i := range n {
				go func() {
					form := url.Values{"username": {tt.user(i)}, "password": {"guess"}}
					req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("Sec-Fetch-Site", "same-origin")
					req.RemoteAddr = tt.addr(i)
					rec := httptest.NewRecorder()
					srv.ServeHTTP(rec, req)
					codes <- rec.Code
				}()
			}
			// Wait until every request is either at the hash or answered,
			// then let the hashes finish.
			count := map[int]int{}
			answered := 0
			for inFlight := 0; inFlight+answered < n; {
				select {
				case <-g.entered:
					inFlight++
				case c := <-codes:
					count[c]++
					answered++
				}
			}
			close(g.gate)
			for ; answered < n; answered++ {
				count[<-codes]++
			}
			if got := g.checks.Load(); got != int64(tt.want) {
				t.Errorf("password checks = %d, want %d", got, tt.want)
			}
			if count[http.StatusUnauthorized] != tt.want || count[http.StatusTooManyRequests] != n-tt.want {
				t.Errorf("answers = %v, want %d × 401 and %d × 429", count, tt.want, n-tt.want)
			}
		})
	}
}

// TestDisabledAnswersAsWrongPassword: the right password of a disabled
// account gets, byte for byte, the answer of a wrong password (apart from
// the CSRF token and the script nonce), after the same hash; the audit log
// tells the administrators which it was.
func TestDisabledAnswersAsWrongPassword(t *testing.T) {
	srv, st := newLimitEnv(t, auth.NewHasher(auth.HasherConfig{}))
	b := webtest.NewBrowser(t, srv)
	b.Get("/login")
	wrong := b.Post("/login", url.Values{"username": {"alice"}, "password": {"not it"}})
	u, err := st.UserByName(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetDisabled(context.Background(), u.ID, true); err != nil {
		t.Fatal(err)
	}
	disabled := b.Post("/login", url.Values{"username": {"alice"}, "password": {webtest.Password}})

	varying := regexp.MustCompile(`(value|nonce)="[^"]*"|'nonce-[^']*'`)
	norm := func(rec *httptest.ResponseRecorder) string {
		var hdr []string
		for k, v := range rec.Header() {
			if k != "Set-Cookie" {
				hdr = append(hdr, k+": "+strings.Join(v, ","))
			}
		}
		slices.Sort(hdr)
		return varying.ReplaceAllString(fmt.Sprint(rec.Code, hdr)+rec.Body.String(), "$1=…")
	}
	if wrong.Code != http.StatusUnauthorized || norm(wrong) != norm(disabled) {
		t.Errorf("disabled (%d) and wrong password (%d) answer differently:\n%s\n---\n%s",
			disabled.Code, wrong.Code, norm(disabled), norm(wrong))
	}
	es, err := st.AuditLog(context.Background(), store.AuditQuery{Action: "login"})
	if err != nil || len(es) != 2 || es[0].Detail != "account disabled" || es[1].Detail != "wrong password" {
		t.Errorf("audit = %+v, %v", es, err)
	}
}
