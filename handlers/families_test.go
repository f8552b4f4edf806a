package handlers_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/handlers"
)

func TestListFamilies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 60, desktop: 5})
	imgs := e.images[cloud.Compute]
	tests := []struct {
		name   string
		query  string
		folder string
	}{
		{"all folders", "", ""},
		{"one folder", "&folder=" + team, team},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.ok("/families?service=compute" + tt.query)
			type fam struct {
				count  int
				latest cloud.Image
			}
			wantFams := map[string]*fam{}
			for _, img := range imgs {
				if tt.folder != "" && img.FolderID != tt.folder {
					continue
				}
				f := wantFams[img.Family]
				if f == nil {
					f = &fam{}
					wantFams[img.Family] = f
				}
				f.count++
				// The newest READY image (all images here have one that is).
				if img.Status == "READY" && (f.latest.ID == "" || img.CreatedAt.After(f.latest.CreatedAt) ||
					img.CreatedAt.Equal(f.latest.CreatedAt) && img.ID > f.latest.ID) {
					f.latest = img
				}
			}
			rows := r.doc.Find(`[data-testid="family-row"]`)
			if rows.Length() != len(wantFams) {
				t.Fatalf("families = %d, want %d", rows.Length(), len(wantFams))
			}
			rows.Each(func(_ int, s *goquery.Selection) {
				name, _ := s.Attr("data-family")
				w := wantFams[name]
				if w == nil {
					t.Errorf("unexpected family %q", name)
					return
				}
				if got := strings.TrimSpace(s.Find(`[data-testid="family-count"]`).Text()); got != strconv.Itoa(w.count) {
					t.Errorf("%s count = %q, want %d", name, got, w.count)
				}
				if href, _ := s.Find(`[data-testid="latest"]`).Attr("href"); href != "/images/compute/"+w.latest.ID {
					t.Errorf("%s latest = %q, want %s", name, href, w.latest.ID)
				}
				href, _ := s.Find(`[data-testid="family"]`).Attr("href")
				if q := mustQuery(t, href); q.Get("family") != name || q.Get("folder") != tt.folder {
					t.Errorf("%s links to %q", name, href)
				}
			})
		})
	}

	r := e.ok("/families?service=desktop")
	if got := r.text(`[data-testid="empty"] strong`); got != "Cloud Desktop images have no families" {
		t.Errorf("desktop families = %q", got)
	}
	r = e.get("/families?service=compute&folder="+golden, htmx)
	if r.code != http.StatusOK || strings.Contains(r.body, "<html") || r.doc.Find(`#families [data-testid="family-row"]`).Length() == 0 {
		t.Errorf("families partial = %d, full page %v", r.code, strings.Contains(r.body, "<html"))
	}
	if got := r.hdr.Get(handlers.HeaderPushURL); got != "/families?folder="+golden+"&service=compute" {
		t.Errorf("HX-Push-Url = %q", got)
	}
	if r := e.get("/families?service=tape", nil); r.code != http.StatusBadRequest {
		t.Errorf("unknown service = %d, want 400", r.code)
	}
}
