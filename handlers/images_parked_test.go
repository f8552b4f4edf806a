package handlers_test

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/store"
)

// TestParkedImagePage: the page of an image whose folder stopped being
// synced (what an operation or an audit entry links to) says so in words,
// with the image's and the folder's names, to those who may see the
// folder; to others it is the answer for an image that does not exist.
func TestParkedImagePage(t *testing.T) {
	e, browsers := matrixEnv(t)
	ctx := context.Background()
	var img cloud.Image
	for _, i := range e.images[cloud.Compute] {
		if i.FolderID == team {
			img = i
			break
		}
	}
	if n, err := e.store.ParkFolderImages(ctx, cloud.Compute, team, store.ParkNotFound, now); err != nil || n == 0 {
		t.Fatalf("park: %d, %v", n, err)
	}
	hx := []string{handlers.HeaderRequest, "true"}
	tests := []struct {
		who, path string
		hdr       []string
		want      []string
		not       []string
	}{
		{who: "admin", path: "/images/compute/" + img.ID,
			want: []string{"The Compute image " + img.Name + " is no longer listed", "its folder team-alpha stopped being synced on 23 Nov 2026",
				"the cloud says the folder no longer exists", "operations and audit entries are kept"}},
		{who: "viewer-a", path: "/images/compute/" + img.ID, want: []string{img.Name + " is no longer listed", "team-alpha"}},
		{who: "viewer-a", path: "/images/compute/" + img.ID, hdr: hx, want: []string{img.Name + " is no longer listed"}},
		{who: "viewer-a", path: "/images/compute/" + img.ID + "/operations", want: []string{img.Name + " is no longer listed"}},
		{who: "editor-b", path: "/images/compute/" + img.ID, want: []string{"No Compute image " + img.ID + " is cached"},
			not: []string{img.Name, "team-alpha", "no longer listed"}},
		{who: "editor-b", path: "/images/compute/" + img.ID, hdr: hx, want: []string{"No Compute image " + img.ID + " is cached"},
			not: []string{img.Name, "team-alpha"}},
	}
	for _, tt := range tests {
		rec := browsers[tt.who].Get(tt.path, tt.hdr...)
		body := html.UnescapeString(rec.Body.String())
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s GET %s (htmx %v) = %d, want 404", tt.who, tt.path, tt.hdr != nil, rec.Code)
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s GET %s (htmx %v): answer lacks %q", tt.who, tt.path, tt.hdr != nil, w)
			}
		}
		for _, w := range tt.not {
			if strings.Contains(body, w) {
				t.Errorf("%s GET %s (htmx %v): answer tells %q of a folder they may not see", tt.who, tt.path, tt.hdr != nil, w)
			}
		}
	}
}
