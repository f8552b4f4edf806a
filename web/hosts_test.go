package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/imagedash/imagedash/web"
)

// TestHostCheck is DNS rebinding: the attacker's name (evil.example) is
// made to resolve to the dashboard's address, so the victim's browser
// sends requests that are same-origin for the attacker's page, with the
// victim's cookies, but carry Host: evil.example. Only the dashboard's own
// hosts (--addr, --public-url, localhost, loopback) are answered, on a page
// route and a POST route alike; the probes and /metrics answer any Host.
func TestHostCheck(t *testing.T) {
	// example.com is httptest's host, and so the "public URL" here (the
	// admin signs in through it); 10.0.0.5 plays --addr.
	s := newServerConfig(t, web.Config{AllowedHosts: []string{"example.com", "10.0.0.5:8080"}}, nil)
	tests := []struct {
		host string
		ok   bool
	}{
		{"evil.example", false},
		{"evil.example:8080", false},
		{"EVIL.example.", false},
		{"localhost.evil.example", false},
		{"example.com.evil.example", false},
		{"203.0.113.66", false},      // the rebinding attacker's own address
		{"203.0.113.66:8080", false}, //
		{"192.168.1.10:8080", false}, // an address of no interface we were told of
		{"[2001:db8::1]:8080", false},
		{"", false},
		{"127.0.0.1:8080", true},
		{"127.0.0.1", true},
		{"127.5.6.7:9", true},
		{"localhost", true},
		{"LocalHost:8080", true},
		{"[::1]:8080", true},
		{"[::ffff:127.0.0.1]:8080", true},
		{"example.com", true},
		{"example.com:443", true},
		{"example.com.", true},
		{"10.0.0.5:8080", true},
		{"10.0.0.5:9999", true},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			page := httptest.NewRequest(http.MethodGet, "/", nil)
			form := url.Values{"name": {"rebound"}, "_csrf": {s.admin.CSRF}}
			post := httptest.NewRequest(http.MethodPost, "/admin/teams", strings.NewReader(form.Encode()))
			post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, req := range []*http.Request{page, post} {
				req.Host = tt.host
				rec := s.admin.Do(req)
				refused := rec.Code == http.StatusMisdirectedRequest
				if refused == tt.ok {
					t.Errorf("%s %s with Host %q = %d, want refused %v", req.Method, req.URL.Path, tt.host, rec.Code, !tt.ok)
				}
				if refused && !strings.Contains(rec.Body.String(), "does not answer under this host name") {
					t.Errorf("421 without its message:\n%.300s", rec.Body.String())
				}
			}
		})
	}
	// Probes and scrapers call by pod address or service name.
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Host = "10.244.3.17:8080"
		if rec := s.admin.Do(req); rec.Code != http.StatusOK {
			t.Errorf("GET %s by pod address = %d, want 200", path, rec.Code)
		}
	}
}
