package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/static"
	"github.com/imagedash/imagedash/web/webtest"
)

// TestNoStore: every answer but a found static asset tells browsers and
// proxies to keep nothing (a signed-in page left in a shared computer's
// cache, or in a proxy's, is another person's data): pages, partials,
// redirects, errors, the CSV export and the sign-in page.
func TestNoStore(t *testing.T) {
	s := newServer(t, nil)
	anon := webtest.NewBrowser(t, s.e)
	htmx := []string{handlers.HeaderRequest, "true"}
	tests := []struct {
		name string
		do   func() *httptest.ResponseRecorder
	}{
		{"list page", func() *httptest.ResponseRecorder { return s.admin.Get("/") }},
		{"list partial", func() *httptest.ResponseRecorder { return s.admin.Get("/?service=compute", htmx...) }},
		{"families", func() *httptest.ResponseRecorder { return s.admin.Get("/families?service=compute") }},
		{"sync status partial", func() *httptest.ResponseRecorder { return s.admin.Get("/sync?service=compute", htmx...) }},
		{"operations", func() *httptest.ResponseRecorder { return s.admin.Get("/operations") }},
		{"operation counts partial", func() *httptest.ResponseRecorder { return s.admin.Get("/operations/counts", htmx...) }},
		{"admin users", func() *httptest.ResponseRecorder { return s.admin.Get("/admin/users") }},
		{"admin teams", func() *httptest.ResponseRecorder { return s.admin.Get("/admin/teams") }},
		{"admin folders", func() *httptest.ResponseRecorder { return s.admin.Get("/admin/folders") }},
		{"audit", func() *httptest.ResponseRecorder { return s.admin.Get("/admin/audit") }},
		{"audit CSV", func() *httptest.ResponseRecorder { return s.admin.Get("/admin/audit.csv") }},
		{"bad request", func() *httptest.ResponseRecorder { return s.admin.Get("/images/tape/x") }},
		{"not found image", func() *httptest.ResponseRecorder { return s.admin.Get("/images/compute/fd8missing") }},
		{"not found page", func() *httptest.ResponseRecorder { return s.admin.Get("/nope") }},
		{"error toast", func() *httptest.ResponseRecorder { return s.admin.Get("/nope", htmx...) }},
		{"POST answer", func() *httptest.ResponseRecorder {
			return s.admin.Post("/admin/teams", url.Values{"name": {"alpha"}})
		}},
		{"POST refused", func() *httptest.ResponseRecorder { return s.admin.PostRaw("/admin/teams", url.Values{"name": {"x"}}) }},
		{"sign-in page", func() *httptest.ResponseRecorder { return anon.Get("/login") }},
		{"sign-in redirect", func() *httptest.ResponseRecorder { return anon.Get("/operations") }},
		{"sign-in htmx redirect", func() *httptest.ResponseRecorder { return anon.Get("/operations/counts", htmx...) }},
		{"wrong password", func() *httptest.ResponseRecorder {
			return anon.Post("/login", url.Values{"username": {"root"}, "password": {"nope"}})
		}},
		{"healthz", func() *httptest.ResponseRecorder { return anon.Get("/healthz") }},
		{"readyz", func() *httptest.ResponseRecorder { return anon.Get("/readyz") }},
		{"metrics", func() *httptest.ResponseRecorder { return anon.Get("/metrics") }},
		{"static missing", func() *httptest.ResponseRecorder { return anon.Get("/static/missing.js") }},
		{"static wrong method", func() *httptest.ResponseRecorder {
			return anon.Do(httptest.NewRequest(http.MethodPost, static.URL(static.AppCSS), nil))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tt.do()
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("status %d, Cache-Control = %q, want no-store", rec.Code, got)
			}
		})
	}
	for _, name := range []string{static.HTMX, static.AppCSS, "app.js", "keys.js"} {
		rec := anon.Get(static.URL(name))
		if got := rec.Header().Get("Cache-Control"); rec.Code != http.StatusOK || !strings.Contains(got, "immutable") {
			t.Errorf("static %s = %d, Cache-Control %q, want 200 and a long immutable cache", name, rec.Code, got)
		}
	}
}
