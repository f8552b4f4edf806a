package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"google.golang.org/grpc/status"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/planner"
	"github.com/imagedash/imagedash/rules"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/views"
)

// copyGiB is a GiB in bytes: the form takes disk sizes in GiB.
const copyGiB = int64(1) << 30

// errCopyNoTracker is the answer to a change when this server cannot make
// one (a new error each time: no package-level error values).
func errCopyNoTracker() error {
	return fault.New(fault.Unavailable,
		"Changes are off: this server has no connection to the cloud to make them. Try again later.")
}

// CopyImageForm is the copy form of a Compute image (GET
// /images/:service/:id/copy): the folders the person may copy into, the
// name from the default template, the rest inherited from the source.
func (h *Handlers) CopyImageForm(c echo.Context) error {
	src, err := h.copySource(c)
	if err != nil {
		return err
	}
	cf, err := h.copyFolders(c)
	if err != nil {
		return err
	}
	if len(cf.targets) == 0 {
		return h.deny(c, tracker.ActionCopy, "image", src.ID,
			"You may copy into no folder: only a copier or editor of a team may copy, into the team's folders.")
	}
	q := c.QueryParams()
	p := h.copyPage(c, src, cf)
	p.Name = planner.DefaultTemplate
	p.Description, p.Family = src.Description, src.Family
	p.MinDiskGiB = strconv.FormatInt(copyCeilGiB(max(src.MinDiskSize, src.Size)), 10)
	p.Labels = labelRows(src.Labels)
	if q.Get("as") == views.CopyAsDesktop {
		p.As = views.CopyAsDesktop
	}
	// A folder asked for (a link "copy into team-alpha") is ticked; with
	// only one folder to copy into, it is ticked anyway.
	for i := range p.Targets {
		p.Targets[i].Checked = len(p.Targets) == 1 || slices.Contains(q["folder"], p.Targets[i].ID)
	}
	return Render(c, http.StatusOK, views.CopyFull(p), views.CopyFull(p))
}

// CopyImage copies a Compute image (POST /images/:service/:id/copy: as,
// folder (one or several), name (a template), description, family,
// min_disk_gib, label_key/label_value, batch, preview, confirm): as a
// Compute image (Create with image_id) or as a Desktop image
// (DesktopImageService.Copy), one copy per target folder. The copy is
// planned (planner): every name is checked, exactly, before anything is
// written; a plan with any problem is refused whole (422, each problem next
// to its field). A copy into several folders asked with preview=1 shows its
// plan first, to be confirmed (confirm=1, planned again). An accepted plan
// is submitted whole with one StartBatch; the answer is the result page of
// the batch or, for one target the cloud refused, the form again with its
// message.
func (h *Handlers) CopyImage(c echo.Context) error {
	src, err := h.copySource(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return badRequest("Unreadable form.")
	}
	as := form.Get("as")
	switch as {
	case "":
		as = views.CopyAsCompute
	case views.CopyAsCompute, views.CopyAsDesktop:
	default:
		return badRequest("Copy as %q? Choose compute or desktop.", truncate(as))
	}
	action, kind := tracker.ActionCopy, planner.ComputeToCompute
	if as == views.CopyAsDesktop {
		action, kind = tracker.ActionCopyToDesktop, planner.ComputeToDesktop
	}
	cf, err := h.copyFolders(c)
	if err != nil {
		return err
	}
	folders, err := h.copyTargetsAsked(c, action, cf, form["folder"])
	if err != nil {
		return err
	}
	// Only once the person is known to be allowed: 403 before 503.
	pl, err := h.copyPlanner()
	if err != nil {
		return err
	}
	if err := h.requireCloud(c); err != nil {
		return err
	}

	p := h.copyPage(c, src, cf)
	p.As, p.Name = as, strings.TrimSpace(form.Get("name"))
	p.Description, p.Family = form.Get("description"), strings.TrimSpace(form.Get("family"))
	p.MinDiskGiB = strings.TrimSpace(form.Get("min_disk_gib"))
	p.Batch = form.Get("batch")
	for i := range p.Targets {
		p.Targets[i].Checked = slices.Contains(folders, p.Targets[i].ID)
	}
	fe := FieldErrors{}
	labels, rows := parseLabelRows(form, fe)
	p.Labels = rows
	if _, edited := form["label_key"]; !edited {
		// No label editor in the post (a script's): the source's labels.
		labels, p.Labels = nil, labelRows(src.Labels)
	}
	req := planner.Request{Kind: kind, Sources: []string{src.ID}, Folders: cf.planFolders(folders), Name: p.Name,
		Description: &p.Description, Labels: labels}
	if kind == planner.ComputeToCompute {
		req.Family = &p.Family
		req.MinDiskSize = h.parseMinDisk(p.MinDiskGiB, src, fe)
	}
	plan, err := pl.Plan(c.Request().Context(), viewer(c).Policy, req)
	if err != nil {
		return err
	}
	copyPlanErrors(plan, fe)
	if len(plan.Rows) > 1 {
		for _, r := range plan.Rows {
			p.Previews = append(p.Previews, views.CopyPreview{Folder: r.Folder.Name, Name: r.Name, Error: rowMessage(r, planner.FieldName)})
		}
	}
	if len(fe) > 0 {
		h.audit(c, store.AuditEntry{Action: action, TargetKind: "image", TargetID: src.ID, Outcome: store.OutcomeFailure,
			Detail: auditClip(invalidInput(views.FieldErrors(fe)))})
		return h.renderCopy(c, http.StatusUnprocessableEntity, p, fe)
	}
	if wantsPreview(form) && len(plan.Rows) > 1 {
		p.Plan = copyPlanView(plan)
		return h.renderCopy(c, http.StatusOK, p, fe)
	}

	batch := h.copyBatch(c, p.Batch)
	starts, err := h.submitPlan(c, batch, plan, "image")
	if msg, ok := overLimit(err); ok {
		// Nothing was written: the form again, as typed.
		h.audit(c, store.AuditEntry{Action: action, TargetKind: "image", TargetID: src.ID, Outcome: store.OutcomeDenied,
			Detail: auditClip(err.Error())})
		c.Response().Header().Set("Retry-After", limitRetryAfter)
		fe["form"] = msg
		return h.renderCopy(c, http.StatusTooManyRequests, p, fe)
	}
	if err != nil {
		return err
	}
	// One target refused by the cloud: the form again, the message next to
	// its field, so the person can fix it where they typed it. A copy the
	// cloud accepted and then failed (it has a cloud operation) is not
	// about a field: it may have left an ERROR image, which its result
	// page links and offers to delete.
	if len(starts) == 1 && starts[0].refused != nil && starts[0].op.CloudID == "" {
		copyCloudErrors(starts[0].refused, fe, plan.Rows[0].Folder.Name, plan.Rows[0].Name)
		return h.renderCopy(c, http.StatusUnprocessableEntity, p, fe)
	}
	return h.copiesStarted(c, batch)
}

// renderCopy renders the copy form with its messages.
func (h *Handlers) renderCopy(c echo.Context, status int, p views.CopyPage, fe FieldErrors) error {
	p.Errors = views.FieldErrors(fe)
	if IsHTMX(c.Request()) {
		NoPush(c.Response().Header())
	}
	return Render(c, status, views.CopyFull(p), views.CopyFull(p))
}

// copySource is the Compute image the path names, which the viewer must be
// allowed to see: 400 for a bad service or id, 404 when it is not cached,
// and the same 404 (audited as denied) when its folder is not the viewer's
// to see. Every copy of an image starts here, so no intent is ever built
// from an image the person may not see.
func (h *Handlers) copySource(c echo.Context) (cloud.Image, error) {
	svc, err := parseService(c.Param("service"))
	if err != nil {
		return cloud.Image{}, err
	}
	id := c.Param("id")
	if vs := rules.ID("id", id, true); len(vs) > 0 {
		return cloud.Image{}, badRequest("Bad image id: %s.", vs[0].Error())
	}
	if svc != cloud.Compute {
		return cloud.Image{}, fault.New(fault.NotFound,
			"Only Compute images can be copied here. To make a Desktop image from a desktop, see "+views.FromDesktopURL+".")
	}
	img, err := h.store.Image(c.Request().Context(), svc, id)
	if errors.Is(err, store.ErrNotFound) {
		return cloud.Image{}, errNoImage(svc, id)
	}
	if err != nil {
		return img, err
	}
	if !viewer(c).Policy.CanView(img.FolderID) {
		return cloud.Image{}, h.hide(c, tracker.ActionCopy, "image", img.ID, img.FolderID, errNoImage(svc, id))
	}
	return img, nil
}

// copyFolderSet is what the copy forms know of the folders: every cached
// folder (by id, for names), and the ones the viewer may copy into, in the
// order the forms list them.
type copyFolderSet struct {
	all     []cloud.Folder
	names   map[string]string
	targets []cloud.Folder
}

// name is a folder's name, or its id when it has none.
func (s copyFolderSet) name(id string) string {
	if n := s.names[id]; n != "" {
		return n
	}
	return id
}

// copyFolders reads the cached folders and keeps the viewer's copy targets,
// sorted by name.
func (h *Handlers) copyFolders(c echo.Context) (copyFolderSet, error) {
	all, err := h.store.Folders(c.Request().Context())
	if err != nil {
		return copyFolderSet{}, err
	}
	s := copyFolderSet{all: all, names: views.FolderNames(all)}
	ids := make([]string, len(all))
	for i, f := range all {
		ids[i] = f.ID
	}
	for _, id := range viewer(c).Policy.CopyTargets(ids) {
		s.targets = append(s.targets, all[slices.IndexFunc(all, func(f cloud.Folder) bool { return f.ID == id })])
	}
	slices.SortFunc(s.targets, func(a, b cloud.Folder) int {
		return strings.Compare(s.name(a.ID)+"\x00"+a.ID, s.name(b.ID)+"\x00"+b.ID)
	})
	return s, nil
}

// copyTargetsAsked checks the folders a form asked for: each must be a
// folder id the form offers (else 400), one the viewer may see (else the
// same 400 as for an unknown folder, audited as denied: neither its id nor
// its name is said) and may copy into (else 403 naming it, audited);
// duplicates are dropped.
func (h *Handlers) copyTargetsAsked(c echo.Context, action string, cf copyFolderSet, asked []string) ([]string, error) {
	p := viewer(c).Policy
	var out []string
	for _, f := range asked {
		f = strings.TrimSpace(f)
		if f == "" || slices.Contains(out, f) {
			continue
		}
		if vs := rules.ID("folder", f, true); len(vs) > 0 {
			return nil, badRequest("Bad folder id: %s.", vs[0].Error())
		}
		if !p.CanView(f) {
			return nil, h.hide(c, action, "folder", f, f, errUnknownTarget())
		}
		if !p.CanCopyInto(f) {
			return nil, h.deny(c, action, "folder", f,
				"You may not copy into folder %s: only copiers and editors of a team that owns it may. Ask an administrator for access.", cf.name(f))
		}
		// An admin may copy into any folder, so a made-up id (pasted
		// garbage, "<script>…") passed the check above and was sent to the
		// cloud as a folder_id (found by TestHostileInput): only a folder
		// the forms offer is a target.
		if !slices.ContainsFunc(cf.targets, func(t cloud.Folder) bool { return t.ID == f }) {
			return nil, errUnknownTarget()
		}
		out = append(out, f)
	}
	return out, nil
}

// errUnknownTarget is the answer to a copy into a folder the forms do not
// offer: one that does not exist, or one the viewer may not see.
func errUnknownTarget() error {
	return badRequest("Unknown folder: pick one of the folders the form lists.")
}

// copyPage is the copy form's page around src, without the fields.
func (h *Handlers) copyPage(c echo.Context, src cloud.Image, cf copyFolderSet) views.CopyPage {
	p := views.CopyPage{
		Nav:             h.copyNav(c, cf, cloud.Compute),
		Source:          views.NewImageRow(src, h.now()),
		SourceFolder:    cf.name(src.FolderID),
		Action:          views.ImageCopyURL(src.ID),
		As:              views.CopyAsCompute,
		MinDiskFloorGiB: max(copyCeilGiB(src.Size), 1),
	}
	if src.Status != "READY" {
		p.NotReady = fmt.Sprintf("This image is %s: the cloud copies only READY images.", views.StatusTitle(src.Status))
	}
	for _, f := range cf.targets {
		p.Targets = append(p.Targets, views.CopyTarget{ID: f.ID, Name: cf.name(f.ID)})
	}
	return p
}

// copyNav is the header of the copy pages.
func (h *Handlers) copyNav(c echo.Context, cf copyFolderSet, svc cloud.Service) views.Nav {
	return views.Nav{
		Service: svc,
		Filter:  views.ImageFilter{Service: svc},
		Folders: views.NewFolderOptions(h.pickerFolders(c, cf.all), nil),
	}
}

// copyCeilGiB is n bytes in whole GiB, rounded up.
func copyCeilGiB(n int64) int64 { return (n + copyGiB - 1) / copyGiB }

// parseMinDisk reads the minimum disk size in GiB ("" keeps the source's);
// a bad value is a message under "min_disk_gib".
func (h *Handlers) parseMinDisk(s string, src cloud.Image, fe FieldErrors) int64 {
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || n > rules.MaxDiskSize/copyGiB {
		fe["min_disk_gib"] = fmt.Sprintf("Give a whole number of GiB from %d to %d.", max(copyCeilGiB(src.Size), 1), rules.MaxDiskSize/copyGiB)
		return 0
	}
	if n*copyGiB < src.Size {
		fe["min_disk_gib"] = fmt.Sprintf("Must be at least %d GiB: the image holds %s.", copyCeilGiB(src.Size), views.Bytes(src.Size))
		return 0
	}
	if vs := rules.MinDisk("min_disk_gib", n*copyGiB, src.Size); len(vs) > 0 {
		fe.add(vs...)
		return 0
	}
	return n * copyGiB
}

// copyBatch is the batch a copy joins: the one the form names, when it
// exists and the viewer started it (or is an admin): a retry from its
// result page; otherwise a new one.
func (h *Handlers) copyBatch(c echo.Context, asked string) string {
	if asked != "" && len(asked) <= 100 && h.ops != nil {
		ops, err := h.ops.Operations(c.Request().Context(), store.OperationQuery{Batch: asked, Limit: 1})
		v := viewer(c)
		if err == nil && len(ops) == 1 && (ops[0].UserID == v.User.ID || v.Policy.Admin()) {
			return asked
		}
	}
	return cloud.NewIdempotencyKey()
}

// limitRetryAfter is the Retry-After of an answer to a start over the
// per-person limit of operations in flight (seconds).
const limitRetryAfter = "30"

// overLimit says whether err is a start refused by the per-person limit of
// operations in flight, and the message for the person.
func overLimit(err error) (string, bool) {
	var le *store.OpenLimitError
	if errors.As(err, &le) {
		return le.Message(), true
	}
	return "", false
}

// copyStart is how one target's start went.
type copyStart struct {
	op store.Operation
	// refused is the cloud's refusal, when it refused the call at once.
	refused error
}

// copyStarted audits one started copy and says how it stands: err is what
// the tracker returned for op (nil, or the cloud's refusal).
func (h *Handlers) copyStarted(c echo.Context, in tracker.Intent, op store.Operation, err error, kind, target, detail string) copyStart {
	e := store.AuditEntry{Action: in.Action(), TargetKind: kind, TargetID: target, OperationID: store.AuditOperationID(op),
		Outcome: store.OutcomeSuccess, Detail: detail + store.CloudNote(op)}
	switch {
	case op.State == store.OpFailed:
		e.Outcome = store.OutcomeFailure
		e.Detail += ": refused: " + op.ErrorCode + ": " + op.ErrorMessage
	case op.State == store.OpPending:
		e.Detail += ": no answer from the cloud yet; retrying"
	}
	if err != nil && op.State != store.OpFailed {
		// Written and sent, but its answer could not be stored: the watcher
		// takes it over. Log it; the person sees the operation as it stands.
		h.log.ErrorContext(c.Request().Context(), "copy: record answer", "op", op.ID, "err", err)
	}
	h.audit(c, e)
	st := copyStart{op: op}
	if op.State == store.OpFailed {
		st.refused = err
		if st.refused == nil {
			// Only the operation's stored code and message are known.
			code, _ := fault.Code(op.ErrorCode)
			st.refused = cloud.FromStatus("", status.Error(code, op.ErrorMessage))
		}
	}
	return st
}

// copyCloudErrors puts the cloud's refusal of one target next to the field
// it is about; folder and name are the target's.
func copyCloudErrors(err error, fe FieldErrors, folder, name string) {
	var ce *cloud.Error
	switch {
	case errors.Is(err, cloud.ErrAlreadyExists):
		fe["name"] = fmt.Sprintf("The cloud already has an image named “%s” in folder %s.", name, folder)
		return
	case errors.As(err, &ce) && len(ce.Violations) > 0:
		for _, v := range ce.Violations {
			field := "form"
			switch {
			case v.Field == "name" || v.Field == "description" || v.Field == "family" || v.Field == "desktop_id":
				field = v.Field
			case v.Field == "min_disk_size":
				field = "min_disk_gib"
			case v.Field == "folder_id":
				field = "folder"
			case strings.HasPrefix(v.Field, "labels"):
				field = "labels"
			}
			if _, ok := fe[field]; !ok {
				fe[field] = "The cloud refused this: " + v.Message
			}
		}
		return
	case errors.Is(err, cloud.ErrNotFound) && errors.As(err, &ce) && strings.Contains(ce.Message, "Desktop "):
		fe["desktop_id"] = "The cloud knows no such desktop. Check its id in the list of desktops."
		return
	case errors.As(err, &ce) && (ce.Op == "" || errors.Is(err, cloud.ErrFailedPrecondition) || errors.Is(err, cloud.ErrNotFound)):
		// The server's message names ids: said in plain words, with the
		// target's names; its own words are in the log.
		fe["form"] = fault.Outcome(ce.Code.String(), ce.Message, fault.About{Action: "copy", Image: name, Folder: folder})
		return
	}
	fe["form"] = cloudMessage(err)
}

// copyQuery is a query string of pairs, for prefilled links.
func copyQuery(pairs ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			v.Add(pairs[i], pairs[i+1])
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// copyLink is the copy form of img, for its detail page: "" unless img is a
// Compute image and the viewer may copy into some folder of folders (the
// copy handlers check again).
func copyLink(c echo.Context, img cloud.Image, folders []cloud.Folder) string {
	if img.Service != cloud.Compute {
		return ""
	}
	ids := make([]string, len(folders))
	for i, f := range folders {
		ids[i] = f.ID
	}
	if len(viewer(c).Policy.CopyTargets(ids)) == 0 {
		return ""
	}
	return views.ImageCopyURL(img.ID)
}
