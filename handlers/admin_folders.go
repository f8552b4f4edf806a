package handlers

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/views"
)

// foldersURL is the folders page.
const foldersURL = "/admin/folders"

// ListFolders shows every folder the cache knows, and those only teams or
// the shared list know (assigned before their first sync), with the teams
// that own each and whether it is shared (GET /admin/folders).
func (h *Handlers) ListFolders(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	ctx := c.Request().Context()
	cached, err := h.cachedFolders(ctx)
	if err != nil {
		return err
	}
	teams, err := h.people.Teams(ctx)
	if err != nil {
		return fmt.Errorf("admin folders: %w", err)
	}
	shared, err := h.people.SharedFolders(ctx)
	if err != nil {
		return fmt.Errorf("admin folders: %w", err)
	}
	rows := map[string]*views.FolderAdminRow{}
	row := func(id string) *views.FolderAdminRow {
		r := rows[id]
		if r == nil {
			r = &views.FolderAdminRow{ID: id}
			rows[id] = r
		}
		return r
	}
	for _, f := range cached {
		r := row(f.ID)
		r.Name, r.Cached = f.Name, true
	}
	for _, t := range teams {
		for _, f := range t.Folders {
			r := row(f)
			r.Teams = append(r.Teams, views.TeamLink{Name: t.Name, URL: views.TeamURL(t.ID)})
		}
	}
	for _, f := range shared {
		row(f).Shared = true
	}
	p := views.FoldersPage{Notice: adminOKNotice(c, nil)}
	for _, r := range rows {
		p.Folders = append(p.Folders, *r)
	}
	// By name as the picker shows them; the uncached (no name) after.
	slices.SortFunc(p.Folders, func(a, b views.FolderAdminRow) int {
		if a.Cached != b.Cached {
			if a.Cached {
				return -1
			}
			return 1
		}
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	return Render(c, http.StatusOK, views.FoldersFull(p), views.FoldersFull(p))
}

// ShareFolder makes a folder readable by everyone (shared=true) or not
// (shared=false) (POST /admin/folders/share: folder, shared).
func (h *Handlers) ShareFolder(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	folder := c.FormValue("folder")
	shared, perr := strconv.ParseBool(c.FormValue("shared"))
	action, code := "folder.unshare", "folder_unshared"
	if shared {
		action, code = "folder.share", "folder_shared"
	}
	msg := checkFolderID(folder)
	if perr != nil {
		msg = "Say whether the folder should be shared (shared=true or false)."
	}
	if msg != "" {
		h.auditFailed(c, action, "folder", auditClip(folder), msg)
		return fault.New(fault.Invalid, msg)
	}
	if err := h.people.SetFolderShared(c.Request().Context(), folder, shared); err != nil {
		h.auditFailed(c, action, "folder", folder, failureDetail(err))
		return fmt.Errorf("%s %s: %w", action, folder, err)
	}
	detail := "shared with everyone"
	if !shared {
		detail = "no longer shared"
	}
	h.auditOK(c, action, "folder", folder, detail)
	return Redirect(c, views.OKURL(foldersURL, code, 0, 0))
}
