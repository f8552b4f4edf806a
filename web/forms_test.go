package web_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/handlers"
)

// TestFormTooManyFields: a form with more fields than Go's parsers take
// used to read as empty, and the CSRF check then answered 403 "CSRF".
// Now it is a 400 that says why, whatever the encoding, the route or
// whether a token is sent.
func TestFormTooManyFields(t *testing.T) {
	s := newServer(t, nil)
	s.e.POST("/form", func(c echo.Context) error { return c.String(http.StatusOK, c.FormValue("a")) })
	urlencoded := func(n int) (string, io.Reader) {
		var b strings.Builder
		b.WriteString("_csrf=" + s.admin.CSRF)
		for i := range n - 1 {
			fmt.Fprintf(&b, "&f%d=", i)
		}
		return "application/x-www-form-urlencoded", strings.NewReader(b.String())
	}
	multi := func(n int) (string, io.Reader) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		_ = w.SetBoundary("b") // short, so 10 001 parts fit in the 1 MB limit
		_ = w.WriteField("_csrf", s.admin.CSRF)
		for range n - 1 {
			_ = w.WriteField("f", "")
		}
		_ = w.Close()
		return w.FormDataContentType(), &b
	}
	tests := []struct {
		name    string
		target  string
		fields  int
		body    func(int) (string, io.Reader)
		chunked bool // no Content-Length: a 50 000-part multipart body is over 1 MB
	}{
		{"urlencoded 10 001", "/form", 10_001, urlencoded, false},
		{"urlencoded 50 000", "/form", 50_000, urlencoded, false},
		{"urlencoded 50 000 chunked", "/form", 50_000, urlencoded, true},
		{"urlencoded sign-in", "/login", 10_001, urlencoded, false},
		{"urlencoded admin route", "/admin/users", 20_000, urlencoded, false},
		{"multipart 10 001", "/form", 10_001, multi, false},
		{"multipart 50 000 chunked", "/form", 50_000, multi, true},
		{"multipart sync", "/sync", 10_001, multi, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, body := tt.body(tt.fields)
			if tt.chunked {
				body = io.MultiReader(body) // hides the length from httptest
			}
			rec := s.do(t, http.MethodPost, tt.target, body, map[string]string{"Content-Type": ct})
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "This form has too many fields") {
				t.Errorf("POST %s with %d fields = %d, want 400 \"too many fields\":\n%.400s", tt.target, tt.fields, rec.Code, rec.Body.String())
			}
		})
	}
	// Forms under the limits still pass, token and all.
	for _, n := range []int{10_000, 1_000} {
		ct, body := urlencoded(n)
		if n == 1_000 {
			ct, body = multi(n)
		}
		if rec := s.do(t, http.MethodPost, "/form", body, map[string]string{"Content-Type": ct}); rec.Code != http.StatusOK {
			t.Errorf("POST %s with %d fields = %d, want 200:\n%.400s", ct, n, rec.Code, rec.Body.String())
		}
	}
}

// TestSlowBody: a body that trickles in slower than the server's read
// timeout is a 408 with a plain message, logged at INFO, not a 500 logged
// as an error; on a form route (read by the middleware), on a handler
// reading the body itself, and on the anonymous sign-in form.
func TestSlowBody(t *testing.T) {
	s := newServer(t, nil)
	s.e.POST("/form", func(c echo.Context) error { return c.String(http.StatusOK, c.FormValue("a")) })
	s.e.POST("/upload", func(c echo.Context) error {
		if _, err := io.ReadAll(c.Request().Body); err != nil {
			return fmt.Errorf("upload: %w", err)
		}
		return c.NoContent(http.StatusNoContent)
	})
	srv := httptest.NewUnstartedServer(s.e)
	// Short, so the test does not wait long; the client below never sends
	// the rest of its body, so no timing decides the outcome.
	srv.Config.ReadTimeout = 200 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)

	cookies := "_csrf=" + s.admin.Cookie("_csrf").Value + "; " + handlers.SessionName + "=" + s.admin.SessionCookie().Value
	tests := []struct {
		name, target, contentType string
		chunked                   bool
	}{
		{"form", "/form", "application/x-www-form-urlencoded", false},
		{"form chunked", "/form", "application/x-www-form-urlencoded", true},
		{"multipart", "/form", "multipart/form-data; boundary=b", false},
		{"raw body", "/upload", "application/octet-stream", false},
		{"sign-in", "/login", "application/x-www-form-urlencoded", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.log.Reset()
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			length := "Content-Length: 100000\r\n"
			if tt.chunked {
				length = "Transfer-Encoding: chunked\r\n"
			}
			head := "POST " + tt.target + " HTTP/1.1\r\nHost: " + srv.Listener.Addr().String() + "\r\n" +
				"Content-Type: " + tt.contentType + "\r\n" + length +
				"X-CSRF-Token: " + s.admin.CSRF + "\r\nCookie: " + cookies + "\r\n\r\n"
			first := "a=b"
			if tt.chunked {
				first = "3\r\na=b\r\n"
			}
			// The headers and a first trickle of the body; the rest never
			// comes, so the read timeout runs out while the body is read.
			if _, err := io.WriteString(conn, head+first); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "came in too slowly") {
				t.Errorf("status = %d, want 408 with a plain message:\n%.400s", resp.StatusCode, body)
			}
			logs := s.log.String()
			if !strings.Contains(logs, "level=INFO msg=\"http request\"") || !strings.Contains(logs, "status=408") {
				t.Errorf("the slow request was not logged at INFO with its 408:\n%s", logs)
			}
			if strings.Contains(logs, "level=ERROR") || strings.Contains(logs, "level=WARN") {
				t.Errorf("a slow client logged as a warning or error:\n%s", logs)
			}
		})
	}
}
