package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/cloud/sim"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/web/webtest"
)

// ownCopyEnv is copyEnv with a second copier of team-alpha (copier-a2)
// and the images a copier's delete right is about.
type ownCopyEnv struct {
	*copyEnv
	ownErr, ownErr2 cloud.Image // ERROR images copier-a's failed copies left
	otherErr        cloud.Image // the ERROR image copier-a2's failed copy left
	ownReady        cloud.Image // copier-a's successful copy
	foreignErr      cloud.Image // an ERROR image in team-alpha the dashboard did not make
	betaErr         cloud.Image // the ERROR image copier-b's failed copy left in team-beta
}

func newOwnCopyEnv(t *testing.T) *ownCopyEnv {
	t.Helper()
	e := &ownCopyEnv{copyEnv: newCopyEnv(t)}
	ctx := context.Background()
	teams, err := e.store.Teams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u := webtest.AddUser(t, e.store, "copier-a2", false)
	for _, tm := range teams {
		if tm.Name == "alpha" {
			if err := e.store.AddMember(ctx, tm.ID, u.ID, store.RoleCopier); err != nil {
				t.Fatal(err)
			}
		}
	}
	b := webtest.NewBrowser(t, e.srv)
	b.Login("copier-a2", webtest.Password)
	e.browsers["copier-a2"] = b

	alpha, beta := e.folder["team-alpha"], e.folder["team-beta"]
	var used []string
	src := func() cloud.Image {
		s := e.golden(used...)
		used = append(used, s.ID)
		return s
	}
	e.sim.SetFaults(sim.Faults{OpErrorRate: 1})
	e.ownErr = e.copyAs("copier-a", src(), alpha, "own-failed-1", store.OpFailed)
	e.ownErr2 = e.copyAs("copier-a", src(), alpha, "own-failed-2", store.OpFailed)
	e.otherErr = e.copyAs("copier-a2", src(), alpha, "other-failed", store.OpFailed)
	e.betaErr = e.copyAs("copier-b", src(), beta, "beta-failed", store.OpFailed)
	// Made in the cloud, not through the dashboard: the same ERROR status,
	// no operation of anyone's in its table.
	op, err := e.client.CreateImage(ctx, cloud.NewIdempotencyKey(),
		cloud.CreateImageSpec{FolderID: alpha, Name: "foreign-failed", SourceImageID: src().ID})
	if err != nil {
		t.Fatal(err)
	}
	e.sim.SetFaults(sim.Faults{})
	e.ownReady = e.copyAs("copier-a", src(), alpha, "own-ready", store.OpDone)
	if p := e.syncer.SyncAll(ctx); p.Err != nil || p.Failures > 0 {
		t.Fatalf("sync: %+v", p)
	}
	e.foreignErr = e.cached(op.ImageID)
	for _, img := range []cloud.Image{e.ownErr, e.ownErr2, e.otherErr, e.betaErr, e.foreignErr} {
		if img.Status != "ERROR" {
			t.Fatalf("fixture %s is %s, want ERROR", img.Name, img.Status)
		}
	}
	return e
}

// copyAs copies src into folder as name, as who does with the copy form,
// and returns the image the copy made, as cached, once its operation has
// ended in want.
func (e *ownCopyEnv) copyAs(who string, src cloud.Image, folder, name string, want store.OpState) cloud.Image {
	e.t.Helper()
	ctx := context.Background()
	rec, _ := e.post(who, "/images/compute/"+src.ID+"/copy", copyPostForm([]string{folder}, name))
	if rec.Code >= 500 {
		e.t.Fatalf("copy as %s = %d:\n%s", who, rec.Code, rec.Body.String())
	}
	for range 10 {
		ops, err := e.store.Operations(ctx, store.OperationQuery{User: who, Action: tracker.ActionCopy, Limit: 100})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, o := range ops {
			if o.ImageName != name {
				continue
			}
			if o.State == want && o.ImageID != "" {
				return e.cached(o.ImageID)
			}
		}
		if _, err := e.tracker.Step(ctx); err != nil {
			e.t.Fatal(err)
		}
	}
	e.t.Fatalf("the copy %s by %s did not end %s", name, who, want)
	return cloud.Image{}
}

func (e *ownCopyEnv) cached(id string) cloud.Image {
	e.t.Helper()
	img, err := e.store.Image(context.Background(), cloud.Compute, id)
	if err != nil {
		e.t.Fatalf("image %s: %v", id, err)
	}
	return img
}

// TestCopierDeletesOwnFailedCopy performs the attacks on a copier's right
// to delete what their own failed copy left: the right is that ERROR image
// and nothing else, checked where the delete is authorized, for one image
// and for a bulk delete.
func TestCopierDeletesOwnFailedCopy(t *testing.T) {
	t.Parallel()
	e := newOwnCopyEnv(t)
	ctx := context.Background()
	bulk := func(imgs ...cloud.Image) url.Values {
		f := url.Values{"service": {string(cloud.Compute)}, "count": {strconv.Itoa(len(imgs))}}
		for _, img := range imgs {
			f.Add("id", img.ID)
		}
		return f
	}
	// In this order: the refusals first, each checked to have deleted
	// nothing; the allowed deletes last.
	tests := []struct {
		name    string
		who     string
		one     cloud.Image // a single delete; else bulk
		bulk    url.Values
		want    int
		says    []string      // in the answer
		deleted []cloud.Image // what the answer deletes
	}{
		{name: "b: another copier's failed copy", who: "copier-a", one: e.otherErr, want: http.StatusForbidden,
			says: []string{"no record of a failed copy of yours"}},
		{name: "b: the other way round", who: "copier-a2", one: e.ownErr, want: http.StatusForbidden,
			says: []string{"no record of a failed copy of yours"}},
		{name: "c: own successful copy", who: "copier-a", one: e.ownReady, want: http.StatusForbidden,
			says: []string{"this image is READY"}},
		{name: "d: an ERROR image the dashboard did not make", who: "copier-a", one: e.foreignErr, want: http.StatusForbidden,
			says: []string{"no record of a failed copy of yours"}},
		{name: "a viewer, on the copier's failed copy", who: "viewer-a", one: e.ownErr, want: http.StatusForbidden,
			says: []string{"Only an editor of a team that owns folder team-alpha may delete its images."}},
		{name: "e: bulk, own failed copy with another's", who: "copier-a", bulk: bulk(e.ownErr2, e.otherErr), want: http.StatusForbidden,
			says: []string{"You may not delete 1 of these images", "other-failed (" + e.otherErr.ID + "): no failed copy of yours made this ERROR image", "nothing was deleted"}},
		{name: "e: bulk, own failed copy with own READY copy", who: "copier-a", bulk: bulk(e.ownErr2, e.ownReady), want: http.StatusForbidden,
			says: []string{"own-ready (" + e.ownReady.ID + "): it is READY, not the ERROR image of a failed copy of yours"}},
		{name: "f: another team's failed copy", who: "copier-a", one: e.betaErr, want: http.StatusNotFound,
			says: []string{"is cached"}},
		{name: "f: a copier of another team, on team-alpha's", who: "copier-b", one: e.ownErr, want: http.StatusNotFound,
			says: []string{"is cached"}},
		{name: "f: bulk, another team's failed copy", who: "copier-a", bulk: bulk(e.betaErr), want: http.StatusConflict,
			says: []string{"Not in the cache"}},
		{name: "a: own failed copy", who: "copier-a", one: e.ownErr, want: http.StatusSeeOther, deleted: []cloud.Image{e.ownErr}},
		{name: "a: bulk, own failed copy", who: "copier-a", bulk: bulk(e.ownErr2), want: http.StatusOK, deleted: []cloud.Image{e.ownErr2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.browsers[tt.who]
			before := e.sim.Calls(method(cloud.Compute, "Delete"))
			var r response
			if tt.bulk == nil {
				if got := b.Get(deleteURL(tt.one)).Code; tt.want >= 400 && got != tt.want {
					t.Errorf("GET confirmation = %d, want %d", got, tt.want)
				}
				r = page(t, b.Post(deleteURL(tt.one), url.Values{}))
			} else {
				r = page(t, b.Post("/images/bulk-delete", tt.bulk))
			}
			if r.code != tt.want {
				t.Fatalf("= %d, want %d:\n%s", r.code, tt.want, r.body)
			}
			text := strings.Join(strings.Fields(r.doc.Text()), " ")
			for _, s := range tt.says {
				if !strings.Contains(text, s) {
					t.Errorf("the answer does not say %q:\n%s", s, text)
				}
			}
			if calls := e.sim.Calls(method(cloud.Compute, "Delete")) - before; calls != len(tt.deleted) {
				t.Errorf("%d Delete calls, want %d", calls, len(tt.deleted))
			}
			for _, img := range tt.deleted {
				if _, err := e.tracker.Step(ctx); err != nil {
					t.Fatal(err)
				}
				if got, err := e.client.GetImage(ctx, cloud.Compute, img.ID); err == nil && got.Status != "DELETING" {
					t.Errorf("%s is still in the cloud", img.Name)
				}
			}
		})
	}
	for _, img := range []cloud.Image{e.otherErr, e.ownReady, e.foreignErr, e.betaErr} {
		if _, err := e.client.GetImage(ctx, cloud.Compute, img.ID); err != nil {
			t.Errorf("%s, which no refused delete may touch: %v", img.Name, err)
		}
	}
	// The allowed delete went the normal way: an operation of the copier's,
	// and the audit log says why a copier could.
	entries, err := e.store.AuditLog(ctx, store.AuditQuery{User: "copier-a", Action: tracker.ActionDelete, Outcome: store.OutcomeSuccess})
	why := 0
	for _, a := range entries {
		if strings.Contains(a.Detail, "deleted own-failed-1, the ERROR image their failed copy (operation") && a.OperationID != "" {
			why++
		}
	}
	if err != nil || why != 1 {
		t.Errorf("audit of the copier's deletes: %+v (%v)", entries, err)
	}
	denied, err := e.store.AuditLog(ctx, store.AuditQuery{Action: tracker.ActionDelete, Outcome: store.OutcomeDenied})
	if err != nil || len(denied) < 8 {
		t.Errorf("%d denied deletes in the audit log (%v), want at least 8", len(denied), err)
	}
}

// TestDeleteButtonForOwnFailedCopy: the image page shows a copier the
// Delete button on the ERROR image their failed copy left, and on nothing
// else; an editor sees it (with Edit) as before.
func TestDeleteButtonForOwnFailedCopy(t *testing.T) {
	t.Parallel()
	e := newOwnCopyEnv(t)
	tests := []struct {
		who        string
		img        cloud.Image
		del, edit  bool
		pageStatus int
	}{
		{"copier-a", e.ownErr, true, false, http.StatusOK},
		{"copier-a2", e.ownErr, false, false, http.StatusOK},
		{"copier-a", e.otherErr, false, false, http.StatusOK},
		{"copier-a", e.ownReady, false, false, http.StatusOK},
		{"copier-a", e.foreignErr, false, false, http.StatusOK},
		{"viewer-a", e.ownErr, false, false, http.StatusOK},
		{"editor-a", e.ownErr, true, true, http.StatusOK},
		{"copier-a", e.betaErr, false, false, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.who+" on "+tt.img.Name, func(t *testing.T) {
			r := page(t, e.browsers[tt.who].Get("/images/compute/"+tt.img.ID))
			if r.code != tt.pageStatus {
				t.Fatalf("= %d, want %d", r.code, tt.pageStatus)
			}
			if got := r.doc.Find(`[data-testid="delete-link"]`).Length() == 1; got != tt.del {
				t.Errorf("Delete button shown: %v, want %v", got, tt.del)
			}
			if got := r.doc.Find(`[data-testid="edit-link"]`).Length() == 1; got != tt.edit {
				t.Errorf("Edit button shown: %v, want %v", got, tt.edit)
			}
		})
	}
}

// TestDeleteButtonOnFailedCopyRow: the copies page offers the person whose
// copy failed to delete the ERROR image it left, in that copy's row; no
// one else sees it there, and a READY copy has none.
func TestDeleteButtonOnFailedCopyRow(t *testing.T) {
	t.Parallel()
	e := newOwnCopyEnv(t)
	ctx := context.Background()
	batchOf := func(img cloud.Image) string {
		ops, err := e.store.Operations(ctx, store.OperationQuery{Image: img.ID, Action: tracker.ActionCopy, Limit: 10})
		if err != nil || len(ops) != 1 {
			t.Fatalf("the copy of %s: %+v, %v", img.Name, ops, err)
		}
		return ops[0].Batch
	}
	tests := []struct {
		who  string
		img  cloud.Image
		want bool
	}{
		{"copier-a", e.ownErr, true},
		{"copier-a2", e.ownErr, false},
		{"editor-a", e.ownErr, false}, // may delete it from its page; the row's button is its maker's
		{"copier-a", e.ownReady, false},
		{"copier-a2", e.otherErr, true},
	}
	for _, tt := range tests {
		t.Run(tt.who+" on "+tt.img.Name, func(t *testing.T) {
			r := page(t, e.browsers[tt.who].Get("/copies/"+url.PathEscape(batchOf(tt.img))))
			if r.code != http.StatusOK {
				t.Fatalf("= %d", r.code)
			}
			link := r.doc.Find(`[data-testid="delete-failed"]`)
			if got := link.Length() == 1; got != tt.want {
				t.Fatalf("Delete button shown: %v, want %v", got, tt.want)
			}
			if tt.want && link.AttrOr("href", "") != deleteURL(tt.img) {
				t.Errorf("Delete button goes to %q, want %q", link.AttrOr("href", ""), deleteURL(tt.img))
			}
		})
	}
}

// TestCopierDeleteRightIsNarrow: the right follows the facts at the time of
// the delete: an image id the cloud reused for another image (same id, not
// the name the copy made) is not the copy's, and a copier who left the
// team has no right left.
func TestCopierDeleteRightIsNarrow(t *testing.T) {
	t.Parallel()
	e := newOwnCopyEnv(t)
	ctx := context.Background()
	// The cache holds, under ownErr's id, an image of another name: what a
	// cloud started again from its seed shows for a reused id.
	reused := e.ownErr
	reused.Name = "someone-elses-image"
	if err := e.store.UpsertImage(ctx, reused); err != nil {
		t.Fatal(err)
	}
	if r := page(t, e.browsers["copier-a"].Post(deleteURL(reused), url.Values{})); r.code != http.StatusForbidden {
		t.Errorf("delete of a reused id = %d, want 403", r.code)
	}
	// copier-a2 leaves team alpha: their failed copy is theirs no more to
	// delete (nor to see).
	teams, err := e.store.Teams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.store.UserByName(ctx, "copier-a2")
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range teams {
		if tm.Name == "alpha" {
			if err := e.store.RemoveMember(ctx, tm.ID, u.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if r := page(t, e.browsers["copier-a2"].Post(deleteURL(e.otherErr), url.Values{})); r.code != http.StatusNotFound {
		t.Errorf("delete by a copier who left the team = %d, want 404", r.code)
	}
	if n := e.sim.Calls(method(cloud.Compute, "Delete")); n != 0 {
		t.Errorf("%d Delete calls, want none", n)
	}
}
