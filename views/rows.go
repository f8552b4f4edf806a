package views

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"sync"

	"github.com/a-h/templ"
)

// The image table's rows are the hot path of the list (50–200 rows of up to
// a dozen cells each, on every filter, sort and page change), so they are
// written here in Go rather than through templ: a templ component costs a
// closure, context lookups and allocations per call, and rendering the rows
// with templ (rowsTempl in rows.templ) took a 50-row partial from 1 126 to
// 4 970 allocations and 80 to 180 KB allocated, and about doubled its time
// (BenchmarkListPartialOne, issue 18).
//
// The markup of the badge, the copyable id, the time and the folder link
// is not written here: it comes from the templ components (Badge, CopyID,
// timeView, folderCell), rendered once — a badge per status at start, the
// id and time components once with marked holes that each row's escaped
// values fill (fragment), a folder's cell once per page. What is written
// here (the row, the name, the plain cells, the label chips) must equal
// rowsTempl byte for byte: TestRowsWriterEqualsTempl.
//
// The rows are appended to one pooled byte slice and written at once: no
// interface call or error check per fragment, and what is the same on every
// row of a page (the label links' base, a status's badge) is escaped or
// built once.

// imageRows renders the rows of the image table. labelBase is the first-page
// URL of the list that each label chip adds its label to; computed once per
// page, not per chip. folders are the folders the viewer may see (id → name)
// for the Folder column, whose links narrow list (its first page) to one.
func imageRows(cols []Column, rows []ImageRow, labelBase string, list ImageFilter, folders map[string]string) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		bp := rowBufs.Get().(*[]byte)
		defer rowBufs.Put(bp)
		fl := folderLinks{names: folders, list: list}
		b := appendRows((*bp)[:0], cols, rows, labelBase, &fl)
		*bp = b
		_, err := w.Write(b)
		return err
	})
}

// rowBufs are the buffers rows are built in (a page of 50 rows is about
// 60 KB).
var rowBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, 64<<10)
	return &b
}}

// appendRows appends the rows' markup to b.
func appendRows(b []byte, cols []Column, rows []ImageRow, labelBase string, fl *folderLinks) []byte {
	// Every chip's link is the base plus its label: escape the base once.
	chipHref := appendText(make([]byte, 0, len(labelBase)+16), labelBase)
	chipHref = append(chipHref, "&amp;label="...)
	for i := range rows {
		b = appendRow(b, cols, &rows[i], chipHref, fl)
	}
	return b
}

// folderLinks makes the Folder column's cells: the folder's name, linking
// to the list narrowed to that folder (the folder picker's filter, with the
// rest of the list's state kept). A page has rows of a few folders, so each
// folder's cell is built once and copied into its rows.
type folderLinks struct {
	// names are the folders the viewer may see, id → name (the id when the
	// folder has none). A folder not among them is never named or linked.
	names map[string]string
	list  ImageFilter
	cells map[string][]byte
}

// link is the name and list address of the Folder cell of a row in folder
// id; no address for a folder the viewer may not see.
func (l *folderLinks) link(id string) (name, href string) {
	name, ok := l.names[id]
	if !ok || id == "" {
		return "", ""
	}
	f := l.list.FirstPage().clone()
	f.Folders = []string{id}
	return name, f.URL()
}

// cell is the Folder cell of a row in folder id: folderCell, made once per
// folder and page.
func (l *folderLinks) cell(id string) []byte {
	if c, ok := l.cells[id]; ok {
		return c
	}
	c := noFolder
	if name, href := l.link(id); href != "" {
		c = folderMarkup.append(nil, name, href)
	}
	if l.cells == nil {
		l.cells = make(map[string][]byte, 4)
	}
	l.cells[id] = c
	return c
}

// htmlEscapes are the replacements of the bytes html.EscapeString escapes.
var htmlEscapes = [256]string{'&': "&amp;", '\'': "&#39;", '<': "&lt;", '>': "&gt;", '"': "&#34;"}

// appendText appends s escaped for text or a quoted attribute value, as
// html.EscapeString (and so templ) does.
func appendText(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		if rep := htmlEscapes[s[i]]; rep != "" {
			b = append(b, s[last:i]...)
			b = append(b, rep...)
			last = i + 1
		}
	}
	return append(b, s[last:]...)
}

// appendQuery appends url.QueryEscape(s), escaped for an attribute (a query
// escape leaves only "%", "+" and unreserved characters, none of which
// HTML escapes), without allocating when s needs no escaping.
func appendQuery(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~') {
			return append(b, url.QueryEscape(s)...)
		}
	}
	return append(b, s...)
}

// queryEscape is url.QueryEscape for the label chips of rowsTempl.
func queryEscape(s string) string { return string(appendQuery(nil, s)) }

func appendRow(b []byte, cols []Column, r *ImageRow, chipHref []byte, fl *folderLinks) []byte {
	b = append(b, `<tr data-testid="image-row" data-id="`...)
	b = appendText(b, r.ID)
	b = append(b, '"')
	// The forms the viewer may open from the row, for the keyboard
	// shortcuts (static/keys.js); the handlers check the role again.
	if r.CopyURL != "" {
		b = append(b, ` data-copy-url="`...)
		b = appendText(b, r.CopyURL)
		b = append(b, '"')
	}
	if r.EditURL != "" {
		b = append(b, ` data-edit-url="`...)
		b = appendText(b, r.EditURL)
		b = append(b, '"')
	}
	// The selection box belongs to the bulk form (BulkBar) by its form
	// attribute: a form cannot hold the table's other forms.
	b = append(b, `><td class="select"><input type="checkbox" name="id" form="`+BulkFormID+`" value="`...)
	b = appendText(b, r.ID)
	b = append(b, `" aria-label="Select `...)
	b = appendText(b, dash(r.Name))
	b = append(b, `" data-testid="select-row">`...)
	if r.OpID != 0 {
		// An operation is in flight on this image: its badge loads at once
		// and then polls itself until the operation ends.
		b = append(b, `<span class="op-slot" hx-get="/operations/`...)
		b = strconv.AppendInt(b, r.OpID, 10)
		b = append(b, `/badge" hx-trigger="load" hx-swap="outerHTML" hx-disinherit="*" data-testid="op-slot"></span>`...)
	}
	b = append(b, `</td>`...)
	for i := range cols {
		if cols[i].Key == "folder" {
			b = append(b, fl.cell(r.FolderID)...)
			continue
		}
		b = appendCell(b, cols[i].Key, r, chipHref)
	}
	return append(b, `</tr>`...)
}

// appendNumCell appends a right-aligned cell.
func appendNumCell(b []byte, testid, v string) []byte {
	b = append(b, `<td class="num" data-testid="`...)
	b = append(b, testid...)
	b = append(b, `">`...)
	b = appendText(b, dash(v))
	return append(b, `</td>`...)
}

func appendCell(b []byte, key string, r *ImageRow, chipHref []byte) []byte {
	switch key {
	case "name":
		b = append(b, `<td><a class="name" href="`...)
		b = appendText(b, r.URL)
		b = append(b, `" data-testid="name">`...)
		b = appendText(b, dash(r.Name))
		b = append(b, `</a>`...)
		if r.Description != "" {
			b = append(b, ` <span class="desc" data-testid="description" title="`...)
			b = appendText(b, r.Description)
			b = append(b, `">`...)
			b = appendText(b, r.Description)
			b = append(b, `</span>`...)
		}
		return append(b, `</td>`...)
	case "id":
		b = append(b, `<td class="id">`...)
		b = appendCopyID(b, r.ID)
		return append(b, `</td>`...)
	case "family":
		b = append(b, `<td class="nowrap" data-testid="family">`...)
		b = appendText(b, dash(r.Family))
		return append(b, `</td>`...)
	case "status":
		b = append(b, `<td>`...)
		b = appendBadge(b, r.Status)
		return append(b, `</td>`...)
	case "os":
		b = append(b, `<td data-testid="os">`...)
		b = appendText(b, dash(r.OS))
		return append(b, `</td>`...)
	case "size":
		return appendNumCell(b, "size", r.Size)
	case "storage_size":
		return appendNumCell(b, "storage-size", r.StorageSize)
	case "min_disk_size":
		return appendNumCell(b, "min-disk", r.MinDisk)
	case "checksum":
		b = append(b, `<td class="id checksum" data-testid="checksum" title="`...)
		b = appendText(b, r.Checksum)
		b = append(b, `">`...)
		b = appendText(b, dash(r.Checksum))
		return append(b, `</td>`...)
	case "labels":
		b = append(b, `<td class="labels">`...)
		b = appendLabels(b, r.Labels, chipHref)
		return append(b, `</td>`...)
	case "created_at":
		b = append(b, `<td>`...)
		b = appendTime(b, r.Created, r.CreatedAt, r.CreatedISO)
		return append(b, `</td>`...)
	}
	return append(b, `<td></td>`...)
}

// appendLabels is labelLinks: an image's labels as chips, each a (boosted)
// link that adds itself as a filter. chipHref is the escaped link up to the
// label's value ("…&amp;label=").
func appendLabels(b []byte, labels []Label, chipHref []byte) []byte {
	if len(labels) == 0 {
		return append(b, `<span class="muted">—</span>`...)
	}
	// One hint for the row's chips, not one per chip: a page has a few
	// hundred chips, and the partial's size is most of its cost.
	b = append(b, `<span class="chips" title="A label shows the images that have it">`...)
	for _, l := range labels {
		b = append(b, `<a class="chip" href="`...)
		b = append(b, chipHref...)
		b = appendQuery(b, l.Key)
		b = append(b, `%3D`...)
		b = appendQuery(b, l.Value)
		b = append(b, `" data-testid="label">`...)
		b = appendText(b, l.Key)
		b = append(b, '=')
		b = appendText(b, l.Value)
		b = append(b, `</a>`...)
	}
	return append(b, `</span>`...)
}

// appendCopyID appends CopyID(id).
func appendCopyID(b []byte, id string) []byte {
	return copyIDMarkup.append(b, id)
}

// appendBadge appends Badge(status): the known statuses' badges are
// rendered once, any other status (none today) when it comes.
func appendBadge(b []byte, status string) []byte {
	if s, ok := badges[status]; ok {
		return append(b, s...)
	}
	return append(b, markup(Badge(status))...)
}

// appendTime appends timeView(rel, exact, iso).
func appendTime(b []byte, rel, exact, iso string) []byte {
	if iso == "" {
		return append(b, noTime...)
	}
	return timeMarkup.append(b, rel, exact, iso)
}

// The templ components' markup, rendered once when the program starts and
// never changed after.
var (
	// badges are the badges of the statuses the APIs have.
	badges = func() map[string][]byte {
		m := map[string][]byte{}
		for _, st := range []string{"CREATING", "READY", "ACTIVE", "ERROR", "DELETING", "UPDATING"} {
			m[st] = markup(Badge(st))
		}
		return m
	}()
	copyIDMarkup = newFragment(func(v []string) templ.Component { return CopyID(v[0]) }, 1)
	timeMarkup   = newFragment(func(v []string) templ.Component { return timeView(v[0], v[1], v[2]) }, 3)
	noTime       = markup(timeView("", "", ""))
	folderMarkup = newFragment(func(v []string) templ.Component { return folderCell(v[0], v[1]) }, 2)
	noFolder     = markup(folderCell("", ""))
)

// markup is c's markup. The components it renders write to memory and
// check nothing but the context, so an error is a bug: it panics.
func markup(c templ.Component) []byte {
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		panic(fmt.Sprintf("views: markup: %v", err))
	}
	return buf.Bytes()
}

// A fragment is a templ component's markup with holes where its string
// arguments go, so that a row fills it with its values instead of calling
// the component. It is made by rendering the component once with a marker
// byte (0x00, 0x01, …) as each argument: templ escapes a value a byte at a
// time (html.EscapeString), leaving the markers as they are, so the markup
// for any values is the text between the markers with each marker replaced
// by its value, escaped the same way (appendText). It holds only for
// components that write their arguments as escaped text or attribute
// values and do not branch on them (CopyID; timeView when iso is set):
// TestFragmentsEqualTempl renders both ways for hostile values.
type fragment struct {
	text  []string // text[i] comes before hole i; the last after all
	holes []int    // the argument each hole takes
}

// newFragment renders the component that mk makes with n marked arguments
// (n ≤ 9) and cuts its markup at the markers.
func newFragment(mk func([]string) templ.Component, n int) fragment {
	args := make([]string, n)
	for i := range args {
		args[i] = string(rune(i))
	}
	out := markup(mk(args))
	var f fragment
	last := 0
	for i, c := range out {
		if int(c) < n {
			f.text = append(f.text, string(out[last:i]))
			f.holes = append(f.holes, int(c))
			last = i + 1
		}
	}
	f.text = append(f.text, string(out[last:]))
	return f
}

// append appends the fragment's markup for the values vals.
func (f fragment) append(b []byte, vals ...string) []byte {
	for i, h := range f.holes {
		b = append(b, f.text[i]...)
		b = appendText(b, vals[h])
	}
	return append(b, f.text[len(f.text)-1]...)
}

// iconSprite defines the icons once per page (the layout has it); the
// copy button of every row refers to its symbol rather than repeating the
// drawing (a third of a row's bytes).
const iconSprite = `<div hidden><svg aria-hidden="true" focusable="false">` +
	`<symbol id="icon-copy" viewBox="0 0 16 16"><rect x="5" y="5" width="9" height="9" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.5"></rect>` +
	`<path d="M11 5V3.5A1.5 1.5 0 0 0 9.5 2h-6A1.5 1.5 0 0 0 2 3.5v6A1.5 1.5 0 0 0 3.5 11H5" fill="none" stroke="currentColor" stroke-width="1.5"></path></symbol></svg></div>`

// copyIcon is the copy button's icon.
const copyIcon = `<svg width="12" height="12" aria-hidden="true" focusable="false"><use href="#icon-copy"></use></svg>`
