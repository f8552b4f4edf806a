package handlers

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"google.golang.org/grpc/codes"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/rules"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/views"
)

// The operations pages read only the store (OpsStore): the tracker's
// watcher is the one thing that asks the cloud how an operation stands,
// however many browsers watch it.

// Monitor sizes.
const (
	// opsPageSize is the history's page.
	opsPageSize = 50
	// opsInFlightMax bounds the in-flight section.
	opsInFlightMax = 50
	// maxOpFilterLen bounds the person filter.
	maxOpFilterLen = 200
	// maxImageOps bounds the ?op= ids an image page shows.
	maxImageOps = 10
	// failedWindow is how far back the header counts failures.
	failedWindow = 24 * time.Hour
)

// opRow formats o for a badge: no times, no folder name; its error in
// plain words, with the names in n (see opSay).
func opRow(o store.Operation, n opNames) views.OpRow {
	return views.OpRow{
		ID:          o.ID,
		Action:      o.Action,
		ActionTitle: tracker.ActionTitle(o.Action),
		Service:     o.Service,
		FolderID:    o.FolderID,
		ImageID:     o.ImageID,
		ImageName:   o.ImageName,
		SourceID:    o.SourceID,
		User:        o.Username,
		State:       string(o.State),
		Failing:     o.Failing(),
		Message:     opSay(o, n.folder(o.FolderID)),
	}
}

// opRowAt is opRow with the times and the folder's name, for the monitor
// and the details page.
func (h *Handlers) opRowAt(o store.Operation, n opNames, now time.Time) views.OpRow {
	r := opRow(o, n)
	r.FolderName = n.folders[o.FolderID]
	r.Created, r.CreatedAt, r.CreatedISO = views.Times(o.CreatedAt, now)
	if !o.DoneAt.IsZero() {
		r.Done, r.DoneAt, r.DoneISO = views.Times(o.DoneAt, now)
	}
	return r
}

// operation reads the operation the path names and checks that the viewer
// may see its folder: 404 for an unknown one, and the same 404 (audited as
// action) for one in a folder they may not see.
func (h *Handlers) operation(c echo.Context, action string) (store.Operation, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return store.Operation{}, fault.New(fault.NotFound, "There is no operation "+strconv.Quote(c.Param("id"))+".")
	}
	if h.ops == nil {
		return store.Operation{}, fault.New(fault.Unavailable, "This server keeps no operations.")
	}
	notFound := fault.New(fault.NotFound, fmt.Sprintf("The dashboard knows no operation %d.", id))
	o, err := h.ops.Operation(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Operation{}, notFound
	}
	if err != nil {
		return o, err
	}
	if !viewer(c).Policy.CanView(o.FolderID) {
		return store.Operation{}, h.hide(c, action, "operation", strconv.FormatInt(id, 10), o.FolderID, notFound)
	}
	return o, nil
}

// OperationBadge is an operation's live badge (GET /operations/:id/badge),
// polled every 2 s by the badge itself while the operation is open. It
// reads one row by id and nothing else. When an htmx poll finds the
// operation over, the answer is the final badge (no trigger: polling ends,
// and 286 says so too), the event OpDoneEvent for the page (HX-Trigger),
// and a toast out of band saying how it ended.
func (h *Handlers) OperationBadge(c echo.Context) error {
	o, err := h.operation(c, "operation.view")
	if err != nil {
		return err
	}
	// The folders' names only for a message: the poll of a badge that
	// says nothing reads its one row alone.
	n := opNames{policy: viewer(c).Policy}
	if o.ErrorCode != "" {
		if n, err = h.opNamesFor(c); err != nil {
			return err
		}
	}
	r := opRow(o, n)
	status, done := http.StatusOK, false
	if !o.State.Open() && IsHTMX(c.Request()) {
		status, done = StatusStopPolling, true
		c.Response().Header().Set(HeaderTriggerResponse, opDoneTrigger(o, r.Message))
	}
	comp := views.OpBadgeAnswer(r, done)
	return Render(c, status, comp, comp)
}

// opDoneTrigger is the HX-Trigger value of OpDoneEvent for o, whose
// error reads msg (plain words: the page may show it).
func opDoneTrigger(o store.Operation, msg string) string {
	type detail struct {
		ID      int64  `json:"id"`
		Action  string `json:"action"`
		Image   string `json:"image"`
		Service string `json:"service"`
		State   string `json:"state"`
		Message string `json:"message"`
	}
	b, _ := json.Marshal(map[string]detail{views.OpDoneEvent: {
		ID: o.ID, Action: o.Action, Image: o.ImageID, Service: string(o.Service), State: string(o.State), Message: msg,
	}})
	return asciiJSON(b)
}

// asciiJSON escapes every non-ASCII character of the JSON b as \uXXXX: a
// header is read by the browser as Latin-1, so an error message in any
// other script would arrive garbled.
func asciiJSON(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r < utf8.RuneSelf:
			sb.WriteByte(b[0])
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(&sb, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(&sb, `\u%04x`, r)
		}
		b = b[n:]
	}
	return sb.String()
}

// parseOpsFilter reads the monitor's filters and cursor from the query
// string: the form as typed and a message per bad field. A bad cursor is a
// bad address (400): only links we make have one.
func parseOpsFilter(v url.Values) (views.OpsFilter, int64, views.FieldErrors, error) {
	f := views.OpsFilter{
		User:    strings.TrimSpace(v.Get("user")),
		Action:  v.Get("action"),
		Service: v.Get("service"),
		Folder:  strings.TrimSpace(v.Get("folder")),
		State:   v.Get("state"),
		From:    strings.TrimSpace(v.Get("from")),
		To:      strings.TrimSpace(v.Get("to")),
	}
	errs := views.FieldErrors{}
	if len(f.User) > maxOpFilterLen {
		errs["user"] = fmt.Sprintf("At most %d characters.", maxOpFilterLen)
	}
	if f.Action != "" && !slices.Contains(tracker.Actions, f.Action) {
		errs["action"] = "Pick one of the listed actions."
	}
	if f.Service != "" && !cloud.Service(f.Service).Valid() {
		errs["service"] = "Pick one of the listed services."
	}
	if vs := rules.ID("folder", f.Folder, false); len(vs) > 0 {
		errs["folder"] = "A folder id " + vs[0].Message + "."
	}
	if f.State != "" && !slices.ContainsFunc(views.OpStateChoices, func(c views.Choice) bool { return c.Value == f.State }) {
		errs["state"] = "Pick one of the listed states."
	}
	var from, to time.Time
	var ok bool
	if f.From != "" {
		if from, ok = parseAuditTime(f.From, false); !ok {
			errs["from"] = "A date (2026-11-23) or a date and time (2026-11-23T15:04)."
		}
	}
	if f.To != "" {
		if to, ok = parseAuditTime(f.To, true); !ok {
			errs["to"] = "A date (2026-11-23) or a date and time (2026-11-23T15:04)."
		}
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		errs["to"] = "Must be after From."
	}
	var before int64
	if b := v.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return f, 0, errs, fault.New(fault.BadRequest, "This page of the operations does not exist: start again from the newest.")
		}
		before = n
	}
	return f, before, errs, nil
}

// opsQueries are the store queries of the monitor's two sections for a
// valid filter f over folders (nil: all); a section the state filter
// leaves no room for is nil.
func opsQueries(f views.OpsFilter, folders []string) (inflight, history *store.OperationQuery) {
	base := store.OperationQuery{User: f.User, Action: f.Action, Service: cloud.Service(f.Service), Folders: folders}
	base.From, _ = parseAuditTime(f.From, false)
	base.To, _ = parseAuditTime(f.To, true)
	open, closed := base, base
	open.Open, closed.Closed = true, true
	switch f.State {
	case "":
		return &open, &closed
	case views.OpStateOpen:
		return &open, nil
	case string(store.OpPending), string(store.OpRunning):
		open.States = []store.OpState{store.OpState(f.State)}
		return &open, nil
	case views.OpStateProblem:
		closed.States = []store.OpState{store.OpFailed, store.OpLost}
		return nil, &closed
	default:
		closed.States = []store.OpState{store.OpState(f.State)}
		return nil, &closed
	}
}

// ListOperations is the operations monitor (GET /operations): the open
// operations, then the finished ones newest first a page at a time,
// filtered by person, action, service, folder, state and time; only in
// folders the viewer may see. The URL holds the whole state. An HTMX
// request gets the region, or with part=inflight the in-flight section (its
// poll: it raises OpsFinishedEvent when one it showed has ended, so the
// history reloads), or with part=history the history.
func (h *Handlers) ListOperations(c echo.Context) error {
	f, before, errs, err := parseOpsFilter(c.QueryParams())
	if err != nil {
		return err
	}
	var asked []string
	if f.Folder != "" && len(errs) == 0 {
		asked = []string{f.Folder}
	}
	folders, err := h.scope(c, "operations.list", asked)
	if err != nil {
		return err
	}
	if h.ops == nil {
		return fault.New(fault.Unavailable, "This server keeps no operations.")
	}
	ctx := c.Request().Context()
	p := views.OpsPage{Filter: f, Errors: errs, Before: before}
	part := ""
	if WantsPartial(c.Request()) {
		part = c.QueryParam("part")
	}
	names, err := h.opsChoices(ctx, c, &p)
	if err != nil {
		return err
	}
	n := opNames{policy: viewer(c).Policy, folders: names}
	if len(errs) > 0 {
		NoPush(c.Response().Header())
		return Render(c, http.StatusUnprocessableEntity, views.OpsFull(p), views.OpsPartial(p))
	}
	inflight, history := opsQueries(f, folders)
	if before > 0 {
		inflight = nil // older pages of the history only
	}
	now := h.now()
	if inflight != nil && part != views.OpsPartHistory {
		p.ShowInFlight = true
		inflight.Limit = opsInFlightMax + 1
		ops, err := h.ops.Operations(ctx, *inflight)
		if err != nil {
			return fmt.Errorf("operations in flight: %w", err)
		}
		if len(ops) > opsInFlightMax {
			ops, p.InFlightMore = ops[:opsInFlightMax], true
		}
		for _, o := range ops {
			p.InFlight = append(p.InFlight, h.opRowAt(o, n, now))
		}
	}
	if history != nil && part != views.OpsPartInFlight {
		p.ShowHistory = true
		history.Before, history.Limit = before, opsPageSize+1
		ops, err := h.ops.Operations(ctx, *history)
		if err != nil {
			return fmt.Errorf("operation history: %w", err)
		}
		if len(ops) > opsPageSize {
			ops = ops[:opsPageSize]
			p.Older = ops[len(ops)-1].ID
		}
		for _, o := range ops {
			p.History = append(p.History, h.opRowAt(o, n, now))
		}
	}
	switch part {
	case views.OpsPartInFlight:
		if ended(c.QueryParam("shown"), p.InFlight) {
			c.Response().Header().Set(HeaderTriggerResponse, views.OpsFinishedEvent)
		}
		status := http.StatusOK
		if !p.Live() {
			status = StatusStopPolling
		}
		return Render(c, status, views.OpsInFlight(p), views.OpsInFlight(p))
	case views.OpsPartHistory:
		return Render(c, http.StatusOK, views.OpsHistory(p), views.OpsHistory(p))
	}
	PushURL(c, p.URL(), canonicalOps)
	return Render(c, http.StatusOK, views.OpsFull(p), views.OpsPartial(p))
}

// ended tells whether an operation of shown (comma-separated ids, what the
// in-flight section showed) is no longer among rows.
func ended(shown string, rows []views.OpRow) bool {
	if shown == "" {
		return false
	}
	for s := range strings.SplitSeq(shown, ",") {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			continue
		}
		if !slices.ContainsFunc(rows, func(r views.OpRow) bool { return r.ID == id }) {
			return true
		}
	}
	return false
}

// opsChoices fills the filter's choices (actions, services, and the
// folders the viewer may see) and returns the folders' names.
func (h *Handlers) opsChoices(ctx context.Context, c echo.Context, p *views.OpsPage) (map[string]string, error) {
	for _, a := range tracker.Actions {
		p.Actions = append(p.Actions, views.Choice{Value: a, Label: tracker.ActionTitle(a)})
	}
	for _, s := range cloud.Services {
		p.Services = append(p.Services, views.Choice{Value: string(s), Label: s.Title()})
	}
	folders, err := h.store.Folders(ctx)
	if err != nil {
		return nil, err
	}
	folders = seen(c, folders)
	sel := []string(nil)
	if p.Filter.Folder != "" {
		sel = []string{p.Filter.Folder}
	}
	for _, o := range views.NewFolderOptions(folders, sel) {
		p.Folders = append(p.Folders, views.Choice{Value: o.ID, Label: o.Label})
	}
	return views.FolderNames(folders), nil
}

// canonicalOps is the canonical form of a monitor address, "" when it is
// not one.
func canonicalOps(raw string) string {
	u, err := parseURL(raw)
	if err != nil || u.Path != "/operations" {
		return ""
	}
	f, before, errs, err := parseOpsFilter(u.Query())
	if err != nil || len(errs) > 0 {
		return ""
	}
	return views.OpsURL(f, before)
}

// ShowOperation is one operation's page (GET /operations/:id): the request
// as sent, its metadata, how it ended, and Cancel while it runs, for whom
// may.
func (h *Handlers) ShowOperation(c echo.Context) error {
	o, err := h.operation(c, "operation.view")
	if err != nil {
		return err
	}
	n, err := h.opNamesFor(c)
	if err != nil {
		return err
	}
	now := h.now()
	d := views.OpDetail{Op: h.opRowAt(o, n, now), Request: prettyJSON(o.Request)}
	d.CloudCode, d.CloudWords = cloudWords(viewer(c).Policy, o)
	d.Fields = opFields(o, d.Op, now)
	switch {
	case !o.State.Open():
	case o.Cancel != store.CancelNone:
		d.CancelNote = "Cancelling: the dashboard has asked for it."
	case !h.mayCancel(c, o):
		d.CancelNote = "Only the person who started it, an editor of its folder or an administrator may cancel it."
	case h.tracker != nil:
		// An intent not yet sent is cancelled without being sent.
		d.CanCancel = true
	}
	return Render(c, http.StatusOK, views.OpFull(d), views.OpDetailView(d))
}

// opFields are the details page's metadata.
func opFields(o store.Operation, r views.OpRow, now time.Time) []views.Field {
	folder := o.FolderID
	if r.FolderName != "" {
		folder = r.FolderName + " (" + o.FolderID + ")"
	}
	fs := []views.Field{
		{Name: "ID", Value: strconv.FormatInt(o.ID, 10), Kind: "code"},
		{Name: "Action", Value: r.ActionTitle + " (" + o.Action + ")"},
		{Name: "Service", Value: o.Service.Title()},
		{Name: "Folder", Value: folder, Kind: "link",
			URL: views.ImageFilter{Service: o.Service, Folders: []string{o.FolderID}}.URL()},
	}
	switch {
	case r.ImageURL() != "" && o.Action != tracker.ActionDelete:
		fs = append(fs, views.Field{Name: "Image", Value: r.Subject() + " (" + o.ImageID + ")", Kind: "link", URL: r.ImageURL()})
	case o.ImageID != "":
		fs = append(fs, views.Field{Name: "Image", Value: r.Subject() + " (" + o.ImageID + ")"})
	default:
		fs = append(fs, views.Field{Name: "Image", Value: r.Subject() + " (no id yet)"})
	}
	if o.SourceID != "" {
		src := views.Field{Name: "Source", Value: o.SourceID, Kind: "code"}
		if o.SourceService.Valid() {
			src = views.Field{Name: "Source", Value: o.SourceService.Title() + " image " + o.SourceID, Kind: "link",
				URL: views.ImageURL(o.SourceService, o.SourceID)}
		} else if o.Action == tracker.ActionCopyFromDesktop {
			src.Name = "Source desktop"
		}
		fs = append(fs, src)
	}
	if o.Batch != "" {
		fs = append(fs, views.Field{Name: "Batch", Value: o.Batch, Kind: "code"})
	}
	who := o.Username
	if who == "" {
		who = "—"
	}
	fs = append(fs,
		views.Field{Name: "Started by", Value: who},
		views.Field{Name: "State", Value: r.StateTitle() + " (" + string(o.State) + ")"},
		views.Field{Name: "Idempotency key", Value: o.Key, Kind: "copy"},
	)
	if o.CloudID != "" {
		fs = append(fs, views.Field{Name: "Cloud operation", Value: o.CloudID, Kind: "copy"})
	} else {
		fs = append(fs, views.Field{Name: "Cloud operation", Value: "none yet"})
	}
	fs = append(fs,
		views.Field{Name: "Sends", Value: strconv.Itoa(o.Attempts)},
		views.Field{Name: "Polls", Value: strconv.Itoa(o.Polls)},
		timeField("Started", o.CreatedAt, now),
		timeField("Updated", o.UpdatedAt, now),
	)
	if !o.DoneAt.IsZero() {
		fs = append(fs, timeField("Ended", o.DoneAt, now))
	}
	if o.State.Open() && !o.NextPollAt.IsZero() {
		_, exact, _ := views.Times(o.NextPollAt, now)
		next := exact
		if o.PollEvery > 0 {
			next += " (every " + o.PollEvery.String() + ")"
		}
		fs = append(fs, views.Field{Name: "Next look", Value: next})
	}
	return fs
}

func timeField(name string, t, now time.Time) views.Field {
	rel, exact, iso := views.Times(t, now)
	if iso == "" {
		return views.Field{Name: name, Value: "—"}
	}
	return views.Field{Name: name, Value: rel, Kind: "time", Title: exact, Datetime: iso}
}

// prettyJSON is the stored request indented for reading; as stored when it
// is not JSON.
func prettyJSON(b []byte) string {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return string(b)
	}
	return out.String()
}

// mayCancel tells whether the viewer may cancel o: the person who started
// it, an editor of its folder, or an admin.
func (h *Handlers) mayCancel(c echo.Context, o store.Operation) bool {
	v := viewer(c)
	if v.User.ID == 0 {
		return false
	}
	return (o.UserID != 0 && o.UserID == v.User.ID) || v.Policy.CanEdit(o.FolderID)
}

// CancelOperation asks for an unfinished operation to be cancelled (POST
// /operations/:id/cancel), for the person who started it, an editor of its
// folder or an admin: the watcher sends it (or drops an intent not yet
// sent). One already finished is a notice ("already finished: …"), not an
// error; the cloud's refusal (an operation it cannot cancel) is said as it
// says it. Audited as "operation.cancel".
func (h *Handlers) CancelOperation(c echo.Context) error {
	const action = "operation.cancel"
	o, err := h.operation(c, action)
	if err != nil {
		return err
	}
	target := strconv.FormatInt(o.ID, 10)
	if !h.mayCancel(c, o) {
		folder, err := h.folderName(c.Request().Context(), o.FolderID)
		if err != nil {
			return err
		}
		return h.deny(c, action, "operation", target,
			"Only the person who started this operation, an editor of folder %s or an administrator may cancel it.", folder)
	}
	if h.tracker == nil {
		return fault.New(fault.Unavailable, "This server cannot change anything in the cloud right now.")
	}
	// A cancel's rows are about the image the operation targets (the
	// operation itself while a copy's image is not known) and name the
	// operation by the dashboard's id: the cloud's repeat after a restart.
	entry := func(outcome store.Outcome, detail string) store.AuditEntry {
		kind, id := "image", o.ImageID
		if id == "" {
			kind, id = "operation", target
		}
		return store.AuditEntry{Action: action, TargetKind: kind, TargetID: id, OperationID: store.AuditOperationID(o),
			Outcome: outcome, Detail: detail + store.CloudNote(o)}
	}
	fail := func(k fault.Kind, msg string) error {
		h.audit(c, entry(store.OutcomeFailure, msg))
		return fault.New(k, msg)
	}
	_, err = h.tracker.Cancel(c.Request().Context(), o.ID)
	var (
		ce  *cloud.Error
		fin *tracker.FinishedError
	)
	switch {
	case err == nil:
	case errors.As(err, &fin):
		// Nothing to cancel: a notice of how it ended, not an error.
		msg := "This operation has " + fin.Error() + "."
		h.audit(c, entry(store.OutcomeFailure, fin.Error()))
		h.Flash(c, msg)
		return Redirect(c, views.OperationURL(o.ID))
	case errors.Is(err, tracker.ErrNotRunning):
		cur := o.State
		if latest, lerr := h.ops.Operation(c.Request().Context(), o.ID); lerr == nil {
			cur = latest.State
		}
		if cur == store.OpPending {
			return fail(fault.Conflict, "This operation cannot be cancelled yet: the cloud has not accepted it.")
		}
		return fail(fault.Conflict, "Only a running operation can be cancelled: this one is "+string(cur)+".")
	case errors.Is(err, store.ErrNotFound):
		return fail(fault.NotFound, fmt.Sprintf("The dashboard knows no operation %d.", o.ID))
	case errors.As(err, &ce) && (ce.Code == codes.FailedPrecondition || ce.Code == codes.Unimplemented ||
		ce.Code == codes.NotFound || ce.Code == codes.PermissionDenied || ce.Code == codes.InvalidArgument):
		h.log.InfoContext(c.Request().Context(), "cancel refused", "id", o.ID, "err", err)
		// The cloud's own words go to the log (above), not to the person.
		return fail(fault.Conflict, "The cloud would not cancel this operation: it may have just finished, or it cannot be cancelled.")
	default:
		h.log.WarnContext(c.Request().Context(), "cancel operation", "id", o.ID, "err", err)
		return fail(fault.Upstream, cloudMessage(err))
	}
	h.audit(c, entry(store.OutcomeSuccess, "cancel requested"))
	h.Flash(c, fmt.Sprintf("Asked the cloud to cancel %s of %s.", strings.ToLower(tracker.ActionTitle(o.Action)), opRow(o, opNames{}).Subject()))
	return Redirect(c, views.OperationURL(o.ID))
}

// OperationCounts is the header's "N in flight · M failed" (GET
// /operations/counts), polled every 5 s; over the folders the viewer may
// see.
func (h *Handlers) OperationCounts(c echo.Context) error {
	folders, err := h.scope(c, "operations.counts", nil)
	if err != nil {
		return err
	}
	if h.ops == nil {
		return fault.New(fault.Unavailable, "This server keeps no operations.")
	}
	since := h.now().Add(-failedWindow)
	n, err := h.ops.CountOperations(c.Request().Context(), folders, since)
	if err != nil {
		return err
	}
	v := views.OpCountsView{InFlight: n.InFlight, Failed: n.Failed, FailedSince: since.UTC().Format("2006-01-02T15:04")}
	return Render(c, http.StatusOK, views.OpCounts(v), views.OpCounts(v))
}

// imageOps are the badges of an image's page: its open operations and the
// ones the address names (?op=, set by the pages that start one), those
// the viewer may see, oldest first.
func (h *Handlers) imageOps(c echo.Context, img cloud.Image) ([]views.OpRow, error) {
	if h.ops == nil {
		return nil, nil
	}
	ctx := c.Request().Context()
	open, err := h.ops.OpenImageOperations(ctx, img.Service, []string{img.ID})
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, s := range c.QueryParams()["op"] {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 && !slices.Contains(ids, id) && len(ids) < maxImageOps {
			ids = append(ids, id)
		}
	}
	named, err := h.ops.OperationsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	n, err := h.opNamesFor(c)
	if err != nil {
		return nil, err
	}
	var rows []views.OpRow
	for _, o := range append(named, slices.Collect(maps.Values(open))...) {
		if n.policy.CanView(o.FolderID) && !slices.ContainsFunc(rows, func(r views.OpRow) bool { return r.ID == o.ID }) {
			rows = append(rows, opRow(o, n))
		}
	}
	slices.SortFunc(rows, func(a, b views.OpRow) int { return cmp.Compare(a.ID, b.ID) })
	return rows, nil
}

// imageGone turns the 404 of an image page's reload (its section, after an
// operation on it ended) into a section saying the image is gone: a delete
// finished. Any other error is returned as is.
func imageGone(c echo.Context, err error) error {
	if c.Request().Header.Get(HeaderTarget) != views.ImageLiveID || fault.KindOf(err) != fault.NotFound {
		return err
	}
	svc, perr := parseService(c.Param("service"))
	if perr != nil {
		return err
	}
	comp := views.ImageGone(svc.Title(), c.Param("id"), views.ImageFilter{Service: svc}.URL())
	return Render(c, http.StatusOK, comp, comp)
}
