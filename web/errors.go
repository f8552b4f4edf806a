package web

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/views"
)

// errorHandler is the one place that turns an error into a response: a full
// error page, or for an HTMX request a toast that lands in the toast region
// (whatever the request targeted). Status, message and Retry-After come from
// fault's table (answer); the error itself, with its cause, is logged once by
// observe, not here. A person reads the table's words or a *fault.Error's
// message, never an error's text (a cloud error's server message, an SQL
// error): those stay in the log.
func errorHandler(log *slog.Logger) func(error, echo.Context) {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		fe := answer(err)
		page := views.ErrorPage{Code: fe.Status(), Title: http.StatusText(fe.Status()), Message: fe.Say()}
		for _, k := range slices.Sorted(maps.Keys(fe.Fields)) {
			page.Fields = append(page.Fields, views.FieldMessage{Field: k, Message: fe.Fields[k]})
		}
		if page.Title == "" {
			page.Title = "Error"
		}
		if d := fe.Wait(); d > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int((d+999_999_999)/1_000_000_000)))
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

// answer is err in the table's terms:
//   - a *fault.Error (the outermost) as it is;
//   - a body read that ran past the read timeout (a handler that read the
//     body itself; readFormFirst answers this for forms): SlowRequest;
//   - Echo's own errors (no route 404, 405, the body limit's 413), which
//     carry only a status: the kind of that status, with its message;
//   - anything else by fault.From: the store's, the cloud's and auth's
//     errors by kind, the rest Internal.
func answer(err error) *fault.Error {
	if fe, ok := errors.AsType[*fault.Error](err); ok {
		return fe
	}
	if _, ok := errors.AsType[*bodyTimeoutError](err); ok {
		return fault.New(fault.SlowRequest, "").Wrap(err)
	}
	if he, ok := errors.AsType[*echo.HTTPError](err); ok {
		return fault.New(fault.ForStatus(he.Code), "").Wrap(err)
	}
	return fault.From(err)
}
