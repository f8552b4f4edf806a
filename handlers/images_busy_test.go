package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/views"
	"github.com/imagedash/imagedash/web/webtest"
)

// TestBulkDeleteSentThrice: the same bulk delete of 5 images sent 3
// times at once (three tabs, a double click) wrote 15 operations. Now
// one batch is written and the others are refused whole (409), every row
// saying why; exactly one delete operation an image.
func TestBulkDeleteSentThrice(t *testing.T) {
	t.Parallel()
	ce := newChangeEnv(t)
	ctx := context.Background()
	var ids []string
	for range 5 {
		ids = append(ids, ce.ready(cloud.Compute, ce.alpha, ids...).ID)
	}
	const tabs = 3
	var (
		browsers []*webtest.Browser
		forms    []url.Values
	)
	for range tabs {
		b := webtest.NewBrowser(t, ce.srv)
		b.Login("editor-a", webtest.Password)
		confirm := page(t, b.Get(bulkURL(cloud.Compute, ids...)))
		form := formOf(t, confirm, `form[data-testid="bulk-form"]`)
		form.Set("count", "5")
		browsers, forms = append(browsers, b), append(forms, form)
	}
	recs := make([]*httptest.ResponseRecorder, tabs)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range tabs {
		wg.Go(func() {
			<-start
			recs[i] = browsers[i].Post(views.BulkDeleteURL, forms[i])
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, rec := range recs {
		r := page(t, rec)
		switch r.code {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
			r.doc.Find(`[data-testid="bulk-item"]`).Each(func(_ int, s *goquery.Selection) {
				id, _ := s.Attr("data-id")
				outcome, _ := s.Attr("data-outcome")
				msg := strings.Join(strings.Fields(s.Text()), " ")
				// "refused" when the write refused it, "" when the page
				// already saw it under way (nothing left to delete: 409).
				if outcome != "refused" && outcome != "" || !strings.Contains(msg, "already being deleted by you (operation") &&
					!strings.Contains(msg, "no longer exists") && !strings.Contains(msg, "Not in the cache") {
					t.Errorf("tab %d, %s: %s %q", i, id, outcome, msg)
				}
			})
		case http.StatusUnprocessableEntity:
			// The first batch ended before this one read its images: the
			// count typed no longer matches the images left. Nothing sent.
			if fieldError(r, "count") == "" {
				t.Errorf("tab %d: 422 without the count's message", i)
			}
		default:
			t.Errorf("tab %d: status %d:\n%s", i, r.code, r.body)
		}
	}
	ops, err := ce.store.Operations(ctx, store.OperationQuery{Action: tracker.ActionDelete, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, o := range ops {
		per[o.ImageID]++
	}
	if ok != 1 || len(ops) != len(ids) {
		t.Errorf("%d batches written, %d delete operations (%v); want 1 batch, one operation for each of %d images", ok, len(ops), per, len(ids))
	}
}

// TestChangeWhileAnotherIsOpen: an image has one open change at a time,
// whoever asks and through whichever route: a delete while a delete or an
// edit is open, an edit of an image being deleted. Each is refused (409)
// with who and which operation, nothing written, and an edit keeps what
// was typed.
func TestChangeWhileAnotherIsOpen(t *testing.T) {
	t.Parallel()
	ce := newChangeEnv(t)
	ctx := context.Background()
	img := ce.ready(cloud.Compute, ce.alpha)
	editor := ce.browsers["editor-a"]
	form := openEdit(t, editor, img)
	// An operation under way on the image, as the watcher leaves it
	// between two polls (the emulator here finishes at once).
	open := func(action string) store.Operation {
		t.Helper()
		o, err := ce.store.CreateIntent(ctx, store.Operation{Key: cloud.NewIdempotencyKey(), Action: action, Service: img.Service,
			FolderID: img.FolderID, ImageID: img.ID, ImageName: img.Name, Request: []byte(`{"action":"` + action + `"}`), Username: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	end := func(o store.Operation) {
		t.Helper()
		o.State = store.OpFailed
		if err := ce.store.FinishOperation(ctx, o, nil, cloud.Image{}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		ops, err := ce.store.Operations(ctx, store.OperationQuery{Image: img.ID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(ops)
	}
	tests := []struct {
		name, under, route, want string
	}{
		{"delete while deleting", tracker.ActionDelete, "delete", "already being deleted by admin (operation"},
		{"delete while editing", tracker.ActionUpdate, "delete", "being edited by admin (operation"},
		{"bulk delete while deleting", tracker.ActionDelete, "bulk", "already being deleted by admin (operation"},
		{"edit while deleting", tracker.ActionDelete, "edit", "already being deleted by admin (operation"},
		{"edit while editing", tracker.ActionUpdate, "edit", "already being edited by admin (operation"},
		// Said before it is asked: the confirmation and the form.
		{"delete confirmation while editing", tracker.ActionUpdate, "confirm-delete", "being edited by admin (operation"},
		{"bulk confirmation while deleting", tracker.ActionDelete, "confirm-bulk", "already being deleted by admin (operation"},
		{"edit form while deleting", tracker.ActionDelete, "edit-form", "already being deleted by admin (operation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := open(tt.under)
			defer end(o)
			before := count()
			var r response
			switch tt.route {
			case "delete":
				r = page(t, editor.Post(deleteURL(img), url.Values{}))
			case "bulk":
				r = page(t, editor.Post(views.BulkDeleteURL, url.Values{"service": {"compute"}, "id": {img.ID}, "count": {"1"}}))
			case "confirm-delete":
				r = page(t, editor.Get(deleteURL(img)))
				if r.doc.Find(`[data-testid="confirm-delete"]`).Length() != 0 {
					t.Error("a Delete button offered on an image being changed")
				}
			case "confirm-bulk":
				r = page(t, editor.Get(bulkURL(cloud.Compute, img.ID)))
			case "edit-form":
				r = page(t, editor.Get(editURL(img)))
			case "edit":
				f := cloneForm(form)
				f.Set("description", "typed while it was busy")
				r = page(t, editor.Post(editURL(img), f))
				if got := r.doc.Find(`textarea[name="description"]`).Text(); got != "typed while it was busy" {
					t.Errorf("the form lost what was typed: %q", got)
				}
			}
			if r.code != http.StatusConflict || !strings.Contains(r.body, tt.want) {
				t.Errorf("status %d, want 409 saying %q:\n%.3000s", r.code, tt.want, r.body)
			}
			if got := count(); got != before {
				t.Errorf("%d operations written by a refused change", got-before)
			}
		})
	}
}

func cloneForm(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
