package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// storageErrors are the store's errors that people see as such: the
// storage, not the request, is at fault, and nothing was saved.
var storageErrors = []struct {
	err        error
	code       int
	message    string
	retryAfter string // seconds, for Retry-After; "" = none
}{
	{store.ErrFull, http.StatusInsufficientStorage,
		"The dashboard's database is full, so nothing was saved. Ask the operator to free disk space, then try again.", ""},
	{store.ErrReadOnly, http.StatusServiceUnavailable,
		"The dashboard's database cannot be written just now, so nothing was saved. Ask the operator; try again later.", ""},
	// Too many password hashes at once (auth.Hasher): the server is busy
	// for a few seconds, the request itself is fine.
	{auth.ErrBusy, http.StatusServiceUnavailable,
		"Many people are signing in or setting passwords at this moment, so nothing was saved. Try again in a few seconds.", "5"},
}

// errorHandler is the one place that turns an error into a response: a full
// error page, or for an HTMX request a toast that lands in the toast region
// (whatever the request targeted). Errors are logged by observe, not here.
// A plain error's text never reaches the client; an *echo.HTTPError's
// message is written for people and is shown (escaped by templ).
func errorHandler(log *slog.Logger) func(error, echo.Context) {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		page := views.ErrorPage{
			Code:    http.StatusInternalServerError,
			Message: "Something went wrong on our side; it has been logged.",
		}
		for _, se := range storageErrors {
			if errors.Is(err, se.err) {
				page.Code, page.Message = se.code, se.message
				if se.retryAfter != "" {
					c.Response().Header().Set("Retry-After", se.retryAfter)
				}
				break
			}
		}
		// A start past the per-person limit of operations in flight: the
		// person asked for too much at once; nothing was written or sent.
		var tooMany *store.OpenLimitError
		if errors.As(err, &tooMany) {
			page.Code, page.Message = http.StatusTooManyRequests, tooMany.Message()
			c.Response().Header().Set("Retry-After", "30")
		}
		// A handler that read the body itself and ran past the read
		// timeout (readFormFirst answers this for forms).
		var slow *bodyTimeoutError
		if errors.As(err, &slow) {
			err = requestTimeout(err)
		}
		var he *echo.HTTPError
		if errors.As(err, &he) {
			page.Code = he.Code
			if m, ok := he.Message.(string); ok && m != "" {
				page.Message = m
			} else if he.Message != nil {
				page.Message = fmt.Sprint(he.Message)
			}
		}
		page.Title = http.StatusText(page.Code)
		if page.Title == "" {
			page.Title = "Error"
		}
		if page.Code == http.StatusNotFound && page.Message == page.Title {
			page.Message = "There is no page at this address."
		}

		// The page is rendered even when the request's context has ended:
		// net/http cancels it when reading the body fails (a 408 above),
		// while the client still waits for the answer.
		req := c.Request()
		if req.Context().Err() != nil {
			req = req.WithContext(context.WithoutCancel(req.Context()))
			c.SetRequest(req)
		}
		if req.Method == http.MethodHead {
			_ = c.NoContent(page.Code) // no body to fail on
			return
		}
		if handlers.WantsPartial(req) {
			h := c.Response().Header()
			handlers.Retarget(h, views.Selector(views.ToastsID), "beforeend")
			handlers.NoPush(h)
		}
		if rerr := handlers.Render(c, page.Code, views.ErrorFull(page), views.Toast(page)); rerr != nil {
			log.ErrorContext(req.Context(), "render error page", "err", rerr, "cause", err)
			_ = c.String(http.StatusInternalServerError, "internal server error")
		}
	}
}
