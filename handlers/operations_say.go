package handlers

import (
	"context"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/views"
)

// An operation's error is stored as the cloud gave it (code and the
// server's message, which names ids: the image's, the folder's, another
// team's folder's). People read it through opSay, in plain words with
// the names they may see; the server's words stay in the log and, for
// administrators, on the operation's page.

// opNames are the names an operation's message may use for one viewer:
// the folders they may see, by name.
type opNames struct {
	policy  auth.Policy
	folders map[string]string // id → name
}

// opNamesFor reads the cached folders' names for the viewer of c.
func (h *Handlers) opNamesFor(c echo.Context) (opNames, error) {
	return h.opNamesCtx(c.Request().Context(), viewer(c).Policy)
}

func (h *Handlers) opNamesCtx(ctx context.Context, p auth.Policy) (opNames, error) {
	fs, err := h.store.Folders(ctx)
	if err != nil {
		return opNames{}, err
	}
	return opNames{policy: p, folders: views.FolderNames(fs)}, nil
}

// folder is how a message calls folder id for the viewer: its name, "" (a
// folder they may see that has no name yet: "its folder") or, for one they
// may not see, fault.AnotherFolder: neither its name nor its id.
func (n opNames) folder(id string) string {
	if !n.policy.CanView(id) {
		return fault.AnotherFolder
	}
	return n.folders[id]
}

// opSay is what a person reads of o's error: the dashboard's own words
// as the tracker stored them (no code: waiting for the cloud, cancelled
// before it was sent; a lost operation's reason), or the cloud's error as
// fault.Outcome says it, with folder (see opNames.folder). "" for none.
func opSay(o store.Operation, folder string) string {
	switch {
	case o.ErrorCode == "" && o.ErrorMessage == "":
		return ""
	case o.ErrorCode == "" || o.ErrorCode == tracker.UnansweredCode || o.State == store.OpLost:
		// The watcher's own words (an unanswered send is its marker, not
		// an error of the cloud's).
		return o.ErrorMessage
	case o.State == store.OpCancelled && o.ErrorCode == "Canceled":
		return "" // the badge says "Cancelled": nothing to add
	}
	return fault.Outcome(o.ErrorCode, o.ErrorMessage, fault.About{Action: actionNoun(o.Action), Image: o.ImageName, Folder: folder})
}

// actionNoun is an action as a sentence names it: "copy", "edit".
func actionNoun(action string) string {
	return strings.ToLower(tracker.ActionTitle(action))
}

// cloudWords are the cloud's own code and message of o, for an
// administrator's eyes only ("" for anyone else, or when o has none from
// the cloud).
func cloudWords(p auth.Policy, o store.Operation) (code, message string) {
	if !p.Admin() || o.ErrorCode == "" || o.ErrorCode == tracker.UnansweredCode || o.State == store.OpLost {
		return "", ""
	}
	return o.ErrorCode, o.ErrorMessage
}

// imageOpRows formats the cloud's operations on img (its page's card):
// each the dashboard started shows its action, its page and the person
// who asked (the cloud knows only the dashboard's account); each error in
// plain words.
func (h *Handlers) imageOpRows(c echo.Context, img cloud.Image, ops []cloud.Operation) ([]views.OperationRow, error) {
	ctx := c.Request().Context()
	ours := map[string]store.Operation{} // by the cloud's operation id
	if h.ops != nil && len(ops) > 0 {
		mine, err := h.ops.Operations(ctx, store.OperationQuery{Service: img.Service, Image: img.ID, Limit: store.MaxOperationLimit})
		if err != nil {
			return nil, err
		}
		for _, o := range mine {
			if o.CloudID != "" {
				ours[o.CloudID] = o
			}
		}
	}
	n, err := h.opNamesFor(c)
	if err != nil {
		return nil, err
	}
	now := h.now()
	rows := make([]views.OperationRow, 0, len(ops))
	for _, op := range ops {
		r := views.NewOperationRow(op, now)
		about := fault.About{Action: "change", Image: img.Name, Folder: n.folder(img.FolderID)}
		if o, ok := ours[op.ID]; ok {
			r.Title, r.URL, r.By = tracker.ActionTitle(o.Action), views.OperationURL(o.ID), o.Username
			about.Action = actionNoun(o.Action)
		}
		if op.Error != nil {
			r.Error = fault.Outcome(op.Error.Code, op.Error.Message, about)
			h.log.DebugContext(ctx, "image operation failed", "image", img.ID, "cloud_op", op.ID, "code", op.Error.Code, "message", op.Error.Message)
		}
		rows = append(rows, r)
	}
	return rows, nil
}
