package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// FamilyLister is what the families view needs from the store.
type FamilyLister interface {
	Families(ctx context.Context, svc cloud.Service, folderIDs []string) ([]store.FamilySummary, error)
}

// ListFamilies shows the image families of a service in some folders (GET
// /families), each with its newest image and its size, from the cache.
func (h *Handlers) ListFamilies(c echo.Context) error {
	q := c.QueryParams()
	svc, err := parseService(q.Get("service"))
	if err != nil {
		return err
	}
	folderIDs, err := parseFolders(q["folder"])
	if err != nil {
		return err
	}
	scoped, err := h.scope(c, "family.list", folderIDs)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	folders, err := h.store.Folders(ctx)
	if err != nil {
		return err
	}
	folders = seen(c, folders)
	lctx, done, err := h.listSlot(c, false)
	if err != nil {
		return err
	}
	fams, err := h.store.Families(lctx, svc, scoped)
	err = listTimedOut(c, lctx, err)
	done()
	if err != nil {
		return err
	}
	fr, banner, cache, err := h.freshness(ctx, svc, scoped, folders)
	if err != nil {
		return err
	}
	if !h.store.Snapshot().Ready() {
		cache = views.CacheLoading // still loading the images: the empty view polls
	}
	now := h.now()
	filter := views.ImageFilter{Service: svc, Folders: folderIDs}
	p := views.FamiliesPage{
		Nav: views.Nav{
			Page:    views.PageFamilies,
			Service: svc,
			Filter:  filter,
			Folders: views.NewFolderOptions(h.pickerFolders(c, folders), folderIDs),
		},
		Freshness: fr,
		Banner:    banner,
		Cache:     cache,
	}
	for _, fs := range fams {
		p.Rows = append(p.Rows, views.FamilyRow{
			Family:  fs.Family,
			Count:   fs.Count,
			ListURL: filter.WithFamily(fs.Family).URL(),
			Latest:  views.NewImageRow(fs.Latest, now),
		})
	}
	if p.Cache.Polls() && len(p.Rows) == 0 {
		p.Freshness.PollURL = "" // the empty view polls itself
	}
	u := views.FamiliesURL(svc, folderIDs)
	p.Freshness.Return = u
	PushURL(c, u, canonicalFamilies)
	return Render(c, http.StatusOK, views.FamiliesFull(p), views.FamiliesPartial(p))
}

// canonicalFamilies is the canonical form of a families address, "" when it
// is not one.
func canonicalFamilies(raw string) string {
	u, err := parseURL(raw)
	if err != nil || u.Path != "/families" {
		return ""
	}
	q := u.Query()
	svc, err := parseService(q.Get("service"))
	if err != nil {
		return ""
	}
	folders, err := parseFolders(q["folder"])
	if err != nil {
		return ""
	}
	return views.FamiliesURL(svc, folders)
}
