package handlers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// TestCountsFollowTheEndOfAnOperation is issue 17's defect 3: the header said
// "1 in flight" for up to 5 s after the operation's badge turned final. The
// event the final badge raises (and the one the monitor raises) must be one
// the header's counts reload on, and the counts asked at that moment must no
// longer count the operation.
func TestCountsFollowTheEndOfAnOperation(t *testing.T) {
	t.Parallel()
	e := newMonitorEnv(t)
	for _, tt := range []struct {
		name  string
		state store.OpState
		msg   string
	}{
		{"done", store.OpDone, ""},
		{"failed", store.OpFailed, "Quota exceeded."},
		{"lost", store.OpLost, "The cloud no longer knows this operation."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := putOp(t, e.store, opSpec{folder: team, name: "copy-" + tt.name, state: store.OpRunning})
			counts := e.get(views.OpCountsURL, htmx)
			if got := counts.text(`[data-testid="count-inflight"]`); got != "1 in flight" {
				t.Fatalf("in flight before the end = %q", got)
			}
			trig := counts.attr("#"+views.OpCountsID, "hx-trigger")

			// The operation ends; the badge's next poll sees it.
			o.State, o.ErrorMessage, o.DoneAt = tt.state, tt.msg, now
			if err := e.store.FinishOperation(context.Background(), o, nil, cloud.Image{}); err != nil {
				t.Fatal(err)
			}
			badge := e.get(badgeURL(o.ID), htmx)
			if badge.code != handlers.StatusStopPolling {
				t.Fatalf("final badge: %d", badge.code)
			}
			var ev map[string]json.RawMessage
			if err := json.Unmarshal([]byte(badge.hdr.Get(handlers.HeaderTriggerResponse)), &ev); err != nil || len(ev) == 0 {
				t.Fatalf("the final badge raised no event: %q (%v)", badge.hdr.Get(handlers.HeaderTriggerResponse), err)
			}
			for name := range ev {
				if !strings.Contains(trig, name+" from:body") {
					t.Errorf("the final badge raises %q, which the header's counts (hx-trigger %q) do not reload on", name, trig)
				}
			}
			// The counts the event brings are already right.
			counts = e.get(views.OpCountsURL, htmx)
			if counts.code != http.StatusOK || counts.doc.Find(`[data-testid="count-inflight"]`).Length() != 0 {
				t.Errorf("counts right after the badge's end: %d, in flight %q", counts.code, counts.text(`[data-testid="count-inflight"]`))
			}
		})
	}
	// The monitor's in-flight section raises its own event when one ends.
	if trig := e.get(views.OpCountsURL, htmx).attr("#"+views.OpCountsID, "hx-trigger"); !strings.Contains(trig, views.OpsFinishedEvent+" from:body") ||
		!strings.HasPrefix(trig, "every 5s") {
		t.Errorf("counts trigger %q: no monitor event or no fallback poll", trig)
	}
}
