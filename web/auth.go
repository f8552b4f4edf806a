package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/static"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// public tells whether a path is served to anyone: the probes, the
// metrics, the static assets and the sign-in page. Everything else needs a
// signed-in, enabled account.
func public(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics", "/login":
		return true
	}
	return strings.HasPrefix(path, static.Prefix)
}

// csrf is Echo's CSRF middleware as the dashboard uses it: a browser that
// says the request is same-origin (Sec-Fetch-Site) passes, a cross-site one
// is refused, and anything else (an old browser, a script) must send back
// the token of the _csrf cookie in the X-CSRF-Token header (htmx requests,
// see views.Page) or the _csrf form field (plain forms). The probes, the
// metrics and the static files change nothing and are skipped.
//
// Echo compares the cookie with the token sent back as they are, so an empty
// _csrf cookie (planted by a sibling subdomain, or simply sent by a script)
// matched an empty field. A cookie shorter than csrfMinLen is therefore
// treated as absent before Echo reads it: Echo then makes a fresh random
// token, which nothing sent with this request can match.
func csrf(secure bool) echo.MiddlewareFunc {
	check := middleware.CSRFWithConfig(middleware.CSRFConfig{
		Skipper: func(c echo.Context) bool {
			p := c.Request().URL.Path
			return p != "/login" && public(p)
		},
		TokenLookup:    "header:" + views.CSRFHeader + ",form:" + views.CSRFField,
		CookieName:     csrfCookie,
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   secure,
		CookieSameSite: http.SameSiteStrictMode,
		ErrorHandler: func(err error, c echo.Context) error {
			return fault.New(fault.Forbidden,
				"This form is out of date or came from another site (CSRF check failed). Reload the page and try again.").Wrap(err)
		},
	})
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		checked := check(next)
		return func(c echo.Context) error {
			dropShortCookies(c.Request(), csrfCookie, csrfMinLen)
			return checked(c)
		}
	}
}

const (
	csrfCookie = "_csrf"
	// csrfMinLen is the shortest _csrf cookie taken as a token: Echo's
	// tokens are 32 random letters and digits.
	csrfMinLen = 32
)

// dropShortCookies removes from r's Cookie header every cookie called name
// whose value is shorter than minLen, keeping the others as they were.
func dropShortCookies(r *http.Request, name string, minLen int) {
	all := r.Cookies()
	keep := all[:0]
	dropped := false
	for _, c := range all {
		if c.Name == name && len(c.Value) < minLen {
			dropped = true
			continue
		}
		keep = append(keep, c)
	}
	if !dropped {
		return
	}
	r.Header.Del("Cookie")
	for _, c := range keep {
		r.AddCookie(c)
	}
}

// csrfToken is the token the page should send back, "" when the browser
// proved the request same-origin and no token was issued.
func csrfToken(c echo.Context) string {
	tok, _ := c.Get("csrf").(string)
	if tok == middleware.CSRFUsingSecFetchSite {
		return ""
	}
	return tok
}

// flashesKey is where gorilla/sessions keeps the flashes (its default).
const flashesKey = "_flash"

// authenticate finds who the request is from: the session cookie names a
// user id, the directory says who that is and what they may do. A deleted
// or disabled account reads as anonymous. The viewer (for handlers) and the
// page-wide request data (for views) go on the request context.
func authenticate(sessions *auth.SessionStore, dir *auth.Directory, outage func() string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			rq := views.Request{CSRF: csrfToken(c)}
			// /readyz is public, but a signed-in admin sees why it is not
			// ready: there the session is only read (no flashes taken),
			// and a session that cannot be read is an anonymous caller.
			p := req.URL.Path
			optional := p == "/readyz"
			if sessions != nil && (!public(p) || p == "/login" || optional) {
				sess, err := sessions.Get(req, handlers.SessionName)
				if err != nil && optional {
					c.SetRequest(req.WithContext(views.WithRequest(req.Context(), rq)))
					return next(c)
				}
				if err != nil {
					return fmt.Errorf("authenticate: %w", err)
				}
				if !optional && req.Method == http.MethodGet && !handlers.WantsPartial(req) && sess.Values[flashesKey] != nil {
					for _, f := range sess.Flashes() {
						if s, ok := f.(string); ok {
							rq.Flashes = append(rq.Flashes, s)
						}
					}
					// Best effort on a full disk: the notices show again on the
					// next page rather than the page failing.
					if err := sessions.Save(req, c.Response(), sess); err != nil &&
						!sessions.StorageFault(req.Context(), "clear shown notices", err) {
						return fmt.Errorf("authenticate: clear flashes: %w", err)
					}
				}
				uid, _ := sess.Values[auth.UserIDKey].(int64)
				if uid != 0 {
					u, pol, err := dir.Lookup(req.Context(), uid)
					switch {
					case errors.Is(err, store.ErrNotFound), err != nil && optional:
					case err != nil:
						return fmt.Errorf("authenticate: %w", err)
					case !u.Disabled:
						req = req.WithContext(handlers.WithViewer(req.Context(), handlers.Viewer{User: u, Policy: pol}))
						rq.Me = views.Me{Name: u.Username, Admin: u.Admin}
						if outage != nil {
							rq.Outage = outage()
						}
					}
				}
			}
			c.SetRequest(req.WithContext(views.WithRequest(req.Context(), rq)))
			return next(c)
		}
	}
}

// requireLogin sends an anonymous request for anything but a public path
// to the sign-in page, with the address to come back to: a redirect for a
// page, HX-Redirect for htmx (a 302 would be swapped into the target), and
// 401 for other methods outside htmx, which cannot be replayed after login.
func requireLogin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if public(req.URL.Path) {
			return next(c)
		}
		if _, ok := handlers.ViewerFrom(req.Context()); ok {
			return next(c)
		}
		back := req.URL.RequestURI()
		switch {
		case handlers.IsHTMX(req):
			// The page the person is on, not the partial's URL.
			back = "/"
			if cur, err := url.Parse(req.Header.Get(handlers.HeaderCurrentURL)); err == nil && cur.Path != "" {
				back = cur.RequestURI()
			}
		case req.Method != http.MethodGet && req.Method != http.MethodHead:
			return fault.New(fault.Unauthenticated, "")
		}
		return handlers.Redirect(c, handlers.LoginURL(back))
	}
}
