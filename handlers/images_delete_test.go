package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/views"
)

func deleteURL(img cloud.Image) string {
	return "/images/" + string(img.Service) + "/" + img.ID + "/delete"
}

// exists tells whether the emulator still has img, not being deleted.
func (ce *changeEnv) exists(img cloud.Image) bool {
	ce.t.Helper()
	got, err := ce.client.GetImage(context.Background(), img.Service, img.ID)
	if errors.Is(err, cloud.ErrNotFound) {
		return false
	}
	if err != nil {
		ce.t.Fatal(err)
	}
	return got.Status != "DELETING"
}

func TestDeleteImage(t *testing.T) {
	t.Parallel()
	ce := newChangeEnv(t)
	ctx := context.Background()
	own := ce.ready(cloud.Compute, ce.alpha)
	golden := ce.ready(cloud.Compute, ce.goldenID)

	t.Run("confirmation names the image", func(t *testing.T) {
		r := page(t, ce.browsers["editor-a"].Get(deleteURL(own)))
		if r.code != http.StatusOK {
			t.Fatalf("status %d:\n%s", r.code, r.body)
		}
		if got := r.text(`[data-testid="delete-name"]`); got != own.Name {
			t.Errorf("name %q, want %q", got, own.Name)
		}
		if got := r.text(`[data-testid="delete-id"]`); got != own.ID {
			t.Errorf("id %q", got)
		}
		if got := r.text(`[data-testid="delete-folder"]`); got != "team-alpha ("+ce.alpha+")" {
			t.Errorf("folder %q", got)
		}
		if r.doc.Find(`[data-testid="confirm-delete"]`).Length() != 1 {
			t.Error("no Delete button")
		}
	})

	t.Run("by role", func(t *testing.T) {
		tests := []struct {
			who  string
			img  cloud.Image
			want int
		}{
			{"viewer-a", own, http.StatusForbidden},
			{"copier-a", own, http.StatusForbidden},
			{"editor-b", own, http.StatusNotFound}, // not theirs to see: as if missing
			{"editor-a", golden, http.StatusForbidden},
			{"editor-a", own, http.StatusSeeOther},
		}
		for _, tt := range tests {
			b := ce.browsers[tt.who]
			before := ce.sim.Calls(method(cloud.Compute, "Delete"))
			if got := b.Get(deleteURL(tt.img)).Code; tt.want >= 400 && got != tt.want {
				t.Errorf("%s GET delete = %d, want 403", tt.who, got)
			}
			r := page(t, b.Post(deleteURL(tt.img), url.Values{}))
			if r.code != tt.want {
				t.Fatalf("%s POST delete = %d, want %d:\n%s", tt.who, r.code, tt.want, r.body)
			}
			calls := ce.sim.Calls(method(cloud.Compute, "Delete")) - before
			if tt.want >= 400 {
				if calls != 0 || !ce.exists(tt.img) {
					t.Errorf("%s: %d Delete calls after a %d; image still there: %v", tt.who, calls, tt.want, ce.exists(tt.img))
				}
				if got := r.text(`[data-testid="error-page"]`); !strings.Contains(got, "may delete its images") && !strings.Contains(got, "is cached") {
					t.Errorf("%s: refusal %q", tt.who, got)
				}
				continue
			}
			if calls != 1 {
				t.Errorf("%s: %d Delete calls, want 1", tt.who, calls)
			}
			if want := (views.ImageFilter{Service: cloud.Compute, Folders: []string{ce.alpha}}).URL(); r.hdr.Get("Location") != want {
				t.Errorf("redirect to %q, want %q", r.hdr.Get("Location"), want)
			}
			if _, err := ce.tracker.Step(ctx); err != nil {
				t.Fatal(err)
			}
			if ce.exists(tt.img) {
				t.Error("the emulator still has the deleted image")
			}
			if _, err := ce.store.Image(ctx, cloud.Compute, tt.img.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the cache still has the deleted image (%v)", err)
			}
			list := page(t, b.Get(r.hdr.Get("Location")))
			if got := list.text(`[data-testid="toasts"]`); !strings.Contains(got, "Deleting "+tt.img.Name+"…") {
				t.Errorf("toasts %q, want the flash", got)
			}
		}
		denied, err := ce.store.AuditLog(ctx, store.AuditQuery{Action: tracker.ActionDelete, Outcome: store.OutcomeDenied})
		if err != nil || len(denied) != 8 {
			t.Errorf("%d denied deletes in the audit log (%v), want 8", len(denied), err)
		}
		okLog, err := ce.store.AuditLog(ctx, store.AuditQuery{Action: tracker.ActionDelete, Target: own.ID, Outcome: store.OutcomeSuccess})
		if err != nil || len(okLog) == 0 || okLog[len(okLog)-1].OperationID == "" || okLog[len(okLog)-1].Username != "editor-a" {
			t.Errorf("audit of the delete: %+v (%v)", okLog, err)
		}
	})

	t.Run("status forbids deletion", func(t *testing.T) {
		tests := []struct {
			svc    cloud.Service
			status string
			want   string
		}{
			{cloud.Compute, "CREATING", "still being created"},
			{cloud.Compute, "DELETING", "already being deleted"},
			{cloud.Desktop, "CREATING", "still being created"},
			{cloud.BareMetal, "UPDATING", "being updated"},
		}
		for _, tt := range tests {
			img := ce.ready(tt.svc, "")
			if tt.svc == cloud.Compute {
				img = ce.ready(tt.svc, "", own.ID, golden.ID)
			}
			busy := img
			busy.Status = tt.status
			if err := ce.store.UpsertImage(ctx, busy); err != nil {
				t.Fatal(err)
			}
			before := ce.sim.Calls(method(tt.svc, "Delete"))
			r := page(t, ce.browser.Get(deleteURL(img)))
			if r.code != http.StatusConflict || !strings.Contains(r.text(`[data-testid="delete-refused"]`), tt.want) ||
				r.doc.Find(`[data-testid="confirm-delete"]`).Length() != 0 {
				t.Errorf("%s %s: GET = %d %q", tt.svc, tt.status, r.code, r.text(`[data-testid="delete-refused"]`))
			}
			r = page(t, ce.browser.Post(deleteURL(img), url.Values{}))
			if r.code != http.StatusConflict || !strings.Contains(r.text(`[data-testid="delete-refused"]`), tt.want) {
				t.Errorf("%s %s: POST = %d %q", tt.svc, tt.status, r.code, r.text(`[data-testid="delete-refused"]`))
			}
			if got := ce.sim.Calls(method(tt.svc, "Delete")); got != before || !ce.exists(img) {
				t.Errorf("%s %s: %d Delete calls", tt.svc, tt.status, got-before)
			}
			// Put it back as it was, for the next case.
			if err := ce.store.UpsertImage(ctx, img); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// bulkURL is the bulk delete's confirmation for ids of svc.
func bulkURL(svc cloud.Service, ids ...string) string {
	v := url.Values{"service": {string(svc)}, "id": ids}
	return views.BulkDeleteURL + "?" + v.Encode()
}

func TestBulkDelete(t *testing.T) {
	t.Parallel()
	ce := newChangeEnv(t)
	ctx := context.Background()
	a := ce.ready(cloud.Compute, ce.alpha)
	b := ce.ready(cloud.Compute, ce.alpha, a.ID)
	c := ce.ready(cloud.Compute, ce.alpha, a.ID, b.ID)
	golden := ce.ready(cloud.Compute, ce.goldenID)
	// c is being created, as the cache says: it cannot be deleted.
	busy := c
	busy.Status = "CREATING"
	if err := ce.store.UpsertImage(ctx, busy); err != nil {
		t.Fatal(err)
	}
	ids := []string{a.ID, b.ID, c.ID}
	editor := ce.browsers["editor-a"]
	deletes := func() int { return ce.sim.Calls(method(cloud.Compute, "Delete")) }

	t.Run("refused by role", func(t *testing.T) {
		tests := []struct {
			who  string
			ids  []string
			deny []string // the ids the refusal lists
		}{
			{"viewer-a", ids, ids},
			{"copier-a", ids, ids},
			{"editor-a", []string{a.ID, golden.ID}, []string{golden.ID}},
		}
		for _, tt := range tests {
			before := deletes()
			br := ce.browsers[tt.who]
			r := page(t, br.Get(bulkURL(cloud.Compute, tt.ids...)))
			if r.code != http.StatusForbidden {
				t.Errorf("%s GET = %d, want 403", tt.who, r.code)
			}
			r = page(t, br.Post(views.BulkDeleteURL, url.Values{"service": {"compute"}, "id": tt.ids, "count": {fmt.Sprint(len(tt.ids))}}))
			if r.code != http.StatusForbidden {
				t.Errorf("%s POST = %d, want 403", tt.who, r.code)
			}
			msg := r.text(`[data-testid="error-page"]`)
			for _, id := range tt.deny {
				if !strings.Contains(msg, id) {
					t.Errorf("%s: refusal %q does not list %s", tt.who, msg, id)
				}
			}
			if tt.who == "editor-a" && strings.Contains(msg, a.ID) {
				t.Errorf("refusal %q lists %s, which editor-a may delete", msg, a.ID)
			}
			if got := deletes(); got != before {
				t.Errorf("%s: %d Delete calls after a 403", tt.who, got-before)
			}
		}
		// Another team's images are not theirs to see: listed as not
		// cached, as made-up ids are, and nothing is deleted.
		before := deletes()
		br := ce.browsers["editor-b"]
		hidden := page(t, br.Post(views.BulkDeleteURL, url.Values{"service": {"compute"}, "id": ids, "count": {"3"}}))
		missing := page(t, br.Post(views.BulkDeleteURL, url.Values{"service": {"compute"}, "id": {"fd8nosuch00000000001", "fd8nosuch00000000002", "fd8nosuch00000000003"}, "count": {"3"}}))
		if hidden.code != missing.code || hidden.code < 400 || strings.Contains(hidden.body, a.Name) {
			t.Errorf("editor-b: another team's images = %d, made-up ids = %d", hidden.code, missing.code)
		}
		if got := deletes(); got != before {
			t.Errorf("editor-b: %d Delete calls", got-before)
		}
		for _, img := range []cloud.Image{a, b, golden} {
			if !ce.exists(img) {
				t.Errorf("%s was deleted", img.ID)
			}
		}
	})

	t.Run("confirmation", func(t *testing.T) {
		r := page(t, editor.Get(bulkURL(cloud.Compute, ids...)))
		if r.code != http.StatusOK {
			t.Fatalf("status %d:\n%s", r.code, r.body)
		}
		items := map[string]string{}
		r.doc.Find(`[data-testid="bulk-item"]`).Each(func(_ int, s *goquery.Selection) {
			id, _ := s.Attr("data-id")
			items[id] = strings.Join(strings.Fields(s.Find(`[data-testid="bulk-outcome"]`).Text()), " ")
		})
		if len(items) != 3 || items[a.ID] != "Yes" || items[b.ID] != "Yes" || !strings.Contains(items[c.ID], "still being created") {
			t.Errorf("items %q", items)
		}
		if got := r.text(`label[for="bulk-count"] strong`); got != "2" {
			t.Errorf("asks to type %q, want 2", got)
		}
	})

	t.Run("wrong number", func(t *testing.T) {
		before := deletes()
		for _, typed := range []string{"3", "", "two", "1"} {
			r := page(t, editor.Post(views.BulkDeleteURL, url.Values{"service": {"compute"}, "id": ids, "count": {typed}}))
			if r.code != http.StatusUnprocessableEntity {
				t.Errorf("count %q: status %d, want 422", typed, r.code)
			}
			if got := fieldError(r, "count"); !strings.Contains(got, "number of images that will be deleted") {
				t.Errorf("count %q: message %q", typed, got)
			}
			if got := r.attr(`input[name="count"]`, "value"); got != typed {
				t.Errorf("typed %q shown as %q", typed, got)
			}
		}
		if got := deletes(); got != before {
			t.Errorf("%d Delete calls for a wrong count", got-before)
		}
	})

	t.Run("deletes each image in one batch", func(t *testing.T) {
		confirm := page(t, editor.Get(bulkURL(cloud.Compute, ids...)))
		form := formOf(t, confirm, `form[data-testid="bulk-form"]`)
		form.Set("count", "2")
		before := deletes()
		r := page(t, editor.Post(views.BulkDeleteURL, form))
		if r.code != http.StatusOK {
			t.Fatalf("status %d:\n%s", r.code, r.body)
		}
		outcomes := map[string]string{}
		r.doc.Find(`[data-testid="bulk-item"]`).Each(func(_ int, s *goquery.Selection) {
			id, _ := s.Attr("data-id")
			outcomes[id], _ = s.Attr("data-outcome")
		})
		if outcomes[a.ID] != "started" || outcomes[b.ID] != "started" || outcomes[c.ID] != "refused" {
			t.Errorf("outcomes %v", outcomes)
		}
		if got := deletes() - before; got != 2 {
			t.Errorf("%d Delete calls, want 2", got)
		}
		if _, err := ce.tracker.Step(ctx); err != nil {
			t.Fatal(err)
		}
		if ce.exists(a) || ce.exists(b) || !ce.exists(c) {
			t.Errorf("after the bulk delete: a %v, b %v, c %v; want only c left", ce.exists(a), ce.exists(b), ce.exists(c))
		}
		ops, err := ce.store.Operations(ctx, store.OperationQuery{Action: tracker.ActionDelete, User: "editor-a"})
		if err != nil || len(ops) != 2 || ops[0].Batch == "" || ops[0].Batch != ops[1].Batch {
			t.Errorf("operations %+v (%v), want 2 in one batch", ops, err)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		many := make([]string, 501)
		for i := range many {
			many[i] = fmt.Sprintf("fd8many%013d", i)
		}
		for _, target := range []string{bulkURL(cloud.Compute), bulkURL(cloud.Compute, many...), bulkURL("floppy", a.ID), bulkURL(cloud.Compute, strings.Repeat("x", 51))} {
			if r := page(t, ce.browser.Get(target)); r.code != http.StatusBadRequest {
				t.Errorf("GET %.80s… = %d, want 400", target, r.code)
			}
		}
		if r := page(t, ce.browser.Get(bulkURL(cloud.Compute, many[:500]...))); r.code != http.StatusConflict ||
			r.doc.Find(`[data-testid="bulk-item"]`).Length() != 500 {
			t.Errorf("500 uncached ids: %d, %d items; want 409 listing all", r.code, r.doc.Find(`[data-testid="bulk-item"]`).Length())
		}
	})
}
