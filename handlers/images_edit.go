package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/rules"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/views"
)

// errNoTracker is the answer to any change when the dashboard has no cloud
// connection to send it with.
func errNoTracker() error {
	return fault.New(fault.Unavailable, "Changes are not available: no cloud connection.")
}

// EditImageForm is the form that changes an image (GET
// /images/:service/:id/edit): the fields its service's Update allows, filled
// with the cached values, which it also carries hidden so that the save can
// tell what the person changed and whether the image changed meanwhile.
func (h *Handlers) EditImageForm(c echo.Context) error {
	img, err := h.changeTarget(c, tracker.ActionUpdate, "edit")
	if err != nil {
		return err
	}
	if h.tracker == nil {
		return errNoTracker()
	}
	v := valuesOf(img)
	form := views.ImageEditForm{
		Name:        v.name,
		Description: v.description,
		MinDiskGiB:  gibText(v.minDisk),
		Opened:      v.opened(),
	}
	p, err := h.editPage(c, img, form, labelRows(img.Labels), FieldErrors{})
	if err != nil {
		return err
	}
	status := http.StatusOK
	msg := updateBlocked(img)
	if msg == "" {
		busy, err := h.openChanges(c, img.Service, []cloud.Image{img}, tracker.ActionUpdate)
		if err != nil {
			return err
		}
		if msg = busy[img.ID]; msg != "" {
			msg += " Edit it once that ends."
		}
	}
	if msg != "" {
		p.Error, p.Blocked, status = msg, true, http.StatusConflict
	}
	return Render(c, status, views.ImageEditFull(p), views.ImageEditFull(p))
}

// UpdateImage saves the edit form (POST /images/:service/:id/edit). It
// validates what was typed (422, messages next to the fields), names in
// update_mask only the fields the person changed (nothing changed: a
// message, no call), and when the cached image changed since the form was
// opened it shows what changed and asks again (409) unless overwrite=1.
// The change goes through the tracker; the person lands on the image's
// page, which follows the operation.
func (h *Handlers) UpdateImage(c echo.Context) error {
	img, err := h.changeTarget(c, tracker.ActionUpdate, "edit")
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
	form, err := c.FormParams()
	if err != nil {
		return badRequest("Unreadable form: %v.", err)
	}
	opened, err := openedValues(form, img.Service)
	if err != nil {
		return err
	}
	fe := FieldErrors{}
	labels, rows := parseLabelRows(form, fe)
	typed := editValues{
		name:        strings.TrimSpace(form.Get("name")),
		description: strings.ReplaceAll(form.Get("description"), "\r\n", "\n"),
		labels:      labels,
	}
	f := views.ImageEditForm{
		Name:        typed.name,
		Description: typed.description,
		MinDiskGiB:  strings.TrimSpace(form.Get("min_disk_gib")),
		Opened:      opened.opened(),
		Overwrite:   form.Get("overwrite") == "1",
	}
	svc := img.Service
	minDiskOK := true
	if hasMinDisk(svc) {
		typed.minDisk, minDiskOK = parseGiB(f.MinDiskGiB)
		if !minDiskOK {
			fe["min_disk_size"] = "Enter the minimum disk size in GiB, as a number such as 20 or 0.5."
		}
	}

	// The mask, in the order of the API's fields; each changed field is
	// checked by the rules the API applies.
	var mask []string
	if typed.name != opened.name {
		mask = append(mask, "name")
		fe.add(titled("Name", rules.Name("name", typed.name, false))...)
	}
	if hasDescription(svc) && typed.description != opened.description {
		mask = append(mask, "description")
		fe.add(titled("Description", rules.Description("description", typed.description))...)
	}
	if !maps.Equal(typed.labels, opened.labels) {
		mask = append(mask, "labels")
	}
	if hasMinDisk(svc) && minDiskOK && typed.minDisk != opened.minDisk {
		mask = append(mask, "min_disk_size")
		if typed.minDisk == 0 {
			fe.add(titled("Min disk size", []rules.Violation{{Field: "min_disk_size", Message: fmt.Sprintf(
				"must be between %d and %d bytes (4 MiB to 4 TiB); it cannot be removed once set", rules.MinDiskSize, rules.MaxDiskSize)}})...)
		} else {
			fe.add(titled("Min disk size", rules.MinDisk("min_disk_size", typed.minDisk, img.Size))...)
		}
	}

	render := func(status int, p views.ImageEditPage) error {
		return Render(c, status, views.ImageEditFull(p), views.ImageEditFull(p))
	}
	p, err := h.editPage(c, img, f, rows, fe)
	if err != nil {
		return err
	}
	if msg := updateBlocked(img); msg != "" {
		p.Error, p.Blocked = msg, true
		return render(http.StatusConflict, p)
	}
	if len(fe) > 0 {
		p.Error = "Some fields need another look: see the messages next to them. Nothing was saved."
		return render(http.StatusUnprocessableEntity, p)
	}
	if len(mask) == 0 {
		p.Error = "Nothing to save: you changed no field. Change a field and save, or cancel."
		return render(http.StatusUnprocessableEntity, p)
	}
	if cs := conflicts(svc, opened, valuesOf(img), typed, mask); len(cs) > 0 && !f.Overwrite {
		p.Conflicts = cs
		p.Form.Overwrite = true
		return render(http.StatusConflict, p)
	}

	u := cloud.ImageUpdate{Mask: mask}
	for _, m := range mask {
		switch m {
		case "name":
			u.Name = typed.name
		case "description":
			u.Description = typed.description
		case "labels":
			u.Labels = typed.labels
		case "min_disk_size":
			u.MinDiskSize = typed.minDisk
		}
	}
	ctx := c.Request().Context()
	op, err := h.tracker.Start(ctx, who(c), "", tracker.Update(img, u).Unchanged(img))
	if r, ok := h.refusedChange(c, err); ok {
		// Above the form, which keeps what was typed; when the image was
		// saved meanwhile, what changed is shown as on any stale form.
		p.Error = r.fault.Say()
		if r.changed != nil {
			if now, rerr := h.store.Image(ctx, svc, img.ID); rerr == nil {
				p.Image = views.NewImageRow(now, h.now())
				p.Conflicts = conflicts(svc, opened, valuesOf(now), typed, mask)
				p.Form.Overwrite = len(p.Conflicts) > 0
			}
		}
		return render(r.fault.Status(), p)
	}
	if err != nil {
		var ce *cloud.Error
		if errors.As(err, &ce) && len(ce.Violations) > 0 {
			p.Error = cloudViolations(ce.Violations, p.Errors, p.Labels)
			return render(http.StatusUnprocessableEntity, p)
		}
		if errors.Is(err, cloud.ErrAlreadyExists) && slices.Contains(mask, "name") {
			p.Errors["name"] = fmt.Sprintf("Another image in this folder is named “%s”: choose another name.", typed.name)
			p.Error = "The cloud refused the change. Nothing was saved."
			return render(http.StatusConflict, p)
		}
		msg, status := refusal(err)
		if status == 0 {
			return fmt.Errorf("update image %s: %w", img.ID, err)
		}
		h.log.WarnContext(ctx, "update image refused", "service", svc, "image", img.ID, "err", err)
		p.Error = msg
		return render(status, p)
	}
	h.audit(c, store.AuditEntry{Action: tracker.ActionUpdate, TargetKind: "image", TargetID: img.ID,
		OperationID: store.AuditOperationID(op), Outcome: store.OutcomeSuccess, Detail: "fields: " + strings.Join(mask, ", ") + store.CloudNote(op)})
	name := img.Name
	if slices.Contains(mask, "name") {
		name = typed.name
	}
	if name == "" {
		name = img.ID
	}
	h.Flash(c, "Saving changes to "+name+"…")
	return Redirect(c, views.ImageURL(img.Service, img.ID)+"?op="+strconv.FormatInt(op.ID, 10))
}

// changeTarget reads the image the path names from the cache and checks
// that the viewer may change it: 400 for a bad service or id, 404 when it
// is not cached or (audited as action) when its folder is not theirs to
// see, 403 (audited) when it is not theirs to change. verb says what they
// may not do ("edit", "delete").
func (h *Handlers) changeTarget(c echo.Context, action, verb string) (cloud.Image, error) {
	img, err := h.seenTarget(c, action)
	if err != nil {
		return img, err
	}
	if p := viewer(c).Policy; !p.CanEdit(img.FolderID) {
		name, err := h.folderName(c.Request().Context(), img.FolderID)
		if err != nil {
			return img, err
		}
		return img, h.deny(c, action, "image", img.ID,
			"Only an editor of a team that owns folder %s may %s its images.", name, verb)
	}
	return img, nil
}

// seenTarget reads the image the path names from the cache: 400 for a bad
// service or id, 404 when it is not cached or (audited as action) when its
// folder is not the viewer's to see.
func (h *Handlers) seenTarget(c echo.Context, action string) (cloud.Image, error) {
	svc, err := parseService(c.Param("service"))
	if err != nil {
		return cloud.Image{}, err
	}
	id := c.Param("id")
	if vs := rules.ID("id", id, true); len(vs) > 0 {
		return cloud.Image{}, badRequest("Bad image id: %s.", vs[0].Error())
	}
	ctx := c.Request().Context()
	img, err := h.store.Image(ctx, svc, id)
	if errors.Is(err, store.ErrNotFound) {
		return cloud.Image{}, errNoImage(svc, id)
	}
	if err != nil {
		return img, err
	}
	if !viewer(c).Policy.CanView(img.FolderID) {
		return cloud.Image{}, h.hide(c, action, "image", img.ID, img.FolderID, errNoImage(svc, id))
	}
	return img, nil
}

// imageNav is the header of a page about img, and its folder's name.
func (h *Handlers) imageNav(c echo.Context, img cloud.Image) (views.Nav, string, error) {
	folders, err := h.store.Folders(c.Request().Context())
	if err != nil {
		return views.Nav{}, "", err
	}
	folders = seen(c, folders)
	nav := views.Nav{
		Page:    views.PageImage,
		Service: img.Service,
		Filter:  views.ImageFilter{Service: img.Service},
		Folders: views.NewFolderOptions(h.pickerFolders(c, folders), nil),
	}
	return nav, views.FolderNames(folders)[img.FolderID], nil
}

func (h *Handlers) editPage(c echo.Context, img cloud.Image, f views.ImageEditForm, rows []views.LabelRow, fe FieldErrors) (views.ImageEditPage, error) {
	nav, folder, err := h.imageNav(c, img)
	if err != nil {
		return views.ImageEditPage{}, err
	}
	return views.ImageEditPage{
		Nav:        nav,
		Image:      views.NewImageRow(img, h.now()),
		FolderName: folder,
		Form:       f,
		Errors:     views.FieldErrors(fe),
		Labels:     rows,
	}, nil
}

// updateBlocked says why img's status forbids an update ("" when it
// allows one): every service updates only a READY (Desktop: ACTIVE) image.
func updateBlocked(img cloud.Image) string {
	want := "READY"
	if img.Service == cloud.Desktop {
		want = "ACTIVE"
	}
	if img.Status == want {
		return ""
	}
	return fmt.Sprintf("This image is %s: the cloud changes only a %s image. Wait until it is %s, then edit it.",
		img.Status, want, want)
}

func hasDescription(svc cloud.Service) bool { return svc != cloud.Desktop }
func hasMinDisk(svc cloud.Service) bool     { return svc == cloud.Compute }

// editValues are the editable fields of an image: as cached, as the form
// was opened with, or as typed.
type editValues struct {
	name, description string
	minDisk           int64
	labels            map[string]string
}

func valuesOf(img cloud.Image) editValues {
	v := editValues{name: img.Name, labels: img.Labels}
	if hasDescription(img.Service) {
		v.description = img.Description
	}
	if hasMinDisk(img.Service) {
		v.minDisk = img.MinDiskSize
	}
	if v.labels == nil {
		v.labels = map[string]string{}
	}
	return v
}

// opened is v as the form's hidden fields carry it.
func (v editValues) opened() views.EditOpened {
	b, _ := json.Marshal(v.labels) // a map of strings always encodes
	return views.EditOpened{
		Name:        v.name,
		Description: v.description,
		MinDisk:     strconv.FormatInt(v.minDisk, 10),
		Labels:      string(b),
	}
}

// openedValues reads the hidden fields back: 400 when they are damaged.
func openedValues(form url.Values, svc cloud.Service) (editValues, error) {
	v := editValues{name: form.Get("orig_name"), labels: map[string]string{}}
	bad := func(what string) error {
		return badRequest("The form is damaged (%s): open it again from the image's page.", what)
	}
	if hasDescription(svc) {
		v.description = form.Get("orig_description")
	}
	if hasMinDisk(svc) {
		n, err := strconv.ParseInt(form.Get("orig_min_disk"), 10, 64)
		if err != nil {
			return v, bad("minimum disk size")
		}
		v.minDisk = n
	}
	if s := form.Get("orig_labels"); s != "" {
		if err := json.Unmarshal([]byte(s), &v.labels); err != nil {
			return v, bad("labels")
		}
	}
	return v, nil
}

// conflicts are the fields of svc that differ between opened (what the
// form was opened with) and now (the cache); typed and mask say what the
// person typed and changed.
func conflicts(svc cloud.Service, opened, now, typed editValues, mask []string) []views.EditConflict {
	var out []views.EditConflict
	add := func(key, title, o, n, t string) {
		if o != n {
			out = append(out, views.EditConflict{Field: title, Key: key, Opened: o, Now: n, Typed: t, Kept: !slices.Contains(mask, key)})
		}
	}
	add("name", "Name", opened.name, now.name, typed.name)
	if hasDescription(svc) {
		add("description", "Description", opened.description, now.description, typed.description)
	}
	add("labels", "Labels", labelsText(opened.labels), labelsText(now.labels), labelsText(typed.labels))
	if hasMinDisk(svc) {
		add("min_disk_size", "Min disk size", gibUnit(opened.minDisk), gibUnit(now.minDisk), gibUnit(typed.minDisk))
	}
	return out
}

// labelsText is a label set for people: "env=prod, team=a", sorted.
func labelsText(labels map[string]string) string {
	parts := make([]string, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, k+"="+labels[k])
	}
	return strings.Join(parts, ", ")
}

// gibText is a byte count as the form's GiB field shows it ("" for 0): the
// shortest decimal that reads back to the same bytes.
func gibText(b int64) string {
	if b == 0 {
		return ""
	}
	return strconv.FormatFloat(float64(b)/(1<<30), 'f', -1, 64)
}

func gibUnit(b int64) string {
	if b == 0 {
		return ""
	}
	return gibText(b) + " GiB"
}

// parseGiB reads a size typed in GiB into bytes; "" is 0 (not set). ok is
// false when it is not a number. Values far out of range are clamped, so
// the range rule, not an overflow, answers them.
func parseGiB(s string) (b int64, ok bool) {
	if s == "" {
		return 0, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	const limit = 1 << 20 // GiB: 256 times the API's maximum
	f = max(min(f, limit), -limit)
	return int64(math.Round(f * (1 << 30))), true
}

// titled turns the rules' messages ("must be …") into sentences about the
// field ("Name must be ….").
func titled(title string, vs []rules.Violation) []rules.Violation {
	out := make([]rules.Violation, len(vs))
	for i, v := range vs {
		v.Message = sentence(title + " " + v.Message)
		out[i] = v
	}
	return out
}

func sentence(s string) string {
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

// fieldTitles name the Update fields for people.
var fieldTitles = map[string]string{
	"name": "Name", "description": "Description", "labels": "Labels", "min_disk_size": "Min disk size",
}

// cloudViolations puts the cloud's field violations next to the fields
// they are about (a label's on its row) and returns the message for the
// top of the form, which also carries violations of no field of the form.
func cloudViolations(vs []rules.Violation, fe views.FieldErrors, rows []views.LabelRow) string {
	var other []string
	for _, v := range vs {
		if key, ok := strings.CutPrefix(v.Field, "labels."); ok {
			if i := slices.IndexFunc(rows, func(r views.LabelRow) bool { return r.Key == key }); i >= 0 {
				if rows[i].Error == "" {
					rows[i].Error = sentence(upperFirst(v.Message))
				}
				continue
			}
			v.Field = "labels"
		}
		title, ok := fieldTitles[v.Field]
		if !ok {
			other = append(other, v.Field+": "+v.Message)
			continue
		}
		if fe[v.Field] == "" {
			fe[v.Field] = sentence(title + " " + v.Message)
		}
	}
	msg := "The cloud refused the change: see the messages next to the fields. Nothing was saved."
	if len(other) > 0 {
		msg = "The cloud refused the change (" + strings.Join(other, "; ") + "). Nothing was saved."
	}
	return msg
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// refusal is what to tell the person, and the status (fault's table, by
// the error's kind), when the cloud refused or could not take a change;
// status 0 when err is not the cloud's (the caller returns it as an
// internal error).
func refusal(err error) (string, int) {
	if _, ok := errors.AsType[*cloud.Error](err); !ok {
		return "", 0
	}
	return cloudMessage(err), fault.KindOf(err).Status()
}
