package web_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/metrics"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/store/storetest"
	"github.com/imagedash/imagedash/views"
	"github.com/imagedash/imagedash/web"
	"github.com/imagedash/imagedash/web/webtest"
)

// goneServer is the app with a debug-level log (so the line of a client
// gone can be seen at its level) and two routes a test adds: a page whose
// render cancels the request midway, as a closed tab does, and a 32 MiB
// page, larger than the loopback sockets' buffers, so that a client that
// stops reading and closes makes the write fail.
type goneServer struct {
	e     *echo.Echo
	log   *bytes.Buffer
	admin *webtest.Browser
}

// bigBody is larger than what a loopback connection buffers on both sides
// (a few MiB), so the server is still writing when the client closes.
const bigBody = 32 << 20

func newGoneServer(t *testing.T) goneServer {
	t.Helper()
	var logs bytes.Buffer
	st, err := store.Open(context.Background(), storetest.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sessions, dir := webtest.People(t, st, nil)
	e, err := web.New(web.Config{}, web.Deps{
		Logger:    slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Handlers:  handlers.New(handlers.Config{Store: st, People: st, Sessions: sessions}),
		Metrics:   metrics.NewRegistry(),
		Sessions:  sessions,
		Directory: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	// The render path every page takes (handlers.Render), with a component
	// that writes a little, then the client goes away (the request's
	// context is canceled), then a templ component renders: templ's
	// generated code checks the context first, as it does mid-page.
	e.GET("/test/cancel-mid-render", func(c echo.Context) error {
		ctx, cancel := context.WithCancel(c.Request().Context())
		c.SetRequest(c.Request().WithContext(ctx))
		page := templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
			if _, err := io.WriteString(w, "<main>"); err != nil {
				return err
			}
			cancel()
			return views.Toast(views.ErrorPage{Code: 200, Title: "never", Message: "never"}).Render(ctx, w)
		})
		return handlers.Render(c, http.StatusOK, page, page)
	})
	e.GET("/test/large", func(c echo.Context) error {
		page := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
			_, err := w.Write(bytes.Repeat([]byte("x"), bigBody))
			return err
		})
		return handlers.Render(c, http.StatusOK, page, page)
	})
	webtest.AddUser(t, st, "root", true)
	admin := webtest.NewBrowser(t, e)
	admin.Login("root", webtest.Password)
	logs.Reset() // the sign-in's lines
	return goneServer{e: e, log: &logs, admin: admin}
}

// requestLines are the log's "http request" lines of path.
func requestLines(log, path string) []string {
	var out []string
	for line := range strings.Lines(log) {
		if strings.Contains(line, `msg="http request"`) && strings.Contains(line, " path="+path+" ") {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

// checkGone checks that the one request to path was logged once, at
// DEBUG, with status 499, that nothing was logged at ERROR, and that the
// metrics count a 499 for route and no 500 at all.
func checkGone(t *testing.T, s goneServer, path, route string) {
	t.Helper()
	log := s.log.String()
	lines := requestLines(log, path)
	if len(lines) != 1 {
		t.Fatalf("%d request lines for %s, want 1:\n%s", len(lines), path, log)
	}
	if !strings.Contains(lines[0], "level=DEBUG") || !strings.Contains(lines[0], "status=499") {
		t.Errorf("request line = %s, want level=DEBUG and status=499", lines[0])
	}
	if strings.Contains(log, "level=ERROR") {
		t.Errorf("a client gone was logged at ERROR:\n%s", log)
	}
	scrape := s.admin.Get("/metrics").Body.String()
	want := fmt.Sprintf(`imagedash_http_requests_total{code="499",method="GET",route=%q} 1`, route)
	if !strings.Contains(scrape, want) {
		t.Errorf("metrics lack %s:\n%s", want, grepLines(scrape, "imagedash_http_requests_total"))
	}
	if strings.Contains(scrape, `code="500"`) {
		t.Errorf("a client gone was counted as a 500:\n%s", grepLines(scrape, "imagedash_http_requests_total"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return strings.Join(out, "\n")
}

// TestClientGoneMidRender is the finding of issue 18: a client that goes
// away mid-response was logged at ERROR and counted as a 500 ("render /:
// context canceled"), so every closed tab raised the error rate. The
// request's context is canceled during the render (the test route), or
// before a real page is answered (the list, an image's page, the monitor,
// an htmx partial: a search aborted by the next keystroke).
func TestClientGoneMidRender(t *testing.T) {
	tests := []struct {
		name, target, route string
		hdr                 map[string]string
		cancelFirst         bool
	}{
		{name: "canceled mid-render", target: "/test/cancel-mid-render", route: "/test/cancel-mid-render"},
		{name: "list page", target: "/", route: "/", cancelFirst: true},
		{name: "search partial", target: "/?q=ubuntu", route: "/", hdr: map[string]string{"HX-Request": "true"}, cancelFirst: true},
		{name: "image page", target: "/images/compute/fd8abc", route: "/images/:service/:id", cancelFirst: true},
		{name: "monitor", target: "/operations", route: "/operations", cancelFirst: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newGoneServer(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelFirst {
				cancel()
			}
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, tt.target, nil)
			for k, v := range tt.hdr {
				req.Header.Set(k, v)
			}
			rec := s.admin.Do(req)
			if rec.Code == http.StatusInternalServerError || strings.Contains(rec.Body.String(), "Something went wrong") {
				t.Errorf("a gone client was sent a 500 page: %d %.200q", rec.Code, rec.Body.String())
			}
			path, _, _ := strings.Cut(tt.target, "?")
			checkGone(t, s, path, tt.route)
		})
	}
}

// TestClientGoneMidResponse: the connection is closed during a large
// answer. A raw client sends the request, reads the first bytes of the
// answer and closes; the server's write to the closed connection fails.
// That too is a client gone (499, DEBUG), not a 500.
func TestClientGoneMidResponse(t *testing.T) {
	tests := []struct {
		name   string
		readTo string // the client closes once it has read this far
	}{
		{name: "after the headers", readTo: "\r\n\r\n"},
		{name: "after the status line", readTo: "\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newGoneServer(t)
			// done closes when the app has answered, logged and counted
			// the request: the test waits on it, never on time.
			done := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s.e.ServeHTTP(w, r)
				if r.URL.Path == "/test/large" {
					close(done)
				}
			}))
			defer srv.Close()

			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			cookie := s.admin.SessionCookie()
			fmt.Fprintf(conn, "GET /test/large HTTP/1.1\r\nHost: %s\r\nCookie: %s=%s\r\n\r\n",
				srv.Listener.Addr(), cookie.Name, cookie.Value)
			br := bufio.NewReader(conn)
			var head strings.Builder
			for !strings.HasSuffix(head.String(), tt.readTo) {
				b, err := br.ReadByte()
				if err != nil {
					t.Fatalf("read the answer: %v (got %q)", err, head.String())
				}
				head.WriteByte(b)
			}
			if !strings.HasPrefix(head.String(), "HTTP/1.1 200") {
				t.Fatalf("answer starts %q, want a 200", head.String())
			}
			conn.Close() // the client goes away mid-answer
			<-done
			checkGone(t, s, "/test/large", "/test/large")
		})
	}
}
