package web_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/web/webtest"
)

// deniedEntries counts the audit log's denied entries.
func deniedEntries(t *testing.T, st *store.Store) int {
	t.Helper()
	es, err := st.AuditLog(context.Background(), store.AuditQuery{Outcome: store.OutcomeDenied, Limit: store.MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// TestAdminGroup: every route under /admin is in the one group and has
// its row in the guards' table; a person who is not an administrator gets
// the route's 403 with its message, audited as denied exactly once (the
// group's check and the handler's are one helper: a refusal is not
// recorded twice), and nothing under /admin, not even an address that is
// no route, answers them otherwise. An administrator passes.
func TestAdminGroup(t *testing.T) {
	s := newServer(t, nil)
	webtest.AddUser(t, s.store, "pat", false)
	pat := webtest.NewBrowser(t, s.e)
	pat.Login("pat", webtest.Password)

	var routes []*echo.Route
	for _, r := range s.e.Routes() {
		if strings.HasPrefix(r.Path, "/admin") && r.Method != echo.RouteNotFound {
			routes = append(routes, r)
		}
	}
	if len(routes) < 20 {
		t.Fatalf("%d admin routes, want the whole admin area", len(routes))
	}
	sample := strings.NewReplacer(":id", "1", ":user", "1")
	for _, r := range routes {
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			if !handlers.AdminGuarded(r.Method, r.Path) {
				t.Fatalf("%s %s has no row in the admin guards", r.Method, r.Path)
			}
			for _, htmx := range []bool{false, true} {
				var hdr []string
				if htmx {
					hdr = []string{handlers.HeaderRequest, "true"}
				}
				before := deniedEntries(t, s.store)
				target := sample.Replace(r.Path)
				var rec *httptest.ResponseRecorder
				if r.Method == http.MethodGet {
					rec = pat.Get(target, hdr...)
				} else {
					rec = pat.Post(target, url.Values{"folder": {"b1gfolder"}}, hdr...)
				}
				code, body := rec.Code, rec.Body.String()
				if code != http.StatusForbidden {
					t.Errorf("htmx=%v: %d, want 403", htmx, code)
				}
				if !strings.Contains(html.UnescapeString(body), "Only an administrator may ") {
					t.Errorf("htmx=%v: no message saying why:\n%s", htmx, body)
				}
				if strings.Contains(body, "use the admin pages") {
					t.Errorf("htmx=%v: the fallback message, not the route's", htmx)
				}
				if got := deniedEntries(t, s.store) - before; got != 1 {
					t.Errorf("htmx=%v: %d denied audit entries, want 1", htmx, got)
				}
			}
		})
	}

	// An address under /admin that is no route: a non-admin learns
	// nothing (403, audited), an administrator gets the 404.
	for _, target := range []string{"/admin", "/admin/", "/admin/nope", "/admin/users/1/frobnicate"} {
		before := deniedEntries(t, s.store)
		if rec := pat.Get(target); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "use the admin pages") {
			t.Errorf("non-admin GET %s = %d, want 403 saying so", target, rec.Code)
		}
		if got := deniedEntries(t, s.store) - before; got != 1 {
			t.Errorf("non-admin GET %s: %d denied audit entries, want 1", target, got)
		}
		if rec := s.admin.Get(target); rec.Code != http.StatusNotFound {
			t.Errorf("admin GET %s = %d, want 404", target, rec.Code)
		}
	}
	for _, target := range []string{"/admin/users", "/admin/teams", "/admin/folders", "/admin/audit"} {
		if rec := s.admin.Get(target); rec.Code != http.StatusOK {
			t.Errorf("admin GET %s = %d, want 200", target, rec.Code)
		}
	}
}
