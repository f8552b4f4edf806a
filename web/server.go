// Package web is the dashboard's Echo server: the route table in one place,
// the middleware, the one error handler and the mount of the embedded static
// assets. Handlers live in package handlers; web only wires them.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/metrics"
	"github.com/imagedash/imagedash/static"
)

// Config tunes the server.
type Config struct {
	// BodyLimit caps request bodies, in Echo's notation ("1M" is 1,000,000
	// bytes); "" → 1M.
	BodyLimit string
}

// Deps are the server's dependencies, built in main.
type Deps struct {
	Logger   *slog.Logger
	Handlers *handlers.Handlers
	// Ready reports whether the app can serve (nil error) or why not; nil
	// means always ready.
	Ready func(context.Context) error
	// Metrics receives the HTTP metrics and is exposed at /metrics; nil → a
	// fresh registry.
	Metrics *metrics.Registry
}

// New builds the Echo server: every route is in this function.
func New(cfg Config, deps Deps) *echo.Echo {
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
	reg.GaugeFunc("go_goroutines", "Number of goroutines that currently exist.",
		func() float64 { return float64(runtime.NumGoroutine()) })

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	// Not behind a proxy by default: trust the peer address, never X-Forwarded-For.
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = errorHandler(log)

	// Outermost first: observe sees the final status of everything below,
	// including recovered panics and errors.
	e.Use(
		observe(log, newHTTPMetrics(reg)),
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			DisableStackAll: true,
			// Hand the panic, with its stack, to observe, which logs it once.
			LogErrorFunc: func(_ echo.Context, err error, stack []byte) error {
				return &panicError{err: err, stack: string(stack)}
			},
			DisableErrorHandler: true,
		}),
		securityHeaders,
		middleware.BodyLimit(cfg.BodyLimit),
		// Cross-site POSTs (Sec-Fetch-Site, else Origin) are refused with
		// 403 before any handler runs; same-origin and non-browser ones pass.
		echo.WrapMiddleware(http.NewCrossOriginProtection().Handler),
	)

	// Probes and metrics.
	e.GET("/healthz", healthz)
	e.HEAD("/healthz", healthz)
	e.GET("/readyz", readyz(deps.Ready))
	e.GET("/metrics", echo.WrapHandler(reg))

	// Static assets: content-addressed URLs (see static.URL), cached forever.
	e.Match([]string{http.MethodGet, http.MethodHead}, static.Prefix+"*",
		echo.StaticDirectoryHandler(static.FS(), false), immutable)

	// Images: the list, an image's page and its two lazy sections (the only
	// routes that ask the cloud), the families. All read the cache.
	h := deps.Handlers
	e.GET("/", h.ListImages)
	e.GET("/images/:service/:id", h.ShowImage)
	e.GET("/images/:service/:id/operations", h.ImageOperations)
	e.GET("/images/:service/:id/latest", h.LatestInFamily)
	e.GET("/families", h.ListFamilies)

	// The cache: how fresh it is (polled while a sync runs), and Refresh.
	e.GET("/sync", h.SyncStatus)
	e.POST("/sync", h.RefreshCache)

	return e
}

// healthz says the process is up; it checks nothing else, so a slow cloud
// never gets the container restarted.
func healthz(c echo.Context) error {
	if c.Request().Method == http.MethodHead {
		return c.NoContent(http.StatusOK)
	}
	return c.String(http.StatusOK, "ok")
}

// readyz says whether the app can serve requests now.
func readyz(ready func(context.Context) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		if ready != nil {
			if err := ready(c.Request().Context()); err != nil {
				return c.String(http.StatusServiceUnavailable, "not ready: "+err.Error())
			}
		}
		return c.String(http.StatusOK, "ok")
	}
}
