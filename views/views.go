// Package views holds the dashboard's templ components and the small view
// models they render. Views never call the cloud or the store: handlers build
// a view model in Go and hand it over. The package imports cloud for its types
// only.
package views

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// DOM ids that HTMX targets. Templates, handlers and tests share these
// constants so a renamed id cannot silently break a swap.
const (
	ImageTableID   = "image-table"
	ServiceTabsID  = "service-tabs"
	BannerID       = "banner"
	ToastsID       = "toasts"
	FolderPickerID = "folder-picker"
)

// Selector returns the CSS selector of a DOM id, for hx-target and HX-Retarget.
func Selector(id string) string { return "#" + id }

// AppName is shown in the header and the page title.
const AppName = "imagedash"

// Nav is what the layout's header needs: which service and folder are shown,
// and which folders can be picked.
type Nav struct {
	Service  cloud.Service
	FolderID string
	Folders  []FolderOption
}

// FolderOption is one entry of the folder picker.
type FolderOption struct {
	ID    string
	Label string
}

// NewFolderOptions turns folders into picker entries, sorted by label. When
// the selected folder is not among them (the folder list failed, or the id
// came from a bookmark), it is added so the picker still shows where we are.
func NewFolderOptions(folders []cloud.Folder, selected string) []FolderOption {
	out := make([]FolderOption, 0, len(folders)+1)
	found := false
	for _, f := range folders {
		label := f.ID
		if f.Name != "" {
			label = f.Name + " (" + f.ID + ")"
		}
		out = append(out, FolderOption{ID: f.ID, Label: label})
		found = found || f.ID == selected
	}
	slices.SortFunc(out, func(a, b FolderOption) int { return strings.Compare(a.Label, b.Label) })
	if !found && selected != "" {
		out = append([]FolderOption{{ID: selected, Label: selected}}, out...)
	}
	return out
}

// Layout is the data of the one page layout.
type Layout struct {
	Title  string
	Nav    Nav
	Banner string // an error to show above the content; "" for none
}

// ImagesURL is the address of one page of the image list. Every piece of
// state lives in the URL, so a view can be bookmarked and Back works.
func ImagesURL(svc cloud.Service, folderID, pageToken string) string {
	q := url.Values{}
	q.Set("service", string(svc))
	if folderID != "" {
		q.Set("folder", folderID)
	}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	return "/?" + q.Encode()
}

// ImagesPage is the image list: one page of one service's images in one folder.
type ImagesPage struct {
	Nav Nav
	// Banner is the error of a failed cloud call; the table then shows what
	// could be loaded (usually nothing).
	Banner        string
	Rows          []ImageRow
	PageToken     string // the token this page was loaded with; "" on the first page
	NextPageToken string // the API's next_page_token; "" on the last page
}

// Layout is the layout data of the page.
func (p ImagesPage) Layout() Layout {
	return Layout{
		Title:  p.Nav.Service.Title() + " images",
		Nav:    p.Nav,
		Banner: p.Banner,
	}
}

// NextURL is the address of the next page, "" on the last page.
func (p ImagesPage) NextURL() string {
	if p.NextPageToken == "" {
		return ""
	}
	return ImagesURL(p.Nav.Service, p.Nav.FolderID, p.NextPageToken)
}

// FirstURL is the address of the first page, "" when this is it.
func (p ImagesPage) FirstURL() string {
	if p.PageToken == "" {
		return ""
	}
	return ImagesURL(p.Nav.Service, p.Nav.FolderID, "")
}

// CountText says how many images the page shows and whether more follow.
func (p ImagesPage) CountText() string {
	n := len(p.Rows)
	s := strconv.Itoa(n) + " images"
	if n == 1 {
		s = "1 image"
	}
	switch {
	case p.PageToken != "" && p.NextPageToken != "":
		return s + " on this page, more before and after"
	case p.PageToken != "":
		return s + " on the last page"
	case p.NextPageToken != "":
		return s + " on this page, more on the next"
	}
	return s
}

// ImageRow is one image, formatted for the table.
type ImageRow struct {
	ID          string
	Name        string
	Description string
	Family      string
	Status      string
	OS          string
	Size        string // in GiB, "" when the service has none
	MinDisk     string // in GiB, "" when unset
	Labels      []Label
	Created     string // relative, e.g. "3 days ago"
	CreatedAt   string // exact, for the title attribute
	CreatedISO  string // RFC 3339, for <time datetime>
}

// Label is one label chip.
type Label struct{ Key, Value string }

// NewImageRows formats images for the table; now anchors the relative times.
func NewImageRows(images []cloud.Image, now time.Time) []ImageRow {
	rows := make([]ImageRow, len(images))
	for i, img := range images {
		rows[i] = NewImageRow(img, now)
	}
	return rows
}

// NewImageRow formats one image. Desktop images have a storage size instead
// of a size; the table shows whichever the service has.
func NewImageRow(img cloud.Image, now time.Time) ImageRow {
	size := img.Size
	if size == 0 {
		size = img.StorageSize
	}
	r := ImageRow{
		ID:          img.ID,
		Name:        img.Name,
		Description: img.Description,
		Family:      img.Family,
		Status:      img.Status,
		OS:          img.OS,
		Size:        GiB(size),
		MinDisk:     GiB(img.MinDiskSize),
	}
	for _, k := range slices.Sorted(maps.Keys(img.Labels)) {
		r.Labels = append(r.Labels, Label{Key: k, Value: img.Labels[k]})
	}
	if !img.CreatedAt.IsZero() {
		r.Created = Ago(img.CreatedAt, now)
		r.CreatedAt = img.CreatedAt.UTC().Format("2006-01-02 15:04:05 MST")
		r.CreatedISO = img.CreatedAt.UTC().Format(time.RFC3339)
	}
	return r
}

// GiB formats a byte count in GiB with at most one decimal ("" for zero).
func GiB(bytes int64) string {
	if bytes <= 0 {
		return ""
	}
	g := float64(bytes) / (1 << 30)
	if g < 0.1 {
		return "< 0.1 GiB"
	}
	s := strconv.FormatFloat(g, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + " GiB"
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
		return fmt.Sprintf("%d %ss ago", n, name)
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
	case "CREATING", "DELETING", "UPDATING":
		return true
	}
	return false
}

// badgeClass is the CSS class of a status; unknown statuses get the neutral look.
func badgeClass(status string) string {
	switch status {
	case "READY", "ACTIVE", "CREATING", "UPDATING", "DELETING", "ERROR":
		return "badge-" + strings.ToLower(status)
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
}
