package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/views"
)

// deleteRight is why a viewer may delete an image: as an editor of its
// folder (or an admin), or as the copier whose own failed copy left it.
type deleteRight struct {
	ok bool
	// copy is the failed copy that made the image, when the right comes
	// from it (for the audit log); zero for an editor.
	copy store.Operation
	// why says, for the person, why they may not ("" when they may);
	// short says it in a few words, for one row of a bulk delete.
	why, short string
}

// mayDelete decides whether v may delete img (which they may see). An
// editor may delete any image of the folder. A copier (a team role below
// editor) may delete exactly one kind of image: the ERROR image their own
// copy left when it failed, and only while the dashboard's operations
// record it so: a copy operation of theirs, failed, into this folder,
// that made this image id under this name. A READY copy of theirs, an
// ERROR image the dashboard did not make, or one another person's copy
// left stay an editor's to delete. This is where every delete (one, bulk,
// the confirmations) and every Delete button asks.
func (h *Handlers) mayDelete(ctx context.Context, v Viewer, img cloud.Image, folder string) (deleteRight, error) {
	p := v.Policy
	if p.CanEdit(img.FolderID) {
		return deleteRight{ok: true}, nil
	}
	editorOnly := fmt.Sprintf("Only an editor of a team that owns folder %s may delete its images", folder)
	if !p.CanDeleteOwnFailedCopy(img.FolderID) {
		return deleteRight{why: editorOnly + ".", short: "you are not an editor of folder " + folder}, nil
	}
	if img.Status != "ERROR" {
		return deleteRight{why: fmt.Sprintf("%s; a copier may delete only the ERROR image a failed copy of their own left, and this image is %s.",
			editorOnly, img.Status), short: "it is " + img.Status + ", not the ERROR image of a failed copy of yours"}, nil
	}
	notYours := deleteRight{why: editorOnly + "; a copier may delete only the ERROR image a failed copy of their own left, " +
		"and the dashboard has no record of a failed copy of yours making this one.",
		short: "no failed copy of yours made this ERROR image"}
	if h.ops == nil || v.User.ID == 0 {
		return notYours, nil
	}
	ops, err := h.ops.Operations(ctx, store.OperationQuery{
		Service: img.Service, Image: img.ID, Folders: []string{img.FolderID},
		States: []store.OpState{store.OpFailed}, Limit: store.MaxOperationLimit,
	})
	if err != nil {
		return deleteRight{}, fmt.Errorf("delete right of %s: %w", img.ID, err)
	}
	for _, o := range ops {
		if madeByFailedCopy(o, v.User.ID, img) {
			return deleteRight{ok: true, copy: o}, nil
		}
	}
	return notYours, nil
}

// madeByFailedCopy tells whether o is a copy by user that made img and
// failed. Every field is checked, not only the image id: a cloud started
// again from its seed reuses image ids for other images, and the name and
// folder tell a reused id from the image the copy made.
func madeByFailedCopy(o store.Operation, user int64, img cloud.Image) bool {
	switch o.Action {
	case tracker.ActionCopy, tracker.ActionCopyToDesktop, tracker.ActionCopyFromDesktop:
	default:
		return false
	}
	return o.State == store.OpFailed && o.UserID == user && o.CloudID != "" &&
		o.Service == img.Service && o.ImageID == img.ID && o.FolderID == img.FolderID && o.ImageName == img.Name
}

// detail is the audit detail of a delete allowed by r.
func (r deleteRight) detail(name string) string {
	if r.copy.ID == 0 {
		return "deleted " + name
	}
	return fmt.Sprintf("deleted %s, the ERROR image their failed copy (operation %d) left", name, r.copy.ID)
}

// deleteTarget is changeTarget for a delete: the image the path names,
// which the viewer must see (else 404, as if missing) and may delete
// (mayDelete; else 403 with the reason, audited).
func (h *Handlers) deleteTarget(c echo.Context) (cloud.Image, deleteRight, error) {
	img, err := h.seenTarget(c, tracker.ActionDelete)
	if err != nil {
		return img, deleteRight{}, err
	}
	ctx := c.Request().Context()
	folder, err := h.folderName(ctx, img.FolderID)
	if err != nil {
		return img, deleteRight{}, err
	}
	r, err := h.mayDelete(ctx, viewer(c), img, folder)
	if err != nil {
		return img, r, err
	}
	if !r.ok {
		return img, r, h.deny(c, tracker.ActionDelete, "image", img.ID, "%s", r.why)
	}
	return img, r, nil
}

// listReasons lists per-image refusals for a message, "; " between them
// (a reason may hold a comma): all up to 50, then how many more.
func listReasons(rs []string) string {
	const shown = 50
	if len(rs) <= shown {
		return strings.Join(rs, "; ")
	}
	return strings.Join(rs[:shown], "; ") + fmt.Sprintf("; and %d more", len(rs)-shown)
}

// failedCopyDelete is the delete confirmation of the ERROR image the failed
// copy o left, for its result row: only for the person whose copy it was,
// and only when they may delete it (mayDelete; the delete asks again).
func (h *Handlers) failedCopyDelete(ctx context.Context, v Viewer, o store.Operation, cf copyFolderSet) (string, error) {
	if o.State != store.OpFailed || o.ImageID == "" || o.UserID != v.User.ID || !v.Policy.CanView(o.FolderID) {
		return "", nil
	}
	img, err := h.store.Image(ctx, o.Service, o.ImageID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	case img.Status != "ERROR":
		return "", nil
	}
	r, err := h.mayDelete(ctx, v, img, cf.name(img.FolderID))
	if err != nil || !r.ok {
		return "", err
	}
	return views.ImageURL(img.Service, img.ID) + "/delete", nil
}
