package handlers_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/cloud"
)

func byFolder(a, b cloud.Image) int { return strings.Compare(a.FolderID, b.FolderID) }

// TestListFolderColumn: every image list names each row's folder, linking
// to the list narrowed to it; the link's list holds that folder's images
// only.
func TestListFolderColumn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 40, desktop: 10, baremetal: 10})
	for _, svc := range cloud.Services {
		r := e.ok("/?service=" + string(svc) + "&status=" + map[cloud.Service]string{cloud.Desktop: "ACTIVE"}[svc])
		names := map[string]string{}
		r.doc.Find(`[data-testid="image-row"]`).Each(func(_ int, row *goquery.Selection) {
			id, _ := row.Attr("data-id")
			names[id] = strings.TrimSpace(row.Find(`[data-testid="folder"]`).Text())
		})
		if len(names) == 0 {
			t.Fatalf("%s: no rows", svc)
		}
		for _, img := range e.images[svc] {
			if n, ok := names[img.ID]; ok && n != map[string]string{golden: "golden-images", team: "team-alpha"}[img.FolderID] {
				t.Errorf("%s: row %s names folder %q, want the name of %s", svc, img.ID, n, img.FolderID)
			}
		}
		href := r.attr(`[data-testid="folder"] a[href*="folder=`+team+`"]`, "href")
		if !strings.Contains(href, "folder="+team) || !strings.Contains(href, "service="+string(svc)) {
			t.Fatalf("%s: the folder link is %q", svc, href)
		}
		narrowed := e.ok(href)
		for _, id := range narrowed.rowIDs() {
			if i := slices.IndexFunc(e.images[svc], func(img cloud.Image) bool { return img.ID == id }); e.images[svc][i].FolderID != team {
				t.Errorf("%s: the folder's list shows %s of another folder", svc, id)
			}
		}
		if got := narrowed.text(`[data-testid="folder-summary"]`); !strings.Contains(got, "team-alpha") {
			t.Errorf("%s: after the folder link the picker says %q", svc, got)
		}
	}
}

// TestListSortByFolder: the Folder column sorts each way, a folder's rows
// together (folder id, then image id), and pages by its cursor.
func TestListSortByFolder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 120})
	for _, desc := range []bool{false, true} {
		dir := map[bool]string{false: "asc", true: "desc"}[desc]
		all := want(e.images[cloud.Compute], nil, byFolder, desc)
		r := e.ok("/?sort=folder&dir=" + dir)
		if got := r.rowIDs(); !slices.Equal(got, all[:50]) {
			t.Errorf("%s: first page %v, want %v", dir, got, all[:50])
		}
		if got := r.attr(`th:has([data-testid="sort-folder"])`, "aria-sort"); got != map[bool]string{false: "ascending", true: "descending"}[desc] {
			t.Errorf("%s: aria-sort %q", dir, got)
		}
		next := e.ok(r.attr(`[data-testid="next-page"]`, "href"))
		if got := next.rowIDs(); !slices.Equal(got, all[50:100]) {
			t.Errorf("%s: second page %v, want %v", dir, got, all[50:100])
		}
	}
}

// TestListFolderColumnVisibility: a person sees the names of the folders
// they may see, and no other folder's name or id anywhere on the list,
// whatever they ask.
func TestListFolderColumnVisibility(t *testing.T) {
	t.Parallel()
	_, browsers := matrixEnv(t)
	tests := []struct {
		who        string
		see, never []string
	}{
		{"editor-b", []string{"golden-images"}, []string{"team-alpha", team}},
		{"viewer-a", []string{"golden-images", "team-alpha"}, nil},
		{"admin", []string{"golden-images", "team-alpha"}, nil},
	}
	for _, tt := range tests {
		for _, target := range []string{"/", "/?sort=folder", "/?sort=folder&dir=desc", "/?service=desktop&sort=folder"} {
			rec := browsers[tt.who].Get(target)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s GET %s = %d", tt.who, target, rec.Code)
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
			if err != nil {
				t.Fatal(err)
			}
			cells := doc.Find(`[data-testid="folder"]`).Map(func(_ int, s *goquery.Selection) string { return strings.TrimSpace(s.Text()) })
			for _, name := range tt.see {
				if target == "/" && !slices.Contains(cells, name) {
					t.Errorf("%s GET %s: no row in %q (folders %q)", tt.who, target, name, slices.Compact(slices.Sorted(slices.Values(cells))))
				}
			}
			for _, name := range tt.never {
				if strings.Contains(rec.Body.String(), name) {
					t.Errorf("%s GET %s: the page names %q", tt.who, target, name)
				}
			}
		}
	}
}
