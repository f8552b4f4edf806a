package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/imagedash/imagedash/views"
	"github.com/imagedash/imagedash/web/webtest"
)

// TestCSRFRefusesShortTokens: a client without Sec-Fetch-Site or Origin (a
// script, an old browser: the path the token guards) that sends an empty
// or short _csrf cookie with the same value back is refused, by form field
// and by header, on the sign-in form and on a signed-in action. A real
// token (32 characters) still passes.
func TestCSRFRefusesShortTokens(t *testing.T) {
	e := newAuthEnv(t)
	signedIn := webtest.NewBrowser(t, e.srv)
	signedIn.Login("alice", webtest.Password)
	session := signedIn.SessionCookie()

	long := strings.Repeat("k", 32)
	tests := []struct {
		name     string
		cookie   []string // _csrf cookies sent, in order
		token    string
		byHeader bool
		want     int
	}{
		{"empty cookie, empty field", []string{""}, "", false, http.StatusForbidden},
		{"empty cookie, empty header", []string{""}, "", true, http.StatusForbidden},
		{"one char", []string{"a"}, "a", false, http.StatusForbidden},
		{"31 chars by form", []string{long[:31]}, long[:31], false, http.StatusForbidden},
		{"31 chars by header", []string{long[:31]}, long[:31], true, http.StatusForbidden},
		{"short first, long second", []string{"x", long}, "x", false, http.StatusForbidden},
		{"no cookie, empty field", nil, "", false, http.StatusForbidden},
		{"32 chars pass", []string{long}, long, false, 0},
		{"32 chars by header pass", []string{long}, long, true, 0},
	}
	for _, path := range []string{"/login", "/sync"} {
		for _, tt := range tests {
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				form := url.Values{"username": {"alice"}, "password": {"wrong"}, "service": {"compute"}}
				if !tt.byHeader {
					form.Set(views.CSRFField, tt.token)
				}
				req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if tt.byHeader {
					req.Header.Set(views.CSRFHeader, tt.token)
				}
				cookies := []string{}
				for _, v := range tt.cookie {
					cookies = append(cookies, "_csrf="+v)
				}
				if path != "/login" {
					cookies = append(cookies, session.Name+"="+session.Value)
				}
				req.Header.Set("Cookie", strings.Join(cookies, "; "))
				rec := httptest.NewRecorder()
				e.srv.ServeHTTP(rec, req)
				switch {
				case tt.want == http.StatusForbidden && rec.Code != http.StatusForbidden:
					t.Errorf("= %d, want 403:\n%s", rec.Code, rec.Body.String())
				case tt.want == 0 && rec.Code == http.StatusForbidden:
					t.Errorf("a real token was refused: %s", rec.Body.String())
				}
				if tt.want == http.StatusForbidden {
					for _, c := range rec.Result().Cookies() {
						if c.Name == "_csrf" && len(c.Value) < 32 {
							t.Errorf("the answer keeps a short token %q", c.Value)
						}
					}
				}
			})
		}
	}
}
