package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/rules"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/views"
)

// MaxBulkDelete is how many images one bulk delete may name.
const MaxBulkDelete = 500

// ConfirmDeleteImage asks before deleting one image, naming it (GET
// /images/:service/:id/delete). An image whose status forbids deletion
// gets the reason (409) and no button.
func (h *Handlers) ConfirmDeleteImage(c echo.Context) error {
	img, _, err := h.deleteTarget(c)
	if err != nil {
		return err
	}
	if h.tracker == nil {
		return errNoTracker()
	}
	p, err := h.deletePage(c, img)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if p.Reason = deleteBlocked(img); p.Reason == "" {
		busy, err := h.openChanges(c, img.Service, []cloud.Image{img}, tracker.ActionDelete)
		if err != nil {
			return err
		}
		p.Reason = busy[img.ID]
	}
	if p.Reason != "" {
		status = http.StatusConflict
	}
	return Render(c, status, views.ImageDeleteFull(p), views.ImageDeleteFull(p))
}

// DeleteImage deletes one image (POST /images/:service/:id/delete) through
// the tracker, then sends the person to the list of its folder. A status
// that forbids deletion is refused (409) before any call.
func (h *Handlers) DeleteImage(c echo.Context) error {
	img, right, err := h.deleteTarget(c)
	if err != nil {
		return err
	}
	if h.tracker == nil {
		return errNoTracker()
	}
	if err := h.requireCloud(c); err != nil {
		return err
	}
	NoPush(c.Response().Header())
	refuse := func(status int, reason string) error {
		p, err := h.deletePage(c, img)
		if err != nil {
			return err
		}
		p.Reason = reason
		return Render(c, status, views.ImageDeleteFull(p), views.ImageDeleteFull(p))
	}
	if reason := deleteBlocked(img); reason != "" {
		return refuse(http.StatusConflict, reason)
	}
	ctx := c.Request().Context()
	op, err := h.tracker.Start(ctx, who(c), "", tracker.Delete(img).Unchanged(img))
	if r, ok := h.refusedChange(c, err); ok {
		return refuse(r.fault.Status(), r.fault.Say())
	}
	if err != nil {
		msg, status := refusal(err)
		if status == 0 {
			return fmt.Errorf("delete image %s: %w", img.ID, err)
		}
		h.log.WarnContext(ctx, "delete image refused", "service", img.Service, "image", img.ID, "err", err)
		return refuse(status, msg)
	}
	h.audit(c, store.AuditEntry{Action: tracker.ActionDelete, TargetKind: "image", TargetID: img.ID,
		OperationID: store.AuditOperationID(op), Outcome: store.OutcomeSuccess, Detail: right.detail(imageName(img)) + store.CloudNote(op)})
	h.Flash(c, "Deleting "+imageName(img)+"…")
	return Redirect(c, views.ImageFilter{Service: img.Service, Folders: []string{img.FolderID}}.URL())
}

func (h *Handlers) deletePage(c echo.Context, img cloud.Image) (views.ImageDeletePage, error) {
	nav, folder, err := h.imageNav(c, img)
	if err != nil {
		return views.ImageDeletePage{}, err
	}
	return views.ImageDeletePage{Nav: nav, Image: views.NewImageRow(img, h.now()), FolderName: folder}, nil
}

// deleteBlocked says why img's status forbids deleting it ("" when it
// allows it): not while it is being created or deleted, nor (BareMetal)
// updated.
func deleteBlocked(img cloud.Image) string {
	switch {
	case img.Status == "CREATING":
		return "This image is still being created (CREATING): it can be deleted once it is ready."
	case img.Status == "DELETING":
		return "This image is already being deleted (DELETING)."
	case img.Status == "UPDATING" && img.Service == cloud.BareMetal:
		return "This image is being updated (UPDATING): it can be deleted once the update is done."
	}
	return ""
}

func imageName(img cloud.Image) string {
	if img.Name != "" {
		return img.Name
	}
	return img.ID
}

// ConfirmBulkDelete asks before deleting many images (GET
// /images/bulk-delete?service=…&id=…&id=…): it lists them, says which
// cannot be deleted and why, and asks the person to type how many will be.
func (h *Handlers) ConfirmBulkDelete(c echo.Context) error {
	params := c.QueryParams()
	p, _, err := h.bulkPage(c, params.Get("service"), params["id"])
	if err != nil {
		return err
	}
	status := http.StatusOK
	if p.Count == 0 {
		status = http.StatusConflict
	}
	return Render(c, status, views.BulkDeleteFull(p), views.BulkDeleteFull(p))
}

// BulkDelete deletes many images (POST /images/bulk-delete: service, id…,
// count). The typed count must be the number of images that can be deleted
// (422 otherwise); each of those gets its own operation, all in one batch;
// the answer reports what happened to each.
func (h *Handlers) BulkDelete(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return badRequest("Unreadable form: %v.", err)
	}
	if err := h.requireCloud(c); err != nil {
		return err
	}
	p, imgs, err := h.bulkPage(c, form.Get("service"), form["id"])
	if err != nil {
		return err
	}
	NoPush(c.Response().Header())
	if p.Count == 0 {
		return Render(c, http.StatusConflict, views.BulkDeleteFull(p), views.BulkDeleteFull(p))
	}
	p.Typed = strings.TrimSpace(form.Get("count"))
	if n, err := strconv.Atoi(p.Typed); err != nil || n != p.Count {
		p.CountError = fmt.Sprintf("Type %d, the number of images that will be deleted, to confirm.", p.Count)
		if p.Typed == "" {
			p.CountError = fmt.Sprintf("Type the number of images that will be deleted (%d) to confirm.", p.Count)
		}
		return Render(c, http.StatusUnprocessableEntity, views.BulkDeleteFull(p), views.BulkDeleteFull(p))
	}

	ctx := c.Request().Context()
	batch := cloud.NewIdempotencyKey()
	type result struct {
		op  store.Operation
		err error
	}
	// The whole batch is written down before anything is sent
	// (tracker.StartBatch): a crash in between resumes all of it.
	results := make([]result, len(p.Items))
	var (
		ins []tracker.Intent
		at  []int // the item of each intent
	)
	for i, it := range p.Items {
		if it.Reason == "" {
			ins, at = append(ins, tracker.Delete(imgs[i]).Unchanged(imgs[i])), append(at, i)
		}
	}
	if len(ins) > 0 {
		ops, errs, err := h.tracker.StartBatch(ctx, who(c), batch, ins)
		if r, ok := h.refusedChange(c, err); ok {
			// Refused whole: each busy image says what is under way on it,
			// the others that they were not sent either.
			p.Done = true
			for i := range p.Items {
				it := &p.Items[i]
				it.Outcome, it.Message = "refused", it.Reason
				if it.Reason != "" {
					continue
				}
				it.Message = "Not sent: the whole delete was refused because of the images marked here; nothing was deleted."
				if msg := r.rowMessage(p.Service, it.ID); msg != "" {
					it.Message = msg
				}
			}
			return Render(c, r.fault.Status(), views.BulkDeleteFull(p), views.BulkDeleteFull(p))
		}
		if err != nil {
			return fmt.Errorf("bulk delete: %w", err)
		}
		for k, i := range at {
			results[i] = result{ops[k], errs[k]}
		}
	}

	p.Done, p.Batch = true, batch
	for i := range p.Items {
		it := &p.Items[i]
		if it.Reason != "" {
			it.Outcome, it.Message = "refused", it.Reason
			continue
		}
		r := results[i]
		if r.err != nil {
			it.Outcome = "refused"
			msg, status := refusal(r.err)
			if status == 0 {
				h.log.ErrorContext(ctx, "bulk delete", "image", it.ID, "err", r.err)
				msg = "Could not record the request; nothing was sent. Try again."
			}
			it.Message = msg
			continue
		}
		it.Outcome = "started"
		it.OpURL = views.ImageURL(p.Service, it.ID) + "?op=" + strconv.FormatInt(r.op.ID, 10)
		h.audit(c, store.AuditEntry{Action: tracker.ActionDelete, TargetKind: "image", TargetID: it.ID,
			OperationID: store.AuditOperationID(r.op), Outcome: store.OutcomeSuccess, Detail: "bulk delete, batch " + batch + store.CloudNote(r.op)})
	}
	return Render(c, http.StatusOK, views.BulkDeleteFull(p), views.BulkDeleteFull(p))
}

// bulkPage reads the images a bulk delete names and checks them: 400 for
// a bad service, no ids, too many or a bad id; 403 (audited) naming every
// image the viewer may not delete; 503 without a cloud connection. The
// page lists each image, with why it cannot be deleted where it cannot;
// imgs are the images in the same order (zero for one not cached).
func (h *Handlers) bulkPage(c echo.Context, service string, rawIDs []string) (views.BulkDeletePage, []cloud.Image, error) {
	svc, err := parseService(service)
	if err != nil {
		return views.BulkDeletePage{}, nil, err
	}
	var ids []string
	for _, id := range rawIDs {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	switch {
	case len(ids) == 0:
		return views.BulkDeletePage{}, nil, badRequest("Choose the images to delete: give their ids (id=…).")
	case len(ids) > MaxBulkDelete:
		return views.BulkDeletePage{}, nil, badRequest("At most %d images can be deleted at once; %d were chosen.", MaxBulkDelete, len(ids))
	}
	for _, id := range ids {
		if vs := rules.ID("id", id, true); len(vs) > 0 {
			return views.BulkDeletePage{}, nil, badRequest("Bad image id %q: %s.", truncate(id), vs[0].Message)
		}
	}
	ctx := c.Request().Context()
	imgs, err := h.bulkImages(ctx, svc, ids)
	if err != nil {
		return views.BulkDeletePage{}, nil, err
	}
	v := viewer(c)
	for i, img := range imgs {
		if img.ID != "" && !v.Policy.CanView(img.FolderID) {
			// Not theirs to see: listed as not cached, as a missing id is.
			_ = h.hide(c, tracker.ActionDelete, "image", img.ID, img.FolderID, nil)
			imgs[i] = cloud.Image{}
		}
	}
	folders, err := h.store.Folders(ctx)
	if err != nil {
		return views.BulkDeletePage{}, nil, err
	}
	folders = seen(c, folders)
	names := views.FolderNames(folders)
	// Each image the viewer may not delete is named with its own reason
	// (a copier may delete the ERROR images their failed copies left, and
	// nothing else), and the whole batch is refused.
	var denied, reasons []string
	for i, img := range imgs {
		if img.ID == "" {
			continue
		}
		folder := names[img.FolderID]
		if folder == "" {
			folder = img.FolderID
		}
		r, err := h.mayDelete(ctx, v, img, folder)
		if err != nil {
			return views.BulkDeletePage{}, nil, err
		}
		if !r.ok {
			denied = append(denied, ids[i])
			reasons = append(reasons, imageName(img)+" ("+img.ID+"): "+r.short)
		}
	}
	if len(denied) > 0 {
		return views.BulkDeletePage{}, nil, h.deny(c, tracker.ActionDelete, "image", auditClip(strings.Join(denied, ",")),
			"You may not delete %d of these images: %s. Only an editor of a team that owns an image's folder may delete its images "+
				"(a copier only the ERROR image a failed copy of their own left); nothing was deleted.",
			len(denied), listReasons(reasons))
	}
	if h.tracker == nil {
		return views.BulkDeletePage{}, nil, errNoTracker()
	}
	p := views.BulkDeletePage{
		Nav: views.Nav{
			Page:    views.PageImage,
			Service: svc,
			Filter:  views.ImageFilter{Service: svc},
			Folders: views.NewFolderOptions(h.pickerFolders(c, folders), nil),
		},
		Service: svc,
	}
	// An image another operation is changing is left alone, said before
	// it is asked (the write refuses it anyway: store.ImageBusyError).
	busy, err := h.openChanges(c, svc, imgs, tracker.ActionDelete)
	if err != nil {
		return views.BulkDeletePage{}, nil, err
	}
	var inFolders []string
	for i, img := range imgs {
		it := views.BulkDeleteItem{ID: ids[i]}
		if img.ID == "" {
			it.Reason = "Not in the cache: it may have been deleted already, or the next sync may bring it."
		} else {
			it.Name, it.URL, it.Status = img.Name, views.ImageURL(svc, img.ID), img.Status
			it.Folder = names[img.FolderID]
			if it.Folder == "" {
				it.Folder = img.FolderID
			}
			if it.Reason = deleteBlocked(img); it.Reason == "" {
				it.Reason = busy[img.ID]
			}
			if !slices.Contains(inFolders, img.FolderID) {
				inFolders = append(inFolders, img.FolderID)
			}
		}
		if it.Reason == "" {
			p.Count++
		}
		p.Items = append(p.Items, it)
	}
	back := views.ImageFilter{Service: svc}
	if len(inFolders) == 1 {
		back.Folders = inFolders
		p.Nav.Filter.Folders = inFolders
	}
	p.Back = back.URL()
	return p, imgs, nil
}

// bulkImages reads ids of svc from the cache; an image not cached is the
// zero Image.
func (h *Handlers) bulkImages(ctx context.Context, svc cloud.Service, ids []string) ([]cloud.Image, error) {
	out := make([]cloud.Image, len(ids))
	for i, id := range ids {
		img, err := h.store.Image(ctx, svc, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			return nil, err
		}
		out[i] = img
	}
	return out, nil
}

// listIDs lists ids for a message: all of them up to 50, then how many more.
func listIDs(ids []string) string {
	const shown = 50
	if len(ids) <= shown {
		return strings.Join(ids, ", ")
	}
	return strings.Join(ids[:shown], ", ") + fmt.Sprintf(" and %d more", len(ids)-shown)
}
