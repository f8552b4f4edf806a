package handlers

import (
	"context"
	"fmt"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// Viewer is the person a request is answered for: the account and what its
// teams allow. The web package's authentication middleware puts it on the
// request context; a request without one is anonymous and may do nothing.
type Viewer struct {
	User   store.User
	Policy auth.Policy
}

type viewerKey struct{}

// WithViewer returns ctx carrying v.
func WithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// ViewerFrom is the viewer on ctx; ok is false for an anonymous request.
func ViewerFrom(ctx context.Context) (v Viewer, ok bool) {
	v, ok = ctx.Value(viewerKey{}).(Viewer)
	return v, ok && v.User.ID != 0
}

// viewer is the request's viewer; the zero Viewer (who may do nothing)
// when anonymous, so a route mounted without authentication fails closed.
func viewer(c echo.Context) Viewer {
	v, _ := ViewerFrom(c.Request().Context())
	return v
}

// Auditor appends to the audit log. *store.Store satisfies it.
type Auditor interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error)
}

var _ Auditor = (*store.Store)(nil)

// audit records that the viewer of c did action to the target, with the
// outcome. The viewer and client IP are filled in here. A failure to write
// the log is logged, not returned: the action itself has already happened
// (or been refused), and the person's answer should say so.
//
// A flood is counted, not written (store.AuditEntry.AggAfter): past
// auditFloodAfter entries of one person, action and outcome in an hour,
// the next ones add to the count of the last. Without it any signed-in
// person, a viewer included, could append a row a request by the thousand
// (a foreign folder filter, ending their other sessions again and again).
func (h *Handlers) audit(c echo.Context, e store.AuditEntry) {
	if h.auditor == nil {
		return
	}
	e = h.auditEntry(c, e)
	h.appendAudit(context.WithoutCancel(c.Request().Context()), e)
}

// auditEntry is e with the viewer, the client's address and its
// aggregation key filled in.
func (h *Handlers) auditEntry(c echo.Context, e store.AuditEntry) store.AuditEntry {
	v := viewer(c)
	if e.UserID == 0 && v.User.ID != 0 {
		e.UserID, e.Username = v.User.ID, v.User.Username
	}
	if e.IP == "" {
		e.IP = c.RealIP()
	}
	if e.AggKey == "" {
		// One person's (or, signed out, one address's) entries of one
		// action and outcome: the first auditFloodAfter of an hour each
		// have their row, the rest are counted on the last.
		who := "ip:" + auth.AddressKey(e.IP)
		if e.UserID != 0 {
			who = "user:" + strconv.FormatInt(e.UserID, 10)
		}
		e.AggKey = "each " + who + " " + e.Action + " " + string(e.Outcome)
		e.AggAfter = auditFloodAfter
	}
	return e
}

// auditFloodAfter is how many entries of one person, action and outcome an
// hour each get their own row: far more than a person clicks, far fewer
// than a script sends.
const auditFloodAfter = 20

func (h *Handlers) appendAudit(ctx context.Context, e store.AuditEntry) {
	if _, err := h.auditor.AppendAudit(ctx, e); err != nil {
		h.log.ErrorContext(ctx, "audit log append failed", "err", err, "action", e.Action, "target", e.TargetID)
	}
}

// auditLater is audit written after the answer has gone out (Later): for a
// refusal answered exactly as a miss (hide), which must not take longer
// than the miss's answer, which writes nothing.
func (h *Handlers) auditLater(c echo.Context, e store.AuditEntry) {
	if h.auditor == nil {
		return
	}
	e = h.auditEntry(c, e)
	ctx := context.WithoutCancel(c.Request().Context())
	Later(c, func() { h.appendAudit(ctx, e) })
}

// laterKey is where the work left for after a request's answer waits.
const laterKey = "imagedash.later"

// Deferred prepares c for work left for after its answer (Later) and
// returns what runs it: the server's outermost middleware calls it once the
// answer, whole (Render says its length), has been flushed to the client.
func Deferred(c echo.Context) (run func()) {
	var work []func()
	c.Set(laterKey, &work)
	return func() {
		for _, f := range work {
			f()
		}
	}
}

// Later leaves f for after c's answer; without Deferred (a handler called
// on its own) it runs now.
func Later(c echo.Context, f func()) {
	if work, ok := c.Get(laterKey).(*[]func()); ok {
		*work = append(*work, f)
		return
	}
	f()
}

// deny records a refused action in the audit log and returns the 403 the
// person sees, with why.
func (h *Handlers) deny(c echo.Context, action, kind, target, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	h.audit(c, store.AuditEntry{Action: action, TargetKind: kind, TargetID: target, Outcome: store.OutcomeDenied, Detail: msg})
	return fault.New(fault.Forbidden, msg)
}

// noFolder is a folder id no folder has (ids are [a-z0-9]): the scope of
// someone who may see no folder at all, so that their lists are empty
// rather than unfiltered.
const noFolder = "-"

// hide refuses the viewer target, which lies in folder, a folder they may
// not see: the audit log records the refusal (denied, naming the folder,
// for administrators), and the answer is notFound, the very answer to a
// target that does not exist, so that a refusal tells nothing about what
// other teams' folders hold.
func (h *Handlers) hide(c echo.Context, action, kind, target, folder string, notFound error) error {
	h.auditLater(c, store.AuditEntry{Action: action, TargetKind: kind, TargetID: auditClip(target), Outcome: store.OutcomeDenied,
		Detail: auditClip("in folder " + folder + ", which belongs to no team of theirs and is not shared; answered as not found")})
	return notFound
}

// errNoSuchFolder is the answer to a list filtered by a folder the viewer
// may not see, or by one that does not exist: the same for both, and the id
// is not repeated back.
func errNoSuchFolder() error {
	return fault.New(fault.NotFound, "No such folder among the folders you may see. Pick one from the folder list.")
}

// scope is the folders a list shows the viewer: the ones asked for, each of
// which they must be allowed to see (one they may not see, or one that
// does not exist, is the same 404, audited as a denied action), or when
// none are asked for, every folder they may see (nil, meaning all folders,
// for an admin).
func (h *Handlers) scope(c echo.Context, action string, asked []string) ([]string, error) {
	p := viewer(c).Policy
	for _, f := range asked {
		if !p.CanView(f) {
			return nil, h.hide(c, action, "folder", f, f, errNoSuchFolder())
		}
	}
	if len(asked) > 0 {
		return asked, nil
	}
	ids, all := p.Folders()
	if all {
		return nil, nil
	}
	if len(ids) == 0 {
		return []string{noFolder}, nil
	}
	return ids, nil
}

// seen keeps the folders the viewer may see.
func seen(c echo.Context, folders []cloud.Folder) []cloud.Folder {
	return seenBy(viewer(c).Policy, folders)
}

// seenBy keeps the folders p may see.
func seenBy(p auth.Policy, folders []cloud.Folder) []cloud.Folder {
	if p.Admin() {
		return folders
	}
	out := make([]cloud.Folder, 0, len(folders))
	for _, f := range folders {
		if p.CanView(f.ID) {
			out = append(out, f)
		}
	}
	return out
}

// pickerFolders are the folders every page offers the viewer (the folder
// picker, the filters, the copy pages' header): the watched ones when the
// server watches only some (--folder), else every cached folder, and of
// those only the ones the viewer may see. The filter is here, where the
// list is made for the request, and not in the templates: a watched folder
// of another team is neither offered nor named.
func (h *Handlers) pickerFolders(c echo.Context, known []cloud.Folder) []cloud.Folder {
	return seen(c, h.visible(known))
}

// folderName is the cached name of a folder the viewer may see, for a
// message; its id when it has no name. Call it only for a visible folder:
// the name of one the viewer may not see is not theirs to read.
func (h *Handlers) folderName(ctx context.Context, id string) (string, error) {
	folders, err := h.store.Folders(ctx)
	if err != nil {
		return "", err
	}
	if n := views.FolderNames(folders)[id]; n != "" {
		return n, nil
	}
	return id, nil
}
