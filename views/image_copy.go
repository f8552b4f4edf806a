package views

import (
	"net/url"
	"strconv"

	"github.com/imagedash/imagedash/cloud"
)

// CopyResultsID is the result page's list of targets, which polls itself
// while any of them is in flight.
const CopyResultsID = "copy-results"

// The kinds of copy the copy form offers ("Copy as").
const (
	CopyAsCompute = "compute" // Compute image → Compute image (Create with image_id)
	CopyAsDesktop = "desktop" // Compute image → Cloud Desktop image (DesktopImageService.Copy)
)

// ImageCopyURL is the copy form of a Compute image.
func ImageCopyURL(id string) string { return ImageURL(cloud.Compute, id) + "/copy" }

// CopyBatchURL is the result page of the copies started together.
func CopyBatchURL(batch string) string { return "/copies/" + url.PathEscape(batch) }

// FromDesktopURL is the form that makes a Desktop image from a desktop.
const FromDesktopURL = "/desktop-images/new"

// BulkCopyURL is the form that copies many images into one folder.
const BulkCopyURL = "/images/bulk-copy"

// CopyTarget is a folder a copy may go into.
type CopyTarget struct {
	ID      string
	Name    string // the folder's name (its id when it has none)
	Checked bool
}

// CopyPreview is what one target will be (or would have been) called.
type CopyPreview struct {
	Folder string
	Source string // bulk: the source image's name
	Name   string
	Error  string
}

// CopyPlanRow is one image an accepted copy plan will make.
type CopyPlanRow struct {
	Source  string // the source's name (its id when it has none)
	Folder  string // the target folder's name
	Name    string // the new image's name
	Service cloud.Service
}

// CopyPlan is the preview of an accepted plan of several copies, shown
// before it is confirmed: what will be made, under which names, where.
type CopyPlan struct {
	Rows    []CopyPlanRow
	Confirm string // the confirm button's label ("Copy 3 images")
}

// CopyPage is the copy form of one Compute image: into one or several
// folders, as a Compute or a Desktop image.
type CopyPage struct {
	Nav    Nav
	Source ImageRow
	// SourceFolder is the source's folder, by name when known.
	SourceFolder string
	// NotReady says why the cloud will refuse to copy the source now ("" when it is READY).
	NotReady string
	Action   string // where the form posts
	As       string // CopyAsCompute or CopyAsDesktop
	Targets  []CopyTarget
	// Name is the name template ("{name}-copy") or a plain name.
	Name        string
	Description string
	Family      string
	// MinDiskGiB is the minimum disk size as typed; MinDiskFloorGiB the
	// smallest the source allows.
	MinDiskGiB      string
	MinDiskFloorGiB int64
	Labels          []LabelRow
	// Batch, when set, makes the copy join the copies started with it (a
	// retry of one target from the result page).
	Batch    string
	Errors   FieldErrors
	Previews []CopyPreview
	// Plan, when set, is the preview to confirm.
	Plan *CopyPlan
}

// Layout is the layout data of the page.
func (p CopyPage) Layout() Layout {
	return Layout{Title: "Copy " + dash(p.Source.Name), Nav: p.Nav}
}

// BulkCopyRow is one image of a bulk copy.
type BulkCopyRow struct {
	Image    ImageRow
	Selected bool
	NewName  string // the name it gets, as expanded ("" before the first post)
	Error    string
}

// BulkCopyPage is the form that copies many Compute images into one folder
// with a name template.
type BulkCopyPage struct {
	Nav     Nav
	Service cloud.Service
	Rows    []BulkCopyRow
	// Missing are the asked ids the cache does not hold.
	Missing []string
	Targets []CopyTarget // one is picked
	Name    string       // the name template
	Labels  []LabelRow   // labels added to each copy's own
	Errors  FieldErrors
	// Plan, when set, is the preview to confirm.
	Plan *CopyPlan
}

// Layout is the layout data of the page.
func (p BulkCopyPage) Layout() Layout {
	return Layout{Title: "Copy " + Plural(len(p.Rows), "image", "images"), Nav: p.Nav}
}

// FromDesktopPage is the form that makes a Desktop image from a desktop.
type FromDesktopPage struct {
	Nav         Nav
	Targets     []CopyTarget // one is picked
	DesktopID   string
	Name        string
	Description string
	Labels      []LabelRow
	Batch       string
	Errors      FieldErrors
}

// Layout is the layout data of the page.
func (p FromDesktopPage) Layout() Layout {
	return Layout{Title: "New Desktop image from a desktop", Nav: p.Nav}
}

// The states of a target on the result page.
const (
	CopyStarted  = "started"  // the cloud took it (running or done)
	CopyQueued   = "queued"   // the cloud did not answer; the watcher retries
	CopyRefused  = "refused"  // the cloud refused the call
	CopyFailed   = "failed"   // the operation ended in an error, or was lost
	CopyFinished = "finished" // done
)

// CopyResultRow is one target of a batch.
type CopyResultRow struct {
	OpID   int64
	OpURL  string
	Action string // "Copy", "Copy to Desktop", …
	// Source is the source image's (or desktop's) name or id; SourceURL its
	// page ("" for a desktop).
	Source    string
	SourceURL string
	Folder    string
	Name      string
	State     string // one of the Copy* states
	Message   string
	// ImageURL is the new image's page, once the cloud named it.
	ImageURL string
	Retry    *CopyRetry
	// DeleteURL is the delete confirmation of the ERROR image this failed
	// copy left, for the person whose copy it was and who may delete it;
	// "" otherwise.
	DeleteURL string
}

// CopyRetry is the form that sends one failed target again: its fields as
// first sent, the name editable (the usual reason for a refusal).
type CopyRetry struct {
	Action string
	Name   string
	Hidden []Param
}

// CopyBatchPage is the result page of the copies started together.
type CopyBatchPage struct {
	Nav   Nav
	Batch string
	URL   string
	Rows  []CopyResultRow
	// Open: some target is still in flight, so the list polls.
	Open bool
	// Toast is the one-time notice of the copy just submitted (nil on a
	// later visit or a poll).
	Toast *CopyToast
}

// Layout is the layout data of the page.
func (p CopyBatchPage) Layout() Layout {
	return Layout{Title: "Copies", Nav: p.Nav}
}

// BatchProgress is how far the operations of one bulk action have got:
// Done of Total finished well, Failed ended in an error or were refused,
// the rest are still in flight.
type BatchProgress struct {
	Total, Done, Failed int
	// Failures are the targets that failed, as their rows show them.
	Failures []CopyResultRow
}

// Progress is the batch's progress, counted from its rows.
func (p CopyBatchPage) Progress() BatchProgress {
	g := BatchProgress{Total: len(p.Rows)}
	for _, r := range p.Rows {
		switch r.State {
		case CopyFinished:
			g.Done++
		case CopyStarted, CopyQueued:
		default:
			g.Failed++
			g.Failures = append(g.Failures, r)
		}
	}
	return g
}

// InFlight is how many targets have not ended yet.
func (g BatchProgress) InFlight() int { return g.Total - g.Done - g.Failed }

// Text is the progress in words: "2 of 5 done, 1 failed".
func (g BatchProgress) Text() string {
	s := strconv.Itoa(g.Done) + " of " + strconv.Itoa(g.Total) + " done"
	if g.Failed > 0 {
		s += ", " + strconv.Itoa(g.Failed) + " failed"
	}
	return s
}

// Ended is the share of the targets that have ended (well or not), for
// the progress bar.
func (g BatchProgress) Ended() string { return strconv.Itoa(g.Done + g.Failed) }

// Counts says how many targets are in each state, for the heading.
func (p CopyBatchPage) Counts() string {
	n := map[string]int{}
	for _, r := range p.Rows {
		n[r.State]++
	}
	s := Plural(len(p.Rows), "target", "targets")
	for _, st := range []string{CopyStarted, CopyFinished, CopyQueued, CopyRefused, CopyFailed} {
		if n[st] > 0 {
			s += ", " + strconv.Itoa(n[st]) + " " + st
		}
	}
	return s
}

// ShowFromDesktop tells whether the image list offers "New from desktop"
// (the Desktop tab; the form says so when the person may copy nowhere).
func ShowFromDesktop(n Nav) bool { return n.Service == cloud.Desktop }
