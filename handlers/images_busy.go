package handlers

import (
	"errors"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/store"
)

// busyRefused tells whether err refused a change because another
// operation is still changing the image(s) (store.ImageBusyError, written
// nowhere). It audits each refused image, naming the operation under way
// by its dashboard id, and returns the refusal as the fault table words
// it (409, the store's sentence).
func (h *Handlers) busyRefused(c echo.Context, err error) (*store.ImageBusyError, *fault.Error, bool) {
	be, ok := errors.AsType[*store.ImageBusyError](err)
	if !ok {
		return nil, nil, false
	}
	for _, b := range be.Images {
		h.audit(c, store.AuditEntry{Action: b.Action, TargetKind: "image", TargetID: b.ImageID,
			OperationID: strconv.FormatInt(b.Operation, 10), Outcome: store.OutcomeFailure, Detail: "refused: " + b.Message()})
	}
	h.log.InfoContext(c.Request().Context(), "change refused: image busy", "err", err)
	return be, fault.From(err), true
}
