package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/cloud"
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
	p.Name = defaultNameTemplate
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
// label_key/label_value (labels added to each image's own)). Every name is
// checked, against the folder and against the others, before anything is
// sent; then one intent per image, in one batch, and the batch's result page.
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
	if h.tracker == nil {
		return errCopyNoTracker
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
	}
	for i := range p.Targets {
		p.Targets[i].Checked = slices.Contains(folders, p.Targets[i].ID)
	}
	p.Name = strings.TrimSpace(form.Get("name"))
	added, rows := parseLabelRows(form, fe)
	p.Labels = rows

	var chosen []int // indexes into p.Rows
	for i, r := range p.Rows {
		if r.Selected {
			chosen = append(chosen, i)
		}
	}
	if len(chosen) == 0 {
		fe["id"] = "Tick at least one image to copy."
	}
	tmpl, terr := parseNameTemplate(p.Name)
	if terr != nil {
		fe["name"] = nameTemplateMessage(terr)
	}
	folder := ""
	if len(folders) == 1 {
		folder = folders[0]
	}
	imgs := map[string]cloud.Image{}
	if terr == nil && folder != "" {
		ctx := c.Request().Context()
		seenNames := map[string]string{} // new name → the source that takes it
		bad := 0
		for _, i := range chosen {
			r := &p.Rows[i]
			img, err := h.store.Image(ctx, cloud.Compute, r.Image.ID)
			if err != nil {
				return err
			}
			imgs[img.ID] = img
			r.NewName = tmpl.Expand(newNameVars(img.Name, img.Family, cf.name(folder), h.now()))
			switch {
			case img.Status != "READY":
				r.Error = fmt.Sprintf("This image is %s: the cloud copies only READY images.", views.StatusTitle(img.Status))
			case len(rules.Name("name", r.NewName, true)) > 0:
				r.Error = copyNameRuleMessage(r.NewName, rules.Name("name", r.NewName, true)[0])
			case seenNames[r.NewName] != "":
				r.Error = fmt.Sprintf("“%s” is also the new name of %s: the template must give each image its own name (add {name}).",
					r.NewName, seenNames[r.NewName])
			default:
				taken, err := h.copyNameTaken(ctx, cloud.Compute, folder, r.NewName)
				if err != nil {
					return err
				}
				r.Error = taken
			}
			if _, ok := seenNames[r.NewName]; !ok {
				seenNames[r.NewName] = dashName(img)
			}
			if vs := rules.Labels("labels", copyMergeLabels(img.Labels, added)); len(vs) > 0 && r.Error == "" {
				r.Error = "With the added labels: " + vs[0].Message + "."
			}
			if r.Error != "" {
				bad++
			}
		}
		if bad > 0 {
			fe["name"] = fmt.Sprintf("%d of the %d copies will not do: see the list above.", bad, len(chosen))
		}
	}
	if len(fe) > 0 {
		h.audit(c, store.AuditEntry{Action: tracker.ActionCopy, TargetKind: "image", TargetID: fmt.Sprintf("%d images", len(chosen)),
			Outcome: store.OutcomeFailure, Detail: auditClip(invalidInput(views.FieldErrors(fe)))})
		p.Errors = views.FieldErrors(fe)
		if IsHTMX(c.Request()) {
			NoPush(c.Response().Header())
		}
		return Render(c, http.StatusUnprocessableEntity, views.BulkCopyFull(p), views.BulkCopyFull(p))
	}

	// The whole batch is written down before anything is sent
	// (tracker.StartBatch): a crash in between resumes all of it.
	batch := cloud.NewIdempotencyKey()
	ins := make([]tracker.Intent, len(chosen))
	for k, i := range chosen {
		r := p.Rows[i]
		img := imgs[r.Image.ID]
		ins[k] = tracker.Copy(img, cloud.CreateImageSpec{FolderID: folder, Name: r.NewName, Description: img.Description,
			Labels: copyMergeLabels(img.Labels, added), Family: img.Family})
	}
	ops, errs, err := h.tracker.StartBatch(c.Request().Context(), who(c), batch, ins)
	if msg, ok := overLimit(err); ok {
		// Nothing was written: the form again, as the person left it.
		h.audit(c, store.AuditEntry{Action: tracker.ActionCopy, TargetKind: "image", TargetID: fmt.Sprintf("%d images", len(chosen)),
			Outcome: store.OutcomeDenied, Detail: auditClip(err.Error())})
		p.Errors = views.FieldErrors{"form": msg}
		c.Response().Header().Set("Retry-After", limitRetryAfter)
		if IsHTMX(c.Request()) {
			NoPush(c.Response().Header())
		}
		return Render(c, http.StatusTooManyRequests, views.BulkCopyFull(p), views.BulkCopyFull(p))
	}
	if err != nil {
		return fmt.Errorf("bulk copy: %w", err)
	}
	for k, i := range chosen {
		r := p.Rows[i]
		h.copyStarted(c, ins[k], ops[k], errs[k], "image", r.Image.ID, "into "+cf.name(folder)+" as "+r.NewName)
	}
	return Redirect(c, views.CopyBatchURL(batch))
}

// dashName is an image's name, or its id when it has none.
func dashName(img cloud.Image) string {
	if img.Name != "" {
		return img.Name
	}
	return img.ID
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
		return views.BulkCopyPage{}, echo.NewHTTPError(http.StatusUnprocessableEntity,
			fmt.Sprintf("At most %d images can be copied at once; %d were picked.", bulkCopyMax, len(uniq)))
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
