package handlers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
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

// copyGiB is a GiB in bytes: the form takes disk sizes in GiB.
const copyGiB = int64(1) << 30

// errCopyNoTracker is the answer to a change when this server cannot make one.
var errCopyNoTracker = echo.NewHTTPError(http.StatusServiceUnavailable,
	"Changes are off: this server has no connection to the cloud to make them. Try again later.")

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
	p.Name = defaultNameTemplate
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
// min_disk_gib, label_key/label_value, batch): as a Compute image (Create
// with image_id) or as a Desktop image (DesktopImageService.Copy), one
// intent per target folder, all in one batch. Every name is checked before
// anything is sent. The answer is the result page of the batch, or, for
// one target the cloud refused, the form again with its message.
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
	action := tracker.ActionCopy
	if as == views.CopyAsDesktop {
		action = tracker.ActionCopyToDesktop
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
	if h.tracker == nil {
		return errCopyNoTracker
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
		labels, p.Labels = maps.Clone(src.Labels), labelRows(src.Labels)
	}
	if len(folders) == 0 {
		fe["folder"] = "Pick at least one folder to copy into."
	}
	fe.add(rules.Description("description", p.Description)...)
	var minDisk int64
	if as == views.CopyAsCompute {
		fe.add(rules.Family("family", p.Family)...)
		minDisk = h.parseMinDisk(p.MinDiskGiB, src, fe)
	}
	if p.NotReady != "" {
		fe["form"] = p.NotReady
	}
	svc := cloud.Compute
	if as == views.CopyAsDesktop {
		svc = cloud.Desktop
	}
	names := h.copyNames(c.Request().Context(), p.Name, src, svc, folders, cf, fe)
	for _, f := range folders {
		if n := names[f]; n.name != "" && len(folders) > 1 {
			p.Previews = append(p.Previews, views.CopyPreview{Folder: cf.name(f), Name: n.name, Error: n.err})
		}
	}
	if err := names.err(); err != nil {
		return err
	}
	if len(fe) > 0 {
		h.audit(c, store.AuditEntry{Action: action, TargetKind: "image", TargetID: src.ID, Outcome: store.OutcomeFailure,
			Detail: auditClip(invalidInput(views.FieldErrors(fe)))})
		return h.renderCopy(c, http.StatusUnprocessableEntity, p, fe)
	}

	batch := h.copyBatch(c, p.Batch)
	var starts []copyStart
	for _, f := range folders {
		name := names[f].name
		var in tracker.Intent
		if as == views.CopyAsDesktop {
			in = tracker.CopyToDesktop(src, f, name, p.Description, labels)
		} else {
			in = tracker.Copy(src, cloud.CreateImageSpec{FolderID: f, Name: name, Description: p.Description,
				Labels: labels, Family: p.Family, MinDiskSize: minDisk})
		}
		st, err := h.startCopy(c, batch, in, "image", src.ID, "into "+cf.name(f)+" as "+name)
		if msg, ok := overLimit(err); ok {
			h.audit(c, store.AuditEntry{Action: action, TargetKind: "image", TargetID: src.ID, Outcome: store.OutcomeDenied,
				Detail: auditClip("into " + cf.name(f) + ": " + err.Error())})
			if len(starts) == 0 { // nothing started: the form again, as typed
				c.Response().Header().Set("Retry-After", limitRetryAfter)
				fe["form"] = msg
				return h.renderCopy(c, http.StatusTooManyRequests, p, fe)
			}
			// Some folders started: their results, and why the rest did not.
			h.Flash(c, msg)
			break
		}
		if err != nil {
			return err
		}
		starts = append(starts, st)
	}
	// One target refused by the cloud: the form again, the message next to
	// its field, so the person can fix it where they typed it.
	if len(starts) == 1 && starts[0].refused != nil {
		copyCloudErrors(starts[0].refused, fe, cf.name(folders[0]), names[folders[0]].name)
		return h.renderCopy(c, http.StatusUnprocessableEntity, p, fe)
	}
	return Redirect(c, views.CopyBatchURL(batch))
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
		return cloud.Image{}, echo.NewHTTPError(http.StatusNotFound,
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

// copyName is the name one target gets, and what is wrong with it.
type copyName struct {
	name string
	err  string
}

// copyNameSet are the names by target folder; fail is set when the cache
// could not be asked.
type copyNameSet map[string]copyName

func (s copyNameSet) err() error {
	if e, ok := s[""]; ok {
		return errors.New(e.err)
	}
	return nil
}

// copyNames expands the name template for src into each folder and checks
// every name: the name rules, and no image (cached, or being made by an
// operation in flight) of that name in the target folder. Messages go under
// "name" in fe; each target's own message is in its entry.
func (h *Handlers) copyNames(ctx context.Context, tmpl string, src cloud.Image, svc cloud.Service, folders []string, cf copyFolderSet, fe FieldErrors) copyNameSet {
	out := copyNameSet{}
	t, err := parseNameTemplate(tmpl)
	if err != nil {
		fe["name"] = nameTemplateMessage(err)
		return out
	}
	var bad []string
	for _, f := range folders {
		n := copyName{name: t.Expand(newNameVars(src.Name, src.Family, cf.name(f), h.now()))}
		if vs := rules.Name("name", n.name, true); len(vs) > 0 {
			n.err = copyNameRuleMessage(n.name, vs[0])
		} else if taken, err := h.copyNameTaken(ctx, svc, f, n.name); err != nil {
			out[""] = copyName{err: err.Error()}
			return out
		} else if taken != "" {
			n.err = taken
		}
		if n.err != "" {
			bad = append(bad, cf.name(f)+": "+n.err)
			if len(folders) == 1 {
				bad[0] = n.err
			}
		}
		out[f] = n
	}
	switch len(bad) {
	case 0:
	case 1:
		fe["name"] = bad[0]
	default:
		fe["name"] = fmt.Sprintf("%d of the names will not do: %s", len(bad), strings.Join(bad, "; "))
	}
	return out
}

// copyNameRuleMessage says why name breaks the name rules.
func copyNameRuleMessage(name string, v rules.Violation) string {
	if name == "" {
		return "The name comes out empty."
	}
	return fmt.Sprintf("“%s” will not do: a name %s.", truncate(name), v.Message)
}

// nameTemplateMessage is a template parse error for people.
func nameTemplateMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), errNameTemplate.Error()+": ")
	return "The name template is wrong: " + msg + "."
}

// copyNameTaken says (as a message) whether folder already has an image of
// svc named name, in the cache or being made by an operation in flight;
// "" when the name is free as far as the dashboard knows (the cloud has
// the last word).
func (h *Handlers) copyNameTaken(ctx context.Context, svc cloud.Service, folder, name string) (string, error) {
	// The search box's text match finds every image whose name holds the
	// name's words; keep the exact one. Pages are sorted by name.
	q := store.ImageQuery{Service: svc, FolderIDs: []string{folder}, Text: name + " ", Limit: store.MaxLimit}
	for range 50 {
		page, err := h.store.Images(ctx, q)
		if err != nil {
			return "", fmt.Errorf("copy: look up name %q: %w", name, err)
		}
		for _, img := range page.Images {
			if img.Name == name {
				return fmt.Sprintf("An image named “%s” exists already in this folder (%s).", name, img.ID), nil
			}
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
	}
	if h.ops == nil {
		return "", nil
	}
	ops, err := h.ops.Operations(ctx, store.OperationQuery{Open: true, Service: svc, Folders: []string{folder}, Limit: store.MaxOperationLimit})
	if err != nil {
		return "", fmt.Errorf("copy: look up operations in %s: %w", folder, err)
	}
	for _, o := range ops {
		if o.ImageName == name && o.Action != tracker.ActionDelete {
			return fmt.Sprintf("An image named “%s” is being made in this folder right now.", name), nil
		}
	}
	return "", nil
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

// startCopy starts one intent of batch and audits the start; kind and
// target name the source in the audit log, detail says where to. Only an
// error of the dashboard itself (the intent could not be written) is
// returned; the cloud's refusal is in the result.
func (h *Handlers) startCopy(c echo.Context, batch string, in tracker.Intent, kind, target, detail string) (copyStart, error) {
	op, err := h.tracker.Start(c.Request().Context(), who(c), batch, in)
	if op.ID == 0 && err != nil {
		return copyStart{}, fmt.Errorf("copy: %w", err)
	}
	return h.copyStarted(c, in, op, err, kind, target, detail), nil
}

// copyStarted audits one started copy and says how it stands: err is what
// the tracker returned for op (nil, or the cloud's refusal).
func (h *Handlers) copyStarted(c echo.Context, in tracker.Intent, op store.Operation, err error, kind, target, detail string) copyStart {
	e := store.AuditEntry{Action: in.Action(), TargetKind: kind, TargetID: target, OperationID: op.CloudID,
		Outcome: store.OutcomeSuccess, Detail: detail}
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
			st.refused = &cloud.Error{Message: op.ErrorMessage}
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
		fe["desktop_id"] = "The cloud knows no such desktop: " + ce.Message
		return
	case errors.As(err, &ce) && ce.Op == "":
		// Only the operation's stored message is known.
		fe["form"] = "The cloud refused the copy: " + ce.Message
		return
	case errors.As(err, &ce) && (errors.Is(err, cloud.ErrFailedPrecondition) || errors.Is(err, cloud.ErrNotFound)):
		fe["form"] = "The cloud refused the copy: " + ce.Message
		return
	}
	fe["form"] = cloudMessage(err)
}

// copyMergeLabels is base with add on top, as a new map.
func copyMergeLabels(base, add map[string]string) map[string]string {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, add)
	return out
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
