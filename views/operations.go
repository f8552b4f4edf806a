package views

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/imagedash/imagedash/cloud"
)

// DOM ids and events of the operations: the monitor's regions, the header's
// counts, and the image page's section that reloads when an operation on
// it finishes.
const (
	// OpsID is the monitor's swappable region: filters, both tables, paging.
	OpsID = "operations"
	// OpsInFlightID is the monitor's section of open operations, which
	// polls itself while it has any.
	OpsInFlightID = "ops-inflight"
	// OpsHistoryID is the monitor's history table, which reloads itself
	// (first page only) when an operation leaves the in-flight section.
	OpsHistoryID = "ops-history"
	// OpCountsID is the header's "N in flight · M failed".
	OpCountsID = "op-counts"
	// ImageLiveID is the image page's section that reloads itself when an
	// operation badge on it reports the end of its operation.
	ImageLiveID = "image-live"

	// OpDoneEvent is raised (HX-Trigger) by the answer of a badge whose
	// operation has just been seen final; its detail says which and how.
	OpDoneEvent = "imagedash:op-done"
	// OpsFinishedEvent is raised by the monitor's in-flight section when an
	// operation it showed is no longer open; the history reloads on it.
	OpsFinishedEvent = "imagedash:ops-finished"
	// OpCountsTrigger is when the header's counts reload: every 5 s, when
	// the tab shows again, and at once when an operation on the page ends.
	OpCountsTrigger = "every 5s, imagedash:visible, " + OpDoneEvent + " from:body, " + OpsFinishedEvent + " from:body"
)

// Operation states as the monitor's filter names them, besides the store's
// own (pending, running, done, failed, lost).
const (
	OpStateOpen    = "open"    // pending or running
	OpStateProblem = "problem" // failed or lost
)

// OpStateChoices are the state filter's choices, in order.
var OpStateChoices = []Choice{
	{OpStateOpen, "In flight"},
	{"pending", "Queued"},
	{"running", "In progress"},
	{"done", "Done"},
	{OpStateProblem, "Failed or lost"},
	{"failed", "Failed"},
	{"cancelled", "Cancelled"},
	{"lost", "Lost"},
}

// OpRow is one operation the dashboard started, formatted.
type OpRow struct {
	ID          int64
	Action      string // e.g. "image.copy"
	ActionTitle string // e.g. "Copy"
	Service     cloud.Service
	FolderID    string
	FolderName  string // "" when unknown
	ImageID     string // "" while a copy has no image yet
	ImageName   string
	SourceID    string
	User        string
	// State is the store's: pending, sending, running, done, failed, cancelled or lost.
	State string
	// Failing: running, but the cloud reported an error.
	Failing bool
	// Message is what went wrong, in plain words for the viewer (the
	// cloud's error as fault.Outcome says it, or why it is lost); never
	// the cloud's own text.
	Message string

	Created, CreatedAt, CreatedISO string
	Done, DoneAt, DoneISO          string
}

// Open tells whether the operation is still being worked on.
func (r OpRow) Open() bool {
	return r.State == "pending" || r.State == "sending" || r.State == "running"
}

// URL is the operation's details page.
func (r OpRow) URL() string { return OperationURL(r.ID) }

// BadgeURL is the operation's live badge.
func (r OpRow) BadgeURL() string { return OperationURL(r.ID) + "/badge" }

// ImageURL is the target image's page, "" while it has none.
func (r OpRow) ImageURL() string {
	if r.ImageID == "" || !r.Service.Valid() {
		return ""
	}
	return ImageURL(r.Service, r.ImageID)
}

// Subject is the target image as people call it: its name, else its id.
func (r OpRow) Subject() string {
	switch {
	case r.ImageName != "":
		return r.ImageName
	case r.ImageID != "":
		return r.ImageID
	}
	return "an image"
}

// Folder is the target folder by name when known.
func (r OpRow) Folder() string {
	if r.FolderName != "" {
		return r.FolderName
	}
	return r.FolderID
}

// StateTitle is the state as the badge says it.
func (r OpRow) StateTitle() string {
	switch {
	case r.Failing:
		return "Failing"
	case r.State == "pending" && r.Message != "":
		// A send the cloud did not answer: sent again with the same key.
		return "Waiting for the cloud"
	case r.State == "pending":
		return "Queued"
	case r.State == "sending":
		return "Sending"
	case r.State == "running":
		return "In progress"
	case r.State == "done":
		return "Done"
	case r.State == "failed":
		return "Failed"
	case r.State == "cancelled":
		return "Cancelled"
	case r.State == "lost":
		return "Lost"
	}
	return StatusTitle(r.State)
}

// Spinning tells whether the badge shows the spinner.
func (r OpRow) Spinning() bool { return r.Open() }

// opBadgeClass is the badge's colour, as the image statuses have them.
func (r OpRow) opBadgeClass() string {
	switch {
	case r.Failing, r.State == "lost":
		return "badge-deleting"
	case r.State == "pending", r.State == "sending", r.State == "cancelled":
		return "badge-unknown"
	case r.State == "running":
		return "badge-creating"
	case r.State == "done":
		return "badge-ready"
	case r.State == "failed":
		return "badge-error"
	}
	return "badge-unknown"
}

// Tooltip is the badge's title: what, on what, and the error if any.
func (r OpRow) Tooltip() string {
	s := r.ActionTitle + " of " + r.Subject() + ": " + r.StateTitle()
	if r.Message != "" {
		s += " (" + r.Message + ")"
	}
	return s
}

// Summary is what a toast says when the operation ends: "Copy of web-1
// done", "Edit of web-1 failed: <message>".
func (r OpRow) Summary() string {
	s := r.ActionTitle + " of " + r.Subject() + " "
	switch r.State {
	case "done":
		return s + "done"
	case "lost":
		return s + "lost: " + r.Message
	}
	if r.Message == "" {
		return s + r.State
	}
	return s + r.State + ": " + r.Message
}

// OperationURL is the details page of operation id.
func OperationURL(id int64) string { return "/operations/" + strconv.FormatInt(id, 10) }

// OpsFilter is the monitor's filter form, as the person typed it.
type OpsFilter struct {
	User    string
	Action  string
	Service string
	Folder  string
	State   string
	From    string
	To      string
}

// Values is the filter as query parameters, empty ones left out.
func (f OpsFilter) Values() url.Values {
	v := url.Values{}
	for _, p := range []Param{
		{"user", f.User}, {"action", f.Action}, {"service", f.Service}, {"folder", f.Folder},
		{"state", f.State}, {"from", f.From}, {"to", f.To},
	} {
		if p.Value != "" {
			v.Set(p.Name, p.Value)
		}
	}
	return v
}

// OpsURL is the monitor with filter f, history from the operation before
// id (0: the newest).
func OpsURL(f OpsFilter, before int64) string {
	v := f.Values()
	if before > 0 {
		v.Set("before", strconv.FormatInt(before, 10))
	}
	if len(v) == 0 {
		return "/operations"
	}
	return "/operations?" + v.Encode()
}

// Monitor parts an HTMX request can ask for alone (?part=).
const (
	OpsPartInFlight = "inflight"
	OpsPartHistory  = "history"
)

// OpsPage is the operations monitor: the open operations, then a page of
// the history.
type OpsPage struct {
	Filter OpsFilter
	Errors FieldErrors
	// ShowInFlight and ShowHistory: the state filter leaves room for
	// the section.
	ShowInFlight bool
	ShowHistory  bool
	InFlight     []OpRow
	// InFlightMore: more are open than the section shows.
	InFlightMore bool
	History      []OpRow
	// Before is the history's cursor (0: the newest); Older the cursor of
	// the next page (0: this is the last).
	Before int64
	Older  int64
	// The filter's choices.
	Actions  []Choice
	Services []Choice
	Folders  []Choice
}

// URL is this page's address.
func (p OpsPage) URL() string { return OpsURL(p.Filter, p.Before) }

// OlderURL is the next page of the history, "" on the last.
func (p OpsPage) OlderURL() string {
	if p.Older == 0 {
		return ""
	}
	return OpsURL(p.Filter, p.Older)
}

// NewestURL is the first page with the same filter.
func (p OpsPage) NewestURL() string { return OpsURL(p.Filter, 0) }

// With is the first page of this filter with field set to value.
func (p OpsPage) With(field, value string) string {
	f := p.Filter
	switch field {
	case "user":
		f.User = value
	case "action":
		f.Action = value
	case "service":
		f.Service = value
	case "folder":
		f.Folder = value
	case "state":
		f.State = value
	}
	return OpsURL(f, 0)
}

// partURL is the address one part of the page polls or reloads from.
func (p OpsPage) partURL(part string, extra ...Param) string {
	v := p.Filter.Values()
	if part == OpsPartHistory && p.Before > 0 {
		v.Set("before", strconv.FormatInt(p.Before, 10))
	}
	v.Set("part", part)
	for _, e := range extra {
		v.Set(e.Name, e.Value)
	}
	return "/operations?" + v.Encode()
}

// InFlightURL is what the in-flight section polls: the same filter, and
// the ids it shows, so the answer can tell the history that some ended.
func (p OpsPage) InFlightURL() string {
	ids := make([]string, len(p.InFlight))
	for i, r := range p.InFlight {
		ids[i] = strconv.FormatInt(r.ID, 10)
	}
	return p.partURL(OpsPartInFlight, Param{"shown", strings.Join(ids, ",")})
}

// HistoryURL is what the history reloads from.
func (p OpsPage) HistoryURL() string { return p.partURL(OpsPartHistory) }

// Title is the document title.
func (p OpsPage) Title() string { return PageTitle("Operations") }

// Live tells whether the in-flight section polls.
func (p OpsPage) Live() bool {
	for _, r := range p.InFlight {
		if r.Open() {
			return true
		}
	}
	return false
}

// OpDetail is one operation's page.
type OpDetail struct {
	Op OpRow
	// Request is the call as sent, pretty-printed JSON.
	Request string
	Fields  []Field
	// CanCancel: the operation is running and the viewer may cancel it.
	CanCancel bool
	// CancelNote says why there is no Cancel button ("" when there is one
	// or the operation is over).
	CancelNote string
	// CloudCode and CloudWords are the cloud's own code and message of the
	// error, for administrators only ("" for anyone else): they name ids.
	CloudCode, CloudWords string
}

// Title is the document title.
func (p OpDetail) Title() string {
	return PageTitle("Operation " + strconv.FormatInt(p.Op.ID, 10))
}

// CancelURL is where Cancel posts.
func (p OpDetail) CancelURL() string { return p.Op.URL() + "/cancel" }

// OpCountsView is the header's figures, over the folders the viewer may
// see.
type OpCountsView struct {
	InFlight int
	Failed   int
	// FailedSince is the failed count's window start as the monitor's
	// from filter takes it (UTC, minutes).
	FailedSince string
}

// InFlightURL is the monitor showing the open operations.
func (v OpCountsView) InFlightURL() string { return OpsURL(OpsFilter{State: OpStateOpen}, 0) }

// FailedURL is the monitor showing the recent failures.
func (v OpCountsView) FailedURL() string {
	return OpsURL(OpsFilter{State: OpStateProblem, From: v.FailedSince}, 0)
}

// OpCountsURL is what the header's counts poll.
const OpCountsURL = "/operations/counts"

// LiveURL is what the image section reloads from when an operation on the
// page finishes: the page, naming the operations it shows, so their final
// badges stay.
func (p ImagePage) LiveURL() string {
	if len(p.Ops) == 0 {
		return p.Image.URL
	}
	v := url.Values{}
	for _, o := range p.Ops {
		v.Add("op", strconv.FormatInt(o.ID, 10))
	}
	return p.Image.URL + "?" + v.Encode()
}
