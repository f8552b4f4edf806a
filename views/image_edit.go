package views

import (
	"github.com/imagedash/imagedash/cloud"
)

// ImageEditPage is the form that changes an image: exactly the fields its
// service's Update allows, the values the form was opened with (hidden,
// so the handler can tell what the person changed and whether the image
// changed meanwhile), and the messages of a refused save.
type ImageEditPage struct {
	Nav        Nav
	Image      ImageRow
	FolderName string
	Form       ImageEditForm
	// Errors are the messages next to the fields ("name", "description",
	// "min_disk_size", "labels"); label rows carry their own.
	Errors FieldErrors
	Labels []LabelRow
	// Error is a message about the whole form (the cloud's refusal, a
	// status that forbids the change, nothing changed).
	Error string
	// Conflicts, when set, are the fields that changed in the cache since
	// the form was opened: the form then asks before overwriting.
	Conflicts []EditConflict
	// Blocked: the image's status forbids an update; the form is shown
	// without a Save button.
	Blocked bool
}

// ImageEditForm is what the form's fields hold.
type ImageEditForm struct {
	Name        string
	Description string
	// MinDiskGiB is the minimum disk size as typed, in GiB.
	MinDiskGiB string
	// Opened is what the image was when the form was opened.
	Opened EditOpened
	// Overwrite: the person saw the conflicts and saves anyway.
	Overwrite bool
}

// EditOpened are the hidden copies of the values the form was opened with.
type EditOpened struct {
	Name        string
	Description string
	MinDisk     string // bytes
	Labels      string // JSON object
}

// EditConflict is one field that changed since the form was opened.
type EditConflict struct {
	Field  string // for people: "Name"
	Key    string // the form field: "name"
	Opened string
	Now    string
	Typed  string
	// Kept: the person did not change this field, so saving keeps Now.
	Kept bool
}

// HasDescription tells whether the service's Update takes a description.
func (p ImageEditPage) HasDescription() bool { return p.Image.Service != cloud.Desktop }

// HasMinDisk tells whether the service's Update takes a minimum disk size.
func (p ImageEditPage) HasMinDisk() bool { return p.Image.Service == cloud.Compute }

// Action is where the form posts.
func (p ImageEditPage) Action() string { return p.Image.URL + "/edit" }

// ImageEditURL is the edit form of an image.
func ImageEditURL(svc cloud.Service, id string) string { return ImageURL(svc, id) + "/edit" }

// Layout is the layout data of the page.
func (p ImageEditPage) Layout() Layout {
	return Layout{Title: "Edit " + imageTitle(p.Image) + " · " + p.Image.Service.Title() + " image", Nav: p.Nav}
}

// SizeHint says what bounds the minimum disk size.
func (p ImageEditPage) SizeHint() string {
	if p.Image.Size == "" {
		return "Between 4 MiB and 4 TiB."
	}
	return "Between 4 MiB and 4 TiB, and not below the image size (" + p.Image.Size + ")."
}

// ImageDeletePage asks before deleting one image, naming it; Reason, when
// set, says why it cannot be deleted now (and the page has no button).
type ImageDeletePage struct {
	Nav        Nav
	Image      ImageRow
	FolderName string
	Reason     string
}

// Action is where the confirmation posts.
func (p ImageDeletePage) Action() string { return p.Image.URL + "/delete" }

// Layout is the layout data of the page.
func (p ImageDeletePage) Layout() Layout {
	return Layout{Title: "Delete " + imageTitle(p.Image) + " · " + p.Image.Service.Title() + " image", Nav: p.Nav}
}

// Folder is the image's folder for people: "name (id)" or the id.
func (p ImageDeletePage) Folder() string { return folderText(p.FolderName, p.Image.FolderID) }

// BulkDeletePage asks before deleting many images, and after the POST
// reports what happened to each.
type BulkDeletePage struct {
	Nav     Nav
	Service cloud.Service
	Items   []BulkDeleteItem
	// Count is how many of Items can be deleted: the number the person
	// types to confirm.
	Count int
	// Typed is the number as typed, CountError its message.
	Typed      string
	CountError string
	// Done: the deletes were sent; Items carry their outcomes.
	Done bool
	// Batch is the bulk action's batch id once sent, whose progress the
	// page follows.
	Batch string
	// Back is the image list to return to.
	Back string
}

// BulkDeleteItem is one image of a bulk delete.
type BulkDeleteItem struct {
	ID     string
	Name   string
	URL    string // "" when the image is not cached
	Folder string
	Status string
	// Reason says why it cannot be deleted ("" when it can).
	Reason string
	// After the POST: Outcome is "started" or "refused", Message says more,
	// OpURL links to the image with its operation.
	Outcome string
	Message string
	OpURL   string
}

// Action is where the confirmation posts.
func (p BulkDeletePage) Action() string { return BulkDeleteURL }

// BulkDeleteURL is the bulk delete's address.
const BulkDeleteURL = "/images/bulk-delete"

// Layout is the layout data of the page.
func (p BulkDeletePage) Layout() Layout {
	return Layout{Title: "Delete " + Plural(len(p.Items), "image", "images") + " · " + p.Service.Title(), Nav: p.Nav}
}

// Started counts the items whose delete was sent.
func (p BulkDeletePage) Started() int {
	n := 0
	for _, it := range p.Items {
		if it.Outcome == "started" {
			n++
		}
	}
	return n
}

func imageTitle(r ImageRow) string {
	if r.Name != "" {
		return r.Name
	}
	return r.ID
}

func folderText(name, id string) string {
	if name == "" {
		return id
	}
	return name + " (" + id + ")"
}
