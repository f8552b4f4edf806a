// Package views holds the dashboard's templ components and the small view
// models they render. Views never call the cloud or the store: handlers build
// a view model in Go and hand it over. The package imports cloud for its types
// only.
package views

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// DOM ids that HTMX targets. Templates, handlers and tests share these
// constants so a renamed id cannot silently break a swap.
const (
	ImageTableID    = "image-table"
	FamiliesID      = "families"
	ServiceTabsID   = "service-tabs"
	BannerID        = "banner"
	ToastsID        = "toasts"
	FolderPickerID  = "folder-picker"
	FolderStateID   = "folder-state"
	FolderSummaryID = "folder-summary"
	SearchFormID    = "search"
	SearchInputID   = "q"
	SearchStateID   = "search-state"
	SearchErrorID   = "search-error"
	FreshnessID     = "freshness"
	FiltersID       = "filters"
	ProgressID      = "progress"
	OperationsID    = "image-operations"
	LatestID        = "image-latest"
	BulkFormID      = "bulk"
)

// Selector returns the CSS selector of a DOM id, for hx-target and HX-Retarget.
func Selector(id string) string { return "#" + id }

// AppName is shown in the header and the page title.
const AppName = "imagedash"

// SyncedEvent is the event a finished sync raises (through HX-Trigger), on
// which the image table reloads itself.
const SyncedEvent = "imagedash:synced"

// Pages of the layout, for the header's links.
const (
	PageImages   = "images"
	PageFamilies = "families"
	PageImage    = "image"
)

// Nav is what the layout's header needs: the page, the service, the
// selected folders, the folders that can be picked, and on the image list
// the whole list state (the search box and folder picker carry it along).
type Nav struct {
	Page    string
	Service cloud.Service
	// Filter is the image list's state; on other pages only its Service and
	// Folders are set.
	Filter  ImageFilter
	Folders []FolderOption
	// Search is a refused search: what was typed (the box keeps it, while
	// Filter leaves it out, so no link on the page carries it) and why it
	// was refused, shown under the box. Zero when the search was taken.
	Search SearchRefusal
}

// SearchRefusal is a search the list refused, and the message saying why.
type SearchRefusal struct {
	Text, Message string
}

// SearchText is what the search box holds: the refused text when there is
// one, else the list's search.
func (n Nav) SearchText() string {
	if n.Search.Message != "" {
		return n.Search.Text
	}
	return n.Filter.Text
}

// FolderOption is one entry of the folder picker.
type FolderOption struct {
	ID       string
	Label    string
	Selected bool
}

// NewFolderOptions turns folders into picker entries, sorted by label, the
// selected ones marked. A selected id that is not among them (not synced
// yet, or from a bookmark) is added first, so the picker shows where we are.
func NewFolderOptions(folders []cloud.Folder, selected []string) []FolderOption {
	out := make([]FolderOption, 0, len(folders)+len(selected))
	known := map[string]bool{}
	for _, f := range folders {
		label := f.ID
		if f.Name != "" {
			label = f.Name
		}
		known[f.ID] = true
		out = append(out, FolderOption{ID: f.ID, Label: label, Selected: slices.Contains(selected, f.ID)})
	}
	slices.SortFunc(out, func(a, b FolderOption) int {
		return strings.Compare(a.Label+"\x00"+a.ID, b.Label+"\x00"+b.ID)
	})
	var missing []FolderOption
	for _, id := range selected {
		if !known[id] {
			missing = append(missing, FolderOption{ID: id, Label: id, Selected: true})
		}
	}
	return append(missing, out...)
}

// FolderNames maps folder ids to their names, for showing where an image lives.
func FolderNames(folders []cloud.Folder) map[string]string {
	m := make(map[string]string, len(folders))
	for _, f := range folders {
		if f.Name != "" {
			m[f.ID] = f.Name
		}
	}
	return m
}

// FolderLabels maps folder ids to what the Folder column shows: the name,
// or the id of a folder without one. Pass only the folders the viewer may
// see: the column names no other.
func FolderLabels(folders []cloud.Folder) map[string]string {
	m := make(map[string]string, len(folders))
	for _, f := range folders {
		m[f.ID] = f.ID
		if f.Name != "" {
			m[f.ID] = f.Name
		}
	}
	return m
}

// TabURL is where the tab of svc leads from this page: the same page for
// another service, in the same folders (the search text is kept too on the
// image list; other filters belong to one service).
func (n Nav) TabURL(svc cloud.Service) string {
	if n.Page == PageFamilies {
		return FamiliesURL(svc, n.Filter.Folders)
	}
	return ImageFilter{Service: svc, Folders: n.Filter.Folders, Text: n.Filter.Text}.URL()
}

// ImagesURL is the image list of this service and folders, unfiltered.
func (n Nav) ImagesURL() string {
	return ImageFilter{Service: n.Service, Folders: n.Filter.Folders}.URL()
}

// FamiliesURL is the families view of this service and folders.
func (n Nav) FamiliesURL() string { return FamiliesURL(n.Service, n.Filter.Folders) }

// PickerAction is where the folder picker sends its choice.
func (n Nav) PickerAction() string {
	if n.Page == PageFamilies {
		return "/families"
	}
	return "/"
}

// PickerTarget is the region the folder picker swaps with HTMX; "" on pages
// where it navigates (boosted) instead.
func (n Nav) PickerTarget() string {
	switch n.Page {
	case PageImages:
		return Selector(ImageTableID)
	case PageFamilies:
		return Selector(FamiliesID)
	}
	return ""
}

// PickerHidden is the state the folder picker carries besides the folders.
func (n Nav) PickerHidden() []Param {
	if n.Page == PageImages {
		return n.Filter.Hidden("folder")
	}
	return []Param{{"service", string(n.Service)}}
}

// AllFoldersURL is the current view over all folders.
func (n Nav) AllFoldersURL() string {
	if n.Page == PageFamilies {
		return FamiliesURL(n.Service, nil)
	}
	f := n.Filter.FirstPage().clone()
	if n.Page != PageImages {
		f = ImageFilter{Service: n.Service}
	}
	f.Folders = nil
	return f.URL()
}

// FolderSummary is the picker's closed label: "All folders", the folder's
// name, or "3 folders".
func (n Nav) FolderSummary() string {
	var sel []FolderOption
	for _, f := range n.Folders {
		if f.Selected {
			sel = append(sel, f)
		}
	}
	switch len(sel) {
	case 0:
		return "All folders"
	case 1:
		return sel[0].Label
	}
	return strconv.Itoa(len(sel)) + " folders"
}

// SearchLive reports whether the search box filters the table as one types
// (on the image list) rather than navigating to it.
func (n Nav) SearchLive() bool { return n.Page == PageImages }

// SearchHidden is the state the search box carries besides its text.
func (n Nav) SearchHidden() []Param {
	if n.Page == PageImages {
		return n.Filter.Hidden("q")
	}
	return ImageFilter{Service: n.Service, Folders: n.Filter.Folders}.Hidden("q")
}

// Layout is the data of the one page layout.
type Layout struct {
	Title  string
	Nav    Nav
	Banner string // an error to show above the content; "" for none
}

// ImageRow is one image, formatted for the table and the detail page.
type ImageRow struct {
	// OpID is the newest operation in flight on the image (0 for none):
	// the row shows its live badge.
	OpID        int64
	Service     cloud.Service
	ID          string
	URL         string // the detail page
	FolderID    string
	Name        string
	Description string
	Family      string
	Status      string
	OS          string
	Size        string // "" when the service has none
	StorageSize string
	MinDisk     string
	Checksum    string
	Labels      []Label
	Created     string // relative, e.g. "3 days ago"
	CreatedAt   string // exact, for the title attribute
	CreatedISO  string // RFC 3339, for <time datetime>
	// CopyURL and EditURL are the copy and edit forms, set per viewer when
	// their role allows (handlers.rowActions), "" otherwise; the row
	// carries them for the keyboard shortcuts (static/keys.js).
	CopyURL string
	EditURL string
}

// Label is one label chip.
type Label struct{ Key, Value string }

// String is the label as a filter: "key=value".
func (l Label) String() string { return l.Key + "=" + l.Value }

// NewImageRows formats images for the table; now anchors the relative times.
func NewImageRows(images []cloud.Image, now time.Time) []ImageRow {
	rows := make([]ImageRow, len(images))
	for i, img := range images {
		rows[i] = NewImageRow(img, now)
	}
	return rows
}

// Reanchor returns a copy of rows (made by NewImageRows from images, at
// any time) with the relative times anchored at now. The list formats a
// cached page's rows once (sizes, labels, exact times do not change) and
// only this per request.
func Reanchor(rows []ImageRow, images []cloud.Image, now time.Time) []ImageRow {
	out := slices.Clone(rows)
	for i := range out {
		if i < len(images) && !images[i].CreatedAt.IsZero() {
			out[i].Created = Ago(images[i].CreatedAt, now)
		}
	}
	return out
}

// NewImageRow formats one image.
func NewImageRow(img cloud.Image, now time.Time) ImageRow {
	r := ImageRow{
		Service:     img.Service,
		ID:          img.ID,
		URL:         ImageURL(img.Service, img.ID),
		FolderID:    img.FolderID,
		Name:        img.Name,
		Description: img.Description,
		Family:      img.Family,
		Status:      img.Status,
		OS:          img.OS,
		Size:        Bytes(img.Size),
		StorageSize: Bytes(img.StorageSize),
		MinDisk:     Bytes(img.MinDiskSize),
		Checksum:    img.Checksum,
	}
	for _, k := range slices.Sorted(maps.Keys(img.Labels)) {
		r.Labels = append(r.Labels, Label{Key: k, Value: img.Labels[k]})
	}
	r.Created, r.CreatedAt, r.CreatedISO = Times(img.CreatedAt, now)
	return r
}

// Times formats t three ways: relative to now, exact (for a title), and
// RFC 3339 (for <time datetime>); all "" for the zero time.
func Times(t, now time.Time) (rel, exact, iso string) {
	if t.IsZero() {
		return "", "", ""
	}
	u := t.UTC()
	return Ago(t, now), u.Format("2006-01-02 15:04:05 MST"), u.Format(time.RFC3339)
}

// Bytes formats a byte count in GiB, or MiB below 1 GiB, with at most one
// decimal ("" for zero).
func Bytes(n int64) string {
	if n <= 0 {
		return ""
	}
	unit, div := "GiB", float64(1<<30)
	if n < 1<<30 {
		unit, div = "MiB", float64(1<<20)
	}
	v := float64(n) / div
	if v < 0.1 {
		return "< 0.1 " + unit
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + " " + unit
}

// Count formats a number with thin spaces between thousands: 12 345.
func Count(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + Count(-n)
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Ago is a coarse relative time ("just now", "5 minutes ago", "3 days ago").
func Ago(t, now time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		return "just now" // clock skew between us and the cloud
	}
	unit := func(n int, name string) string {
		if n == 1 {
			return "1 " + name + " ago"
		}
		return strconv.Itoa(n) + " " + name + "s ago"
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return unit(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		return unit(int(d/time.Hour), "hour")
	case d < 30*24*time.Hour:
		return unit(int(d/(24*time.Hour)), "day")
	case d < 365*24*time.Hour:
		return unit(int(d/(30*24*time.Hour)), "month")
	}
	return unit(int(d/(365*24*time.Hour)), "year")
}

// Since is a short, precise relative time for freshness: "just now",
// "20 s ago", "2 min ago", "3 h ago", "4 d ago".
func Since(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 5*time.Second:
		return "just now"
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s ago"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h ago"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " d ago"
}

// StatusTitle is a status enum name in title case ("CREATING" → "Creating").
func StatusTitle(status string) string {
	if status == "" {
		return "Unknown"
	}
	s := strings.ToLower(strings.ReplaceAll(status, "_", " "))
	return strings.ToUpper(s[:1]) + s[1:]
}

// InFlight reports whether a status means an operation is still running.
func InFlight(status string) bool {
	switch status {
	case "CREATING", "DELETING", "UPDATING", "RUNNING":
		return true
	}
	return false
}

// badgeClass is the CSS class of a status; unknown statuses get the neutral look.
func badgeClass(status string) string {
	switch status {
	case "READY", "ACTIVE", "CREATING", "UPDATING", "DELETING", "ERROR":
		return "badge-" + strings.ToLower(status)
	case "DONE": // an operation
		return "badge-ready"
	case "RUNNING":
		return "badge-creating"
	}
	return "badge-unknown"
}

// dash shows an em dash for an empty cell, so a blank is visibly "none".
func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// ErrorPage is a full-page error: the one error handler renders it for
// non-HTMX requests.
type ErrorPage struct {
	Code    int
	Title   string // e.g. "Not Found"
	Message string // safe to show
	// Fields are messages by field of a refused request (the cloud's field
	// violations, say), sorted by field, for a page that has no form to
	// show them next to.
	Fields []FieldMessage
}

// FieldMessage is one field's message.
type FieldMessage struct {
	Field, Message string
}

// Notice is a short message for the toast region: a success ("Refresh
// started") or, as a Toast of an ErrorPage, a failure.
type Notice struct {
	Message string
}
