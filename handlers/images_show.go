package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/rules"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// ImageGetter is what the detail page needs from the store.
type ImageGetter interface {
	Image(ctx context.Context, svc cloud.Service, id string) (cloud.Image, error)
	// ParkedImage answers for an image of a folder no longer synced.
	ParkedImage(ctx context.Context, svc cloud.Service, id string) (store.ParkedImage, error)
}

// ImageHistory is what the detail page's lazy sections ask the cloud.
// *cloud.Client satisfies it.
type ImageHistory interface {
	ListImageOperations(ctx context.Context, svc cloud.Service, imageID string, opt cloud.ListOptions) ([]cloud.Operation, string, error)
	LatestByFamily(ctx context.Context, folderID, family string) (cloud.Image, error)
}

// operationsPageSize is how many operations the history shows.
const operationsPageSize = 20

// ShowImage is an image's detail page (GET /images/:service/:id), from the
// cache. Its operations and the family's latest image load afterwards,
// each from its own route, so the page never waits on the cloud. The
// badges of operations on the image (open, or named by ?op=) show by its
// status, and the section reloads when one ends (see imageOps, imageGone).
func (h *Handlers) ShowImage(c echo.Context) error {
	p, img, err := h.imagePage(c)
	if err != nil {
		return imageGone(c, err)
	}
	if p.Ops, err = h.imageOps(c, img); err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.ImageFull(p), views.ImageFull(p))
}

// ImageOperations is the detail page's operation history (GET
// /images/:service/:id/operations): the section for HTMX, the page with the
// section filled in otherwise. A failed cloud call is said in the section;
// the answer is still 200, since the page around it is fine.
func (h *Handlers) ImageOperations(c echo.Context) error {
	p, img, err := h.imagePage(c)
	if err != nil {
		return err
	}
	s := views.OperationsView{URL: p.OperationsURL}
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.cloudTimeout)
	defer cancel()
	switch {
	case h.cloud == nil:
		s.Error = "Could not reach the cloud: this server has no cloud client."
	default:
		ops, next, err := h.cloud.ListImageOperations(ctx, img.Service, img.ID, cloud.ListOptions{PageSize: operationsPageSize})
		switch {
		case errors.Is(err, cloud.ErrUnsupported):
			s.Unsupported = true
		case err != nil:
			h.log.WarnContext(ctx, "list image operations", "service", img.Service, "image", img.ID, "err", err)
			s.Error = cloudMessage(err)
		default:
			if s.Ops, err = h.imageOpRows(c, img, ops); err != nil {
				return err
			}
			s.More = next != ""
		}
	}
	p.Operations = &s
	return Render(c, http.StatusOK, views.ImageFull(p), views.OperationsSection(s))
}

// LatestInFamily is the detail page's "latest in this family" section (GET
// /images/:service/:id/latest), from GetLatestByFamily; Compute only.
func (h *Handlers) LatestInFamily(c echo.Context) error {
	p, img, err := h.imagePage(c)
	if err != nil {
		return err
	}
	if p.LatestURL == "" {
		return fault.New(fault.NotFound, "Only Compute images with a family have a latest image.")
	}
	s := views.LatestView{URL: p.LatestURL, Family: img.Family}
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.cloudTimeout)
	defer cancel()
	if h.cloud == nil {
		s.Error = "Could not reach the cloud: this server has no cloud client."
	} else {
		latest, err := h.cloud.LatestByFamily(ctx, img.FolderID, img.Family)
		switch {
		case errors.Is(err, cloud.ErrNotFound):
			s.NotFound = true
		case err != nil:
			h.log.WarnContext(ctx, "latest by family", "folder", img.FolderID, "family", img.Family, "err", err)
			s.Error = cloudMessage(err)
		default:
			latest.Service = cloud.Compute
			s.Latest = views.NewImageRow(latest, h.now())
			s.IsThis = latest.ID == img.ID
		}
	}
	p.Latest = &s
	return Render(c, http.StatusOK, views.ImageFull(p), views.LatestSection(s))
}

// imagePage reads the image the path names from the cache and builds its
// page: 400 for a bad service or id, 404 when it is not cached, and the
// same 404 when its folder is not the viewer's to see (audited).
func (h *Handlers) imagePage(c echo.Context) (views.ImagePage, cloud.Image, error) {
	svc, err := parseService(c.Param("service"))
	if err != nil {
		return views.ImagePage{}, cloud.Image{}, err
	}
	id := c.Param("id")
	if vs := rules.ID("id", id, true); len(vs) > 0 {
		return views.ImagePage{}, cloud.Image{}, badRequest("Bad image id: %s.", vs[0].Error())
	}
	ctx := c.Request().Context()
	img, err := h.store.Image(ctx, svc, id)
	if errors.Is(err, store.ErrNotFound) {
		return views.ImagePage{}, cloud.Image{}, h.noImage(ctx, viewer(c).Policy, svc, id)
	}
	if err != nil {
		return views.ImagePage{}, img, err
	}
	if !viewer(c).Policy.CanView(img.FolderID) {
		return views.ImagePage{}, cloud.Image{}, h.hide(c, "image.view", "image", img.ID, img.FolderID, errNoImage(svc, id))
	}
	folders, err := h.store.Folders(ctx)
	if err != nil {
		return views.ImagePage{}, img, err
	}
	folders = seen(c, folders)
	row := views.NewImageRow(img, h.now())
	name := views.FolderNames(folders)[img.FolderID]
	p := views.ImagePage{
		Nav: views.Nav{
			Page:    views.PageImage,
			Service: svc,
			Filter:  views.ImageFilter{Service: svc},
			Folders: views.NewFolderOptions(h.pickerFolders(c, folders), nil),
		},
		Image:         row,
		Fields:        views.NewImageFields(row, img, name),
		FolderName:    name,
		OperationsURL: row.URL + "/operations",
		CanEdit:       viewer(c).Policy.CanEdit(img.FolderID),
	}
	if !p.CanEdit {
		r, err := h.mayDelete(ctx, viewer(c), img, name)
		if err != nil {
			return views.ImagePage{}, img, err
		}
		p.CanDelete = r.ok
	}
	p.CopyURL = copyLink(c, img, folders)
	if svc == cloud.Compute && img.Family != "" {
		p.LatestURL = row.URL + "/latest"
	}
	return p, img, nil
}

// errNoImage is the answer for an image the cache does not hold, and,
// word for word, for one in a folder the viewer may not see (see hide).
func errNoImage(svc cloud.Service, id string) error {
	return fault.New(fault.NotFound, "No "+svc.Title()+" image "+id+" is cached. It may have been deleted, or the next sync may bring it.")
}
