// Package web is the dashboard's Echo server: the route table in one place,
// the middleware, the one error handler and the mount of the embedded static
// assets. Handlers live in package handlers; web only wires them.
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/metrics"
	"github.com/imagedash/imagedash/static"
)

// Config tunes the server.
type Config struct {
	// BodyLimit caps request bodies, in Echo's notation ("1M" is 1,000,000
	// bytes); "" → 1M.
	BodyLimit string
	// SecureCookies marks the cookies Secure: set it when the dashboard is
	// served over TLS or behind a TLS-terminating proxy.
	SecureCookies bool
	// TrustedProxies are the addresses (CIDR) of reverse proxies whose
	// X-Forwarded-For names the client; empty trusts no header and takes
	// the peer's address.
	TrustedProxies []string
	// AllowedHosts are the host names and addresses (a port, if any, is
	// ignored) the dashboard answers to besides localhost and loopback
	// addresses; a request for another Host is refused with 421 (DNS
	// rebinding), except the probes and /metrics. Nil turns the check off
	// (tests and embedders calling the handler directly); main always sets
	// it, to the hosts of --addr and --public-url.
	AllowedHosts []string
	// ReadyInterval is how long a readiness answer is reused; 0 → 5 s.
	ReadyInterval time.Duration
}

// Deps are the server's dependencies, built in main.
type Deps struct {
	Logger   *slog.Logger
	Handlers *handlers.Handlers
	// Ready reports whether the app can serve (nil error) or why not; nil
	// means always ready. /readyz calls it at most once per
	// Config.ReadyInterval, however many callers.
	Ready func(context.Context) error
	// Now is the clock of the readiness cache; nil → time.Now.
	Now func() time.Time
	// Metrics receives the HTTP metrics and is exposed at /metrics; nil → a
	// fresh metrics.NewRegistry (with the Go and process collectors).
	Metrics *prometheus.Registry
	// Sessions and Directory say who a request is from. Without them every
	// request is anonymous: only the public paths answer, the rest go to
	// the sign-in page (fail closed).
	Sessions  *auth.SessionStore
	Directory *auth.Directory
}

// New builds the Echo server: every route is in this function. It fails
// only on a malformed Config.TrustedProxies.
func New(cfg Config, deps Deps) (*echo.Echo, error) {
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := deps.Metrics
	if reg == nil {
		reg = metrics.NewRegistry()
	}
	if cfg.BodyLimit == "" {
		cfg.BodyLimit = "1M"
	}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	// Not behind a proxy by default: trust the peer address, never
	// X-Forwarded-For; behind configured proxies, only their header.
	e.IPExtractor = echo.ExtractIPDirect()
	if len(cfg.TrustedProxies) > 0 {
		opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, p := range cfg.TrustedProxies {
			_, n, err := net.ParseCIDR(p)
			if err != nil {
				return nil, fmt.Errorf("web: trusted proxy %q: want an address range like 10.0.0.0/8: %w", p, err)
			}
			opts = append(opts, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	}
	e.HTTPErrorHandler = errorHandler(log)

	// Outermost first: observe sees the final status of everything below,
	// including recovered panics and errors.
	e.Use(
		observe(log, metrics.NewHTTP(reg)),
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			DisableStackAll: true,
			// Hand the panic, with its stack, to observe, which logs it once.
			LogErrorFunc: func(_ echo.Context, err error, stack []byte) error {
				return &panicError{err: err, stack: string(stack)}
			},
			DisableErrorHandler: true,
		}),
		securityHeaders,
	)
	if cfg.AllowedHosts != nil {
		// Before the body, the session or the CSRF check are looked at.
		e.Use(checkHost(newHostPolicy(cfg.AllowedHosts)))
	}
	e.Use(
		middleware.BodyLimit(cfg.BodyLimit),
		readFormFirst,
		// Cross-site POSTs (Sec-Fetch-Site, else Origin) are refused with
		// 403 before any handler runs; same-origin and non-browser ones pass.
		echo.WrapMiddleware(http.NewCrossOriginProtection().Handler),
		// And without Sec-Fetch-Site or Origin, the CSRF token.
		csrf(cfg.SecureCookies),
		authenticate(deps.Sessions, deps.Directory, outageBanner(deps.Handlers)),
		requireLogin,
		navFolders(deps.Handlers),
	)

	// Probes and metrics.
	e.GET("/healthz", healthz)
	e.HEAD("/healthz", healthz)
	e.GET("/readyz", readyz(newReadyProbe(deps.Ready, deps.Now, cfg.ReadyInterval, log)))
	e.GET("/metrics", echo.WrapHandler(metrics.Handler(reg)))

	// Static assets: content-addressed URLs (see static.URL), cached forever.
	e.Match([]string{http.MethodGet, http.MethodHead}, static.Prefix+"*",
		echo.StaticDirectoryHandler(static.FS(), false), immutable)

	// Signing in and out.
	h := deps.Handlers
	e.GET("/login", h.ShowLogin)
	e.POST("/login", h.Login)
	e.POST("/logout", h.Logout)

	// A person's own sessions: list, end one, end the others.
	e.GET("/account/sessions", h.ListSessions)
	e.GET("/account/sessions/end-others", h.ConfirmEndOtherSessions)
	e.POST("/account/sessions/end-others", h.EndOtherSessions)
	e.GET("/account/sessions/:id/end", h.ConfirmEndSession)
	e.POST("/account/sessions/:id/end", h.EndSession)
	e.POST("/account/preferences", h.SavePreferences)

	// Images: the list, an image's page and its two lazy sections (the only
	// routes that ask the cloud), the families. All read the cache.
	e.GET("/", h.ListImages)
	e.GET("/images/:service/:id", h.ShowImage)
	e.GET("/images/:service/:id/operations", h.ImageOperations)
	e.GET("/images/:service/:id/latest", h.LatestInFamily)
	e.GET("/families", h.ListFamilies)

	// The cache: how fresh it is (polled while a sync runs), and Refresh.
	e.GET("/sync", h.SyncStatus)
	e.POST("/sync", h.RefreshCache)

	// Changing images: edit and delete (one or many).
	e.GET("/images/:service/:id/edit", h.EditImageForm)
	e.POST("/images/:service/:id/edit", h.UpdateImage)
	e.GET("/images/:service/:id/delete", h.ConfirmDeleteImage)
	e.POST("/images/:service/:id/delete", h.DeleteImage)
	e.GET("/images/bulk-delete", h.ConfirmBulkDelete)
	e.POST("/images/bulk-delete", h.BulkDelete)

	// Copying images: Compute → Compute, Compute → Desktop, desktop → Desktop, in bulk.
	e.GET("/images/:service/:id/copy", h.CopyImageForm)
	e.POST("/images/:service/:id/copy", h.CopyImage)
	e.GET("/images/bulk-copy", h.BulkCopyForm)
	e.POST("/images/bulk-copy", h.BulkCopy)
	e.GET("/desktop-images/new", h.FromDesktopForm)
	e.POST("/desktop-images/new", h.CopyFromDesktop)
	e.GET("/copies/:batch", h.ShowCopyBatch)

	// Operations: the monitor, one operation, its live badge, Cancel, the header's counts.
	e.GET("/operations", h.ListOperations)
	e.GET("/operations/counts", h.OperationCounts)
	e.GET("/operations/:id", h.ShowOperation)
	e.GET("/operations/:id/badge", h.OperationBadge)
	e.GET("/operations/:id/cancel", h.ConfirmCancelOperation)
	e.POST("/operations/:id/cancel", h.CancelOperation)

	// Admin pages: accounts, teams, folders and the audit log, in one group
	// behind one check (handlers.RequireAdmin: a non-admin gets the route's
	// 403, audited once, and so does any other address under /admin).
	admin := e.Group("/admin", h.RequireAdmin)
	admin.GET("/users", h.ListUsers)
	admin.POST("/users", h.CreateUser)
	admin.GET("/users/:id/disable", h.ConfirmDisableUser)
	admin.POST("/users/:id/disable", h.DisableUser)
	admin.POST("/users/:id/enable", h.EnableUser)
	admin.POST("/users/:id/password", h.ResetPassword)
	admin.POST("/users/:id/admin", h.SetUserAdmin)
	admin.GET("/users/:id/sessions", h.ConfirmEndUserSessions)
	admin.POST("/users/:id/sessions", h.EndUserSessions)
	admin.GET("/users/:id/delete", h.ConfirmDeleteUser)
	admin.POST("/users/:id/delete", h.DeleteUser)
	admin.GET("/teams", h.ListTeams)
	admin.POST("/teams", h.CreateTeam)
	admin.GET("/teams/:id", h.ShowTeam)
	admin.GET("/teams/:id/delete", h.ConfirmDeleteTeam)
	admin.POST("/teams/:id/delete", h.DeleteTeam)
	admin.POST("/teams/:id/members", h.AddTeamMember)
	admin.GET("/teams/:id/members/:user/remove", h.ConfirmRemoveTeamMember)
	admin.POST("/teams/:id/members/:user/remove", h.RemoveTeamMember)
	admin.POST("/teams/:id/folders", h.AssignTeamFolder)
	admin.POST("/teams/:id/folders/remove", h.UnassignTeamFolder)
	admin.GET("/folders", h.ListFolders)
	admin.POST("/folders/share", h.ShareFolder)
	admin.GET("/audit", h.ListAudit)
	admin.GET("/audit.csv", h.ExportAudit)

	return e, nil
}

// healthz says the process is up; it checks nothing else, so a slow cloud
// never gets the container restarted.
func healthz(c echo.Context) error {
	if c.Request().Method == http.MethodHead {
		return c.NoContent(http.StatusOK)
	}
	return c.String(http.StatusOK, "ok")
}

// outageBanner is the banner every signed-in page shows while the cloud has
// not answered since start; nil without handlers.
func outageBanner(h *handlers.Handlers) func() string {
	if h == nil {
		return nil
	}
	return h.OutageBanner
}
