package handlers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/readmodel"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// ImageLister is what the image list needs from the store: a page of
// images and the facet counts of the same query, and the read model they
// come from (whose Ready says whether the images are loaded yet).
type ImageLister interface {
	// List is the page and its facet counts from one snapshot.
	List(ctx context.Context, q store.ImageQuery) (store.ImageList, error)
	Snapshot() *readmodel.Snapshot
}

// ListImages shows one page of the cached images of a service (GET /),
// filtered, sorted and paged as the URL says. It never waits on the cloud:
// the page says how fresh the cache is, and that the first sync is still
// running when it is empty. An HTMX request gets the table region and the
// header's state out of band; the URL it records is the canonical one.
func (h *Handlers) ListImages(c echo.Context) error {
	f, err := parseImageFilter(c.QueryParams())
	// A search over the bounds: the list without it, the message under the
	// search box, which keeps what was typed (status 400 all the same).
	var refused views.SearchRefusal
	if fe, ok := errors.AsType[*fault.Error](err); ok && errors.Is(err, errSearchBounds) {
		if !h.listLimits.Off {
			refused = views.SearchRefusal{Text: f.Text, Message: fe.Say()}
			f.Text = ""
		}
		err = nil
	}
	if err != nil {
		return err
	}
	q := storeQuery(f)
	// The URL keeps what was asked ("all folders"); the store is asked for
	// the folders the viewer may see.
	if q.FolderIDs, err = h.scope(c, "image.list", f.Folders); err != nil {
		return err
	}

	// One of the person's list slots, and the deadline, for the page and
	// its facets; the rest of the request reads cached state.
	lctx, done, err := h.listSlot(c, q.Text != "")
	if err != nil {
		return err
	}
	var (
		wg            sync.WaitGroup
		list          store.ImageList
		folders       []cloud.Folder
		pageErr, fErr error
	)
	wg.Go(func() { list, pageErr = h.store.List(lctx, q) })
	wg.Go(func() { folders, fErr = h.store.Folders(lctx) })
	// The viewer's columns and density (preferences.go): kept in memory by
	// the store, else one read by primary key, beside the page's.
	var prefs views.ListPrefs
	uid := viewer(c).User.ID
	wg.Go(func() { prefs = h.listPrefs(lctx, uid) })
	wg.Wait()
	err = listTimedOut(c, lctx, errors.Join(pageErr, fErr))
	done()
	if errors.Is(pageErr, store.ErrBadCursor) {
		return badRequest("This page link is out of date or damaged (bad paging cursor). Start again from the first page.")
	}
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	folders = seen(c, folders)
	fr, banner, cache, err := h.freshness(ctx, f.Service, q.FolderIDs, folders)
	if err != nil {
		return err
	}
	if !list.Ready {
		// The store is still loading the images into memory (a large
		// cache, just started): an empty table that polls until they are.
		cache = views.CacheLoading
	}
	page, facets := list.Page, list.Facets

	now := h.now()
	rows := rows(page, now)
	if prefs.Absolute {
		views.AbsoluteTimes(rows)
	}
	if err := h.markOpen(ctx, f.Service, rows); err != nil {
		return err
	}
	rowActions(viewer(c).Policy, rows, folders)
	p := views.ImagesPage{
		Nav: views.Nav{
			Page:    views.PageImages,
			Service: f.Service,
			Filter:  f,
			Folders: views.NewFolderOptions(h.pickerFolders(c, folders), f.Folders),
			Search:  refused,
		},
		Filter:      f,
		Columns:     columns(f.Service),
		Rows:        rows,
		FolderNames: views.FolderLabels(folders), // those the viewer may see
		Total:       page.Total,
		Statuses:    options(facets.Statuses, f.Statuses, views.StatusTitle),
		Families:    options(facets.Families, f.Families, nil),
		Freshness:   fr,
		Banner:      banner,
		Cache:       cache,
	}
	p.Start, p.PrevURL, p.NextURL = pageLinks(f, page, len(p.Rows))
	p.Columns, p.Prefs = views.ShownColumns(p.Columns, prefs.Hidden), prefs
	if p.Cache.Polls() {
		p.Freshness.PollURL = "" // the empty table polls itself
	}
	p.Freshness.Return = f.FirstPage().URL()
	if refused.Message != "" {
		// The address stays the last list shown: this one is not.
		if IsHTMX(c.Request()) {
			NoPush(c.Response().Header())
		}
		return Render(c, fault.BadRequest.Status(), views.ImagesFull(p), views.ImagesPartial(p))
	}
	PushURL(c, f.URL(), canonicalList)
	return Render(c, http.StatusOK, views.ImagesFull(p), views.ImagesPartial(p))
}

// rows formats a page's images.
func rows(page store.ImagePage, now time.Time) []views.ImageRow {
	return views.NewImageRows(page.Images, now)
}

// pageLinks works out where the page starts (1-based; 0 when unknown) and
// the addresses of the pages before and after it. Keyset cursors do not
// know their position, so the URL carries it along (start); the ends are
// known for sure: no Prev means the first row, no Next the last.
func pageLinks(f views.ImageFilter, page store.ImagePage, n int) (start int, prev, next string) {
	limit := f.PageSize()
	switch {
	case f.After == "" && f.Before == "", page.Prev == "":
		start = 1
	case page.Next == "" && f.After != "":
		start = max(page.Total-n+1, 1)
	default:
		start = min(f.Start, max(page.Total-n+1, 1))
	}
	if page.Next != "" {
		g := f.FirstPage()
		g.After = page.Next
		if start > 0 {
			g.Start = start + n
		}
		next = g.URL()
	}
	if page.Prev != "" {
		g := f.FirstPage()
		if start == 0 || start-limit > 1 {
			// Not the first page: page back from this one's first row.
			g.Before = page.Prev
			if start > 0 {
				g.Start = start - limit
			}
		}
		prev = g.URL()
	}
	return start, prev, next
}

// options are a filter's choices from facet counts, the selected values
// included (with a zero count) when the facets left them out. title names
// a value; nil shows it as is.
func options(counts []store.FacetCount, selected []string, title func(string) string) []views.Option {
	if title == nil {
		title = func(s string) string { return s }
	}
	out := make([]views.Option, 0, len(counts)+len(selected))
	seen := map[string]bool{}
	for _, fc := range counts {
		seen[fc.Value] = true
		out = append(out, views.Option{Value: fc.Value, Label: title(fc.Value), Count: fc.Count, Selected: slices.Contains(selected, fc.Value)})
	}
	for _, s := range selected {
		if !seen[s] {
			out = append(out, views.Option{Value: s, Label: title(s), Count: 0, Selected: true})
		}
	}
	return out
}
