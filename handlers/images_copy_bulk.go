package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/planner"
	"github.com/imagedash/imagedash/rules"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/views"
)

// bulkCopyMax is how many images one bulk copy takes.
const bulkCopyMax = 200

// BulkCopyForm is the form that copies many Compute images into one folder
// (GET /images/bulk-copy?service=compute&id=…&id=…, up to 200; the image
// list's row checkboxes post the same).
func (h *Handlers) BulkCopyForm(c echo.Context) error {
	q := c.QueryParams()
	cf, err := h.copyFolders(c)
	if err != nil {
		return err
	}
	p, err := h.bulkCopyPage(c, q.Get("service"), q["id"], nil, cf)
	if err != nil {
		return err
	}
	p.Name = planner.DefaultTemplate
	for i := range p.Rows {
		p.Rows[i].Selected = true
	}
	if len(cf.targets) == 1 {
		p.Targets[0].Checked = true
	}
	for i := range p.Targets {
		p.Targets[i].Checked = p.Targets[i].Checked || p.Targets[i].ID == q.Get("folder")
	}
	return Render(c, http.StatusOK, views.BulkCopyFull(p), views.BulkCopyFull(p))
}

// BulkCopy copies the chosen Compute images into one folder (POST
// /images/bulk-copy: service, id (the images to copy; row lists every
// image of the form, ticked or not), folder, name (a template),
// label_key/label_value (labels added to each image's own), preview,
// confirm). The copy is planned (planner): every name is checked, exactly,
// against the folder and against the others, and every ticked image must
// still exist; a plan with any problem is refused whole (422, each row's
// problems on its row), and nothing is written. Asked with preview=1, the
// plan is shown to be confirmed (confirm=1, planned again). An accepted
// plan is submitted whole with one StartBatch, and the answer is the
// batch's result page.
func (h *Handlers) BulkCopy(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return badRequest("Unreadable form.")
	}
	cf, err := h.copyFolders(c)
	if err != nil {
		return err
	}
	rowIDs := form["row"]
	if len(rowIDs) == 0 {
		rowIDs = form["id"] // straight from the image list
	}
	p, err := h.bulkCopyPage(c, form.Get("service"), rowIDs, form["id"], cf)
	if err != nil {
		return err
	}
	folders, err := h.copyTargetsAsked(c, tracker.ActionCopy, cf, form["folder"])
	if err != nil {
		return err
	}
	pl, err := h.copyPlanner()
	if err != nil {
		return err
	}
	if err := h.requireCloud(c); err != nil {
		return err
	}
	fe := FieldErrors{}
	switch len(folders) {
	case 0:
		fe["folder"] = "Pick the folder to copy into."
	case 1:
	default:
		fe["folder"] = "Pick one folder: a bulk copy goes into one folder."
		folders = nil
	}
	for i := range p.Targets {
		p.Targets[i].Checked = slices.Contains(folders, p.Targets[i].ID)
	}
	p.Name = strings.TrimSpace(form.Get("name"))
	added, rows := parseLabelRows(form, fe)
	p.Labels = rows

	// A ticked image the cache no longer holds (or the person may no longer
	// see) is planned too, so that its row says it is gone and the copy is
	// refused whole, rather than the rest copied without it.
	for _, id := range slices.Clone(p.Missing) {
		if slices.Contains(form["id"], id) {
			p.Missing = slices.DeleteFunc(p.Missing, func(m string) bool { return m == id })
			p.Rows = append(p.Rows, views.BulkCopyRow{Image: views.ImageRow{ID: id}, Selected: true})
		}
	}
	var chosen []string
	for _, r := range p.Rows {
		if r.Selected {
			chosen = append(chosen, r.Image.ID)
		}
	}
	if len(chosen) == 0 {
		fe["id"] = "Tick at least one image to copy."
	}
	plan, err := pl.Plan(c.Request().Context(), viewer(c).Policy, planner.Request{Kind: planner.ComputeToCompute,
		Sources: chosen, Folders: cf.planFolders(folders), Name: p.Name, AddLabels: added})
	if err != nil {
		return err
	}
	for _, pr := range plan.Problems {
		field := pr.Field
		if field == planner.FieldSource {
			field = "id"
		}
		if _, ok := fe[field]; !ok {
			fe[field] = pr.Message
		}
	}
	for _, r := range plan.Rows {
		i := slices.IndexFunc(p.Rows, func(b views.BulkCopyRow) bool { return b.Image.ID == r.SourceID })
		p.Rows[i].NewName, p.Rows[i].Error = r.Name, rowMessage(r, "")
	}
	if bad := plan.BadRows(); bad > 0 && fe["name"] == "" {
		fe["name"] = fmt.Sprintf("%d of the %d copies will not do: see the list above.", bad, len(chosen))
	}
	if len(fe) > 0 {
		h.audit(c, store.AuditEntry{Action: tracker.ActionCopy, TargetKind: "image", TargetID: fmt.Sprintf("%d images", len(chosen)),
			Outcome: store.OutcomeFailure, Detail: auditClip(invalidInput(views.FieldErrors(fe)))})
		return h.renderBulkCopy(c, http.StatusUnprocessableEntity, p, fe)
	}
	if wantsPreview(form) && len(plan.Rows) > 1 {
		p.Plan = copyPlanView(plan)
		return h.renderBulkCopy(c, http.StatusOK, p, fe)
	}

	// The whole plan is written down before anything is sent
	// (tracker.StartBatch): a crash in between resumes all of it.
	batch := cloud.NewIdempotencyKey()
	_, err = h.submitPlan(c, batch, plan, "image")
	if msg, ok := overLimit(err); ok {
		// Nothing was written: the form again, as the person left it.
		h.audit(c, store.AuditEntry{Action: tracker.ActionCopy, TargetKind: "image", TargetID: fmt.Sprintf("%d images", len(chosen)),
			Outcome: store.OutcomeDenied, Detail: auditClip(err.Error())})
		c.Response().Header().Set("Retry-After", limitRetryAfter)
		return h.renderBulkCopy(c, http.StatusTooManyRequests, p, FieldErrors{"form": msg})
	}
	if err != nil {
		return fmt.Errorf("bulk copy: %w", err)
	}
	return h.copiesStarted(c, batch)
}

// renderBulkCopy renders the bulk copy form with its messages.
func (h *Handlers) renderBulkCopy(c echo.Context, status int, p views.BulkCopyPage, fe FieldErrors) error {
	p.Errors = views.FieldErrors(fe)
	if IsHTMX(c.Request()) {
		NoPush(c.Response().Header())
	}
	return Render(c, status, views.BulkCopyFull(p), views.BulkCopyFull(p))
}

// bulkCopyPage reads the images of a bulk copy: service must be compute,
// ids at most bulkCopyMax (duplicates dropped); ids the cache does not
// hold are listed as missing, and so are (audited as denied) the ones in
// folders the viewer may not see: the same answer. A row is selected when
// its id is in selected.
func (h *Handlers) bulkCopyPage(c echo.Context, service string, ids, selected []string, cf copyFolderSet) (views.BulkCopyPage, error) {
	svc, err := parseService(service)
	if err != nil {
		return views.BulkCopyPage{}, err
	}
	if svc != cloud.Compute {
		return views.BulkCopyPage{}, badRequest("Only Compute images can be copied in bulk.")
	}
	var uniq []string
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id != "" && !slices.Contains(uniq, id) {
			uniq = append(uniq, id)
		}
	}
	switch {
	case len(uniq) == 0:
		return views.BulkCopyPage{}, badRequest("Pick the images to copy: tick their rows in the image list.")
	case len(uniq) > bulkCopyMax:
		return views.BulkCopyPage{}, fault.Errorf(fault.Invalid,
			"At most %d images can be copied at once; %d were picked.", bulkCopyMax, len(uniq))
	}
	p := views.BulkCopyPage{Nav: h.copyNav(c, cf, svc), Service: svc}
	ctx := c.Request().Context()
	pol := viewer(c).Policy
	for _, id := range uniq {
		if vs := rules.ID("id", id, true); len(vs) > 0 {
			return p, badRequest("Bad image id: %s.", vs[0].Error())
		}
		img, err := h.store.Image(ctx, svc, id)
		if errors.Is(err, store.ErrNotFound) {
			p.Missing = append(p.Missing, id)
			continue
		}
		if err != nil {
			return p, err
		}
		if !pol.CanView(img.FolderID) {
			_ = h.hide(c, tracker.ActionCopy, "image", img.ID, img.FolderID, nil)
			p.Missing = append(p.Missing, id)
			continue
		}
		p.Rows = append(p.Rows, views.BulkCopyRow{Image: views.NewImageRow(img, h.now()), Selected: slices.Contains(selected, id)})
	}
	for _, f := range cf.targets {
		p.Targets = append(p.Targets, views.CopyTarget{ID: f.ID, Name: cf.name(f.ID)})
	}
	return p, nil
}
