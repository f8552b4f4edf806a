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

// openChanges says, for each of ids of svc that an unfinished operation
// is changing, what is under way and by whom ("web is already being
// deleted by alice (operation 12)."), so that a page offering action on
// them says it before it is asked. imgs name the images (by id).
func (h *Handlers) openChanges(c echo.Context, svc cloud.Service, imgs []cloud.Image, action string) (map[string]string, error) {
	out := map[string]string{}
	if h.ops == nil {
		return out, nil
	}
	ids := make([]string, 0, len(imgs))
	for _, img := range imgs {
		if img.ID != "" {
			ids = append(ids, img.ID)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	open, err := h.ops.OpenImageOperations(c.Request().Context(), svc, ids)
	if err != nil {
		return nil, err
	}
	me := viewer(c).User.ID
	for _, img := range imgs {
		o, ok := open[img.ID]
		if !ok || img.ID == "" {
			continue
		}
		b := store.BusyImage{Service: svc, ImageID: img.ID, ImageName: img.Name, Action: action,
			Operation: o.ID, OpAction: o.Action, Username: o.Username, Mine: o.UserID != 0 && o.UserID == me}
		out[img.ID] = b.Doing() + "."
	}
	return out, nil
}
