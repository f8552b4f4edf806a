package views

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/cloud"
)

// TestFolderColumn: each row names its folder and links to the list
// narrowed to it (the rest of the list's state kept, from the first page);
// a folder the viewer may not see is neither named nor linked; a name is
// escaped.
func TestFolderColumn(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	imgs := []cloud.Image{
		{Service: cloud.Compute, ID: "fd8a", FolderID: "b1g-golden", Name: "ubuntu", Status: "READY"},
		{Service: cloud.Compute, ID: "fd8b", FolderID: "b1g-alpha", Name: "ubuntu", Status: "READY"},
		{Service: cloud.Compute, ID: "fd8c", FolderID: "b1g-golden", Name: "debian", Status: "READY"},
		{Service: cloud.Compute, ID: "fd8d", FolderID: "b1g-beta", Name: "secret", Status: "READY"},
		{Service: cloud.Compute, ID: "fd8e", FolderID: "b1g-noname", Name: "nameless", Status: "READY"},
	}
	names := FolderLabels([]cloud.Folder{
		{ID: "b1g-golden", Name: "golden images"},
		{ID: "b1g-alpha", Name: `alpha <b>&"team"`},
		{ID: "b1g-noname"},
	})
	f := ImageFilter{Service: cloud.Compute, Statuses: []string{"READY"}, Sort: "name", After: "cursor", Start: 51}
	p := ImagesPage{Nav: Nav{Page: PageImages, Service: cloud.Compute, Filter: f}, Filter: f,
		Columns: ColumnsOf(cloud.Compute), Rows: NewImageRows(imgs, now), Total: 5, Start: 51, FolderNames: names}
	doc := render(t, ImageTable(p))

	tests := []struct {
		id, text, href string
	}{
		{"fd8a", "golden images", "/?dir=asc&folder=b1g-golden&service=compute&sort=name&status=READY"},
		{"fd8b", `alpha <b>&"team"`, "/?dir=asc&folder=b1g-alpha&service=compute&sort=name&status=READY"},
		{"fd8c", "golden images", "/?dir=asc&folder=b1g-golden&service=compute&sort=name&status=READY"},
		{"fd8d", "—", ""}, // not the viewer's to see
		{"fd8e", "b1g-noname", "/?dir=asc&folder=b1g-noname&service=compute&sort=name&status=READY"},
	}
	for _, tt := range tests {
		cell := doc.Find(`[data-testid="image-row"][data-id="` + tt.id + `"] [data-testid="folder"]`)
		if cell.Length() != 1 {
			t.Fatalf("%s: %d folder cells, want 1", tt.id, cell.Length())
		}
		if got := strings.TrimSpace(cell.Text()); got != tt.text {
			t.Errorf("%s: folder cell %q, want %q", tt.id, got, tt.text)
		}
		href, linked := cell.Find("a").Attr("href")
		if href != tt.href || linked != (tt.href != "") {
			t.Errorf("%s: folder link %q (%v), want %q", tt.id, href, linked, tt.href)
		}
	}
	html, _ := doc.Html()
	if strings.Contains(html, "b1g-beta") {
		t.Error("the page names a folder the viewer may not see")
	}
	if strings.Contains(html, "<b>&") {
		t.Error("a folder's name is not escaped")
	}
	// The column's position: right after the name.
	heads := doc.Find("thead th:not(.select)").Map(func(_ int, s *goquery.Selection) string {
		return strings.Fields(s.Text())[0]
	})
	if len(heads) < 2 || heads[1] != "Folder" {
		t.Errorf("header = %q, want Folder second", heads)
	}
}

// TestFolderSortHeader: the Folder column sorts (A to Z first) and says
// what its order is.
func TestFolderSortHeader(t *testing.T) {
	for _, svc := range cloud.Services {
		f := ImageFilter{Service: svc}
		p := ImagesPage{Nav: Nav{Page: PageImages, Service: svc, Filter: f}, Filter: f,
			Columns: ColumnsOf(svc), Rows: make([]ImageRow, 1), Total: 1, Start: 1}
		doc := render(t, ImageTable(p))
		a := doc.Find(`[data-testid="sort-folder"]`)
		if href, _ := a.Attr("href"); href != "/?dir=asc&service="+string(svc)+"&sort=folder" {
			t.Errorf("%s: folder header sorts to %q", svc, href)
		}
		if title, _ := a.Attr("title"); title == "" {
			t.Errorf("%s: the folder header does not say what its order is", svc)
		}
	}
}
