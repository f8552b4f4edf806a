package handlers_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/handlers"
)

// TestSiteHeaderFolders: every page has the image list's header (the
// service tabs, the folder picker and the search box), and its folder
// picker offers a person the folders they may see, the same ones as on the
// image list, and names no other; a partial has no header.
func TestSiteHeaderFolders(t *testing.T) {
	t.Parallel()
	_, browsers := matrixEnv(t)
	pages := []string{"/", "/operations", "/account/sessions", "/no-such-page", "/images/compute/fd800000000000000000"}
	adminPages := []string{"/admin/users", "/admin/teams", "/admin/folders", "/admin/audit"}
	tests := []struct {
		who   string
		pages []string
		want  []string // the picker's folders
		never string
	}{
		{"editor-b", pages, []string{golden}, "team-alpha"}, // its own folder is not cached
		{"viewer-a", pages, []string{golden, team}, ""},
		{"admin", append(slices.Clone(pages), adminPages...), []string{golden, team}, ""},
	}
	for _, tt := range tests {
		for _, target := range tt.pages {
			rec := browsers[tt.who].Get(target)
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
			if err != nil {
				t.Fatal(err)
			}
			header := doc.Find("header.app-header")
			if n := header.Find(`[data-testid="service-tabs"] a`).Length(); n != 3 {
				t.Errorf("%s GET %s (%d): %d service tabs, want 3", tt.who, target, rec.Code, n)
			}
			if header.Find(`input[data-testid="search"]`).Length() != 1 {
				t.Errorf("%s GET %s: no search box", tt.who, target)
			}
			got := header.Find(`[data-testid="folder-option"]`).Map(func(_ int, s *goquery.Selection) string { v, _ := s.Attr("value"); return v })
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("%s GET %s: the picker offers %q, want %q", tt.who, target, got, want)
			}
			if tt.never != "" && strings.Contains(rec.Body.String(), tt.never) {
				t.Errorf("%s GET %s: the page names %q", tt.who, target, tt.never)
			}
		}
	}
	// A partial swaps a region of a page that has its header already.
	rec := browsers["viewer-a"].Get("/operations", handlers.HeaderRequest, "true")
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `data-testid="folder-picker"`) {
		t.Errorf("the operations partial (%d) carries the header", rec.Code)
	}
}
