package views

// FamiliesPage lists the image families of a service in some folders, each
// with its newest image and its size.
type FamiliesPage struct {
	Nav       Nav
	Rows      []FamilyRow
	Freshness Freshness
	Banner    string
	Cache     CacheState
}

// FamilyRow is one family.
type FamilyRow struct {
	Family string
	Count  int
	// ListURL is the image list filtered to the family.
	ListURL string
	Latest  ImageRow
}

// Layout is the layout data of the page.
func (p FamiliesPage) Layout() Layout {
	return Layout{Title: p.Nav.Service.Title() + " image families", Nav: p.Nav, Banner: p.Banner}
}

// Title is the document title.
func (p FamiliesPage) Title() string { return PageTitle(p.Layout().Title) }

// CountText is "12 families".
func (p FamiliesPage) CountText() string {
	if len(p.Rows) == 1 {
		return "1 family"
	}
	return Count(len(p.Rows)) + " families"
}

// HasFamilies reports whether the service's images have families.
func (p FamiliesPage) HasFamilies() bool { return HasFamilies(p.Nav.Service) }
