package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/metrics"
)

// contentSecurityPolicy allows only our own origin, and scripts only with
// the request's nonce: no inline scripts or styles (htmx runs with
// allowEval:false and no indicator styles), no frames, no plugins, no
// <base>, forms only to ourselves.
func contentSecurityPolicy(nonce string) string {
	return "default-src 'self'; script-src 'nonce-" + nonce + "'; style-src 'self'; img-src 'self' data:; " +
		"frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'self'"
}

// securityHeaders sets the response headers every answer carries, error
// pages included (they are set before the handler runs). Each request gets
// a fresh script nonce; templ writes it on our <script> tags (the layout
// reads it with templ.GetNonce), so an injected script tag cannot run even
// if it were ever rendered unescaped.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		nonce := newNonce()
		c.SetRequest(c.Request().WithContext(templ.WithNonce(c.Request().Context(), nonce)))
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy(nonce))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		// The old XSS auditor is gone or harmful; 0 turns it off explicitly.
		h.Set("X-XSS-Protection", "0")
		return next(c)
	}
}

// newNonce is 128 random bits, base64: a CSP nonce.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.StdEncoding.EncodeToString(b[:])
}

// immutable marks a static answer cacheable forever. Only a found file gets
// it: a 404 must not stick in caches for a year.
func immutable(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
		err := next(c)
		if err != nil && !c.Response().Committed {
			c.Response().Header().Del(echo.HeaderCacheControl)
		}
		return err
	}
}

// panicError is a recovered panic with the stack where it happened.
type panicError struct {
	err   error
	stack string
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.err) }
func (p *panicError) Unwrap() error { return p.err }

// observe logs every request once and records its metrics. It runs the error
// handler itself (rather than leaving it to Echo after all middleware) so
// that the status it logs and counts is the one the client got.
func observe(log *slog.Logger, m *metrics.HTTP) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			elapsed := time.Since(start)

			req, res := c.Request(), c.Response()
			// The route pattern, not the path: ids in paths would make the
			// metrics' label sets grow without bound (m normalises the
			// method and the code the same way).
			route := metrics.Route(c.Path())
			m.Observe(req.Method, route, res.Status, elapsed)

			attrs := []slog.Attr{
				slog.String("method", req.Method),
				slog.String("path", req.URL.Path),
				slog.String("route", route),
				slog.Int("status", res.Status),
				slog.Int64("bytes", res.Size),
				slog.Duration("duration", elapsed),
				slog.String("ip", c.RealIP()),
			}
			if req.Header.Get("HX-Request") == "true" {
				attrs = append(attrs, slog.Bool("htmx", true))
			}
			level := slog.LevelInfo
			switch {
			case res.Status >= 500:
				level = slog.LevelError
			case res.Status >= 400:
				level = slog.LevelWarn
			}
			if err != nil {
				attrs = append(attrs, slog.String("err", err.Error()))
				if p, ok := err.(*panicError); ok {
					level = slog.LevelError
					attrs = append(attrs, slog.String("stack", p.stack))
				}
			}
			log.LogAttrs(req.Context(), level, "http request", attrs...)
			return nil
		}
	}
}

// errFormTooLarge is the answer to a form over the body limit.
var errFormTooLarge = echo.NewHTTPError(http.StatusRequestEntityTooLarge,
	"This form is larger than the dashboard accepts (1 MB). Nothing was saved; send less, for example fewer labels or a shorter description.")

// readFormFirst reads a posted form's body before the CSRF check does. The
// check reads the token from the form, and a form it cannot read (a
// chunked body that runs over the limit, with no Content-Length for
// BodyLimit to refuse up front) would read as a missing token: a 403 "out
// of date" for what is a 413. Read here, the form is kept in the request
// for the check and the handler; an error other than the size is left to
// them, as before.
func readFormFirst(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Method == http.MethodGet || req.Method == http.MethodHead || req.Method == http.MethodOptions {
			return next(c)
		}
		var err error
		switch ct := req.Header.Get(echo.HeaderContentType); {
		case strings.HasPrefix(ct, echo.MIMEApplicationForm):
			err = req.ParseForm()
		case strings.HasPrefix(ct, echo.MIMEMultipartForm):
			err = req.ParseMultipartForm(32 << 10)
		}
		if errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
			return errFormTooLarge
		}
		return next(c)
	}
}
