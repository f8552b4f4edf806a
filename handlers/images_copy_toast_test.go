package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/cloud/sim"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// TestCopyToast: each way of copying (one, fan-out, bulk, into Desktop)
// lands on its result page with a toast linking each new image (its page,
// once the cloud named it) and its operation, once: not on a reload, not
// on a poll, not for another person opening the same address.
func TestCopyToast(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t)
	alpha, beta := e.folder["team-alpha"], e.folder["team-beta"]
	var used []string
	src := func() cloud.Image {
		s := e.golden(used...)
		used = append(used, s.ID)
		return s
	}
	one, fan, desk, b1, b2 := src(), src(), src(), src(), src()
	tests := []struct {
		name   string
		who    string
		target string
		form   url.Values
		htmx   bool
		images int
	}{
		{"one copy", "copier-a", "/images/compute/" + one.ID + "/copy", copyPostForm([]string{alpha}, "{name}-toast"), false, 1},
		{"fan-out, from htmx", "admin", "/images/compute/" + fan.ID + "/copy", copyPostForm([]string{alpha, beta}, "{folder}-{name}"), true, 2},
		{"into Desktop", "copier-a", "/images/compute/" + desk.ID + "/copy", copyPostForm([]string{alpha}, "{name}-vdi", "as", "desktop"), false, 1},
		{"bulk", "editor-a", views.BulkCopyURL,
			url.Values{"service": {"compute"}, "id": {b1.ID, b2.ID}, "folder": {alpha}, "name": {"{name}-bulk"}}, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.htmx {
				hdr = []string{handlers.HeaderRequest, "true"}
			}
			rec, _ := e.post(tt.who, tt.target, tt.form, hdr...)
			if rec.Code != http.StatusSeeOther && rec.Code != http.StatusOK {
				t.Fatalf("POST = %d:\n%s", rec.Code, rec.Body.String())
			}
			batch, ops := e.batchOps(rec)
			if len(ops) != tt.images {
				t.Fatalf("%d operations, want %d", len(ops), tt.images)
			}
			b := e.browsers[tt.who]
			// A poll first: it neither shows nor spends the toast.
			poll := page(t, b.Get(views.CopyBatchURL(batch), handlers.HeaderRequest, "true"))
			if n := poll.doc.Find(`[data-testid="copy-toast"]`).Length(); n != 0 {
				t.Errorf("a poll carries %d toasts", n)
			}
			if other := page(t, e.browsers["viewer-a"].Get(views.CopyBatchURL(batch))); other.doc.Find(`[data-testid="copy-toast"]`).Length() != 0 {
				t.Error("another person opening the address gets the toast")
			}
			r := page(t, b.Get(views.CopyBatchURL(batch)))
			if r.code != http.StatusOK {
				t.Fatalf("result page = %d", r.code)
			}
			toast := r.doc.Find(`[data-testid="copy-toast"]`)
			if toast.Length() != 1 || !strings.Contains(toast.Text(), "Started "+views.Plural(tt.images, "copy", "copies")) {
				t.Fatalf("toast %q", toast.Text())
			}
			want := map[string]bool{}
			for _, o := range ops {
				if o.State != store.OpDone || o.ImageID == "" {
					t.Fatalf("operation %+v, want done with its image", o)
				}
				want[views.ImageURL(o.Service, o.ImageID)+" "+"/operations/"+strconv.FormatInt(o.ID, 10)] = true
			}
			items := toast.Find(`[data-testid="copy-toast-item"]`)
			if items.Length() != tt.images {
				t.Errorf("%d items, want %d", items.Length(), tt.images)
			}
			for i := range items.Length() {
				it := items.Eq(i)
				got := it.Find(`[data-testid="toast-image"]`).AttrOr("href", "") + " " + it.Find(`[data-testid="toast-op"]`).AttrOr("href", "")
				if !want[got] {
					t.Errorf("item links %q, want one of %v", got, want)
				}
			}
			if again := page(t, b.Get(views.CopyBatchURL(batch))); again.doc.Find(`[data-testid="copy-toast"]`).Length() != 0 {
				t.Error("the toast shows again on a reload")
			}
		})
	}
}

// TestCopyToastBeforeTheImageIsNamed: while the cloud has not answered,
// the new image has no id yet: the toast links its operation instead.
func TestCopyToastBeforeTheImageIsNamed(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t)
	src := e.golden()
	e.sim.SetFaults(sim.Faults{UnavailableRate: 1})
	rec, _ := e.post("copier-a", "/images/compute/"+src.ID+"/copy", copyPostForm([]string{e.folder["team-alpha"]}, "{name}-later"))
	e.sim.SetFaults(sim.Faults{})
	batch, ops := e.batchOps(rec)
	if len(ops) != 1 || ops[0].State != store.OpPending || ops[0].ImageID != "" {
		t.Fatalf("operations = %+v", ops)
	}
	r := page(t, e.browsers["copier-a"].Get(views.CopyBatchURL(batch)))
	opURL := "/operations/" + strconv.FormatInt(ops[0].ID, 10)
	it := r.doc.Find(`[data-testid="copy-toast-item"]`)
	if got := it.Find(`[data-testid="toast-image"]`).AttrOr("href", ""); got != opURL {
		t.Errorf("new image links %q, want its operation %q", got, opURL)
	}
	if got := strings.TrimSpace(it.Find(`[data-testid="toast-image"]`).Text()); got != src.Name+"-later" {
		t.Errorf("new image named %q", got)
	}
}

// TestCopyFailedInTheCloudLandsOnItsPage: a copy the cloud accepted and
// then failed at once is not sent back to the form (nothing there to fix):
// its result page says so, links the ERROR image it left and offers its
// maker to delete it. A copy refused before it ran still gets the form,
// the message next to the field.
func TestCopyFailedInTheCloudLandsOnItsPage(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t)
	src := e.golden()
	e.sim.SetFaults(sim.Faults{OpErrorRate: 1})
	rec, _ := e.post("copier-a", "/images/compute/"+src.ID+"/copy", copyPostForm([]string{e.folder["team-alpha"]}, "{name}-doomed"))
	e.sim.SetFaults(sim.Faults{})
	batch, ops := e.batchOps(rec)
	if len(ops) != 1 || ops[0].State != store.OpFailed || ops[0].CloudID == "" || ops[0].ImageID == "" {
		t.Fatalf("operations = %+v", ops)
	}
	r := page(t, e.browsers["copier-a"].Get(views.CopyBatchURL(batch)))
	img := views.ImageURL(cloud.Compute, ops[0].ImageID)
	if got := r.attr(`[data-testid="toast-image"]`, "href"); got != img {
		t.Errorf("toast links %q, want the ERROR image %q", got, img)
	}
	if got := r.attr(`[data-testid="delete-failed"]`, "href"); got != img+"/delete" {
		t.Errorf("the row's Delete goes to %q, want %q", got, img+"/delete")
	}
	// Refused before it ran (a name the rules refuse): the form.
	bad, doc := e.post("copier-a", "/images/compute/"+src.ID+"/copy", copyPostForm([]string{e.folder["team-alpha"]}, "Bad_Name"))
	if bad.Code != http.StatusUnprocessableEntity || copyFieldError(doc, "name") == "" {
		t.Errorf("a refused name = %d, name error %q", bad.Code, copyFieldError(doc, "name"))
	}
}
