package views

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// renderCtx renders c with the page-wide request data rq.
func renderCtx(t *testing.T, rq Request, c templ.Component) *goquery.Document {
	t.Helper()
	var b strings.Builder
	if err := c.Render(WithRequest(context.Background(), rq), &b); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestSiteHeader: a page about no one service (the operations, admin,
// account and error pages pass no Nav) has the image list's header for a
// signed-in person: the service tabs, none current, the folder picker
// over the folders on the request, and the search box, both leading to the
// image list; the sign-in page has none of it.
func TestSiteHeader(t *testing.T) {
	folders := []FolderOption{{ID: "b1g-golden", Label: "golden-images"}, {ID: "b1g-alpha", Label: "team-alpha"}}
	pages := map[string]templ.Component{
		"operations": OpsFull(OpsPage{}),
		"admin":      UsersFull(UsersPage{}),
		"account":    SessionsFull(SessionsPage{}),
		"error":      ErrorFull(ErrorPage{Code: 404, Title: "Not found"}),
	}
	for name, page := range pages {
		t.Run(name, func(t *testing.T) {
			doc := renderCtx(t, Request{Me: Me{Name: "alice"}, Folders: folders}, page)
			tabs := doc.Find(`header [data-testid="service-tabs"] a`)
			if tabs.Length() != 3 {
				t.Fatalf("service tabs = %d, want 3", tabs.Length())
			}
			if n := tabs.Filter(`[aria-current]`).Length(); n != 0 {
				t.Errorf("%d tabs marked current on a page about no service", n)
			}
			if href, _ := tabs.First().Attr("href"); href != "/?service=compute" {
				t.Errorf("the Compute tab leads to %q", href)
			}
			picker := doc.Find(`header form[data-testid="folder-picker"]`)
			if action, _ := picker.Attr("action"); action != "/" {
				t.Errorf("the folder picker sends to %q, want the image list", action)
			}
			if _, swaps := picker.Attr("hx-target"); swaps {
				t.Error("the folder picker swaps a region of a page that has none")
			}
			opts := picker.Find(`[data-testid="folder-option"]`).Map(func(_ int, s *goquery.Selection) string { v, _ := s.Attr("value"); return v })
			if strings.Join(opts, " ") != "b1g-golden b1g-alpha" {
				t.Errorf("folder options = %q", opts)
			}
			search := doc.Find(`header form#` + SearchFormID)
			if action, _ := search.Attr("action"); action != "/" {
				t.Errorf("the search sends to %q, want the image list", action)
			}
			if _, live := search.Find(`input[name="q"]`).Attr("hx-get"); live {
				t.Error("the search box filters live on a page without the image table")
			}
			if search.Find(`input[type="hidden"][name="service"][value="compute"]`).Length() != 1 {
				t.Error("the search does not say which service's images it searches")
			}
			if ph, _ := search.Find(`input[name="q"]`).Attr("placeholder"); !strings.HasPrefix(ph, "Search images") {
				t.Errorf("the search box says %q: not that it searches images", ph)
			}
		})
	}
	doc := renderCtx(t, Request{}, LoginFull(LoginPage{}))
	if n := doc.Find(`[data-testid="service-tabs"], [data-testid="folder-picker"], #` + SearchFormID).Length(); n != 0 {
		t.Errorf("the sign-in page has %d header controls, want none", n)
	}
}
