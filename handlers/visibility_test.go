package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/cloud/sim"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/views"
	"github.com/imagedash/imagedash/web/webtest"
)

// What another team may not see is answered exactly as what does not
// exist: the status, the headers and the page, byte for byte once the
// per-request values (CSP nonce, CSRF token) and the id asked for are
// blanked. The refusal is still in the audit log.

const methodCopyFromDesktop = "/yandex.cloud.clouddesktop.v1.api.DesktopImageService/CopyFromDesktop"

var (
	nonceRE = regexp.MustCompile(`nonce-[A-Za-z0-9+/=]+|nonce="[^"]*"`)
	csrfRE  = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
)

// answer is a response as a person's browser sees it, with what differs
// from request to request blanked and each of ids replaced by <ID>.
func answer(rec *httptest.ResponseRecorder, ids ...string) string {
	body := rec.Body.String()
	if m := csrfRE.FindStringSubmatch(body); m != nil {
		body = strings.ReplaceAll(body, m[1], "<CSRF>")
	}
	for _, id := range ids {
		body = idRE(id).ReplaceAllString(body, "${1}<ID>")
	}
	body = nonceRE.ReplaceAllString(body, "nonce")
	var hdr []string
	for k, vs := range rec.Header() {
		// The length follows the ids' lengths, which differ; the body
		// itself is compared.
		if k == "Set-Cookie" || k == "Content-Length" {
			continue
		}
		for _, v := range vs {
			for _, id := range ids {
				v = idRE(id).ReplaceAllString(v, "${1}<ID>")
			}
			hdr = append(hdr, k+": "+nonceRE.ReplaceAllString(v, "nonce"))
		}
	}
	slices.Sort(hdr)
	return fmt.Sprintf("%d\n%s\n\n%s", rec.Code, strings.Join(hdr, "\n"), body)
}

// idRE matches id where it stands for itself: after a space, a slash, a
// quote or an equals sign; an operation's number (short enough to be found
// in other numbers) only where the pages name an operation.
func idRE(id string) *regexp.Regexp {
	if strings.Trim(id, "0123456789") == "" {
		return regexp.MustCompile(`(operation |/operations/)` + id + `\b`)
	}
	return regexp.MustCompile(`([\s/"=>(]|^)` + regexp.QuoteMeta(id) + `\b`)
}

// sameAnswer fails t unless hidden and missing are the same answer.
func sameAnswer(t *testing.T, hidden, missing *httptest.ResponseRecorder, hiddenID, missingID string) {
	t.Helper()
	h, m := answer(hidden, hiddenID), answer(missing, missingID)
	if h != m {
		t.Errorf("another team's answer differs from a missing one's:\n hidden  %s\n missing %s", clip(h), clip(m))
	}
}

func clip(s string) string {
	if len(s) > 1500 {
		return s[:1500] + "…"
	}
	return s
}

// denials are the audit rows of who's refusals.
func denials(t *testing.T, st *store.Store, who string) []store.AuditEntry {
	t.Helper()
	got, err := st.AuditLog(context.Background(), store.AuditQuery{User: who, Outcome: store.OutcomeDenied})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// notMentioned fails t when body names any of words.
func notMentioned(t *testing.T, what, body string, words ...string) {
	t.Helper()
	for _, w := range words {
		if strings.Contains(body, w) {
			t.Errorf("%s names %q", what, w)
		}
	}
}

// TestCopyFromAnotherTeamsDesktop is the attack of issue 15, item 1: a
// copier of team alpha images team beta's desktop into alpha's folder. It
// is refused before any intent is written or anything is sent, audited as
// denied naming beta's folder, and answered as a made-up desktop id is.
func TestCopyFromAnotherTeamsDesktop(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t)
	ctx := context.Background()
	alpha, beta := e.folder["team-alpha"], e.folder["team-beta"]
	_, _, betaDesktops := e.sim.Sources(beta)
	_, _, alphaDesktops := e.sim.Sources(alpha)
	if len(betaDesktops) == 0 || len(alphaDesktops) == 0 {
		t.Fatal("the emulator has no desktops in team-alpha or team-beta")
	}
	foreign, madeUp := betaDesktops[0].ID, "e3vnosuchdesktop0000"
	opsBefore, err := e.store.Operations(ctx, store.OperationQuery{Limit: store.MaxOperationLimit})
	if err != nil {
		t.Fatal(err)
	}
	post := func(desktop string, hdr ...string) *httptest.ResponseRecorder {
		rec, _ := e.post("copier-a", views.FromDesktopURL, url.Values{"folder": {alpha}, "desktop_id": {desktop}, "name": {"stolen-desktop"}}, hdr...)
		return rec
	}
	for _, hdr := range [][]string{nil, {handlers.HeaderRequest, "true"}} {
		hidden, missing := post(foreign, hdr...), post(madeUp, hdr...)
		if hidden.Code != http.StatusUnprocessableEntity {
			t.Errorf("another team's desktop (htmx %v) = %d, want 422", hdr != nil, hidden.Code)
		}
		if !strings.Contains(hidden.Body.String(), "No desktop with this id in the folders you may see") {
			t.Errorf("another team's desktop: no field error in\n%s", clip(hidden.Body.String()))
		}
		sameAnswer(t, hidden, missing, foreign, madeUp)
		notMentioned(t, "the refusal", hidden.Body.String(), beta, "team-beta", betaDesktops[0].Name)
	}

	if n := e.sim.Calls(methodCopyFromDesktop); n != 0 {
		t.Errorf("the emulator got %d CopyFromDesktop calls, want none", n)
	}
	opsAfter, err := e.store.Operations(ctx, store.OperationQuery{Limit: store.MaxOperationLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(opsAfter) != len(opsBefore) {
		t.Errorf("%d intents written by refused requests", len(opsAfter)-len(opsBefore))
	}
	var audited int
	for _, a := range denials(t, e.store, "copier-a") {
		if a.Action == tracker.ActionCopyFromDesktop && a.TargetID == foreign && strings.Contains(a.Detail, beta) {
			audited++
		}
	}
	if audited != 2 {
		t.Errorf("%d denied audit rows name the desktop and beta's folder, want 2", audited)
	}

	// The team's own desktop still goes through.
	rec, _ := e.post("copier-a", views.FromDesktopURL, url.Values{"folder": {alpha}, "desktop_id": {alphaDesktops[0].ID}, "name": {"own-desktop"}})
	if _, ops := e.batchOps(rec); len(ops) != 1 || ops[0].SourceID != alphaDesktops[0].ID {
		t.Errorf("own desktop: operations %+v", ops)
	}
	if n := e.sim.Calls(methodCopyFromDesktop); n != 1 {
		t.Errorf("the emulator got %d CopyFromDesktop calls, want 1", n)
	}
}

// TestCopyFromAnotherTeamsImage: the other copy paths (Compute → Compute,
// Compute → Desktop, the copy form, the bulk copy) refuse a source image of
// another team as they refuse one that does not exist, and send nothing.
func TestCopyFromAnotherTeamsImage(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t)
	alpha, beta := e.folder["team-alpha"], e.folder["team-beta"]
	src := e.first(cloud.Compute, func(i cloud.Image) bool { return i.FolderID == beta && i.Status == "READY" })
	madeUp := "fd8nosuchimage000000"
	created := e.sim.Created()
	tests := []struct {
		name   string
		method string
		path   string
		form   url.Values
	}{
		{"copy form", "GET", "/images/compute/{id}/copy", nil},
		{"copy as compute", "POST", "/images/compute/{id}/copy", copyPostForm([]string{alpha}, "{name}-x")},
		{"copy as desktop", "POST", "/images/compute/{id}/copy", copyPostForm([]string{alpha}, "{name}-x", "as", "desktop")},
		{"bulk copy form", "GET", "/images/bulk-copy?service=compute&id={id}", nil},
		{"bulk copy", "POST", "/images/bulk-copy", url.Values{"service": {"compute"}, "id": {"{id}"}, "folder": {alpha}, "name": {"{name}-x"}}},
	}
	b := e.browsers["copier-a"]
	do := func(method, path string, form url.Values, id string) *httptest.ResponseRecorder {
		path = strings.ReplaceAll(path, "{id}", id)
		if method == "GET" {
			return b.Get(path)
		}
		f := url.Values{}
		for k, vs := range form {
			for _, v := range vs {
				f.Add(k, strings.ReplaceAll(v, "{id}", id))
			}
		}
		return b.Post(path, f)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hidden, missing := do(tt.method, tt.path, tt.form, src.ID), do(tt.method, tt.path, tt.form, madeUp)
			if hidden.Code < 400 && tt.method == "POST" {
				t.Errorf("copy of another team's image = %d", hidden.Code)
			}
			sameAnswer(t, hidden, missing, src.ID, madeUp)
			notMentioned(t, "the answer", hidden.Body.String(), beta, "team-beta", src.Name)
		})
	}
	if e.sim.Created() != created {
		t.Errorf("%d images made from another team's image", e.sim.Created()-created)
	}
	var audited int
	for _, a := range denials(t, e.store, "copier-a") {
		if a.TargetID == src.ID && strings.Contains(a.Detail, beta) {
			audited++
		}
	}
	if audited < len(tests) {
		t.Errorf("%d denied audit rows name the image and its folder, want %d", audited, len(tests))
	}
}

// TestHiddenAnswersAsMissing (issue 15, item 15): every route about one
// image, operation or batch answers another team's exactly as one that
// does not exist, and a list filtered by another team's folder exactly as
// one filtered by a folder that does not exist, without repeating the id.
func TestHiddenAnswersAsMissing(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t)
	ctx := context.Background()
	alpha := e.folder["team-alpha"]
	img := e.first(cloud.Compute, func(i cloud.Image) bool { return i.FolderID == alpha && i.Family != "" && i.Status == "READY" })
	dimg := e.first(cloud.Desktop, func(i cloud.Image) bool { return i.FolderID == alpha })
	// An operation and a batch of copier-a's in alpha's folder.
	rec, _ := e.post("copier-a", "/images/compute/"+img.ID+"/copy", copyPostForm([]string{alpha}, "{name}-hidden"))
	batch, ops := e.batchOps(rec)
	if len(ops) != 1 {
		t.Fatalf("copy: %+v", ops)
	}
	op := fmt.Sprint(ops[0].ID)
	const (
		missingImage  = "fd8nosuchimage000000"
		missingOp     = "987654"
		missingBatch  = "nosuchbatch"
		missingFolder = "b1gnosuchfolder00000"
	)
	hx := []string{handlers.HeaderRequest, "true"}
	live := []string{handlers.HeaderRequest, "true", handlers.HeaderTarget, views.ImageLiveID}
	tests := []struct {
		name, method, path string
		form               url.Values
		hdr                []string
		hidden, missing    string
	}{
		{"image", "GET", "/images/compute/{id}", nil, nil, img.ID, missingImage},
		{"image (htmx)", "GET", "/images/compute/{id}", nil, hx, img.ID, missingImage},
		{"image reload", "GET", "/images/compute/{id}", nil, live, img.ID, missingImage},
		{"desktop image", "GET", "/images/desktop/{id}", nil, nil, dimg.ID, "dcinosuchimage000000"},
		{"operations", "GET", "/images/compute/{id}/operations", nil, hx, img.ID, missingImage},
		{"latest", "GET", "/images/compute/{id}/latest", nil, hx, img.ID, missingImage},
		{"edit form", "GET", "/images/compute/{id}/edit", nil, nil, img.ID, missingImage},
		{"edit", "POST", "/images/compute/{id}/edit", url.Values{"description": {"x"}}, nil, img.ID, missingImage},
		{"delete form", "GET", "/images/compute/{id}/delete", nil, nil, img.ID, missingImage},
		{"delete", "POST", "/images/compute/{id}/delete", url.Values{}, hx, img.ID, missingImage},
		{"copy form", "GET", "/images/compute/{id}/copy", nil, nil, img.ID, missingImage},
		{"copy", "POST", "/images/compute/{id}/copy", copyPostForm([]string{e.folder["team-beta"]}, "{name}-x"), nil, img.ID, missingImage},
		{"bulk delete", "GET", "/images/bulk-delete?service=compute&id={id}", nil, nil, img.ID, missingImage},
		{"operation", "GET", "/operations/{id}", nil, nil, op, missingOp},
		{"operation badge", "GET", "/operations/{id}/badge", nil, hx, op, missingOp},
		{"cancel", "POST", "/operations/{id}/cancel", url.Values{}, hx, op, missingOp},
		{"copies", "GET", "/copies/{id}", nil, nil, batch, missingBatch},
		{"copies (htmx)", "GET", "/copies/{id}", nil, hx, batch, missingBatch},
		{"list by folder", "GET", "/?folder={id}", nil, nil, alpha, missingFolder},
		{"list by folder (htmx)", "GET", "/?service=desktop&folder={id}", nil, hx, alpha, missingFolder},
		{"families by folder", "GET", "/families?folder={id}", nil, nil, alpha, missingFolder},
		{"operations by folder", "GET", "/operations?folder={id}", nil, nil, alpha, missingFolder},
		{"cache state by folder", "GET", "/sync?service=compute&folder={id}", nil, hx, alpha, missingFolder},
	}
	b := e.browsers["copier-b"]
	do := func(method, path string, form url.Values, hdr []string, id string) *httptest.ResponseRecorder {
		path = strings.ReplaceAll(path, "{id}", id)
		if method == "GET" {
			return b.Get(path, hdr...)
		}
		return b.Post(path, form, hdr...)
	}
	before := len(denials(t, e.store, "copier-b"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hidden := do(tt.method, tt.path, tt.form, tt.hdr, tt.hidden)
			missing := do(tt.method, tt.path, tt.form, tt.hdr, tt.missing)
			if hidden.Code == http.StatusForbidden || hidden.Code < 300 && tt.hdr == nil {
				t.Errorf("another team's = %d", hidden.Code)
			}
			sameAnswer(t, hidden, missing, tt.hidden, tt.missing)
			notMentioned(t, "the answer", hidden.Body.String(), "team-alpha", img.Name)
			if strings.HasPrefix(tt.hidden, "b1g") {
				notMentioned(t, "the answer", hidden.Body.String(), tt.hidden)
			}
		})
	}
	got := denials(t, e.store, "copier-b")
	if len(got)-before < len(tests) {
		t.Errorf("%d denied audit rows for %d refusals", len(got)-before, len(tests))
	}
	var named bool
	for _, a := range got {
		named = named || a.TargetID == img.ID && strings.Contains(a.Detail, alpha)
	}
	if !named {
		t.Error("no audit row names the image and its folder")
	}
	// Nothing was changed: the copy is still the one operation.
	if n, err := e.store.Operations(ctx, store.OperationQuery{Batch: batch, Limit: 10}); err != nil || len(n) != 1 || n[0].UserID == 0 {
		t.Errorf("batch after the refusals: %+v, %v", n, err)
	}
}

// TestWatchedFoldersOfOtherTeams (issue 15, item 9): on a server watching
// a list of folders (--folder) that holds another team's, a person is
// offered and told only of the folders they may see, on every page.
func TestWatchedFoldersOfOtherTeams(t *testing.T) {
	t.Parallel()
	e := newCopyEnvWatching(t, tracker.Config{}, func(s *sim.Sim) []string {
		var ids []string
		for _, f := range s.Folders() {
			if f.Name == "team-alpha" || f.Name == "team-beta" || f.Name == "golden-images" {
				ids = append(ids, f.Id)
			}
		}
		return ids
	})
	alpha, beta := e.folder["team-alpha"], e.folder["team-beta"]
	img := e.first(cloud.Compute, func(i cloud.Image) bool { return i.FolderID == alpha && i.Status == "READY" })
	golden := e.golden()
	pages := []string{
		"/",
		"/?service=desktop",
		"/?folder=" + alpha,
		"/families",
		"/images/compute/" + img.ID,
		"/images/compute/" + img.ID + "/edit", // copier: refused, with the page's header
		"/images/compute/" + golden.ID + "/copy",
		"/images/bulk-copy?service=compute&id=" + golden.ID,
		views.FromDesktopURL,
		"/operations",
		"/sync?service=compute",
	}
	for _, who := range []string{"copier-a", "viewer-a"} {
		for _, p := range pages {
			rec := e.browsers[who].Get(p)
			if rec.Code >= 500 {
				t.Errorf("%s GET %s = %d", who, p, rec.Code)
			}
			notMentioned(t, who+" GET "+p, rec.Body.String(), beta, "team-beta")
		}
	}
	// The admin is offered every watched folder.
	body := e.browser.Get("/").Body.String()
	for _, f := range []string{alpha, beta} {
		if !strings.Contains(body, f) {
			t.Errorf("the admin's picker lacks %s", f)
		}
	}
	// Someone in no team sees no team's folder at all.
	webtest.AddUser(t, e.store, "loner", false)
	lb := webtest.NewBrowser(t, e.srv)
	lb.Login("loner", webtest.Password)
	notMentioned(t, "loner GET /", lb.Get("/").Body.String(), alpha, beta, "team-alpha", "team-beta")
}
