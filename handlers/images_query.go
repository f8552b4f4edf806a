package handlers

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/rules"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// Limits on the list's query, beyond each value's own rule.
const (
	// maxValues bounds the values of one repeated parameter (folders,
	// statuses, families, labels).
	maxValues = 50
	// maxCursor bounds a paging cursor.
	maxCursor = 4096
)

// statuses are the image statuses of the three APIs.
var statuses = []string{"CREATING", "READY", "ACTIVE", "ERROR", "DELETING", "UPDATING"}

// badRequest is a 400 with a message for people (shown as a page or a toast).
func badRequest(format string, args ...any) error {
	return fault.New(fault.BadRequest, fmt.Sprintf(format, args...))
}

// parseService reads a service name; "" is Compute.
func parseService(s string) (cloud.Service, error) {
	svc := cloud.Service(s)
	if svc == "" {
		svc = cloud.Compute
	}
	if !svc.Valid() {
		return svc, badRequest("Unknown service %q: choose compute, desktop or baremetal.", truncate(s))
	}
	return svc, nil
}

// parseFolders reads the folder ids (none means all folders).
func parseFolders(vals []string) ([]string, error) {
	ids, err := values("folder", vals)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if vs := rules.ID("folder", id, true); len(vs) > 0 {
			return nil, badRequest("Bad folder id: %s.", vs[0].Error())
		}
	}
	return ids, nil
}

// values are the non-empty values of a repeated parameter, without
// duplicates, each at most views.MaxTextLength characters.
func values(name string, vals []string) ([]string, error) {
	var out []string
	for _, v := range vals {
		if v == "" || slices.Contains(out, v) {
			continue
		}
		if err := checkText(name, v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if len(out) > maxValues {
		return nil, badRequest("Too many %s filters: at most %d.", name, maxValues)
	}
	return out, nil
}

// checkText rejects free text over views.MaxTextLength characters.
func checkText(name, v string) error {
	if n := utf8.RuneCountInString(v); n > views.MaxTextLength {
		return badRequest("The %s is too long: at most %d characters, got %d.", name, views.MaxTextLength, n)
	}
	if !utf8.ValidString(v) {
		return badRequest("The %s is not valid UTF-8 text.", name)
	}
	return nil
}

// truncate shortens a bad value quoted back in an error message.
func truncate(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:40]) + "…"
}

// parseLabel reads a label filter: "key=value" or "key".
func parseLabel(s string) (store.LabelFilter, error) {
	k, v, hasValue := strings.Cut(s, "=")
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	if vs := rules.Label("label", k, v); len(vs) > 0 {
		return store.LabelFilter{}, badRequest("Bad label filter %q: %s. Write key=value, or key for any value.", truncate(s), vs[0].Message)
	}
	return store.LabelFilter{Key: k, Value: v, AnyValue: !hasValue}, nil
}

// sortable reports whether the table of svc can be sorted by key, and
// whether the column is numeric.
func sortable(svc cloud.Service, key string) (ok, numeric bool) {
	for _, c := range views.ColumnsOf(svc) {
		if c.Sort == key && store.ValidSort(key) {
			return true, c.Numeric
		}
	}
	return false, false
}

// columns are svc's columns, unsortable where the store cannot sort.
func columns(svc cloud.Service) []views.Column {
	cols := views.ColumnsOf(svc)
	for i, c := range cols {
		if c.Sort != "" && !store.ValidSort(c.Sort) {
			cols[i].Sort = ""
		}
	}
	return cols
}

// sortKeys lists the sort keys of svc, for an error message.
func sortKeys(svc cloud.Service) string {
	var keys []string
	for _, c := range columns(svc) {
		if c.Sort != "" {
			keys = append(keys, c.Sort)
		}
	}
	return strings.Join(keys, ", ")
}

// parseImageFilter reads the image list's state from its query, checking
// every value; a bad one is a 400 that says which and why.
func parseImageFilter(q url.Values) (views.ImageFilter, error) {
	var (
		f   views.ImageFilter
		err error
	)
	if f.Service, err = parseService(q.Get("service")); err != nil {
		return f, err
	}
	if f.Folders, err = parseFolders(q["folder"]); err != nil {
		return f, err
	}
	f.Text = q.Get("q")
	if err := checkText("search text", f.Text); err != nil {
		return f, err
	}
	if f.Statuses, err = values("status", q["status"]); err != nil {
		return f, err
	}
	for _, s := range f.Statuses {
		if !slices.Contains(statuses, s) {
			return f, badRequest("Unknown status %q: choose one of %s.", truncate(s), strings.Join(statuses, ", "))
		}
	}
	if f.Families, err = values("family", q["family"]); err != nil {
		return f, err
	}
	for _, fam := range f.Families {
		if vs := rules.Family("family", fam); len(vs) > 0 {
			return f, badRequest("Bad family %q: %s.", truncate(fam), vs[0].Message)
		}
	}
	switch f.OS = q.Get("os"); f.OS {
	case "", "LINUX", "WINDOWS":
	default:
		return f, badRequest("Unknown OS %q: choose LINUX or WINDOWS.", truncate(f.OS))
	}
	if f.Labels, err = values("label filter", q["label"]); err != nil {
		return f, err
	}
	labels := f.Labels[:0]
	for _, l := range f.Labels {
		lf, err := parseLabel(l)
		if err != nil {
			return f, err
		}
		if l = labelString(lf); !slices.Contains(labels, l) { // canonical: trimmed
			labels = append(labels, l)
		}
	}
	f.Labels = labels

	if s := q.Get("sort"); s != "" {
		ok, numeric := sortable(f.Service, s)
		if !ok {
			return f, badRequest("Cannot sort %s images by %q: choose one of %s.", f.Service.Title(), truncate(s), sortKeys(f.Service))
		}
		f.Sort, f.Desc = s, numeric
	}
	switch d := q.Get("dir"); d {
	case "":
	case "asc", "desc":
		f.Sort, f.Desc = f.SortKey(), d == "desc"
	default:
		return f, badRequest("Unknown sort direction %q: choose asc or desc.", truncate(d))
	}
	if f.Sort == views.DefaultSort && f.Desc == views.DefaultDesc {
		f.Sort, f.Desc = "", false // the default order, canonically
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || !slices.Contains(views.PageSizes, n) {
			return f, badRequest("Unknown page size %q: choose 25, 50, 100 or 200.", truncate(l))
		}
		// The default size canonically as 0, as the URL leaves it out: the
		// canonical URL must parse back to the same filter (FuzzImageFilter).
		if n != views.DefaultLimit {
			f.Limit = n
		}
	}
	f.After, f.Before = q.Get("after"), q.Get("before")
	switch {
	case f.After != "" && f.Before != "":
		return f, badRequest("A page cannot start both after and before a row: drop one of after and before.")
	case len(f.After) > maxCursor || len(f.Before) > maxCursor:
		return f, badRequest("The paging cursor is too long; start again from the first page.")
	}
	if s := q.Get("start"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return f, badRequest("Bad start %q: it counts rows from 1.", truncate(s))
		}
		// start=1 is left out of the URL (views.ImageFilter.Query), so it is
		// 0 here too: otherwise the canonical URL of after=…&start=1 would
		// lose the count the page was shown with (FuzzImageFilter).
		if n > 1 {
			f.Start = n
		}
	}
	// Last, so that a search over the bounds comes back with the rest of
	// the filter read (the list shows it without the search).
	return f, checkSearch(f.Text)
}

// labelString is a label filter as the URL carries it.
func labelString(l store.LabelFilter) string {
	if l.AnyValue {
		return l.Key
	}
	return l.Key + "=" + l.Value
}

// canonicalList is the canonical form of an image list address, "" when it
// is not one (another path, a bad query).
func canonicalList(raw string) string {
	u, err := parseURL(raw)
	if err != nil || (u.Path != "/" && u.Path != "") {
		return ""
	}
	f, err := parseImageFilter(u.Query())
	if err != nil {
		return ""
	}
	return f.URL()
}

// storeQuery is the store's query for f.
func storeQuery(f views.ImageFilter) store.ImageQuery {
	q := store.ImageQuery{
		Service:   f.Service,
		FolderIDs: f.Folders,
		Text:      f.Text,
		Statuses:  f.Statuses,
		Families:  f.Families,
		OS:        f.OS,
		Sort:      f.SortKey(),
		Desc:      f.Descending(),
		Limit:     f.PageSize(),
		After:     f.After,
		Before:    f.Before,
	}
	for _, l := range f.Labels {
		lf, _ := parseLabel(l) // checked by parseImageFilter
		q.Labels = append(q.Labels, lf)
	}
	return q
}

// parseURL parses an address htmx reports (HX-Current-URL).
func parseURL(raw string) (*url.URL, error) { return url.Parse(raw) }
