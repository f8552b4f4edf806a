package handlers

import (
	"errors"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/store"
)

// changeRefusal is a change of images refused before anything was
// written: another operation is still changing one of them
// (store.ImageBusyError), or one is gone or changed since the page was
// read (store.ImageChangedError).
type changeRefusal struct {
	busy    *store.ImageBusyError
	changed *store.ImageChangedError
	fault   *fault.Error // as the fault table words it: 409, the store's sentence
}

// rowMessage is the refusal of the image (svc, id), "" when it is not
// one of those refused.
func (r changeRefusal) rowMessage(svc cloud.Service, id string) string {
	if r.busy != nil {
		if b, ok := r.busy.For(svc, id); ok {
			return b.Message()
		}
	}
	if r.changed != nil {
		if c, ok := r.changed.For(svc, id); ok {
			return c.Message()
		}
	}
	return ""
}

// refusedChange tells whether err is such a refusal. It audits each
// refused image (a busy one with the dashboard id of the operation under
// way) and logs it once.
func (h *Handlers) refusedChange(c echo.Context, err error) (changeRefusal, bool) {
	var r changeRefusal
	r.busy, _ = errors.AsType[*store.ImageBusyError](err)
	r.changed, _ = errors.AsType[*store.ImageChangedError](err)
	if r.busy == nil && r.changed == nil {
		return r, false
	}
	if r.busy != nil {
		for _, b := range r.busy.Images {
			h.audit(c, store.AuditEntry{Action: b.Action, TargetKind: "image", TargetID: b.ImageID,
				OperationID: strconv.FormatInt(b.Operation, 10), Outcome: store.OutcomeFailure, Detail: "refused: " + b.Message()})
		}
	}
	if r.changed != nil {
		for _, ch := range r.changed.Images {
			h.audit(c, store.AuditEntry{Action: ch.Action, TargetKind: "image", TargetID: ch.ImageID,
				Outcome: store.OutcomeFailure, Detail: "refused: " + ch.Message()})
		}
	}
	h.log.InfoContext(c.Request().Context(), "change refused before it was written", "err", err)
	r.fault = fault.From(err)
	return r, true
}
