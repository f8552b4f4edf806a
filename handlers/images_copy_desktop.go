package handlers

import (
	"context"
	"errors"
	"net/http"
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

// FromDesktopForm is the form that makes a Desktop image from a desktop
// (GET /desktop-images/new?folder=…&desktop_id=…, both optional).
func (h *Handlers) FromDesktopForm(c echo.Context) error {
	cf, err := h.copyFolders(c)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	p := h.fromDesktopPage(c, cf, q.Get("folder"))
	p.DesktopID = strings.TrimSpace(q.Get("desktop_id"))
	return Render(c, http.StatusOK, views.FromDesktopFull(p), views.FromDesktopFull(p))
}

// CopyFromDesktop makes a Desktop image from a desktop's disk (POST
// /desktop-images/new: folder, desktop_id, name, description,
// label_key/label_value, batch) through DesktopImageService.CopyFromDesktop.
func (h *Handlers) CopyFromDesktop(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return badRequest("Unreadable form.")
	}
	cf, err := h.copyFolders(c)
	if err != nil {
		return err
	}
	folders, err := h.copyTargetsAsked(c, tracker.ActionCopyFromDesktop, cf, form["folder"])
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
	folder := ""
	if len(folders) > 0 {
		folder = folders[0]
	}
	p := h.fromDesktopPage(c, cf, folder)
	p.DesktopID = strings.TrimSpace(form.Get("desktop_id"))
	p.Name = strings.TrimSpace(form.Get("name"))
	p.Description = form.Get("description")
	p.Batch = form.Get("batch")
	fe := FieldErrors{}
	hiddenIn := "" // the folder of a desktop the viewer may not see
	labels, rows := parseLabelRows(form, fe)
	p.Labels = rows
	switch len(folders) {
	case 0:
		fe["folder"] = "Pick the folder the image goes into."
	case 1:
	default:
		fe["folder"] = "Pick one folder."
	}
	if vs := rules.ID("desktop_id", p.DesktopID, true); len(vs) > 0 {
		fe["desktop_id"] = "The desktop id " + vs[0].Message + "."
	} else if strings.ContainsFunc(p.DesktopID, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) {
		fe["desktop_id"] = "A desktop id holds only lowercase letters and digits."
	} else if msg, in, err := h.desktopSource(c, p.DesktopID); err != nil {
		return err
	} else if msg != "" {
		fe["desktop_id"], hiddenIn = msg, in
	}
	var in []planner.Folder
	if folder != "" {
		in = cf.planFolders([]string{folder})
	}
	plan, err := pl.Plan(c.Request().Context(), viewer(c).Policy, planner.Request{Kind: planner.DesktopToDesktop,
		Desktop: p.DesktopID, Folders: in, Name: p.Name, Plain: true, Description: &p.Description, Labels: labels})
	if err != nil {
		return err
	}
	for _, pr := range plan.Problems {
		if pr.Field == planner.FieldSource {
			pr.Field = "desktop_id"
		}
		if _, ok := fe[pr.Field]; !ok {
			fe[pr.Field] = pr.Message
		}
	}
	named := plan
	named.Problems = nil // said above, next to this form's fields
	copyPlanErrors(named, fe)
	if len(fe) > 0 {
		entry := store.AuditEntry{Action: tracker.ActionCopyFromDesktop, TargetKind: "desktop", TargetID: auditClip(p.DesktopID),
			Outcome: store.OutcomeFailure, Detail: auditClip(invalidInput(views.FieldErrors(fe)))}
		if hiddenIn != "" {
			// Another team's desktop: refused (denied, naming its folder for
			// administrators) with the answer to a desktop that does not exist.
			entry.Outcome = store.OutcomeDenied
			entry.Detail = auditClip("desktop in folder " + hiddenIn + ", which belongs to no team of theirs and is not shared; answered as not found. " + entry.Detail)
		}
		h.audit(c, entry)
		return h.renderFromDesktop(c, p, fe)
	}
	batch := h.copyBatch(c, p.Batch)
	starts, err := h.submitPlan(c, batch, plan, "desktop")
	if msg, ok := overLimit(err); ok {
		h.audit(c, store.AuditEntry{Action: tracker.ActionCopyFromDesktop, TargetKind: "desktop", TargetID: auditClip(p.DesktopID),
			Outcome: store.OutcomeDenied, Detail: auditClip(err.Error())})
		c.Response().Header().Set("Retry-After", limitRetryAfter)
		fe["form"] = msg
		return h.renderFromDesktopStatus(c, http.StatusTooManyRequests, p, fe)
	}
	if err != nil {
		return err
	}
	if starts[0].refused != nil {
		copyCloudErrors(starts[0].refused, fe, cf.name(folder), p.Name)
		return h.renderFromDesktop(c, p, fe)
	}
	return h.copiesStarted(c, batch)
}

func (h *Handlers) renderFromDesktop(c echo.Context, p views.FromDesktopPage, fe FieldErrors) error {
	return h.renderFromDesktopStatus(c, http.StatusUnprocessableEntity, p, fe)
}

func (h *Handlers) renderFromDesktopStatus(c echo.Context, status int, p views.FromDesktopPage, fe FieldErrors) error {
	p.Errors = views.FieldErrors(fe)
	if IsHTMX(c.Request()) {
		NoPush(c.Response().Header())
	}
	return Render(c, status, views.FromDesktopFull(p), views.FromDesktopFull(p))
}

// fromDesktopPage is the form's page with folder ticked (or the only
// target, when there is one).
func (h *Handlers) fromDesktopPage(c echo.Context, cf copyFolderSet, folder string) views.FromDesktopPage {
	p := views.FromDesktopPage{Nav: h.copyNav(c, cf, cloud.Desktop)}
	for _, f := range cf.targets {
		p.Targets = append(p.Targets, views.CopyTarget{ID: f.ID, Name: cf.name(f.ID),
			Checked: f.ID == folder || len(cf.targets) == 1})
	}
	return p
}

// DesktopReader tells whose a desktop is. *cloud.Client satisfies it.
type DesktopReader interface {
	GetDesktop(ctx context.Context, id string) (cloud.VirtualDesktop, error)
}

// noDesktopMessage is said next to the desktop id when the cloud knows no
// such desktop and, word for word, when the desktop is in a folder the
// viewer may not see.
const noDesktopMessage = "No desktop with this id in the folders you may see. Check the id on the desktop's page."

// desktopSource checks the desktop a Desktop image would be made from: the
// cloud must know it and its folder must be one the viewer may see. msg is
// the field message when not ("" when it may be imaged), and hiddenIn the
// folder of a desktop that exists but is not theirs to see, for the audit
// log only. The check is made here, before any intent is written, because
// the cloud images any desktop the dashboard's own credentials reach.
func (h *Handlers) desktopSource(c echo.Context, id string) (msg, hiddenIn string, err error) {
	pol := viewer(c).Policy
	if h.desktops == nil {
		if pol.Admin() { // sees every folder: nothing to check
			return "", "", nil
		}
		return "", "", fault.New(fault.Unavailable,
			"Images of desktops are off: this server cannot ask the cloud whose a desktop is. Try again later.")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.cloudTimeout)
	defer cancel()
	d, err := h.desktops.GetDesktop(ctx, id)
	switch {
	case errors.Is(err, cloud.ErrNotFound), errors.Is(err, cloud.ErrPermission), errors.Is(err, cloud.ErrInvalid):
		return noDesktopMessage, "", nil
	case err != nil:
		h.log.WarnContext(ctx, "get desktop", "desktop", id, "err", err)
		return "", "", fault.New(fault.Unavailable, cloudMessage(err)).Wrap(err)
	}
	if !pol.CanView(d.FolderID) {
		return noDesktopMessage, d.FolderID, nil
	}
	return "", "", nil
}
