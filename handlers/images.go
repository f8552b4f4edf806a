package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/rules"
	"github.com/imagedash/imagedash/views"
)

// imagesQuery is the state of the image list, all of it in the URL.
type imagesQuery struct {
	service   cloud.Service
	folderID  string
	pageToken string
}

// parseImagesQuery reads and checks the query; a bad value is a 400 that
// says which parameter and why.
func (h *Handlers) parseImagesQuery(c echo.Context) (imagesQuery, error) {
	q := imagesQuery{
		service:   cloud.Service(c.QueryParam("service")),
		folderID:  c.QueryParam("folder"),
		pageToken: c.QueryParam("page_token"),
	}
	if q.service == "" {
		q.service = cloud.Compute
	}
	if !q.service.Valid() {
		return q, echo.NewHTTPError(http.StatusBadRequest,
			fmt.Sprintf("Unknown service %q: choose compute, desktop or baremetal.", q.service))
	}
	if q.folderID == "" {
		q.folderID = h.defaultFolder
	}
	vs := append(rules.ID("folder", q.folderID, false), rules.Paging(0, q.pageToken)...)
	if len(vs) > 0 {
		msgs := make([]string, len(vs))
		for i, v := range vs {
			msgs[i] = v.Error()
		}
		return q, echo.NewHTTPError(http.StatusBadRequest, "Bad query: "+strings.Join(msgs, "; ")+".")
	}
	return q, nil
}

// ListImages shows one page of the images of a service in a folder. An HTMX
// request (folder switch, paging) gets only the table. A failed cloud call
// still renders the page, with a banner and a 5xx status.
func (h *Handlers) ListImages(c echo.Context) error {
	q, err := h.parseImagesQuery(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	partial := WantsPartial(c.Request())

	var (
		wg                  sync.WaitGroup
		folders             []cloud.Folder
		foldersErr, listErr error
		images              []cloud.Image
		next                string
	)
	// The partial has no folder picker, so it skips the folder listing.
	if !partial {
		wg.Go(func() { folders, foldersErr = h.images.AllFolders(ctx) })
	}
	if q.folderID != "" {
		wg.Go(func() {
			images, next, listErr = h.images.ListImages(ctx, q.service, q.folderID,
				cloud.ListOptions{PageSize: h.pageSize, PageToken: q.pageToken})
		})
	}
	wg.Wait()

	page := views.ImagesPage{
		Nav: views.Nav{
			Service:  q.service,
			FolderID: q.folderID,
			Folders:  views.NewFolderOptions(folders, q.folderID),
		},
		Rows:          views.NewImageRows(images, h.now()),
		PageToken:     q.pageToken,
		NextPageToken: next,
	}
	status := http.StatusOK
	// The image list matters more than the picker: its error wins the banner.
	for _, e := range []error{foldersErr, listErr} {
		if e == nil {
			continue
		}
		status, page.Banner = upstreamProblem(e)
		h.log.WarnContext(ctx, "cloud call failed", "service", q.service, "folder", q.folderID, "status", status, "err", e)
	}
	return Render(c, status, views.ImagesFull(page), views.ImagesPartial(page))
}
