package handlers

import (
	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/views"
)

// rowActions marks on each row of the list the forms the viewer may open
// from it: its copy form (a Compute image, and the viewer may copy into some
// folder, as copyLink decides for the detail page) and its edit form (the
// viewer may edit its folder). The list's keyboard shortcuts (static/keys.js:
// c, e) read them from the row; they only show the way, and the copy and
// edit handlers check the role again. rows must be this request's own copy
// (rows clones a cached page's).
func rowActions(pol auth.Policy, rows []views.ImageRow, folders []cloud.Folder) {
	ids := make([]string, len(folders))
	for i, f := range folders {
		ids[i] = f.ID
	}
	copies := len(pol.CopyTargets(ids)) > 0
	for i := range rows {
		r := &rows[i]
		if copies && r.Service == cloud.Compute {
			r.CopyURL = views.ImageCopyURL(r.ID)
		}
		if pol.CanEdit(r.FolderID) {
			r.EditURL = views.ImageEditURL(r.Service, r.ID)
		}
	}
}
