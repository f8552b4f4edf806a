package handlers

import (
	"fmt"
	"strconv"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// Render writes full, or partial when the request wants an HTMX partial (see
// WantsPartial), with the given status. It renders into a buffer first, so a
// template error becomes a clean error response instead of half a page, and
// always sets Vary: HX-Request because both answers share one URL.
func Render(c echo.Context, status int, full, partial templ.Component) error {
	AddVary(c.Response().Header(), HeaderRequest)
	comp := full
	if WantsPartial(c.Request()) {
		comp = partial
	}
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	if err := comp.Render(c.Request().Context(), buf); err != nil {
		return fmt.Errorf("render %s: %w", c.Path(), err)
	}
	// Its length said, the answer is whole as soon as it is flushed: work
	// left for after it (Later) does not hold the client.
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	return c.HTMLBlob(status, buf.Bytes())
}
