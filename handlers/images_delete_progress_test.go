package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/views"
)

// TestBulkDeleteFollowsItsBatch is issue 17's item 13 for a bulk delete: its
// answer follows the batch's progress live, polling the batch's result page
// for its progress alone until the batch has settled.
func TestBulkDeleteFollowsItsBatch(t *testing.T) {
	t.Parallel()
	ce := newChangeEnv(t)
	ctx := context.Background()
	a := ce.ready(cloud.Compute, ce.alpha)
	b := ce.ready(cloud.Compute, ce.alpha, a.ID)
	editor := ce.browsers["editor-a"]

	confirm := page(t, editor.Get(bulkURL(cloud.Compute, a.ID, b.ID)))
	form := formOf(t, confirm, `form[data-testid="bulk-form"]`)
	form.Set("count", "2")
	r := page(t, editor.Post(views.BulkDeleteURL, form))
	if r.code != http.StatusOK {
		t.Fatalf("status %d:\n%s", r.code, r.body)
	}
	live := r.doc.Find(`[data-testid="batch-live"]`)
	poll := live.AttrOr("hx-get", "")
	if live.Length() != 1 || !strings.HasPrefix(poll, "/copies/") || !strings.Contains(live.AttrOr("hx-trigger", ""), "every") ||
		live.AttrOr("hx-select", "") != ".batch-progress" || live.AttrOr("hx-disinherit", "") != "*" {
		h, _ := live.Parent().Html()
		t.Fatalf("the answer does not follow its batch:\n%s", h)
	}

	progress := func() (int, string) {
		t.Helper()
		p := page(t, editor.Get(poll, handlers.HeaderRequest, "true"))
		return p.code, p.text(`.batch-progress [data-testid="batch-progress-text"]`)
	}
	// The emulator here may end a delete in the call that starts it.
	if code, got := progress(); (code != http.StatusOK && code != handlers.StatusStopPolling) || !strings.HasSuffix(got, " of 2 done") {
		t.Errorf("right after sending: %d %q, want \"n of 2 done\"", code, got)
	}
	if _, err := ce.tracker.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if code, got := progress(); code != handlers.StatusStopPolling || got != "2 of 2 done" {
		t.Errorf("after: %d %q, want %d \"2 of 2 done\"", code, got, handlers.StatusStopPolling)
	}
}
