package web

import (
	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/views"
)

// navFolders puts on a full page's request data the folders its header's
// folder picker offers the signed-in person (handlers.NavFolders), so that
// pages about no one service's images (operations, admin, account, error
// pages) have the same header as the image list. A partial has no header
// and an anonymous request no picker: neither reads them.
func navFolders(h *handlers.Handlers) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if h == nil || handlers.WantsPartial(req) {
				return next(c)
			}
			if _, ok := handlers.ViewerFrom(req.Context()); !ok {
				return next(c)
			}
			folders, err := h.NavFolders(req.Context())
			if err != nil {
				return err
			}
			rq := views.RequestFrom(req.Context())
			rq.Folders = folders
			c.SetRequest(req.WithContext(views.WithRequest(req.Context(), rq)))
			return next(c)
		}
	}
}
