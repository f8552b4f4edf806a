package views

import (
	"bufio"
	"context"
	"io"
	"net/url"

	"github.com/a-h/templ"
)

// The image table's rows are the hot path of the list (50–200 rows of up to
// a dozen cells each, on every filter, sort and page change), so they are
// written here in Go rather than in templ: a templ component costs a closure,
// three context lookups and an fmt.Sprint per expression, which made the
// rows most of a partial's CPU. The markup is the same as the templ
// components it stands for (Badge, CopyID, timeView), and every value is
// escaped exactly as templ escapes it (html.EscapeString).

// imageRows renders the rows of the image table. labelBase is the first-page
// URL of the list that each label chip adds its label to; computed once per
// page, not per chip.
func imageRows(cols []Column, rows []ImageRow, labelBase string) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		hw, flush := newHTMLWriter(w)
		for i := range rows {
			hw.row(cols, &rows[i], labelBase)
		}
		return flush()
	})
}

// htmlWriter writes markup and escaped values, keeping the first error.
type htmlWriter struct {
	w interface {
		io.Writer
		io.StringWriter
	}
	err error
}

func newHTMLWriter(w io.Writer) (*htmlWriter, func() error) {
	if sw, ok := w.(interface {
		io.Writer
		io.StringWriter
	}); ok {
		hw := &htmlWriter{w: sw}
		return hw, func() error { return hw.err }
	}
	bw := bufio.NewWriter(w)
	hw := &htmlWriter{w: bw}
	return hw, func() error {
		if hw.err != nil {
			return hw.err
		}
		return bw.Flush()
	}
}

// raw writes markup as is.
func (h *htmlWriter) raw(s string) {
	if h.err == nil {
		_, h.err = h.w.WriteString(s)
	}
}

// text writes s escaped for text or a quoted attribute value, as
// html.EscapeString (and so templ) does, without allocating.
func (h *htmlWriter) text(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '&':
			rep = "&amp;"
		case '\'':
			rep = "&#39;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '"':
			rep = "&#34;"
		default:
			continue
		}
		h.raw(s[last:i])
		h.raw(rep)
		last = i + 1
	}
	h.raw(s[last:])
}

// queryText writes url.QueryEscape(s), escaped for an attribute (a query
// escape leaves only "%", "+" and unreserved characters, none of which
// HTML escapes), without allocating when s needs no escaping.
func (h *htmlWriter) queryText(s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~') {
			h.raw(url.QueryEscape(s))
			return
		}
	}
	h.raw(s)
}

func (h *htmlWriter) row(cols []Column, r *ImageRow, labelBase string) {
	h.raw(`<tr data-testid="image-row" data-id="`)
	h.text(r.ID)
	h.raw(`">`)
	for _, c := range cols {
		h.cell(c, r, labelBase)
	}
	h.raw(`</tr>`)
}

// numCell is a right-aligned cell.
func (h *htmlWriter) numCell(testid, v string) {
	h.raw(`<td class="num" data-testid="`)
	h.raw(testid)
	h.raw(`">`)
	h.text(dash(v))
	h.raw(`</td>`)
}

func (h *htmlWriter) cell(c Column, r *ImageRow, labelBase string) {
	switch c.Key {
	case "name":
		h.raw(`<td><a class="name" href="`)
		h.text(r.URL)
		h.raw(`" data-testid="name">`)
		h.text(dash(r.Name))
		h.raw(`</a>`)
		if r.Description != "" {
			h.raw(` <span class="desc" data-testid="description" title="`)
			h.text(r.Description)
			h.raw(`">`)
			h.text(r.Description)
			h.raw(`</span>`)
		}
		h.raw(`</td>`)
	case "id":
		h.raw(`<td class="id">`)
		h.copyID(r.ID)
		h.raw(`</td>`)
	case "family":
		h.raw(`<td class="nowrap" data-testid="family">`)
		h.text(dash(r.Family))
		h.raw(`</td>`)
	case "status":
		h.raw(`<td>`)
		h.badge(r.Status)
		h.raw(`</td>`)
	case "os":
		h.raw(`<td data-testid="os">`)
		h.text(dash(r.OS))
		h.raw(`</td>`)
	case "size":
		h.numCell("size", r.Size)
	case "storage_size":
		h.numCell("storage-size", r.StorageSize)
	case "min_disk_size":
		h.numCell("min-disk", r.MinDisk)
	case "checksum":
		h.raw(`<td class="id checksum" data-testid="checksum" title="`)
		h.text(r.Checksum)
		h.raw(`">`)
		h.text(dash(r.Checksum))
		h.raw(`</td>`)
	case "labels":
		h.raw(`<td class="labels">`)
		h.labels(r.Labels, labelBase)
		h.raw(`</td>`)
	case "created_at":
		h.raw(`<td>`)
		h.time(r.Created, r.CreatedAt, r.CreatedISO)
		h.raw(`</td>`)
	default:
		h.raw(`<td></td>`)
	}
}

// labels is labelLinks: an image's labels as chips, each a (boosted) link
// that adds itself as a filter.
func (h *htmlWriter) labels(labels []Label, base string) {
	if len(labels) == 0 {
		h.raw(`<span class="muted">—</span>`)
		return
	}
	h.raw(`<span class="chips">`)
	for _, l := range labels {
		h.raw(`<a class="chip" href="`)
		h.text(base)
		h.raw(`&amp;label=`)
		h.queryText(l.Key)
		h.raw(`%3D`)
		h.queryText(l.Value)
		h.raw(`" title="Show images labelled `)
		h.text(l.Key)
		h.raw(`=`)
		h.text(l.Value)
		h.raw(`" data-testid="label">`)
		h.text(l.Key)
		h.raw(`=`)
		h.text(l.Value)
		h.raw(`</a>`)
	}
	h.raw(`</span>`)
}

// copyID is CopyID.
func (h *htmlWriter) copyID(id string) {
	h.raw(`<span class="copyable"><code data-testid="id">`)
	h.text(id)
	h.raw(`</code> <button type="button" class="copy" data-copy="`)
	h.text(id)
	h.raw(`" title="Copy id" aria-label="Copy id `)
	h.text(id)
	h.raw(`">` + copyIcon + `</button></span>`)
}

// badge is Badge.
func (h *htmlWriter) badge(status string) {
	h.raw(`<span class="badge `)
	h.raw(badgeClass(status)) // a fixed set of names
	h.raw(`" data-testid="status" data-status="`)
	h.text(status)
	h.raw(`">`)
	if InFlight(status) {
		h.raw(`<span class="spinner" aria-hidden="true"></span> `)
	}
	h.text(StatusTitle(status))
	h.raw(`</span>`)
}

// time is timeView.
func (h *htmlWriter) time(rel, exact, iso string) {
	if iso == "" {
		h.raw(`<span class="muted">—</span>`)
		return
	}
	h.raw(`<time datetime="`)
	h.text(iso)
	h.raw(`" title="`)
	h.text(exact)
	h.raw(`">`)
	h.text(rel)
	h.raw(`</time>`)
}

// iconSprite defines the icons once per page (the layout has it); the
// copy button of every row refers to its symbol rather than repeating the
// drawing (a third of a row's bytes).
const iconSprite = `<div hidden><svg aria-hidden="true" focusable="false">` +
	`<symbol id="icon-copy" viewBox="0 0 16 16"><rect x="5" y="5" width="9" height="9" rx="1.5" fill="none" stroke="currentColor" stroke-width="1.5"></rect>` +
	`<path d="M11 5V3.5A1.5 1.5 0 0 0 9.5 2h-6A1.5 1.5 0 0 0 2 3.5v6A1.5 1.5 0 0 0 3.5 11H5" fill="none" stroke="currentColor" stroke-width="1.5"></path></symbol></svg></div>`

// copyIcon is the copy button's icon.
const copyIcon = `<svg width="12" height="12" aria-hidden="true" focusable="false"><use href="#icon-copy"></use></svg>`
