package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/cloud/sim"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
)

// rawCloud are what the cloud's own error texts carry and no page a
// person reads may show: code names, the transport's prefix, the server's
// words.
var rawCloud = []string{
	"NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
	"InvalidArgument", "rpc error", "code =", "injected fault", "fd8gone0000000000",
}

// sayOp writes an operation of user into folder, in batch, ended (or
// running) with the cloud's error code and message.
func sayOp(t *testing.T, e *opsEnv, user, folder, batch, name string, state store.OpState, code, msg string) store.Operation {
	t.Helper()
	ctx := context.Background()
	u := e.users[user]
	req, _ := json.Marshal(map[string]any{"action": tracker.ActionCopy, "create": map[string]string{"name": name, "folder_id": folder}})
	o, err := e.store.CreateIntent(ctx, store.Operation{
		Key: fmt.Sprintf("say-%d", keys.Add(1)), Batch: batch, Action: tracker.ActionCopy, Service: cloud.Compute, FolderID: folder,
		ImageName: name, SourceService: cloud.Compute, SourceID: e.src.ID, Request: req, UserID: u.ID, Username: u.Username,
		CreatedAt: now.Add(-time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	o.State, o.CloudID, o.ErrorCode, o.ErrorMessage, o.Attempts = state, fmt.Sprintf("sayop%d", o.ID), code, msg, 1
	o.NextPollAt = now.Add(time.Hour)
	if state.Open() {
		err = e.store.SaveOperation(ctx, o)
	} else {
		o.DoneAt = now.Add(-time.Minute)
		err = e.store.FinishOperation(ctx, o, nil, cloud.Image{})
	}
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestOperationMessagesPlain: operations that failed with the cloud's
// raw errors (a code, an image id, another team's folder id in the
// server's words) read in plain words with folder names on every page
// that shows them: the badge and its toast and event, the monitor, the
// operation's page, the copies page, an image page's badges. A copy of
// theirs into a folder they can no longer see is "another folder",
// neither its name nor its id. An administrator may unfold the cloud's
// own words on the operation's page.
func TestOperationMessagesPlain(t *testing.T) {
	t.Parallel()
	e := newOpsEnv(t)
	const batch = "say-batch"
	exists := sayOp(t, e, "copier-a", e.alpha, batch, "web-dup", store.OpFailed, "AlreadyExists",
		fmt.Sprintf(`image with name "web-dup" already exists in folder %s`, e.alpha))
	gone := sayOp(t, e, "copier-a", e.alpha, batch, "web-gone", store.OpFailed, "NotFound",
		"rpc error: code = NotFound desc = Image fd8gone0000000000 not found")
	quota := sayOp(t, e, "copier-a", e.alpha, batch, "web-quota", store.OpFailed, "ResourceExhausted",
		fmt.Sprintf("Quota limit compute.images.count exceeded in folder %s", e.alpha))
	failing := sayOp(t, e, "copier-a", e.alpha, batch, "web-failing", store.OpRunning, "PermissionDenied",
		fmt.Sprintf("Permission denied to folder %s (also %s)", e.alpha, e.beta))
	// A copy of copier-a's into team beta's folder (say, before the
	// folder went to another team): theirs to see on the copies page, the
	// folder not theirs to read.
	sayOp(t, e, "copier-a", e.beta, batch, "web-hidden", store.OpFailed, "PermissionDenied",
		fmt.Sprintf("Permission denied to folder %s", e.beta))

	forbidden := append([]string{e.beta, "team-beta"}, rawCloud...)
	check := func(page string, r response, want ...string) {
		t.Helper()
		if r.code != http.StatusOK && r.code != 286 {
			t.Fatalf("%s: %d\n%s", page, r.code, r.body)
		}
		body := r.body + "\n" + strings.Join(r.hdr.Values("HX-Trigger"), "\n")
		for _, w := range forbidden {
			if strings.Contains(body, w) {
				t.Errorf("%s shows the raw %q:\n%s", page, w, r.body)
			}
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s does not say %q:\n%s", page, w, r.body)
			}
		}
	}
	const (
		sayExists = "An image named “web-dup” already exists in team-alpha. Pick another name and try again."
		sayGone   = "The source image no longer exists, so nothing was copied into team-alpha."
		sayQuota  = "The image quota of team-alpha is full"
		sayDenied = "The cloud does not allow the dashboard to do this in team-alpha."
		sayHidden = "The cloud does not allow the dashboard to do this in another folder."
	)
	as := func(target string, hdr ...string) response {
		return e.as("copier-a", http.MethodGet, target, nil, hdr...)
	}

	check("monitor", as("/operations"), sayExists, sayGone, sayQuota, sayDenied)
	check("monitor (htmx)", as("/operations?part=history", hx...), sayExists, sayGone, sayQuota)
	for _, tt := range []struct {
		o    store.Operation
		want string
	}{{exists, sayExists}, {gone, sayGone}, {quota, sayQuota}, {failing, sayDenied}} {
		check(fmt.Sprintf("badge %d", tt.o.ID), as(badgeURL(tt.o.ID), hx...), tt.want)
		r := as(fmt.Sprintf("/operations/%d", tt.o.ID))
		check(fmt.Sprintf("operation %d", tt.o.ID), r, tt.want)
		if r.doc.Find(`[data-testid="cloud-words"]`).Length() != 0 {
			t.Errorf("operation %d: a copier is shown the cloud's own words", tt.o.ID)
		}
	}
	check("toast", as(badgeURL(exists.ID), hx...), "Copy of web-dup failed: "+sayExists)
	check("copies page", as("/copies/"+batch), sayExists, sayGone, sayQuota, sayHidden, "another folder")

	// An image of team alpha whose page names the failed operations.
	img := e.alphaImage(t)
	check("image page", as(fmt.Sprintf("/images/compute/%s?op=%d&op=%d", img.ID, exists.ID, gone.ID)), sayExists, sayGone)

	// The administrator reads the same sentence, and may unfold the
	// cloud's own words.
	r := e.as("admin", http.MethodGet, fmt.Sprintf("/operations/%d", failing.ID), nil)
	if got := r.text(`[data-testid="op-error-message"]`); got != sayDenied+" Ask the operator to check the dashboard's access there." {
		t.Errorf("admin's message = %q", got)
	}
	if got := r.text(`[data-testid="cloud-words"] p`); !strings.Contains(got, "PermissionDenied") || !strings.Contains(got, e.beta) {
		t.Errorf("admin's cloud's own words = %q", got)
	}
}

// TestImageOperationsCard: the image page's operations card names the
// person who asked for an operation the dashboard started (not the
// cloud's account), links to its page, and says a failure in plain words.
func TestImageOperationsCard(t *testing.T) {
	t.Parallel()
	e := newOpsEnv(t)
	e.sim.SetFaults(sim.Faults{OpErrorRate: 1}) // every new operation ends in error
	o := e.copyAs("copier-a", e.alpha, "card-copy")
	for range 20 {
		if got, err := e.store.Operation(context.Background(), o.ID); err != nil || !got.State.Open() {
			break
		}
		e.step(10 * time.Second)
	}
	o, err := e.store.Operation(context.Background(), o.ID)
	if err != nil || o.State != store.OpFailed || o.ImageID == "" {
		t.Fatalf("copy ended %s (image %q), %v; want failed with an image", o.State, o.ImageID, err)
	}
	r := e.as("copier-a", http.MethodGet, "/images/compute/"+o.ImageID+"/operations", nil, hx...)
	if r.code != http.StatusOK {
		t.Fatalf("card: %d\n%s", r.code, r.body)
	}
	row := r.doc.Find(`[data-testid="operation"]`)
	if row.Length() != 1 {
		t.Fatalf("rows = %d\n%s", row.Length(), r.body)
	}
	if got := r.text(`[data-testid="operation-by"]`); got != "copier-a" {
		t.Errorf("by = %q, want the person who asked", got)
	}
	if got := r.attr(`[data-testid="operation-link"]`, "href"); got != fmt.Sprintf("/operations/%d", o.ID) {
		t.Errorf("link = %q", got)
	}
	if got := r.text(`[data-testid="operation-error"]`); got != "The cloud could not finish the copy in team-alpha: it failed on its side. Try again; if it fails again, ask the operator (the dashboard's log has the details)." {
		t.Errorf("error = %q", got)
	}
	for _, w := range append([]string{"ajesim", "Internal"}, rawCloud...) {
		if strings.Contains(r.body, w) {
			t.Errorf("the card shows the raw %q:\n%s", w, r.body)
		}
	}
	if r.doc.Find(`[data-testid="image-ops-table"] thead th`).Length() != 2 {
		t.Errorf("the card's table has %d columns, want 2 (it must fit a phone)", r.doc.Find(`[data-testid="image-ops-table"] thead th`).Length())
	}
}

// alphaImage is an image of team alpha's folder, from the cache.
func (e *opsEnv) alphaImage(t *testing.T) cloud.Image {
	t.Helper()
	p, err := e.store.Images(context.Background(), store.ImageQuery{Service: cloud.Compute, FolderIDs: []string{e.alpha}, Limit: 1})
	if err != nil || len(p.Images) == 0 {
		t.Fatalf("an image of team alpha: %v", err)
	}
	return p.Images[0]
}
