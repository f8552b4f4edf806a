package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/handlers"
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
		// Pages, partials, redirects, errors and exports carry a person's
		// data: no browser or proxy may keep them (a shared computer's
		// Back button, a caching proxy). Static assets replace this with
		// their long cache (immutable).
		h.Set(echo.HeaderCacheControl, "no-store")
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
// it: a 404 must not stick in caches for a year, it goes back to no-store.
func immutable(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
		err := next(c)
		if err != nil && !c.Response().Committed {
			c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
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
			later := handlers.Deferred(c)
			err := next(c)
			// A client that went away gets no answer (there is nobody to
			// read it) and is no error of ours: counted apart as 499.
			gone := clientGone(c.Request(), err)
			if err != nil && !gone {
				c.Error(err)
			}
			elapsed := time.Since(start)
			// Logged, the answer goes out the door (whole: Render says its
			// length) before the work left for after it, an audit entry that
			// must not make a refusal slower than a miss.
			defer func() {
				flush(c.Response())
				later()
			}()

			req, res := c.Request(), c.Response()
			// The route pattern, not the path: ids in paths would make the
			// metrics' label sets grow without bound (m normalises the
			// method and the code the same way).
			route := metrics.Route(c.Path())
			status := res.Status
			if gone {
				status = statusClientGone
			}
			m.Observe(req.Method, route, status, elapsed)

			attrs := []slog.Attr{
				slog.String("method", req.Method),
				slog.String("path", req.URL.Path),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Int64("bytes", res.Size),
				slog.Duration("duration", elapsed),
				slog.String("ip", c.RealIP()),
			}
			if req.Header.Get("HX-Request") == "true" {
				attrs = append(attrs, slog.Bool("htmx", true))
			}
			level := slog.LevelInfo
			switch {
			case gone:
				// Every closed tab and aborted search does this: routine.
				level = slog.LevelDebug
			case res.Status == http.StatusRequestTimeout:
				// A client too slow to send its request: its network, not
				// a fault of ours nor (usually) an attack worth a warning.
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

// formTooLarge is the answer to a form over the body limit.
func formTooLarge(err error) error {
	return fault.New(fault.TooLarge,
		"This form is larger than the dashboard accepts (1 MB). Nothing was saved; send less, for example fewer labels or a shorter description.").Wrap(err)
}

// formTooManyFields is the answer to a form with more fields than Go's
// parsers take (10 000 in a URL-encoded body, 1 000 parts in a multipart
// one). Without it the form reads as empty and the CSRF check answers 403
// for a token it cannot see.
func formTooManyFields(err error) error {
	return fault.New(fault.BadRequest,
		"This form has too many fields, so nothing was saved. Send fewer at once.").Wrap(err)
}

// requestTimeout is the answer to a body that came in slower than the
// server's read timeout: the client's connection, not the dashboard, is at
// fault, so it is a 408 and logged at info (see observe).
func requestTimeout(err error) error {
	return fault.New(fault.SlowRequest, "").Wrap(err)
}

// bodyTimeoutError is a read of the request body that ran past the
// connection's read deadline (http.Server.ReadTimeout). It is tagged where
// the body is read, so that the error handler can tell it from other
// timeouts (a cloud call's context deadline is also a net.Error with
// Timeout() true, and must stay a 5xx).
type bodyTimeoutError struct{ err error }

func (e *bodyTimeoutError) Error() string { return "read request body: " + e.err.Error() }
func (e *bodyTimeoutError) Unwrap() error { return e.err }

// deadlineBody tags the timeouts of reads of a request body.
type deadlineBody struct{ io.ReadCloser }

func (b deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && isTimeout(err) {
		err = &bodyTimeoutError{err: err}
	}
	return n, err
}

// isTimeout tells a connection's deadline running out.
func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// tooManyFields tells the parsers' refusal of a form with too many fields:
// multipart says ErrMessageTooLarge (within our body limit, only the part
// and header counts reach it); net/url's error is not exported, so its
// text is matched (TestFormTooManyFields fails if a Go release rewords it).
func tooManyFields(err error) bool {
	return errors.Is(err, multipart.ErrMessageTooLarge) ||
		strings.Contains(err.Error(), "query parameters exceeded limit")
}

// readFormFirst reads a posted form's body before the CSRF check does. The
// check reads the token from the form, and a form it cannot read would read
// as a missing token: a 403 "out of date" for what is a 413 (a chunked
// body that runs over the limit, with no Content-Length for BodyLimit to
// refuse up front), a 400 (too many fields) or a 408 (a body trickling in
// slower than the read timeout). Read here, the form is kept in the request
// for the check and the handler; other errors (a bad escape) are left to
// them, as before. Every body, form or not, is read through deadlineBody,
// so a handler reading it itself gets the same 408 from the error handler.
func readFormFirst(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Method == http.MethodGet || req.Method == http.MethodHead || req.Method == http.MethodOptions {
			return next(c)
		}
		if req.Body != nil && req.Body != http.NoBody {
			req.Body = deadlineBody{req.Body}
		}
		var err error
		switch ct := req.Header.Get(echo.HeaderContentType); {
		case strings.HasPrefix(ct, echo.MIMEApplicationForm):
			err = req.ParseForm()
		case strings.HasPrefix(ct, echo.MIMEMultipartForm):
			err = req.ParseMultipartForm(32 << 10)
		}
		var timeout *bodyTimeoutError
		switch {
		case err == nil:
		case errors.Is(err, echo.ErrStatusRequestEntityTooLarge):
			return formTooLarge(err)
		case errors.As(err, &timeout):
			return requestTimeout(err)
		case tooManyFields(err):
			return formTooManyFields(err)
		}
		return next(c)
	}
}

// flush sends what res holds to the client. Echo's Flush panics on a
// writer that cannot flush (a test's recorder, a wrapper): that keeps the
// answer until the handler returns, which costs only the timing.
func flush(res *echo.Response) {
	defer func() { _ = recover() }()
	res.Flush()
}
