// Package webtest helps tests drive the dashboard as a person would: a
// Browser keeps cookies across requests to an http.Handler, signs in
// through the real sign-in form (CSRF token scraped from the page) and
// posts forms with the token, so tests keep CSRF protection on.
package webtest

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// cheap are argon2id costs for tests: the real ones take 64 MiB and about
// 100 ms per hash, too slow for a table of accounts under -race.
// CheckPassword reads the costs back from the hash, so these verify.
var cheap = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Hasher is a password hasher making cheap hashes, for handlers whose
// tests set passwords (the real costs would be most of their time).
func Hasher() *auth.Hasher { return auth.NewHasher(auth.HasherConfig{Params: cheap}) }

// Password is the password of every account AddUser makes.
const Password = "correct horse battery"

// AddUser creates an account with Password, cheaply hashed.
func AddUser(tb testing.TB, st *store.Store, name string, admin bool) store.User {
	tb.Helper()
	hash, err := auth.HashPasswordParams(Password, cheap)
	if err != nil {
		tb.Fatal(err)
	}
	u, err := st.CreateUser(tb.Context(), store.NewUser{Username: name, PasswordHash: hash, Admin: admin})
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// SessionKey is the session hash key of every test server.
var SessionKey = []byte("0123456789abcdef0123456789abcdef")

// People are the session store and directory over st, as web.Deps wants
// them; now is the sessions' clock (nil: time.Now).
func People(tb testing.TB, st *store.Store, now func() time.Time) (*auth.SessionStore, *auth.Directory) {
	tb.Helper()
	ss, err := auth.NewSessionStore(st, auth.SessionConfig{KeyPairs: [][]byte{SessionKey, nil}, Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	return ss, auth.NewDirectory(st)
}

// Browser is one browser: its cookies, and the CSRF token of the last page
// that had one.
type Browser struct {
	tb      testing.TB
	h       http.Handler
	cookies map[string]*http.Cookie
	// CSRF is the token scraped from the last page with a form.
	CSRF string
	// RemoteAddr is the client address of every request ("" → httptest's).
	RemoteAddr string
}

// NewBrowser is a browser with no cookies, talking to h.
func NewBrowser(tb testing.TB, h http.Handler) *Browser {
	return &Browser{tb: tb, h: h, cookies: map[string]*http.Cookie{}}
}

// Do sends req with the browser's cookies and keeps the cookies the answer
// sets (a cookie set to expire is dropped). It adds no CSRF token.
func (b *Browser) Do(req *http.Request) *httptest.ResponseRecorder {
	b.tb.Helper()
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	if b.RemoteAddr != "" {
		req.RemoteAddr = b.RemoteAddr
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
			continue
		}
		b.cookies[c.Name] = c
	}
	b.scrape(rec)
	return rec
}

// scrape keeps the CSRF token of a page: the first form's hidden field.
// It looks for that field rather than parsing the page: the scrape runs
// on every answer, and a parse of each was a tenth of the handlers' tests'
// time under -race.
func (b *Browser) scrape(rec *httptest.ResponseRecorder) {
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		return
	}
	if tok := csrfToken(rec.Body.String()); tok != "" {
		b.CSRF = tok
	}
}

// csrfValue is the value attribute of a tag.
var csrfValue = regexp.MustCompile(`\svalue="([^"]*)"`)

// csrfToken is the value of the first <input name="_csrf"> of page with
// one, "" when none has. The pages are templ's, which escapes attribute
// values: a tag ends at the first ">" after its name.
func csrfToken(page string) string {
	field := ` name="` + views.CSRFField + `"`
	for {
		i := strings.Index(page, field)
		if i < 0 {
			return ""
		}
		start := strings.LastIndexByte(page[:i], '<')
		end := strings.IndexByte(page[i:], '>')
		if start < 0 || end < 0 {
			return ""
		}
		tag := page[start : i+end]
		page = page[i+end:]
		if !strings.HasPrefix(tag, "<input ") {
			continue
		}
		if m := csrfValue.FindStringSubmatch(tag); m != nil && m[1] != "" {
			return html.UnescapeString(m[1])
		}
	}
}

// Get is a GET of target with the headers hdr (name, value pairs).
func (b *Browser) Get(target string, hdr ...string) *httptest.ResponseRecorder {
	b.tb.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	setHeaders(req, hdr)
	return b.Do(req)
}

// Post posts form to target as a browser form would, with the scraped CSRF
// token, and the headers hdr.
func (b *Browser) Post(target string, form url.Values, hdr ...string) *httptest.ResponseRecorder {
	b.tb.Helper()
	if form == nil {
		form = url.Values{}
	}
	if b.CSRF != "" && !form.Has(views.CSRFField) {
		form = cloneValues(form)
		form.Set(views.CSRFField, b.CSRF)
	}
	return b.PostRaw(target, form, hdr...)
}

// PostRaw posts form exactly as given: no token is added.
func (b *Browser) PostRaw(target string, form url.Values, hdr ...string) *httptest.ResponseRecorder {
	b.tb.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	setHeaders(req, hdr)
	return b.Do(req)
}

// Login signs in through the sign-in page and fails the test unless it
// succeeds (a redirect away from /login).
func (b *Browser) Login(username, password string) {
	b.tb.Helper()
	if rec := b.Get("/login"); rec.Code != http.StatusOK {
		b.tb.Fatalf("GET /login = %d", rec.Code)
	}
	rec := b.Post("/login", url.Values{"username": {username}, "password": {password}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") == "/login" {
		b.tb.Fatalf("sign in as %s: %d %s\n%s", username, rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	// The token scraped from the sign-in page stays good: it is the
	// _csrf cookie's, which lives on.
}

// Cookie is the browser's cookie of that name, nil when it has none.
func (b *Browser) Cookie(name string) *http.Cookie { return b.cookies[name] }

// SessionCookie is the session cookie, nil when signed out.
func (b *Browser) SessionCookie() *http.Cookie { return b.cookies[handlers.SessionName] }

func setHeaders(req *http.Request, hdr []string) {
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
