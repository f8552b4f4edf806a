package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/metrics"
	"github.com/imagedash/imagedash/static"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/store/storetest"
	"github.com/imagedash/imagedash/web"
	"github.com/imagedash/imagedash/web/webtest"
)

type server struct {
	e     *echo.Echo
	log   *bytes.Buffer
	store *store.Store
	// admin is a browser signed in as an admin; s.do goes through it.
	admin *webtest.Browser
}

func newServer(t *testing.T, ready func(context.Context) error) server {
	t.Helper()
	return newServerConfig(t, web.Config{}, ready)
}

// newServerConfig is newServer with a Config.
func newServerConfig(t *testing.T, cfg web.Config, ready func(context.Context) error) server {
	t.Helper()
	return newServerWithDeps(t, cfg, ready, nil)
}

// newServerWithDeps is newServer with a Config and a clock (nil: time.Now).
func newServerWithDeps(t *testing.T, cfg web.Config, ready func(context.Context) error, now func() time.Time) server {
	t.Helper()
	var logs bytes.Buffer
	// An empty cache on a temp file: the pages render their "first sync" state.
	st, err := store.Open(context.Background(), storetest.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sessions, dir := webtest.People(t, st, nil)
	e, err := web.New(cfg, web.Deps{
		Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
		Handlers:  handlers.New(handlers.Config{Store: st, People: st, Sessions: sessions}),
		Ready:     ready,
		Now:       now,
		Metrics:   metrics.NewRegistry(),
		Sessions:  sessions,
		Directory: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	webtest.AddUser(t, st, "root", true)
	admin := webtest.NewBrowser(t, e)
	admin.Login("root", webtest.Password)
	return server{e: e, log: &logs, store: st, admin: admin}
}

func (s server) do(t *testing.T, method, target string, body io.Reader, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return s.admin.Do(req)
}

func TestSecurityHeaders(t *testing.T) {
	s := newServer(t, nil)
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
		"X-Xss-Protection":       "0",
		"X-Frame-Options":        "DENY",
	}
	for _, target := range []string{"/", "/healthz", "/nope", static.URL(static.AppCSS), "/?service=bad"} {
		t.Run(target, func(t *testing.T) {
			rec := s.do(t, http.MethodGet, target, nil, nil)
			for k, v := range want {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			csp := rec.Header().Get("Content-Security-Policy")
			if !cspRE.MatchString(csp) {
				t.Errorf("Content-Security-Policy = %q, want %s", csp, cspRE)
			}
		})
	}
	// A fresh nonce each time, and the page's scripts carry it.
	a, b := s.do(t, http.MethodGet, "/", nil, nil), s.do(t, http.MethodGet, "/", nil, nil)
	na, nb := cspRE.FindStringSubmatch(a.Header().Get("Content-Security-Policy")), cspRE.FindStringSubmatch(b.Header().Get("Content-Security-Policy"))
	if na == nil || nb == nil || na[1] == nb[1] {
		t.Fatalf("nonces %q and %q: want two different ones", na, nb)
	}
	if n := strings.Count(a.Body.String(), `nonce="`+na[1]+`"`); n != 3 {
		t.Errorf("%d script tags carry the nonce, want 3 (htmx, app.js, keys.js):\n%s", n, a.Body.String())
	}
}

// cspRE is the policy, with its per-request nonce as group 1.
var cspRE = regexp.MustCompile(`^default-src 'self'; script-src 'nonce-([A-Za-z0-9+/]{22}==)'; style-src 'self'; img-src 'self' data:; ` +
	`frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'self'$`)

func TestHealthz(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct {
		method   string
		wantBody string
	}{
		{http.MethodGet, "ok"},
		{http.MethodHead, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			rec := s.do(t, tt.method, "/healthz", nil, nil)
			if rec.Code != http.StatusOK || rec.Body.String() != tt.wantBody {
				t.Errorf("%s /healthz = %d %q, want 200 %q", tt.method, rec.Code, rec.Body.String(), tt.wantBody)
			}
		})
	}
}

func TestReadyz(t *testing.T) {
	tests := []struct {
		name     string
		ready    func(context.Context) error
		wantCode int
		wantBody string
	}{
		{"no check", nil, 200, "ok"},
		{"ready", func(context.Context) error { return nil }, 200, "ok"},
		// The admin of s.do reads why; see TestReadyzAnonymous for the rest.
		{"not ready", func(context.Context) error { return errors.New("cloud: unavailable") }, 503, "unavailable: cloud: unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newServer(t, tt.ready).do(t, http.MethodGet, "/readyz", nil, nil)
			if rec.Code != tt.wantCode || rec.Body.String() != tt.wantBody {
				t.Errorf("/readyz = %d %q, want %d %q", rec.Code, rec.Body.String(), tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	s := newServer(t, nil)
	s.do(t, http.MethodGet, "/healthz", nil, nil)
	s.do(t, http.MethodHead, "/healthz", nil, nil)
	s.do(t, http.MethodGet, "/", nil, nil)
	s.do(t, http.MethodGet, "/no/such/page", nil, nil)
	s.do(t, http.MethodGet, "/?service=bad", nil, nil)

	rec := s.do(t, http.MethodGet, "/metrics", nil, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics = %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q, want the text exposition format", ct)
	}
	body := rec.Body.String()
	for _, want := range []string{
		"# TYPE imagedash_http_requests_total counter\n",
		`imagedash_http_requests_total{code="200",method="GET",route="/healthz"} 1` + "\n",
		`imagedash_http_requests_total{code="200",method="HEAD",route="/healthz"} 1` + "\n",
		`imagedash_http_requests_total{code="200",method="GET",route="/"} 1` + "\n",
		`imagedash_http_requests_total{code="400",method="GET",route="/"} 1` + "\n",
		// An unknown path is one label value, not one per path.
		`imagedash_http_requests_total{code="404",method="GET",route="unmatched"} 1` + "\n",
		"# TYPE imagedash_http_request_duration_seconds histogram\n",
		`imagedash_http_request_duration_seconds_bucket{route="/healthz",le="+Inf"} 2` + "\n",
		`imagedash_http_request_duration_seconds_count{route="/"} 2` + "\n",
		"# TYPE go_goroutines gauge\ngo_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q; got:\n%s", want, body)
		}
	}
	if strings.Contains(body, "/no/such/page") {
		t.Error("raw paths leak into metric labels")
	}
}

func TestStatic(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct {
		name     string
		wantType string
	}{
		{static.HTMX, "text/javascript; charset=utf-8"},
		{static.Pico, "text/css; charset=utf-8"},
		{static.AppCSS, "text/css; charset=utf-8"},
		{"app.js", "text/javascript; charset=utf-8"},
		{"keys.js", "text/javascript; charset=utf-8"},
		{static.Favicon, "image/svg+xml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := s.do(t, http.MethodGet, static.URL(tt.name), nil, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s = %d", static.URL(tt.name), rec.Code)
			}
			if got := rec.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
				t.Errorf("Cache-Control = %q", got)
			}
			if got := rec.Header().Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if !strings.Contains(static.URL(tt.name), "?v=") {
				t.Errorf("URL %q carries no content digest", static.URL(tt.name))
			}
		})
	}
	for _, target := range []string{"/static/missing.js", "/static/", "/static/../go.mod", "/static/%2e%2e/static.go"} {
		t.Run("missing "+target, func(t *testing.T) {
			rec := s.do(t, http.MethodGet, target, nil, nil)
			if rec.Code != http.StatusNotFound {
				t.Errorf("GET %s = %d, want 404", target, rec.Code)
			}
			if got := rec.Header().Get("Cache-Control"); strings.Contains(got, "immutable") {
				t.Errorf("a 404 is cached forever: %q", got)
			}
		})
	}
}

func TestErrorHandler(t *testing.T) {
	s := newServer(t, nil)
	s.e.GET("/panic", func(echo.Context) error { panic("secret internal detail") })
	s.e.GET("/fail", func(echo.Context) error { return errors.New("db password is hunter2") })
	s.e.GET("/toomany", func(echo.Context) error {
		return fmt.Errorf("copy: tracker: %w", &store.OpenLimitError{Open: 190, Asked: 20, Limit: 200})
	})
	s.e.GET("/busy", func(echo.Context) error { return fmt.Errorf("create user: %w", auth.ErrBusy) })

	tests := []struct {
		name      string
		target    string
		htmx      bool
		wantCode  int
		wantText  string
		wantToast bool
		retry     string
	}{
		{"not found page", "/nope", false, 404, "There is no page at this address.", false, ""},
		{"not found toast", "/nope", true, 404, "There is no page at this address.", true, ""},
		{"panic", "/panic", false, 500, "Something went wrong on our side", false, ""},
		{"plain error toast", "/fail", true, 500, "Something went wrong on our side", true, ""},
		{"operations limit toast", "/toomany", true, 429, "You have 190 operations in flight and asked for 20 more; one person may have 200 at once.", true, "30"},
		{"operations limit page", "/toomany", false, 429, "Wait for some to end, or choose fewer.", false, "30"},
		{"hashing busy", "/busy", true, 503, "Try again in a few seconds.", true, "5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.htmx {
				hdr[handlers.HeaderRequest] = "true"
			}
			rec := s.do(t, http.MethodGet, tt.target, nil, hdr)
			body := rec.Body.String()
			if rec.Code != tt.wantCode {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantCode)
			}
			if got := rec.Header().Get("Retry-After"); got != tt.retry {
				t.Errorf("Retry-After = %q, want %q", got, tt.retry)
			}
			if !strings.Contains(body, tt.wantText) {
				t.Errorf("body lacks %q:\n%s", tt.wantText, body)
			}
			if strings.Contains(body, "secret") || strings.Contains(body, "hunter2") {
				t.Error("internal error text leaked to the client")
			}
			isToast := strings.Contains(body, `data-testid="toast"`) && !strings.Contains(body, "<html")
			if isToast != tt.wantToast {
				t.Errorf("toast = %v, want %v", isToast, tt.wantToast)
			}
			if tt.wantToast && rec.Header().Get(handlers.HeaderRetarget) != "#toasts" {
				t.Errorf("HX-Retarget = %q", rec.Header().Get(handlers.HeaderRetarget))
			}
			if got := rec.Header().Values("Vary"); len(got) == 0 {
				t.Error("no Vary header on an error answer")
			}
		})
	}
	logs := s.log.String()
	if !strings.Contains(logs, "secret internal detail") || !strings.Contains(logs, "stack=") {
		t.Errorf("the panic and its stack were not logged:\n%s", logs)
	}
	if n := strings.Count(logs, "hunter2"); n != 1 {
		t.Errorf("the plain error was logged %d times, want once", n)
	}
}

func TestBodyLimit(t *testing.T) {
	s := newServer(t, nil)
	s.e.POST("/upload", func(c echo.Context) error {
		if _, err := io.ReadAll(c.Request().Body); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	tok := map[string]string{"X-CSRF-Token": s.admin.CSRF}
	if rec := s.do(t, http.MethodPost, "/upload", strings.NewReader(strings.Repeat("x", 1_000_000)), tok); rec.Code != http.StatusNoContent {
		t.Errorf("1 MB body = %d, want 204", rec.Code)
	}
	if rec := s.do(t, http.MethodPost, "/upload", strings.NewReader(strings.Repeat("x", 1_000_001)), tok); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MB + 1 body = %d, want 413", rec.Code)
	}
	// A form sent chunked (no Content-Length to refuse it by), with no
	// token header: 413 with the reason, not the CSRF check's 403.
	s.e.POST("/form", func(c echo.Context) error { return c.String(http.StatusOK, c.FormValue("a")) })
	body := io.MultiReader(strings.NewReader("_csrf="+s.admin.CSRF+"&a="), strings.NewReader(strings.Repeat("x", 1_100_000)))
	rec := s.do(t, http.MethodPost, "/form", body, map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "larger than the dashboard accepts") {
		t.Errorf("chunked form over the limit = %d:\n%s", rec.Code, rec.Body.String())
	}
	// A small chunked form still passes the check with its _csrf field.
	small := io.MultiReader(strings.NewReader("_csrf=" + s.admin.CSRF + "&a=ok"))
	if rec := s.do(t, http.MethodPost, "/form", small, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}); rec.Code != http.StatusOK || rec.Body.String() != "ok" {
		t.Errorf("small chunked form = %d %q, want 200 ok", rec.Code, rec.Body.String())
	}
}

func TestIPIgnoresForwardedFor(t *testing.T) {
	s := newServer(t, nil)
	s.e.GET("/ip", func(c echo.Context) error { return c.String(http.StatusOK, c.RealIP()) })
	rec := s.do(t, http.MethodGet, "/ip", nil, map[string]string{"X-Forwarded-For": "6.6.6.6", "X-Real-IP": "6.6.6.6"})
	if got := rec.Body.String(); got != "192.0.2.1" { // httptest's RemoteAddr
		t.Errorf("RealIP = %q, want the peer address 192.0.2.1", got)
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct {
		name     string
		hdr      map[string]string
		wantCode int
	}{
		{"cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"other origin", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		// Same origin reaches the handler, which has no syncer here.
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusServiceUnavailable},
		// Neither header, as from a script or an old browser: the token decides.
		{"no browser headers, no token", nil, http.StatusForbidden},
		{"no browser headers, wrong token", map[string]string{"X-CSRF-Token": "forged"}, http.StatusForbidden},
		{"no browser headers, token", map[string]string{"X-CSRF-Token": s.admin.CSRF}, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			maps.Copy(hdr, tt.hdr)
			rec := s.do(t, http.MethodPost, "/sync", strings.NewReader("service=compute"), hdr)
			if rec.Code != tt.wantCode {
				t.Errorf("POST /sync = %d, want %d", rec.Code, tt.wantCode)
			}
		})
	}
	// Safe methods are never refused.
	if rec := s.do(t, http.MethodGet, "/", nil, map[string]string{"Sec-Fetch-Site": "cross-site"}); rec.Code != http.StatusOK {
		t.Errorf("cross-site GET / = %d, want 200", rec.Code)
	}
}

func TestRoutes(t *testing.T) {
	s := newServer(t, nil)
	tests := []struct {
		method, target string
		wantCode       int
	}{
		{http.MethodGet, "/", http.StatusOK},
		{http.MethodGet, "/?service=desktop", http.StatusOK},
		{http.MethodGet, "/families?service=compute", http.StatusOK},
		{http.MethodGet, "/sync?service=compute", http.StatusOK},
		{http.MethodGet, "/images/compute/fd8missing", http.StatusNotFound},
		{http.MethodGet, "/images/compute/fd8missing/operations", http.StatusNotFound},
		{http.MethodGet, "/images/compute/fd8missing/latest", http.StatusNotFound},
		{http.MethodGet, "/images/tape/x", http.StatusBadRequest},
		{http.MethodDelete, "/sync", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		if rec := s.do(t, tt.method, tt.target, nil, map[string]string{"X-CSRF-Token": s.admin.CSRF}); rec.Code != tt.wantCode {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.target, rec.Code, tt.wantCode)
		}
	}
}
