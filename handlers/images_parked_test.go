package handlers_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

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

// TestOperationsOfAParkedFolder: what refers to an image of a folder that
// stopped being synced keeps working: its operation's page and the
// monitor name it, the audit log shows, and the image's own page says
// in words where it went.
func TestOperationsOfAParkedFolder(t *testing.T) {
	e := newOpsEnv(t)
	ctx := context.Background()
	o := e.copyAs("copier-a", e.alpha, "parked-copy")
	for range 10 {
		if cur, err := e.store.Operation(ctx, o.ID); err == nil && !cur.State.Open() {
			break
		}
		e.step(time.Minute)
	}
	done, err := e.store.Operation(ctx, o.ID)
	if err != nil || done.State != store.OpDone || done.ImageID == "" {
		t.Fatalf("copy: %+v, %v; want succeeded with an image", done, err)
	}
	// Parked after the outcome was written, by the store's own clock (a
	// row written after a pass began is the next pass's).
	if n, err := e.store.ParkFolderImages(ctx, cloud.Compute, e.alpha, store.ParkForbidden, time.Now().Add(time.Hour)); err != nil || n == 0 {
		t.Fatalf("park: %d, %v", n, err)
	}
	for _, c := range []struct{ who, path, want string }{
		{"copier-a", fmt.Sprintf("/operations/%d", o.ID), "parked-copy"},
		{"copier-a", "/operations", "parked-copy"},
		{"admin", "/admin/audit", "Audit"},
	} {
		r := e.as(c.who, http.MethodGet, c.path, nil)
		if r.code != http.StatusOK || !strings.Contains(html.UnescapeString(r.body), c.want) {
			t.Errorf("%s GET %s = %d, want 200 naming %q", c.who, c.path, r.code, c.want)
		}
	}
	r := e.as("copier-a", http.MethodGet, "/images/compute/"+done.ImageID, nil)
	if r.code != http.StatusNotFound || !strings.Contains(html.UnescapeString(r.body), "parked-copy is no longer listed") ||
		!strings.Contains(html.UnescapeString(r.body), "credentials may no longer read it") {
		t.Errorf("the copy's page = %d %q, want 404 saying its folder is no longer readable", r.code, r.text(`[data-testid="error-page"]`))
	}
}
