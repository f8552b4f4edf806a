package views

import (
	"strconv"

	"github.com/imagedash/imagedash/cloud"
)

// ImagesPage is the image list: one page of one service's images in some
// folders, filtered and sorted as the URL says.
type ImagesPage struct {
	Nav    Nav
	Filter ImageFilter
	// Columns are the service's columns; Sort is "" on those the store
	// cannot sort by.
	Columns []Column
	Rows    []ImageRow
	// FolderNames are the folders the viewer may see, id → name (the id
	// when it has none), for the Folder column; a row of any other folder
	// shows none.
	FolderNames map[string]string
	// Total counts the matching images on all pages; Start is the 1-based
	// position of the first row.
	Total int
	Start int
	// PrevURL and NextURL are the neighbouring pages; "" when there is none.
	PrevURL, NextURL string
	Statuses         []Option
	Families         []Option
	Freshness        Freshness
	// Banner is shown above the content: the cloud could not be reached by
	// the last sync (the rows are the cached ones).
	Banner string
	// Cache says what an empty table means: CacheEmpty (no folder shown
	// was synced yet) or CacheReady.
	Cache CacheState
	// Prefs are the viewer's density, hidden columns and times (Columns
	// are already without the hidden ones).
	Prefs ListPrefs
}

// CacheState is how far the cache of the folders shown has come.
type CacheState int

const (
	// CacheReady: every folder shown was synced at least once.
	CacheReady CacheState = iota
	// CacheSyncing: some folder shown was never synced; the first sync is
	// under way (or about to start).
	CacheSyncing
	// CacheLoading: the dashboard has just started and is still reading
	// its cache into memory (a large cache loads after the listener is up,
	// so no page waits on it).
	CacheLoading
)

// Polls reports whether the page is waiting for images to appear: its
// empty table asks again every two seconds.
func (c CacheState) Polls() bool { return c == CacheSyncing || c == CacheLoading }

// state is the data-state of the waiting table.
func (c CacheState) state() string {
	if c == CacheLoading {
		return "loading"
	}
	return "syncing"
}

// Option is one choice of a filter, with the number of images it would show.
type Option struct {
	Value    string
	Label    string
	Count    int
	Selected bool
}

// Text is the option as shown: its label and, when known, the count.
func (o Option) Text() string {
	if o.Count < 0 {
		return o.Label
	}
	return o.Label + " (" + Count(o.Count) + ")"
}

// Layout is the layout data of the page.
func (p ImagesPage) Layout() Layout {
	title := p.Nav.Service.Title() + " images"
	if p.Filter.Text != "" {
		title = "“" + p.Filter.Text + "” in " + title
	}
	return Layout{Title: title, Nav: p.Nav, Banner: p.Banner}
}

// Title is the document title, also sent with partials so history entries
// are named after their state.
func (p ImagesPage) Title() string { return PageTitle(p.Layout().Title) }

// PageTitle is a page's <title>.
func PageTitle(t string) string {
	if t == "" {
		return AppName
	}
	return t + " · " + AppName
}

// CountText is "1–50 of 12 345", "No images", or "Loading…" while the
// cache is read into memory (there may be many).
func (p ImagesPage) CountText() string {
	if p.Cache == CacheLoading {
		return "Loading…"
	}
	if p.Total == 0 || len(p.Rows) == 0 {
		return "No images"
	}
	if p.Start <= 0 { // a bookmarked page whose position is unknown
		return Count(len(p.Rows)) + " of " + Count(p.Total)
	}
	start := p.Start
	end := start + len(p.Rows) - 1
	return Count(start) + "–" + Count(end) + " of " + Count(p.Total)
}

// SortState is how a column is sorted now: "ascending", "descending" or
// "none" (the aria-sort values).
func (p ImagesPage) SortState(c Column) string {
	if c.Sort == "" || p.Filter.SortKey() != c.Sort {
		return "none"
	}
	if p.Filter.Descending() {
		return "descending"
	}
	return "ascending"
}

// SortArrow is the arrow shown by a sorted column's title.
func (p ImagesPage) SortArrow(c Column) string {
	switch p.SortState(c) {
	case "ascending":
		return "▲"
	case "descending":
		return "▼"
	}
	return ""
}

// SortURL is the address that sorts by c (or flips its order).
func (p ImagesPage) SortURL(c Column) string {
	return p.Filter.SortedBy(c.Sort, c.Numeric).URL()
}

// LabelBase is the URL that label links add a label parameter to.
func (p ImagesPage) LabelBase() string { return p.Filter.FirstPage().URL() }

// HasFamilies reports whether the family and OS filters apply.
func (p ImagesPage) HasFamilies() bool { return HasFamilies(p.Nav.Service) }

// OSOptions are the choices of the OS filter.
func (p ImagesPage) OSOptions() []Option {
	out := []Option{{Value: "", Label: "Any OS", Count: -1}}
	for _, os := range []string{"LINUX", "WINDOWS"} {
		out = append(out, Option{Value: os, Label: StatusTitle(os), Count: -1, Selected: p.Filter.OS == os})
	}
	return out
}

// PageSizeOptions are the choices of the page size.
func (p ImagesPage) PageSizeOptions() []Option {
	out := make([]Option, len(PageSizes))
	for i, n := range PageSizes {
		out[i] = Option{Value: strconv.Itoa(n), Label: strconv.Itoa(n), Count: -1, Selected: p.Filter.PageSize() == n}
	}
	return out
}

// PollURL is the address the empty table polls while the first sync runs.
func (p ImagesPage) PollURL() string { return p.Filter.URL() }

// ScopeText names what the list covers: "this folder", "3 folders", "all folders".
func (p ImagesPage) ScopeText() string {
	switch n := len(p.Filter.Folders); n {
	case 0:
		return "any folder"
	case 1:
		return "this folder"
	default:
		return strconv.Itoa(n) + " folders"
	}
}

// Freshness says how fresh the cache behind a page is, per folder.
type Freshness struct {
	Service cloud.Service
	// FolderIDs are the folders shown (none: all), for the poll and the
	// Refresh form.
	FolderIDs []string
	// Summary is "synced 20 s ago", "not synced yet"...; SummaryTitle is
	// the exact time.
	Summary      string
	SummaryTitle string
	// Problem is the last sync's failure, "Unavailable, 2 min ago"; "" when
	// every folder shown synced fine.
	Problem string
	Syncing bool
	Folders []FolderFreshness
	// PollURL, when set, makes the freshness line poll itself until the
	// sync it waits for is done.
	PollURL string
	// Return is where the Refresh form leads back to without JavaScript.
	Return string
	// CanRefresh shows the Refresh button.
	CanRefresh bool
}

// FolderFreshness is the sync state of one folder of one service.
type FolderFreshness struct {
	Name    string
	Synced  string // "synced 20 s ago" or "never synced"
	Title   string // exact time of the last success
	Count   int
	Problem string // "Unavailable, 2 min ago"; "" when the last sync succeeded
}
