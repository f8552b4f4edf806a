package views

import (
	"context"

	"github.com/imagedash/imagedash/cloud"
)

// PageSite is a page about no one service's images: the operations, the
// admin pages, the account page, an error page.
const PageSite = "site"

// SiteNav is the header of a page about no one service's images, so that
// every page has the same one: the service tabs (none current) lead to each
// service's list, and the folder picker and the search box to the Compute
// list (the one "/" shows), in the folders and with the text chosen. The
// search box searches images there too, as it does on an image's page: it
// is the console's one image search, in the same place on every page, and
// the operations and audit pages filter their own rows in their own forms.
func SiteNav(folders []FolderOption) Nav {
	return Nav{Page: PageSite, Service: cloud.Compute, Filter: ImageFilter{Service: cloud.Compute}, Folders: folders}
}

// headerNav is the nav the header shows: the page's own, else, for a
// signed-in person, SiteNav over the folders they may see; none on the
// sign-in page.
func (l Layout) headerNav(ctx context.Context) Nav {
	if l.Nav.Service != "" {
		return l.Nav
	}
	rq := RequestFrom(ctx)
	if rq.Me.Name == "" {
		return Nav{}
	}
	return SiteNav(rq.Folders)
}

// TabCurrent reports whether svc's tab is the page's service (no tab is on
// a page about no one service).
func (n Nav) TabCurrent(svc cloud.Service) bool {
	return n.Page != PageSite && svc == n.Service
}
