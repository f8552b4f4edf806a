package handlers

import (
	"fmt"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/views"
)

// copiesFlashKey is the session key of the batches whose result page owes
// its person the one-time toast of what they just started. It is not the
// plain notices' key: those are taken by whatever page comes next, this
// one only by the batch's own page.
const copiesFlashKey = "_copies"

// copiesStarted sends the person to the result page of batch, which greets
// them once with the toast of what was started (links to the new images
// and their operations). A failure to remember the toast is logged: the
// copies are started and the page shows them all the same.
func (h *Handlers) copiesStarted(c echo.Context, batch string) error {
	if h.sessions != nil {
		req := c.Request()
		sess, err := h.sessions.Get(req, SessionName)
		if err == nil {
			sess.AddFlash(batch, copiesFlashKey)
			err = h.sessions.Save(req, c.Response(), sess)
		}
		if err != nil {
			h.log.ErrorContext(req.Context(), "save copies toast", "batch", batch, "err", err)
		}
	}
	return Redirect(c, views.CopyBatchURL(batch))
}

// takeCopiesToast tells whether the page of batch owes the toast, and
// forgets it: only on a whole page (a poll is not a visit), and only for
// this batch (another tab's submit keeps its own).
func (h *Handlers) takeCopiesToast(c echo.Context, batch string) bool {
	req := c.Request()
	if h.sessions == nil || WantsPartial(req) {
		return false
	}
	sess, err := h.sessions.Get(req, SessionName)
	if err != nil || sess.Values[copiesFlashKey] == nil {
		return false
	}
	owed := false
	for _, f := range sess.Flashes(copiesFlashKey) {
		if b, _ := f.(string); b == batch {
			owed = true
		} else if b != "" {
			sess.AddFlash(b, copiesFlashKey)
		}
	}
	if err := h.sessions.Save(req, c.Response(), sess); err != nil {
		// Shown once more on the next visit rather than failing the page.
		h.log.WarnContext(req.Context(), "forget copies toast", "batch", batch, "err", err)
	}
	return owed
}

// copyToast is the toast of the rows just started: each new image linked
// to its page once the cloud named it (else to its operation), with its
// operation.
func copyToast(rows []views.CopyResultRow) *views.CopyToast {
	t := &views.CopyToast{}
	refused := 0
	for _, r := range rows {
		if r.State == views.CopyRefused {
			refused++
		}
		it := views.CopyToastItem{Name: r.Name, URL: r.OpURL, OpURL: r.OpURL, State: r.State}
		if r.ImageURL != "" {
			it.URL = r.ImageURL
		}
		t.Items = append(t.Items, it)
	}
	started := len(rows) - refused
	switch {
	case started == 0:
		t.Failed = true
		t.Summary = fmt.Sprintf("The cloud refused %s; see why below.", views.Plural(len(rows), "copy", "copies"))
	case refused > 0:
		t.Summary = fmt.Sprintf("Started %s; the cloud refused %d.", views.Plural(started, "copy", "copies"), refused)
	default:
		t.Summary = fmt.Sprintf("Started %s:", views.Plural(started, "copy", "copies"))
	}
	if slices.ContainsFunc(rows, func(r views.CopyResultRow) bool { return r.State == views.CopyFailed }) && !t.Failed {
		t.Summary += " Some have failed already; see below."
	}
	return t
}
