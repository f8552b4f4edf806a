package handlers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/cloud/sim"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/views"
)

// TestCopyBatchProgress is issue 17's item 13 at the handler: the copies'
// result page says how far the batch has got ("n of N done, k failed"),
// lists the failures with their reasons, and does so inside the list that
// polls itself, so it moves by itself and stops with it.
func TestCopyBatchProgress(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t)
	ctx := context.Background()
	src := e.golden()
	alpha, beta := e.folder["team-alpha"], e.folder["team-beta"]

	t.Run("one done, one refused", func(t *testing.T) {
		// Only the cloud knows this name in team-beta: that target is refused.
		if _, err := e.client.CreateImage(ctx, "", cloud.CreateImageSpec{FolderID: beta, Name: "taken-upstream", SourceImageID: src.ID}); err != nil {
			t.Fatal(err)
		}
		rec, _ := e.post("admin", "/images/compute/"+src.ID+"/copy", copyPostForm([]string{alpha, beta}, "taken-upstream"))
		batch, ops := e.batchOps(rec)
		if len(ops) != 2 {
			t.Fatalf("operations = %d, want 2", len(ops))
		}
		for _, hdr := range []map[string]string{nil, htmx} {
			page := e.do("GET", "/copies/"+batch, nil, hdr)
			p := page.doc.Find(`#` + views.CopyResultsID + ` [data-testid="batch-progress"]`)
			if p.Length() != 1 {
				t.Fatalf("no progress in the results (htmx %v):\n%s", hdr != nil, page.body)
			}
			if got := page.text(`[data-testid="batch-progress-text"]`); got != "1 of 2 done, 1 failed" {
				t.Errorf("progress = %q", got)
			}
			if p.AttrOr("data-done", "") != "1" || p.AttrOr("data-failed", "") != "1" || p.AttrOr("data-total", "") != "2" {
				t.Errorf("progress data = %v %v %v", p.AttrOr("data-done", ""), p.AttrOr("data-failed", ""), p.AttrOr("data-total", ""))
			}
			failures := p.Find(`[data-testid="batch-failure"]`)
			if failures.Length() != 1 || !strings.Contains(failures.Text(), "taken-upstream") || !strings.Contains(failures.Text(), "team-beta") {
				t.Errorf("failures = %q", failures.Text())
			}
			if p.Find(`[data-testid="batch-in-flight"]`).Length() != 0 {
				t.Error("a settled batch says some are in flight")
			}
			if hdr != nil && page.code != handlers.StatusStopPolling {
				t.Errorf("settled batch's poll = %d, want %d", page.code, handlers.StatusStopPolling)
			}
		}
	})

	t.Run("in flight", func(t *testing.T) {
		e.sim.SetFaults(sim.Faults{UnavailableRate: 1})
		rec, _ := e.post("copier-a", "/images/compute/"+src.ID+"/copy", copyPostForm([]string{alpha}, "{name}-waiting"))
		e.sim.SetFaults(sim.Faults{})
		batch, _ := e.batchOps(rec)
		page := e.ok("/copies/" + batch)
		if got := page.text(`[data-testid="batch-progress-text"]`); got != "0 of 1 done" {
			t.Errorf("progress = %q", got)
		}
		if got := page.text(`[data-testid="batch-in-flight"]`); got != "1 in flight" {
			t.Errorf("in flight = %q", got)
		}
		if !strings.Contains(page.attr(`#`+views.CopyResultsID, "hx-trigger"), "every") {
			t.Error("the progress does not poll while a target is in flight")
		}
	})
}
