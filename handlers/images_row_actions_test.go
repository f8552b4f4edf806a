package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/cloud"
)

// TestRowActions: each row of the list offers its copy and edit forms
// (data-copy-url, data-edit-url, read by the keyboard shortcuts) exactly
// when the person's role allows them, on the full page and the partial, and
// the server agrees: an offered form opens, a withheld edit form is refused.
func TestRowActions(t *testing.T) {
	t.Parallel()
	e, browsers := matrixEnv(t)
	folderOf := map[string]string{}
	for _, svc := range []cloud.Service{cloud.Compute, cloud.Desktop} {
		for _, img := range e.images[svc] {
			folderOf[img.ID] = img.FolderID
		}
	}
	tests := []struct {
		who    string
		copies bool            // may copy into some folder
		edits  map[string]bool // folders whose rows offer the edit form
	}{
		{"viewer-a", false, nil},
		{"copier-a", true, nil},
		{"editor-a", true, map[string]bool{team: true}},
		// Team B's folder has no images and was never listed, so it is no
		// folder to copy into yet (the detail page's Copy… says the same).
		{"editor-b", false, map[string]bool{betaFolder: true}},
		{"admin", true, map[string]bool{team: true, golden: true}},
	}
	for _, tt := range tests {
		t.Run(tt.who, func(t *testing.T) {
			b := browsers[tt.who]
			for _, target := range []struct {
				url  string
				hdr  []string
				copy bool // the service can copy at all
			}{
				{"/?service=compute&limit=200", nil, true},
				{"/?service=compute&limit=200", []string{"HX-Request", "true"}, true},
				{"/?service=desktop&limit=200", nil, false},
			} {
				rec := b.Get(target.url, target.hdr...)
				if rec.Code != http.StatusOK {
					t.Fatalf("GET %s = %d", target.url, rec.Code)
				}
				doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
				if err != nil {
					t.Fatal(err)
				}
				rows := doc.Find(`[data-testid="image-row"]`)
				if rows.Length() == 0 {
					t.Fatalf("GET %s: no rows", target.url)
				}
				var offered, withheld string
				rows.Each(func(_ int, s *goquery.Selection) {
					id := s.AttrOr("data-id", "")
					folder := folderOf[id]
					copyURL, copies := s.Attr("data-copy-url")
					editURL, edits := s.Attr("data-edit-url")
					if want := tt.copies && target.copy; copies != want {
						t.Errorf("%s row %s (folder %s) offers copy = %t, want %t", target.url, id, folder, copies, want)
					}
					if copies && copyURL != "/images/compute/"+id+"/copy" {
						t.Errorf("row %s copy url = %q", id, copyURL)
					}
					if want := tt.edits[folder]; edits != want {
						t.Errorf("%s row %s (folder %s) offers edit = %t, want %t", target.url, id, folder, edits, want)
					}
					if edits && !strings.HasSuffix(editURL, "/"+id+"/edit") {
						t.Errorf("row %s edit url = %q", id, editURL)
					}
					switch {
					case edits && offered == "":
						offered = editURL
					case !edits && withheld == "":
						withheld = strings.TrimSuffix(s.Find(`a[data-testid="name"]`).AttrOr("href", ""), "/") + "/edit"
					}
					if copies && offered == "" {
						offered = copyURL
					}
				})
				// The server agrees with what the rows say. (An edit form
				// reads the image from the cloud, which this env does not
				// serve: anything but a refusal is agreement.)
				if offered != "" {
					if rec := b.Get(offered); rec.Code == http.StatusForbidden || rec.Code == http.StatusNotFound {
						t.Errorf("GET %s (offered) = %d, want it not refused", offered, rec.Code)
					}
				}
				if withheld != "" {
					if rec := b.Get(withheld); rec.Code != http.StatusForbidden && rec.Code != http.StatusNotFound {
						t.Errorf("GET %s (withheld) = %d, want 403 or 404", withheld, rec.Code)
					}
				}
			}
		})
	}
}
