package views

import (
	"slices"

	"github.com/imagedash/imagedash/cloud"
)

// The list preferences form: where it posts, its id, and the event its
// answer raises so the table re-renders itself (with the URL's filters)
// in the chosen columns and density.
const (
	PrefsURL    = "/account/preferences"
	PrefsFormID = "prefs-form"
	PrefsEvent  = "imagedash:prefs"
)

// Densities of the image table, as the form and the table name them.
const (
	DensityComfortable = "comfortable"
	DensityCompact     = "compact"
)

// ListPrefs is how the viewer likes the image lists: their stored
// preferences, in the views' terms. The zero value is the defaults.
type ListPrefs struct {
	Compact bool
	// Hidden are the keys of the optional columns hidden.
	Hidden []string
	// Absolute shows times as dates, the relative time on hover.
	Absolute bool
}

// Density names the density, as the table's data-density says it.
func (p ListPrefs) Density() string {
	if p.Compact {
		return DensityCompact
	}
	return DensityComfortable
}

// AlwaysShown reports whether a column cannot be hidden: an image's name
// and status are what a row is.
func AlwaysShown(key string) bool { return key == colName.Key || key == colStatus.Key }

// extraColumns are optional columns no service's table has yet but that a
// person may already hide: the folder column (issue 17, item 6) is added
// to the tables by another change; once ColumnsOf has it, its definition
// there is the one used.
func extraColumns() []Column { return []Column{{Key: "folder", Title: "Folder"}} }

// OptionalColumns are the columns a person may hide: every service's
// columns but name and status, each once, in the tables' order. The set is
// derived from ColumnsOf, so a column added there can be chosen at once.
func OptionalColumns() []Column {
	var out []Column
	add := func(c Column) {
		if AlwaysShown(c.Key) || slices.ContainsFunc(out, func(o Column) bool { return o.Key == c.Key }) {
			return
		}
		out = append(out, c)
	}
	for _, svc := range cloud.Services {
		for _, c := range ColumnsOf(svc) {
			add(c)
		}
	}
	for _, c := range extraColumns() {
		add(c)
	}
	return out
}

// OptionalColumn reports whether key names a column a person may hide.
func OptionalColumn(key string) bool {
	return slices.ContainsFunc(OptionalColumns(), func(c Column) bool { return c.Key == key })
}

// ShownColumns are cols without the hidden ones; name and status always
// stay. It returns a new slice.
func ShownColumns(cols []Column, hidden []string) []Column {
	out := make([]Column, 0, len(cols))
	for _, c := range cols {
		if AlwaysShown(c.Key) || !slices.Contains(hidden, c.Key) {
			out = append(out, c)
		}
	}
	return out
}

// AbsoluteTimes makes rows show their creation time as a date, with the
// relative time on hover (the default is the other way round). rows must
// be the request's own (they are changed in place).
func AbsoluteTimes(rows []ImageRow) {
	for i := range rows {
		r := &rows[i]
		if r.CreatedISO != "" {
			r.Created, r.CreatedAt = r.CreatedAt, r.Created
		}
	}
}

// ColumnChoice is one column of the chooser.
type ColumnChoice struct {
	Key, Title string
	Shown      bool
	// Fixed columns (name, status) are shown ticked and cannot be unticked.
	Fixed bool
}

// PrefsForm is the "Columns" menu of a list: the columns of the service's
// table with a box each, the density and the times.
type PrefsForm struct {
	Service cloud.Service
	// Return is the list the menu is on (its filters), where the form
	// leads back to without JavaScript and what the table reloads.
	Return   string
	Choices  []ColumnChoice
	Compact  bool
	Absolute bool
	// Errors are the messages by field: "col", "density", "times".
	Errors map[string]string
}

// NewPrefsForm is the menu of a service's list at ret for prefs.
func NewPrefsForm(svc cloud.Service, ret string, prefs ListPrefs) PrefsForm {
	cols := ColumnsOf(svc)
	f := PrefsForm{Service: svc, Return: ret, Compact: prefs.Compact, Absolute: prefs.Absolute, Choices: make([]ColumnChoice, 0, len(cols))}
	for _, c := range cols {
		fixed := AlwaysShown(c.Key)
		f.Choices = append(f.Choices, ColumnChoice{Key: c.Key, Title: c.Title, Fixed: fixed,
			Shown: fixed || !slices.Contains(prefs.Hidden, c.Key)})
	}
	return f
}

// PrefsForm is the list's "Columns" menu.
func (p ImagesPage) PrefsForm() PrefsForm {
	return NewPrefsForm(p.Nav.Service, p.Filter.URL(), p.Prefs)
}

// TableClass is the image table's class: striped, and compact when the
// viewer chose it.
func (p ImagesPage) TableClass() string {
	if p.Prefs.Compact {
		return "striped compact"
	}
	return "striped"
}

// columnsCSS styles the "Columns" menu and the compact density.
const columnsCSS = "columns.css"
