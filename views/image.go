package views

import (
	"strings"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// ImagePage is an image's detail page: every field from the cache, and two
// sections that load from the cloud after the page (operations, latest in
// the family), or come filled in when a browser without JavaScript asks
// for them.
type ImagePage struct {
	Nav    Nav
	Image  ImageRow
	Fields []Field
	// FolderName is the image's folder, by name when known.
	FolderName string
	// OperationsURL and LatestURL load the lazy sections; LatestURL is ""
	// when the image has no family (or its service has none).
	OperationsURL string
	LatestURL     string
	// Operations and Latest, when set, are rendered in place of the lazy
	// sections.
	Operations *OperationsView
	Latest     *LatestView
	// Ops are the live badges of the operations on the image: its open
	// ones and those the address names (?op=); see ImageOpBadges.
	Ops []OpRow
	// CanEdit shows the Edit and Delete buttons: the viewer may change
	// images of the image's folder (the handlers check again).
	CanEdit bool
	// CanDelete shows the Delete button alone, without Edit: a copier whose
	// own failed copy left this ERROR image may delete it (and only it).
	CanDelete bool
	// CopyURL is the copy form, "" when the viewer may copy it nowhere.
	CopyURL string
}

// EditURL is the image's edit form.
func (p ImagePage) EditURL() string { return p.Image.URL + "/edit" }

// DeleteURL is the image's delete confirmation.
func (p ImagePage) DeleteURL() string { return p.Image.URL + "/delete" }

// Layout is the layout data of the page.
func (p ImagePage) Layout() Layout {
	name := p.Image.Name
	if name == "" {
		name = p.Image.ID
	}
	return Layout{Title: name + " · " + p.Image.Service.Title() + " image", Nav: p.Nav}
}

// ListURL is the image list this image belongs to.
func (p ImagePage) ListURL() string {
	return ImageFilter{Service: p.Image.Service, Folders: p.Nav.Filter.Folders}.URL()
}

// LabelURL is the list of images with a label, in the image's service.
func (p ImagePage) LabelURL(l Label) string {
	return ImageFilter{Service: p.Image.Service, Folders: p.Nav.Filter.Folders, Labels: []string{l.String()}}.URL()
}

// Field is one row of the detail list.
type Field struct {
	Name  string
	Value string
	// Kind picks the rendering: "" text, "code" monospace, "copy" monospace
	// with a copy button, "time" (Value relative, Title exact, ISO in
	// Datetime), "link" (to URL), "status" (a badge).
	Kind     string
	Title    string
	Datetime string
	URL      string
}

// NewImageFields lists every field of img that its service has, in
// reading order. folderName is the folder's name ("" when unknown).
func NewImageFields(r ImageRow, img cloud.Image, folderName string) []Field {
	folder := img.FolderID
	if folderName != "" {
		folder = folderName + " (" + img.FolderID + ")"
	}
	fs := []Field{
		{Name: "ID", Value: img.ID, Kind: "copy"},
		{Name: "Status", Value: img.Status, Kind: "status"},
		{Name: "Folder", Value: folder, Kind: "link",
			URL: ImageFilter{Service: img.Service, Folders: []string{img.FolderID}}.URL()},
	}
	switch img.Service {
	case cloud.Compute:
		fam := Field{Name: "Family", Value: dash(img.Family)}
		if img.Family != "" {
			fam.Kind = "link"
			fam.URL = ImageFilter{Service: img.Service, Folders: []string{img.FolderID}, Families: []string{img.Family}}.URL()
		}
		pooled := "no"
		if img.Pooled {
			pooled = "yes"
		}
		fs = append(fs,
			fam,
			Field{Name: "OS", Value: dash(img.OS)},
			Field{Name: "Size", Value: dash(r.Size)},
			Field{Name: "Storage size", Value: dash(r.StorageSize)},
			Field{Name: "Min disk size", Value: dash(r.MinDisk)},
			code("Product ids", strings.Join(img.ProductIDs, ", ")),
			Field{Name: "Pooled", Value: pooled},
			code("Hardware generation", img.HardwareGeneration),
		)
	case cloud.Desktop:
		fs = append(fs,
			Field{Name: "Storage size", Value: dash(r.StorageSize)},
			Field{Name: "Min disk size", Value: dash(r.MinDisk)},
		)
	case cloud.BareMetal:
		fs = append(fs, code("Checksum", img.Checksum))
	}
	return append(fs, Field{Name: "Created", Value: dash(r.Created), Kind: "time", Title: r.CreatedAt, Datetime: r.CreatedISO})
}

// code is a monospace field, or a dash when empty.
func code(name, v string) Field {
	if v == "" {
		return Field{Name: name, Value: dash(v)}
	}
	return Field{Name: name, Value: v, Kind: "code"}
}

// OperationsView is the image's operation history, or why it is missing.
type OperationsView struct {
	URL string
	// Unsupported: the service's API has no operation listing (Desktop).
	Unsupported bool
	// Error is a safe message when the cloud could not be asked.
	Error string
	Ops   []OperationRow
	// More: the history goes on beyond these.
	More bool
}

// OperationRow is one operation on the image as the cloud lists it,
// formatted, with what the dashboard knows of it when it started it.
type OperationRow struct {
	ID          string // the cloud's operation id
	Description string // the cloud's ("Create image")
	Created     string
	CreatedAt   string
	CreatedISO  string
	// State is "done", "running" or "failed".
	State string
	// Error is what went wrong, in plain words for the viewer (never the
	// cloud's own text: it names ids); "" when nothing did.
	Error string
	// Title, URL and By are the dashboard's operation when it started
	// this one: its action ("Copy"), its page, and the person who asked;
	// "" for an operation made outside the dashboard. The cloud's
	// account (created_by) is never shown: it names no person.
	Title string
	URL   string
	By    string
}

// What is the operation as a person calls it: the dashboard's action, or
// the cloud's description.
func (r OperationRow) What() string {
	if r.Title != "" {
		return r.Title
	}
	return dash(r.Description)
}

// NewOperationRow formats one operation; the handler adds its error in
// plain words and what the dashboard knows of it.
func NewOperationRow(op cloud.Operation, now time.Time) OperationRow {
	r := OperationRow{ID: op.ID, Description: op.Description, State: "running"}
	r.Created, r.CreatedAt, r.CreatedISO = Times(op.CreatedAt, now)
	switch {
	case op.Error != nil:
		r.State = "failed"
	case op.Done:
		r.State = "done"
	}
	return r
}

// LatestView is the newest image of the family, as the cloud says.
type LatestView struct {
	URL    string
	Family string
	Error  string
	// NotFound: the family has no READY image in the folder.
	NotFound bool
	// IsThis: the image on the page is the newest.
	IsThis bool
	Latest ImageRow
}

// Actions is the image page's bar: Edit (primary), Copy… (secondary),
// Delete… (danger, to its confirm page), each as the viewer may.
func (p ImagePage) Actions() []Action {
	var as []Action
	if p.CanEdit {
		as = append(as, Action{Kind: Primary, Label: "Edit", URL: p.EditURL(), TestID: "edit-link"})
	}
	if p.CopyURL != "" {
		as = append(as, Action{Kind: Secondary, Label: "Copy…", URL: p.CopyURL, TestID: "copy-link"})
	}
	switch {
	case p.CanEdit:
		as = append(as, Action{Kind: Danger, Label: "Delete…", URL: p.DeleteURL(), TestID: "delete-link"})
	case p.CanDelete:
		as = append(as, Action{Kind: Danger, Label: "Delete…", URL: p.DeleteURL(), TestID: "delete-link",
			Title: "This image is what your failed copy left: you may delete it"})
	}
	return as
}
