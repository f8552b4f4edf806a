package views

import (
	"net/url"
	"slices"
	"strconv"

	"github.com/imagedash/imagedash/cloud"
)

// Defaults of the image list; a URL leaves them out.
const (
	DefaultSort  = "created_at"
	DefaultDesc  = true
	DefaultLimit = 50
	// MaxTextLength bounds every free-text parameter (search text, a label
	// filter, a family): longer is a 400.
	MaxTextLength = 200
)

// PageSizes are the page sizes a person can pick.
var PageSizes = []int{25, 50, 100, 200}

// ImageFilter is the whole state of the image list, as the URL carries it:
// which images (service, folders, filters), in which order, and which page.
// Handlers parse it from the query; views turn it back into URLs, so the
// two ends always agree on parameter names.
type ImageFilter struct {
	Service cloud.Service
	// Folders limits the list to these folders; empty means all folders.
	Folders  []string
	Text     string
	Statuses []string
	Families []string
	OS       string
	// Labels are "key=value" (that value) or "key" (any value).
	Labels []string
	// Sort is a column's sort key (see Column.Sort); "" means DefaultSort
	// in its default direction, whatever Desc says.
	Sort  string
	Desc  bool
	Limit int // 0 means DefaultLimit
	// After and Before are the store's keyset cursors; Start is the 1-based
	// position of the page's first row, carried along for the row count.
	After, Before string
	Start         int
}

// Query is the canonical query string of f: defaults left out, keys sorted
// (url.Values.Encode), so equal states have equal URLs.
func (f ImageFilter) Query() url.Values {
	v := url.Values{}
	v.Set("service", string(f.Service))
	for _, id := range f.Folders {
		v.Add("folder", id)
	}
	if f.Text != "" {
		v.Set("q", f.Text)
	}
	for _, s := range f.Statuses {
		v.Add("status", s)
	}
	for _, s := range f.Families {
		v.Add("family", s)
	}
	if f.OS != "" {
		v.Set("os", f.OS)
	}
	for _, l := range f.Labels {
		v.Add("label", l)
	}
	if sort, desc := f.SortKey(), f.Descending(); sort != DefaultSort || desc != DefaultDesc {
		v.Set("sort", sort)
		v.Set("dir", dirName(desc))
	}
	if f.Limit != 0 && f.Limit != DefaultLimit {
		v.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.After != "" {
		v.Set("after", f.After)
	}
	if f.Before != "" {
		v.Set("before", f.Before)
	}
	if f.Start > 1 {
		v.Set("start", strconv.Itoa(f.Start))
	}
	return v
}

func dirName(desc bool) string {
	if desc {
		return "desc"
	}
	return "asc"
}

// URL is the address of the image list in state f: "/?" and Query's
// encoding (keys sorted, as url.Values.Encode does). It is written
// directly, not through url.Values, because a page of the list makes a
// few dozen of these (sort links, chips, paging) on every request.
func (f ImageFilter) URL() string {
	b := make([]byte, 0, 128)
	b = append(b, "/?"...)
	add := func(k, v string) {
		if len(b) > 2 {
			b = append(b, '&')
		}
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, url.QueryEscape(v)...)
	}
	sorted := f.SortKey() != DefaultSort || f.Descending() != DefaultDesc
	// In key order: after, before, dir, family, folder, label, limit, os,
	// q, service, sort, start, status.
	if f.After != "" {
		add("after", f.After)
	}
	if f.Before != "" {
		add("before", f.Before)
	}
	if sorted {
		add("dir", dirName(f.Descending()))
	}
	for _, s := range f.Families {
		add("family", s)
	}
	for _, id := range f.Folders {
		add("folder", id)
	}
	for _, l := range f.Labels {
		add("label", l)
	}
	if f.Limit != 0 && f.Limit != DefaultLimit {
		add("limit", strconv.Itoa(f.Limit))
	}
	if f.OS != "" {
		add("os", f.OS)
	}
	if f.Text != "" {
		add("q", f.Text)
	}
	add("service", string(f.Service))
	if sorted {
		add("sort", f.SortKey())
	}
	if f.Start > 1 {
		add("start", strconv.Itoa(f.Start))
	}
	for _, s := range f.Statuses {
		add("status", s)
	}
	return string(b)
}

// SortKey is the sort in effect.
func (f ImageFilter) SortKey() string {
	if f.Sort == "" {
		return DefaultSort
	}
	return f.Sort
}

// Descending reports whether the order in effect is descending.
func (f ImageFilter) Descending() bool {
	if f.Sort == "" {
		return DefaultDesc
	}
	return f.Desc
}

// PageSize is the page size in effect.
func (f ImageFilter) PageSize() int {
	if f.Limit == 0 {
		return DefaultLimit
	}
	return f.Limit
}

// FirstPage is f without its paging cursors.
func (f ImageFilter) FirstPage() ImageFilter {
	f.After, f.Before, f.Start = "", "", 0
	return f
}

// clone copies the slices, so that changing the copy leaves f alone.
func (f ImageFilter) clone() ImageFilter {
	f.Folders = slices.Clone(f.Folders)
	f.Statuses = slices.Clone(f.Statuses)
	f.Families = slices.Clone(f.Families)
	f.Labels = slices.Clone(f.Labels)
	return f
}

// Filtered reports whether any filter narrows the list (folders and the
// service are the scope, not filters).
func (f ImageFilter) Filtered() bool {
	return f.Text != "" || len(f.Statuses) > 0 || len(f.Families) > 0 || f.OS != "" || len(f.Labels) > 0
}

// Cleared is f with every filter removed, on its first page; the scope,
// order and page size stay.
func (f ImageFilter) Cleared() ImageFilter {
	f = f.FirstPage().clone()
	f.Text, f.Statuses, f.Families, f.OS, f.Labels = "", nil, nil, "", nil
	return f
}

// SortedBy is the first page of f sorted by key: the other direction when f
// is already sorted by key, otherwise the column's natural direction (newest
// and largest first for times and sizes, A to Z for text).
func (f ImageFilter) SortedBy(key string, numeric bool) ImageFilter {
	f = f.FirstPage()
	if f.SortKey() == key {
		f.Desc = !f.Descending()
	} else {
		f.Desc = numeric
	}
	f.Sort = key
	return f
}

// WithFamily is the first page of f filtered to one family.
func (f ImageFilter) WithFamily(fam string) ImageFilter {
	f = f.FirstPage().clone()
	f.Families = []string{fam}
	return f
}

// Param is one query parameter, for hidden form fields.
type Param struct{ Name, Value string }

// Hidden is the state of f as hidden form fields, for a form that sets the
// named parameters itself (and so leaves them out). Cursors are never
// carried: submitting a form starts on the first page.
func (f ImageFilter) Hidden(set ...string) []Param {
	var out []Param
	q := f.FirstPage().Query()
	for _, name := range []string{"service", "folder", "q", "status", "family", "os", "label", "sort", "dir", "limit"} {
		if slices.Contains(set, name) {
			continue
		}
		for _, v := range q[name] {
			out = append(out, Param{name, v})
		}
	}
	return out
}

// Chip is an active filter, shown with a link that removes it.
type Chip struct {
	Kind   string // "text", "status", "family", "os", "label"
	Label  string
	Remove string // the URL without this filter
}

// Chips are f's active filters, each with the URL of f without it.
func (f ImageFilter) Chips() []Chip {
	var out []Chip
	base := f.FirstPage()
	if f.Text != "" {
		g := base.clone()
		g.Text = ""
		out = append(out, Chip{"text", "“" + f.Text + "”", g.URL()})
	}
	for _, s := range f.Statuses {
		g := base.clone()
		g.Statuses = slices.DeleteFunc(g.Statuses, func(x string) bool { return x == s })
		out = append(out, Chip{"status", "status: " + StatusTitle(s), g.URL()})
	}
	for _, s := range f.Families {
		g := base.clone()
		g.Families = slices.DeleteFunc(g.Families, func(x string) bool { return x == s })
		out = append(out, Chip{"family", "family: " + s, g.URL()})
	}
	if f.OS != "" {
		g := base.clone()
		g.OS = ""
		out = append(out, Chip{"os", "OS: " + f.OS, g.URL()})
	}
	for _, l := range f.Labels {
		g := base.clone()
		g.Labels = slices.DeleteFunc(g.Labels, func(x string) bool { return x == l })
		out = append(out, Chip{"label", "label: " + l, g.URL()})
	}
	return out
}

// FamiliesURL is the address of the families view of a service in some
// folders (all when none).
func FamiliesURL(svc cloud.Service, folders []string) string {
	v := url.Values{}
	v.Set("service", string(svc))
	for _, id := range folders {
		v.Add("folder", id)
	}
	return "/families?" + v.Encode()
}

// ImageURL is the address of an image's detail page.
func ImageURL(svc cloud.Service, id string) string {
	return "/images/" + url.PathEscape(string(svc)) + "/" + url.PathEscape(id)
}
