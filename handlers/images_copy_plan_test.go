package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/planner"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
)

// opCount is how many operations the store holds.
func (e *copyEnv) opCount() int {
	e.t.Helper()
	ops, err := e.store.Operations(context.Background(), store.OperationQuery{Limit: store.MaxOperationLimit})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(ops)
}

// TestFanOutRefusedWhole: a copy into three folders of which one already
// has the name writes no intent at all and sends nothing (it used to start
// the other two, one Start per folder); every target is listed with its
// own verdict. The same for a bulk copy where one name of many clashes, and
// for a clash with a copy still in flight.
func TestFanOutRefusedWhole(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t)
	ctx := context.Background()
	alpha, beta, golden := e.folder["team-alpha"], e.folder["team-beta"], e.folder["golden-images"]
	src := e.golden()
	// The name lands in beta first.
	if rec, _ := e.post("admin", "/images/compute/"+src.ID+"/copy", copyPostForm([]string{beta}, "fan-name")); rec.Code != http.StatusSeeOther {
		t.Fatalf("first copy = %d", rec.Code)
	}
	// A copy in flight makes "flight-name" in alpha.
	if _, err := e.store.CreateIntent(ctx, store.Operation{Key: "in-flight", Action: "image.copy", Service: cloud.Compute,
		FolderID: alpha, ImageName: "flight-name", Request: []byte("{}"), NextPollAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 3 {
		ids = append(ids, e.golden(append(ids, src.ID)...).ID)
	}
	tests := []struct {
		name, target string
		form         url.Values
		field, want  string
	}{
		{"fan-out, one folder has the name", "/images/compute/" + src.ID + "/copy",
			copyPostForm([]string{alpha, beta, golden}, "fan-name"), "name", "team-beta: An image named “fan-name” exists already"},
		{"fan-out, confirmed", "/images/compute/" + src.ID + "/copy",
			copyPostForm([]string{alpha, beta, golden}, "fan-name", "confirm", "1"), "name.team-beta", "exists already"},
		{"fan-out, a copy in flight", "/images/compute/" + src.ID + "/copy",
			copyPostForm([]string{golden, alpha}, "flight-name"), "name.team-alpha", "is being made in this folder right now"},
		{"bulk, one clashes", "/images/bulk-copy",
			url.Values{"service": {"compute"}, "id": append(slices.Clone(ids), src.ID), "folder": {beta}, "name": {"{name}"}},
			"name", "of the 4 copies will not do"},
	}
	// The bulk row of src clashes only if src's own name is taken in beta.
	if rec, _ := e.post("admin", "/images/compute/"+src.ID+"/copy", copyPostForm([]string{beta}, "{name}")); rec.Code != http.StatusSeeOther {
		t.Fatalf("copy under its own name = %d", rec.Code)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, created := e.opCount(), e.sim.Created()
			rec, doc := e.post("admin", tt.target, tt.form)
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("POST = %d, want 422; body:\n%.2000s", rec.Code, rec.Body.String())
			}
			if got := copyFieldError(doc, tt.field); !strings.Contains(got, tt.want) {
				t.Errorf("message next to %s = %q, want %q", tt.field, got, tt.want)
			}
			if got := e.opCount(); got != ops {
				t.Errorf("%d intents written by a refused plan", got-ops)
			}
			if got := e.sim.Created(); got != created {
				t.Errorf("%d images made by a refused plan", got-created)
			}
		})
	}
}

// TestFanOutOverTheLimit: a copy into three folders that would take its
// person past the limit of operations in flight writes nothing, as a bulk
// copy of three does (it used to Start one folder at a time, each checked
// against the limit alone, so a copy into N folders could start some of
// them and stop half-way).
func TestFanOutOverTheLimit(t *testing.T) {
	t.Parallel()
	e := newCopyEnvWith(t, tracker.Config{MaxOpenPerUser: 2})
	src := e.golden()
	ops, created := e.opCount(), e.sim.Created()
	for _, form := range []url.Values{
		copyPostForm([]string{e.folder["team-alpha"], e.folder["team-beta"], e.folder["golden-images"]}, "{folder}-{name}"),
		copyPostForm([]string{e.folder["team-alpha"], e.folder["team-beta"], e.folder["golden-images"]}, "{folder}-{name}", "confirm", "1"),
	} {
		rec, doc := e.post("admin", "/images/compute/"+src.ID+"/copy", form)
		if msg := doc.Find(`[data-testid="form-error"]`).Text(); rec.Code != http.StatusTooManyRequests || !strings.Contains(msg, "asked for 3 more") {
			t.Errorf("fan-out over the limit = %d, %q", rec.Code, msg)
		}
	}
	if e.opCount() != ops || e.sim.Created() != created {
		t.Errorf("a refused fan-out wrote %d intents, made %d images", e.opCount()-ops, e.sim.Created()-created)
	}
}

// TestBulkCopyOfAVanishedImage: an image ticked on the form and gone from
// the cache before the post (deleted, or its folder synced without it) is
// the row's problem, "no longer exists", with a 422 and nothing written,
// never a 500 nor a copy of the rest without it. Deleted through the
// dashboard or by a sync: the same answer.
func TestBulkCopyOfAVanishedImage(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t)
	ctx := context.Background()
	alpha, golden := e.folder["team-alpha"], e.folder["golden-images"]
	var ids []string
	for range 3 {
		ids = append(ids, e.golden(ids...).ID)
	}
	form := url.Values{"service": {"compute"}, "row": ids, "id": ids, "folder": {alpha}, "name": {"{name}-vanished"}}
	if rec := e.browsers["copier-a"].Get("/images/bulk-copy?" + url.Values{"service": {"compute"}, "id": ids}.Encode()); rec.Code != http.StatusOK {
		t.Fatalf("form = %d", rec.Code)
	}
	// The second image leaves the cache between the form and the post.
	page, err := e.store.Images(ctx, store.ImageQuery{Service: cloud.Compute, FolderIDs: []string{golden}, Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	kept := slices.DeleteFunc(slices.Clone(page.Images), func(i cloud.Image) bool { return i.ID == ids[1] })
	if _, err := e.store.ReplaceFolderImages(ctx, cloud.Compute, golden, kept, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, variant := range []struct {
		name string
		form url.Values
	}{
		{"from the form", form},
		{"straight from the list", url.Values{"service": {"compute"}, "id": ids, "folder": {alpha}, "name": {"{name}-vanished"}}},
		{"confirming a preview", func() url.Values { f := url.Values{}; f.Set("confirm", "1"); return merge(f, form) }()},
	} {
		t.Run(variant.name, func(t *testing.T) {
			ops, created := e.opCount(), e.sim.Created()
			rec, doc := e.post("copier-a", "/images/bulk-copy", variant.form)
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("POST = %d, want 422; body:\n%.2000s", rec.Code, rec.Body.String())
			}
			row := doc.Find(`[data-testid="bulk-row"][data-id="` + ids[1] + `"] [data-testid="field-error"]`)
			if got := strings.TrimSpace(row.Text()); got != planner.MsgGone {
				t.Errorf("row of the vanished image says %q, want %q", got, planner.MsgGone)
			}
			if got := copyFieldError(doc, "name"); !strings.Contains(got, "1 of the 3 copies will not do") {
				t.Errorf("name message = %q", got)
			}
			if e.opCount() != ops || e.sim.Created() != created {
				t.Errorf("a refused bulk copy wrote %d intents, made %d images", e.opCount()-ops, e.sim.Created()-created)
			}
		})
	}
}

func merge(a, b url.Values) url.Values {
	for k, vs := range b {
		a[k] = append(a[k], vs...)
	}
	return a
}

// TestCopyPreview: the forms' submit button (preview=1) shows the plan of
// several copies — source, folder, name — with a confirm button, writing
// nothing; confirming plans again (a name taken meanwhile refuses the
// whole copy) and submits it whole; one copy into one folder skips the
// preview.
func TestCopyPreview(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t)
	alpha, beta := e.folder["team-alpha"], e.folder["team-beta"]
	src := e.golden()
	preview := func(who, target string, form url.Values) (int, []string, string) {
		t.Helper()
		form.Set("preview", "1")
		ops, created := e.opCount(), e.sim.Created()
		rec, doc := e.post(who, target, form)
		if e.opCount() != ops || e.sim.Created() != created {
			t.Errorf("a preview wrote %d intents, made %d images", e.opCount()-ops, e.sim.Created()-created)
		}
		var rows []string
		doc.Find(`[data-testid="plan-row"]`).Each(func(_ int, s *goquery.Selection) {
			rows = append(rows, strings.Join(s.Find("td").Map(func(_ int, td *goquery.Selection) string { return td.Text() }), " | "))
		})
		return rec.Code, rows, strings.TrimSpace(doc.Find(`[data-testid="copy-confirm"]`).Text())
	}

	t.Run("fan-out", func(t *testing.T) {
		code, rows, confirm := preview("admin", "/images/compute/"+src.ID+"/copy", copyPostForm([]string{alpha, beta}, "{folder}-{name}"))
		want := []string{src.Name + " | team-alpha | team-alpha-" + src.Name + " | Compute image", src.Name + " | team-beta | team-beta-" + src.Name + " | Compute image"}
		if code != http.StatusOK || !slices.Equal(rows, want) || confirm != "Copy 2 images" {
			t.Fatalf("preview = %d, rows %q, confirm %q; want 200, %q", code, rows, confirm, want)
		}
		rec, _ := e.post("admin", "/images/compute/"+src.ID+"/copy", copyPostForm([]string{alpha, beta}, "{folder}-{name}", "preview", "1", "confirm", "1"))
		if _, ops := e.batchOps(rec); len(ops) != 2 {
			t.Errorf("confirmed: %d operations, want 2", len(ops))
		}
	})
	t.Run("bulk, a name taken between preview and confirm", func(t *testing.T) {
		ids := []string{e.golden(src.ID).ID, e.golden(src.ID, e.golden(src.ID).ID).ID}
		form := url.Values{"service": {"compute"}, "id": ids, "folder": {alpha}, "name": {"{name}-later"}}
		code, rows, confirm := preview("copier-a", "/images/bulk-copy", form)
		if code != http.StatusOK || len(rows) != 2 || confirm != "Copy 2 images" {
			t.Fatalf("preview = %d, rows %q, confirm %q", code, rows, confirm)
		}
		// Someone takes the first name meanwhile.
		img, _ := e.store.Image(context.Background(), cloud.Compute, ids[0])
		if rec, _ := e.post("copier-a", "/images/compute/"+ids[0]+"/copy", copyPostForm([]string{alpha}, img.Name+"-later")); rec.Code != http.StatusSeeOther {
			t.Fatalf("the other copy = %d", rec.Code)
		}
		form.Set("confirm", "1")
		ops := e.opCount()
		rec, doc := e.post("copier-a", "/images/bulk-copy", form)
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(copyFieldError(doc, "id."+ids[0]), "exists already") || e.opCount() != ops {
			t.Errorf("confirm after the name was taken = %d, row %q, %d intents written", rec.Code, copyFieldError(doc, "id."+ids[0]), e.opCount()-ops)
		}
	})
	t.Run("one copy into one folder: no preview", func(t *testing.T) {
		rec, _ := e.post("copier-a", "/images/compute/"+src.ID+"/copy", copyPostForm([]string{alpha}, "{name}-direct", "preview", "1"))
		if _, ops := e.batchOps(rec); len(ops) != 1 {
			t.Errorf("operations = %d, want 1", len(ops))
		}
	})
}
