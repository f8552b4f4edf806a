package handlers

import (
	"cmp"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/views"
)

// ShowCopyBatch is the result page of copies started together (GET
// /copies/:batch): per target, started (with its operation), queued (the
// cloud did not answer; the watcher retries) or refused (with the cloud's
// message and a Retry form for that target alone). While any target is in
// flight the list polls itself (HTMX, every 2 s, from the store only), and
// stops (286) when all are settled.
func (h *Handlers) ShowCopyBatch(c echo.Context) error {
	batch := c.Param("batch")
	if batch == "" || len(batch) > 100 {
		return badRequest("Bad batch id.")
	}
	if h.ops == nil {
		return errCopyNoTracker()
	}
	ctx := c.Request().Context()
	ops, err := h.ops.Operations(ctx, store.OperationQuery{Batch: batch, Limit: store.MaxOperationLimit, WithRequest: true})
	if err != nil {
		return err
	}
	notFound := fault.New(fault.NotFound, "No copies were started together under this id.")
	if len(ops) == 0 {
		return notFound
	}
	v := viewer(c)
	mine := ops[:0:0]
	for _, o := range ops {
		if o.UserID == v.User.ID || v.Policy.CanView(o.FolderID) {
			mine = append(mine, o)
		}
	}
	if len(mine) == 0 {
		// Another team's copies: the answer to a batch that does not exist.
		return h.hide(c, "copy.view", "batch", batch, ops[0].FolderID, notFound)
	}
	slices.SortFunc(mine, func(a, b store.Operation) int { return int(a.ID - b.ID) })
	cf, err := h.copyFolders(c)
	if err != nil {
		return err
	}
	n := opNames{policy: v.Policy, folders: cf.names}
	p := views.CopyBatchPage{Nav: h.copyNav(c, cf, cloud.Compute), Batch: batch, URL: views.CopyBatchURL(batch)}
	sources := map[string]string{} // compute image id → name
	for _, o := range mine {
		r := views.CopyResultRow{
			OpID:   o.ID,
			OpURL:  "/operations/" + strconv.FormatInt(o.ID, 10),
			Action: tracker.ActionTitle(o.Action),
			Source: o.SourceID,
			Folder: cmp.Or(n.folder(o.FolderID), o.FolderID),
			Name:   o.ImageName,
		}
		if o.SourceService == cloud.Compute {
			r.SourceURL = views.ImageURL(cloud.Compute, o.SourceID)
			name, ok := sources[o.SourceID]
			if !ok {
				if img, err := h.store.Image(ctx, cloud.Compute, o.SourceID); err == nil && v.Policy.CanView(img.FolderID) {
					name = img.Name
				} else if !errors.Is(err, store.ErrNotFound) {
					return err
				}
				sources[o.SourceID] = name
			}
			if name != "" {
				r.Source = name
			}
		}
		if o.ImageID != "" && v.Policy.CanView(o.FolderID) {
			r.ImageURL = views.ImageURL(o.Service, o.ImageID)
		}
		switch o.State {
		case store.OpPending:
			r.State = views.CopyQueued
			p.Open = true
		case store.OpRunning:
			r.State = views.CopyStarted
			p.Open = true
		case store.OpDone:
			r.State = views.CopyFinished
		case store.OpFailed:
			r.State, r.Message = views.CopyFailed, opSay(o, n.folder(o.FolderID))
			if o.CloudID == "" {
				r.State = views.CopyRefused
			}
		default:
			r.State, r.Message = views.CopyFailed, opSay(o, n.folder(o.FolderID))
		}
		if r.DeleteURL, err = h.failedCopyDelete(ctx, v, o, cf); err != nil {
			return err
		}
		if (o.State == store.OpFailed || o.State == store.OpLost) && v.Policy.CanCopyInto(o.FolderID) {
			r.Retry = copyRetry(o)
		}
		p.Rows = append(p.Rows, r)
	}
	if h.takeCopiesToast(c, batch) {
		p.Toast = copyToast(p.Rows)
	}
	status := http.StatusOK
	if WantsPartial(c.Request()) && !p.Open {
		status = StatusStopPolling
	}
	return Render(c, status, views.CopyBatchFull(p), views.CopyResults(p))
}

// copyRequest is the part of an operation's stored request a retry needs.
// The tracker writes it (tracker.request); this reads only what the copy
// forms sent, and a field it cannot read is left to the form's default.
type copyRequest struct {
	Create  *cloud.CreateImageSpec `json:"create"`
	Desktop *struct {
		Description string            `json:"description"`
		Labels      map[string]string `json:"labels"`
		DesktopID   string            `json:"desktop_id"`
	} `json:"desktop"`
}

// copyRetry is the form that sends the failed copy o again, alone, into the
// same batch, with the fields it was first sent with.
func copyRetry(o store.Operation) *views.CopyRetry {
	var req copyRequest
	_ = json.Unmarshal(o.Request, &req) // unreadable: the defaults do
	r := &views.CopyRetry{Name: o.ImageName}
	add := func(name, value string) { r.Hidden = append(r.Hidden, views.Param{Name: name, Value: value}) }
	add("batch", o.Batch)
	add("folder", o.FolderID)
	var labels map[string]string
	switch o.Action {
	case tracker.ActionCopy:
		r.Action = views.ImageCopyURL(o.SourceID)
		add("as", views.CopyAsCompute)
		if s := req.Create; s != nil {
			add("description", s.Description)
			add("family", s.Family)
			if s.MinDiskSize > 0 {
				add("min_disk_gib", strconv.FormatInt(copyCeilGiB(s.MinDiskSize), 10))
			}
			labels = s.Labels
		}
	case tracker.ActionCopyToDesktop:
		r.Action = views.ImageCopyURL(o.SourceID)
		add("as", views.CopyAsDesktop)
	case tracker.ActionCopyFromDesktop:
		r.Action = views.FromDesktopURL
		add("desktop_id", o.SourceID)
	default:
		return nil
	}
	if d := req.Desktop; d != nil {
		add("description", d.Description)
		labels = d.Labels
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		add("label_key", k)
		add("label_value", labels[k])
	}
	return r
}
