package handlers

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/planner"
	"github.com/imagedash/imagedash/views"
)

// The copy handlers plan with the planner package and submit the plan
// whole; these are the pieces they share: the planner, the plan's problems
// as field messages, its preview, and its submission.

// The planner asks the person's policy what they may see and copy into.
var _ planner.Permissions = auth.Policy{}

// copyPlanner is the planner over the handlers' store, or the 503 of a
// server that cannot make changes. It holds no state, so one per request
// costs nothing.
func (h *Handlers) copyPlanner() (*planner.Planner, error) {
	st, ok := h.store.(planner.Store)
	if h.tracker == nil || !ok {
		return nil, errCopyNoTracker()
	}
	return planner.New(st, h.now), nil
}

// planFolders are the folders ids, with their names, for a request.
func (s copyFolderSet) planFolders(ids []string) []planner.Folder {
	out := make([]planner.Folder, len(ids))
	for i, id := range ids {
		out[i] = planner.Folder{ID: id, Name: s.name(id)}
	}
	return out
}

// planField is the form field a planner field is shown next to.
func planField(f string) string {
	switch f {
	case planner.FieldMinDisk:
		return "min_disk_gib"
	case planner.FieldSource:
		return "form"
	}
	return f
}

// rowMessage is what is wrong with r's field ("" for every field), as one text.
func rowMessage(r planner.Row, field string) string {
	var msgs []string
	for _, pr := range r.Problems {
		if field == "" || pr.Field == field {
			msgs = append(msgs, pr.Message)
		}
	}
	return strings.Join(msgs, " ")
}

// copyPlanErrors puts a one-source plan's problems next to the copy
// form's fields (the first message of a field wins): the request's where
// they belong, the names of every target under "name" (naming each target
// when there are several), the rest under their own field.
func copyPlanErrors(plan planner.Plan, fe FieldErrors) {
	for _, pr := range plan.Problems {
		if _, ok := fe[planField(pr.Field)]; !ok {
			fe[planField(pr.Field)] = pr.Message
		}
	}
	var bad []string
	for _, r := range plan.Rows {
		for _, pr := range r.Problems {
			if pr.Field == planner.FieldName {
				continue
			}
			if _, ok := fe[planField(pr.Field)]; !ok {
				fe[planField(pr.Field)] = pr.Message
			}
		}
		if msg := rowMessage(r, planner.FieldName); msg != "" {
			if len(plan.Rows) > 1 {
				msg = r.Folder.Name + ": " + msg
			}
			bad = append(bad, msg)
		}
	}
	if _, ok := fe["name"]; ok || len(bad) == 0 {
		return
	}
	if len(bad) == 1 {
		fe["name"] = bad[0]
		return
	}
	fe["name"] = fmt.Sprintf("%d of the names will not do: %s", len(bad), strings.Join(bad, "; "))
}

// wantsPreview says whether a post asks to see the plan before it is made:
// the form's submit button sends preview=1, its confirm button confirm=1.
// A post with neither (a script's) is made at once, as before previews.
func wantsPreview(form url.Values) bool {
	return form.Get("preview") == "1" && form.Get("confirm") != "1"
}

// copyPlanView is an accepted plan as its preview shows it.
func copyPlanView(plan planner.Plan) *views.CopyPlan {
	out := &views.CopyPlan{Confirm: "Copy " + views.Plural(len(plan.Rows), "image", "images")}
	for _, r := range plan.Rows {
		out.Rows = append(out.Rows, views.CopyPlanRow{Source: r.SourceName(), Folder: r.Folder.Name, Name: r.Name, Service: r.Service})
	}
	return out
}

// submitPlan submits an accepted plan whole, as batch, with one StartBatch
// (its intents are written in one transaction or not at all), and audits
// each started row (kind names the sources in the audit log). err is set
// only when nothing was written (an *store.OpenLimitError over the limit).
func (h *Handlers) submitPlan(c echo.Context, batch string, plan planner.Plan, kind string) ([]copyStart, error) {
	ins := plan.Intents()
	if ins == nil {
		return nil, fmt.Errorf("copy: submit a refused plan")
	}
	ops, errs, err := h.tracker.StartBatch(c.Request().Context(), who(c), batch, ins)
	if err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	starts := make([]copyStart, len(ops))
	for i, r := range plan.Rows {
		starts[i] = h.copyStarted(c, ins[i], ops[i], errs[i], kind, r.SourceID, "into "+r.Folder.Name+" as "+r.Name)
	}
	return starts, nil
}
