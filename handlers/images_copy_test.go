package handlers_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/cloud/sim"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/web/webtest"
)

// copyEnv is the emulator's data with teams over its folders: alpha owns
// team-alpha (viewer-a, copier-a, editor-a), beta owns team-beta
// (copier-b); golden-images is shared; root is the admin.
type copyEnv struct {
	*cloudEnv
	folder   map[string]string // folder name → id
	browsers map[string]*webtest.Browser
}

func newCopyEnv(t *testing.T) *copyEnv {
	t.Helper()
	return newCopyEnvWith(t, tracker.Config{})
}

// newCopyEnvWith is newCopyEnv with a tracker made with tcfg.
func newCopyEnvWith(t *testing.T, tcfg tracker.Config) *copyEnv {
	t.Helper()
	return newCopyEnvWatching(t, tcfg, nil)
}

// newCopyEnvWatching is newCopyEnvWith on a server that watches only
// folders (--folder; nil: all).
func newCopyEnvWatching(t *testing.T, tcfg tracker.Config, folders func(*sim.Sim) []string) *copyEnv {
	t.Helper()
	ce := newCloudEnvWatching(t, 60, tcfg, folders)
	ctx := context.Background()
	e := &copyEnv{cloudEnv: ce, folder: map[string]string{}, browsers: map[string]*webtest.Browser{"admin": ce.browser}}
	for _, f := range ce.sim.Folders() {
		e.folder[f.Name] = f.Id
	}
	if err := ce.store.SetFolderShared(ctx, e.folder["golden-images"], true); err != nil {
		t.Fatal(err)
	}
	teams := map[string]store.Team{}
	for name, folder := range map[string]string{"alpha": "team-alpha", "beta": "team-beta"} {
		tm, err := ce.store.CreateTeam(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := ce.store.AssignFolder(ctx, tm.ID, e.folder[folder]); err != nil {
			t.Fatal(err)
		}
		teams[name] = tm
	}
	for _, p := range []struct {
		name, team string
		role       store.Role
	}{
		{"viewer-a", "alpha", store.RoleViewer},
		{"copier-a", "alpha", store.RoleCopier},
		{"editor-a", "alpha", store.RoleEditor},
		{"copier-b", "beta", store.RoleCopier},
	} {
		u := webtest.AddUser(t, ce.store, p.name, false)
		if err := ce.store.AddMember(ctx, teams[p.team].ID, u.ID, p.role); err != nil {
			t.Fatal(err)
		}
		b := webtest.NewBrowser(t, ce.srv)
		b.Login(p.name, webtest.Password)
		e.browsers[p.name] = b
	}
	return e
}

// golden is a READY Compute image of the shared folder; skip skips ids
// already used.
func (e *copyEnv) golden(skip ...string) cloud.Image {
	e.t.Helper()
	return e.first(cloud.Compute, func(i cloud.Image) bool {
		for _, s := range skip {
			if s == i.ID {
				return false
			}
		}
		return i.FolderID == e.folder["golden-images"] && i.Status == "READY" && len(i.Name) < 50
	})
}

// post posts form as who, the way the copy form does (CSRF token from a
// page of theirs).
func (e *copyEnv) post(who, target string, form url.Values, hdr ...string) (*httptest.ResponseRecorder, *goquery.Document) {
	e.t.Helper()
	rec := e.browsers[who].Post(target, form, hdr...)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		e.t.Fatal(err)
	}
	return rec, doc
}

// batchOps are the operations of the batch a copy redirected to.
func (e *copyEnv) batchOps(rec *httptest.ResponseRecorder) (string, []store.Operation) {
	e.t.Helper()
	loc := rec.Header().Get("Location") + rec.Header().Get(handlers.HeaderRedirect)
	batch, ok := strings.CutPrefix(loc, "/copies/")
	if !ok {
		e.t.Fatalf("answer %d went to %q, not a result page; body:\n%s", rec.Code, loc, rec.Body.String())
	}
	batch, _ = url.PathUnescape(batch)
	ops, err := e.store.Operations(context.Background(), store.OperationQuery{Batch: batch, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return batch, ops
}

func copyFieldError(doc *goquery.Document, field string) string {
	return strings.TrimSpace(doc.Find(`[data-testid="field-error"][data-field="` + field + `"]`).First().Text())
}

func copyPostForm(folders []string, name string, extra ...string) url.Values {
	f := url.Values{"folder": folders, "name": {name}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Add(extra[i], extra[i+1])
	}
	return f
}

func TestCopyByRole(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t)
	alpha, beta := e.folder["team-alpha"], e.folder["team-beta"]
	used := []string{}
	tests := []struct {
		who    string
		folder string
		code   int
	}{
		{"viewer-a", alpha, http.StatusForbidden},
		{"copier-a", alpha, http.StatusSeeOther},
		{"copier-a", beta, http.StatusBadRequest}, // not theirs to see: an unknown folder
		{"editor-a", alpha, http.StatusSeeOther},
		{"admin", beta, http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.who+" into "+tt.folder, func(t *testing.T) {
			src := e.golden(used...)
			used = append(used, src.ID)
			before := e.sim.Created()
			rec, _ := e.post(tt.who, "/images/compute/"+src.ID+"/copy", copyPostForm([]string{tt.folder}, "{name}-"+tt.who))
			if rec.Code != tt.code {
				t.Fatalf("POST copy as %s = %d, want %d; body:\n%s", tt.who, rec.Code, tt.code, rec.Body.String())
			}
			if tt.code == http.StatusBadRequest && strings.Contains(rec.Body.String(), "team-beta") {
				t.Errorf("the refusal names a folder %s may not see", tt.who)
			}
			want := before
			if tt.code == http.StatusSeeOther {
				want++
				_, ops := e.batchOps(rec)
				if len(ops) != 1 || ops[0].State != store.OpDone || ops[0].FolderID != tt.folder || ops[0].ImageName != src.Name+"-"+tt.who {
					t.Errorf("operations = %+v", ops)
				}
			}
			if got := e.sim.Created(); got != want {
				t.Errorf("Created() = %d, want %d", got, want)
			}
		})
	}
	// The form: a viewer gets no Copy link; a copier gets one and the form
	// offers only their team's folder.
	src := e.golden()
	if rec := e.browsers["viewer-a"].Get("/images/compute/" + src.ID); strings.Contains(rec.Body.String(), `data-testid="copy-link"`) {
		t.Error("a viewer sees the Copy link")
	}
	if rec := e.browsers["copier-a"].Get("/images/compute/" + src.ID); !strings.Contains(rec.Body.String(), `data-testid="copy-link"`) {
		t.Error("a copier does not see the Copy link")
	}
	rec := e.browsers["copier-a"].Get("/images/compute/" + src.ID + "/copy")
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	var offered []string
	doc.Find(`[data-testid="target"]`).Each(func(_ int, s *goquery.Selection) { offered = append(offered, s.AttrOr("value", "")) })
	if rec.Code != http.StatusOK || len(offered) != 1 || offered[0] != alpha {
		t.Errorf("copier's form = %d, targets %v, want [%s]", rec.Code, offered, alpha)
	}
	if got := doc.Find(`input[name="name"]`).AttrOr("value", ""); got != "{name}-copy" {
		t.Errorf("default name = %q", got)
	}
	// A refused copy is in the audit log, naming the folder.
	entries, err := e.store.AuditLog(context.Background(), store.AuditQuery{User: "copier-a", Action: tracker.ActionCopy, Outcome: store.OutcomeDenied})
	if err != nil || len(entries) != 1 || entries[0].TargetID != beta {
		t.Errorf("denied audit = %+v, %v", entries, err)
	}
	started, err := e.store.AuditLog(context.Background(), store.AuditQuery{User: "editor-a", Action: tracker.ActionCopy, Outcome: store.OutcomeSuccess})
	found := false
	for _, a := range started {
		found = found || strings.HasPrefix(a.Detail, "into team-alpha as ") && a.OperationID != "" && a.TargetKind == "image"
	}
	if err != nil || !found {
		t.Errorf("success audit = %+v, %v", started, err)
	}
}

func TestCopyIntoSeveralFolders(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t)
	src := e.golden()
	before := e.sim.Created()
	rec, _ := e.post("admin", "/images/compute/"+src.ID+"/copy",
		copyPostForm([]string{e.folder["team-alpha"], e.folder["team-beta"]}, "{folder}-{name}", "label_key", "copied", "label_value", "yes"))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("POST = %d; body:\n%s", rec.Code, rec.Body.String())
	}
	batch, ops := e.batchOps(rec)
	if len(ops) != 2 {
		t.Fatalf("operations in the batch = %d, want 2", len(ops))
	}
	names := map[string]bool{}
	for _, o := range ops {
		names[o.ImageName] = true
		if o.Batch != batch || o.Action != tracker.ActionCopy || o.SourceID != src.ID {
			t.Errorf("operation %+v", o)
		}
	}
	if !names["team-alpha-"+src.Name] || !names["team-beta-"+src.Name] {
		t.Errorf("names = %v", names)
	}
	if got := e.sim.Created() - before; got != 2 {
		t.Errorf("created %d images, want 2", got)
	}
	page := e.ok("/copies/" + batch)
	if got := page.doc.Find(`[data-testid="copy-result"]`).Length(); got != 2 {
		t.Errorf("result rows = %d, want 2", got)
	}
	if href := page.attr(`[data-testid="op-link"]`, "href"); !strings.HasPrefix(href, "/operations/") {
		t.Errorf("operation link = %q", href)
	}
	// The label editor's rows are the copy's whole label set.
	img, err := e.store.Image(context.Background(), cloud.Compute, ops[0].ImageID)
	if err != nil || img.Labels["copied"] != "yes" || len(img.Labels) != 1 {
		t.Errorf("copy's labels = %v (source %v), %v", img.Labels, src.Labels, err)
	}
	// Polling the settled result page stops the poll.
	if r := e.get("/copies/"+batch, htmx); r.code != handlers.StatusStopPolling {
		t.Errorf("htmx poll of a settled batch = %d, want 286", r.code)
	}
}

func TestCopyRefusedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t)
	src := e.golden()
	other := e.first(cloud.Compute, func(i cloud.Image) bool { return i.FolderID == e.folder["team-alpha"] })
	alpha := e.folder["team-alpha"]
	// An image of the name the template gives, made in the cache by a first copy.
	if rec, _ := e.post("copier-a", "/images/compute/"+src.ID+"/copy", copyPostForm([]string{alpha}, "taken-name")); rec.Code != http.StatusSeeOther {
		t.Fatalf("first copy = %d", rec.Code)
	}
	tests := []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"unclosed brace", copyPostForm([]string{alpha}, "{name-copy"), "name", "a { is not closed"},
		{"unknown placeholder", copyPostForm([]string{alpha}, "{owner}-copy"), "name", "unknown placeholder {owner}"},
		{"bad expanded name", copyPostForm([]string{alpha}, "{name}-COPY"), "name", "will not do"},
		{"empty", copyPostForm([]string{alpha}, ""), "name", "give a name or a template"},
		{"clash in the cache", copyPostForm([]string{alpha}, "taken-name"), "name", "exists already in this folder"},
		{"clash with an existing image", copyPostForm([]string{alpha}, other.Name), "name", "exists already in this folder"},
		{"no folder", copyPostForm(nil, "{name}-x"), "folder", "Pick at least one folder"},
		{"small disk", copyPostForm([]string{alpha}, "{name}-x", "min_disk_gib", "0"), "min_disk_gib", "whole number of GiB"},
		{"bad label", copyPostForm([]string{alpha}, "{name}-x", "label_key", "Bad Key", "label_value", "v"), "labels.Bad Key", "label key"},
		{"bad family", copyPostForm([]string{alpha}, "{name}-x", "family", "-x"), "family", "must be 3-63"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.sim.Created()
			rec, doc := e.post("copier-a", "/images/compute/"+src.ID+"/copy", tt.form)
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("POST = %d, want 422; body:\n%s", rec.Code, rec.Body.String())
			}
			if got := copyFieldError(doc, tt.field); !strings.Contains(got, tt.want) {
				t.Errorf("message next to %s = %q, want %q", tt.field, got, tt.want)
			}
			if got := e.sim.Created(); got != before {
				t.Errorf("Created() = %d, want %d: something was sent", got, before)
			}
			// The form keeps what was typed.
			if got := doc.Find(`input[name="name"]`).AttrOr("value", ""); got != tt.form.Get("name") {
				t.Errorf("name field = %q, want %q", got, tt.form.Get("name"))
			}
		})
	}
}

func TestCopyRefusedByTheCloud(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t)
	ctx := context.Background()
	src := e.golden()
	alpha, beta := e.folder["team-alpha"], e.folder["team-beta"]
	// An image the cache does not know yet (no sync since): only the cloud
	// can refuse the name.
	if _, err := e.client.CreateImage(ctx, "", cloud.CreateImageSpec{FolderID: beta, Name: "upstream-only", SourceImageID: src.ID}); err != nil {
		t.Fatal(err)
	}

	t.Run("one target: next to the field", func(t *testing.T) {
		rec, doc := e.post("admin", "/images/compute/"+src.ID+"/copy", copyPostForm([]string{beta}, "upstream-only"))
		if rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("POST = %d, want 422; body:\n%s", rec.Code, rec.Body.String())
		}
		if got := copyFieldError(doc, "name"); !strings.Contains(got, "The cloud already has an image named “upstream-only” in folder team-beta") {
			t.Errorf("name message = %q", got)
		}
	})

	t.Run("retry one failed target alone", func(t *testing.T) {
		rec, _ := e.post("admin", "/images/compute/"+src.ID+"/copy", copyPostForm([]string{alpha, beta}, "upstream-only",
			"description", "retried", "label_key", "k", "label_value", "v"))
		batch, ops := e.batchOps(rec)
		if len(ops) != 2 {
			t.Fatalf("operations = %d, want 2", len(ops))
		}
		page := e.ok("/copies/" + batch)
		refused := page.doc.Find(`[data-testid="copy-result"][data-state="refused"]`)
		if refused.Length() != 1 || page.doc.Find(`[data-testid="copy-result"][data-state="finished"]`).Length() != 1 {
			t.Fatalf("result page:\n%s", page.text(`[data-testid="copy-results"]`))
		}
		if msg := refused.Find(`[data-testid="copy-message"]`).Text(); !strings.Contains(msg, "upstream-only") {
			t.Errorf("refusal message = %q", msg)
		}
		// The Retry form re-posts just that target, with a new name.
		form := url.Values{}
		refused.Find(`[data-testid="retry-form"] input`).Each(func(_ int, s *goquery.Selection) {
			if n := s.AttrOr("name", ""); n != "" && n != "_csrf" {
				form.Add(n, s.AttrOr("value", ""))
			}
		})
		action := refused.Find(`[data-testid="retry-form"]`).AttrOr("action", "")
		if form.Get("folder") != beta || form.Get("batch") != batch || form.Get("description") != "retried" || form.Get("label_key") != "k" {
			t.Fatalf("retry form %s = %v", action, form)
		}
		form.Set("name", "upstream-only-2")
		before := e.sim.Created()
		rec, _ = e.post("admin", action, form)
		again, ops := e.batchOps(rec)
		if again != batch || len(ops) != 3 {
			t.Fatalf("retry went to batch %q with %d operations, want %q with 3", again, len(ops), batch)
		}
		if got := e.sim.Created() - before; got != 1 {
			t.Errorf("retry created %d images, want 1", got)
		}
		if ops[0].FolderID != beta || ops[0].State != store.OpDone || ops[0].ImageName != "upstream-only-2" {
			t.Errorf("retried operation = %+v", ops[0])
		}
	})
}

func TestCopyQueuedWhenTheCloudIsDown(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t)
	src := e.golden()
	e.sim.SetFaults(sim.Faults{UnavailableRate: 1})
	rec, _ := e.post("copier-a", "/images/compute/"+src.ID+"/copy", copyPostForm([]string{e.folder["team-alpha"]}, "{name}-later"))
	e.sim.SetFaults(sim.Faults{})
	batch, ops := e.batchOps(rec)
	if len(ops) != 1 || ops[0].State != store.OpPending {
		t.Fatalf("operations = %+v", ops)
	}
	page := e.ok("/copies/" + batch)
	if got := page.text(`[data-testid="copy-result"][data-state="queued"] [data-testid="copy-message"]`); got != "the cloud did not answer; retrying" {
		t.Errorf("queued message = %q", got)
	}
	if page.attr(`#copy-results`, "hx-trigger") != "every 2s, imagedash:visible" {
		t.Error("the result list does not poll while a target is queued")
	}
}

func TestCopyToDesktop(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t)
	src := e.golden()
	before := e.sim.Created()
	rec, _ := e.post("copier-a", "/images/compute/"+src.ID+"/copy", copyPostForm([]string{e.folder["team-alpha"]}, "{name}-vdi", "as", "desktop"))
	_, ops := e.batchOps(rec)
	if len(ops) != 1 || ops[0].Action != tracker.ActionCopyToDesktop || ops[0].Service != cloud.Desktop || ops[0].State != store.OpDone {
		t.Fatalf("operations = %+v", ops)
	}
	if e.sim.Created() != before+1 {
		t.Errorf("Created() = %d, want %d", e.sim.Created(), before+1)
	}
	img, err := e.store.Image(context.Background(), cloud.Desktop, ops[0].ImageID)
	// Without the label editor in the post, the source's labels.
	if err != nil || img.Name != src.Name+"-vdi" || img.FolderID != e.folder["team-alpha"] || !maps.Equal(img.Labels, src.Labels) {
		t.Errorf("desktop image = %+v, %v", img, err)
	}
}

func TestCopyFromDesktop(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t)
	alpha := e.folder["team-alpha"]
	_, _, desktops := e.sim.Sources(alpha)
	if len(desktops) == 0 {
		t.Fatal("the emulator has no desktop in team-alpha")
	}
	if rec := e.browsers["copier-a"].Get("/desktop-images/new"); rec.Code != http.StatusOK {
		t.Fatalf("GET form = %d", rec.Code)
	}
	before := e.sim.Created()

	rec, doc := e.post("copier-a", "/desktop-images/new", url.Values{"folder": {alpha}, "desktop_id": {"nosuchdesktop0000000"}, "name": {"from-desktop"}})
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(copyFieldError(doc, "desktop_id"), "No desktop with this id") {
		t.Errorf("unknown desktop = %d %q", rec.Code, copyFieldError(doc, "desktop_id"))
	}
	rec, _ = e.post("copier-a", "/desktop-images/new", url.Values{"folder": {e.folder["team-beta"]}, "desktop_id": {desktops[0].ID}, "name": {"from-desktop"}})
	if rec.Code != http.StatusBadRequest {
		t.Errorf("into another team's folder = %d, want 400 (an unknown folder)", rec.Code)
	}
	rec, doc = e.post("copier-a", "/desktop-images/new", url.Values{"folder": {alpha}, "desktop_id": {desktops[0].ID}, "name": {"Bad Name"}})
	if rec.Code != http.StatusUnprocessableEntity || copyFieldError(doc, "name") == "" {
		t.Errorf("bad name = %d %q", rec.Code, copyFieldError(doc, "name"))
	}
	rec, _ = e.post("copier-a", "/desktop-images/new", url.Values{"folder": {alpha}, "desktop_id": {desktops[0].ID}, "name": {"from-desktop"},
		"label_key": {"from"}, "label_value": {"desktop"}})
	_, ops := e.batchOps(rec)
	if len(ops) != 1 || ops[0].Action != tracker.ActionCopyFromDesktop || ops[0].SourceID != desktops[0].ID || ops[0].State != store.OpDone {
		t.Fatalf("operations = %+v", ops)
	}
	if got := e.sim.Created() - before; got != 1 {
		t.Errorf("created %d, want 1", got)
	}
	img, err := e.store.Image(context.Background(), cloud.Desktop, ops[0].ImageID)
	if err != nil || img.Labels["from"] != "desktop" {
		t.Errorf("image = %+v, %v", img, err)
	}
	if rec := e.browsers["viewer-a"].Get("/desktop-images/new"); !strings.Contains(rec.Body.String(), `data-testid="no-targets"`) {
		t.Error("a viewer's form does not say they may copy nowhere")
	}
}

// datedName is a name from the template {name}-{date}.
var datedName = regexp.MustCompile(`^[a-z][-a-z0-9]*-20[0-9]{6}$`)

func TestBulkCopy(t *testing.T) {
	t.Parallel()
	e := newCopyEnv(t)
	var ids []string
	for range 3 {
		ids = append(ids, e.golden(ids...).ID)
	}
	alpha := e.folder["team-alpha"]
	target := "/images/bulk-copy?" + url.Values{"service": {"compute"}, "id": ids}.Encode()
	if rec := e.browsers["copier-a"].Get(target); rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `data-testid="bulk-row"`) != 3 {
		t.Fatalf("GET bulk form = %d", rec.Code)
	}
	form := func(name string) url.Values {
		return url.Values{"service": {"compute"}, "id": ids, "folder": {alpha}, "name": {name}}
	}
	before := e.sim.Created()

	t.Run("clash among themselves", func(t *testing.T) {
		rec, doc := e.post("copier-a", "/images/bulk-copy", form("same-name"))
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(copyFieldError(doc, "name"), "2 of the 3 copies will not do") {
			t.Errorf("POST = %d, %q", rec.Code, copyFieldError(doc, "name"))
		}
		if got := copyFieldError(doc, "id."+ids[1]); !strings.Contains(got, "is also the new name of") {
			t.Errorf("row message = %q", got)
		}
	})
	t.Run("bad template", func(t *testing.T) {
		rec, doc := e.post("copier-a", "/images/bulk-copy", form("{name"))
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(copyFieldError(doc, "name"), "not closed") {
			t.Errorf("POST = %d, %q", rec.Code, copyFieldError(doc, "name"))
		}
	})
	t.Run("into another team's folder", func(t *testing.T) {
		f := form("{name}-b")
		f.Set("folder", e.folder["team-beta"])
		// Not theirs to see: answered as an unknown folder, unnamed.
		if rec, _ := e.post("copier-a", "/images/bulk-copy", f); rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), "team-beta") {
			t.Errorf("POST = %d, want 400 without the folder's name", rec.Code)
		}
	})
	if got := e.sim.Created(); got != before {
		t.Fatalf("refused bulk copies created %d images", got-before)
	}
	t.Run("three images into one folder", func(t *testing.T) {
		f := form("{name}-{date}")
		f.Add("label_key", "bulk")
		f.Add("label_value", "yes")
		rec, _ := e.post("copier-a", "/images/bulk-copy", f)
		_, ops := e.batchOps(rec)
		if len(ops) != 3 {
			t.Fatalf("operations = %d, want 3", len(ops))
		}
		for _, o := range ops {
			if o.FolderID != alpha || o.State != store.OpDone || !datedName.MatchString(o.ImageName) {
				t.Errorf("operation %+v", o)
			}
		}
		if got := e.sim.Created() - before; got != 3 {
			t.Errorf("created %d, want 3", got)
		}
		// The names are now taken: the same copy again is refused.
		rec, doc := e.post("copier-a", "/images/bulk-copy", f)
		if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(copyFieldError(doc, "id."+ids[0]), "exists already") {
			t.Errorf("second bulk copy = %d, %q", rec.Code, copyFieldError(doc, "id."+ids[0]))
		}
	})
	t.Run("viewer", func(t *testing.T) {
		if rec, _ := e.post("viewer-a", "/images/bulk-copy", form("{name}-v")); rec.Code != http.StatusForbidden {
			t.Errorf("viewer's bulk copy = %d, want 403", rec.Code)
		}
	})
}

// TestCopyOverTheLimit: past the per-person limit of operations in flight
// a bulk copy, and a copy into several folders, come back as the form the
// person sent, with the numbers (429), and nothing is started; fewer fit.
func TestCopyOverTheLimit(t *testing.T) {
	t.Parallel()
	e := newCopyEnvWith(t, tracker.Config{MaxOpenPerUser: 2})
	var ids []string
	for range 3 {
		ids = append(ids, e.golden(ids...).ID)
	}
	alpha := e.folder["team-alpha"]
	form := url.Values{"service": {"compute"}, "id": ids, "folder": {alpha}, "name": {"{name}-lim"}}
	before := e.sim.Created()
	rec, doc := e.post("copier-a", "/images/bulk-copy", form)
	formError := func(doc *goquery.Document) string {
		return strings.TrimSpace(doc.Find(`[data-testid="form-error"]`).First().Text())
	}
	msg := formError(doc)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "30" ||
		!strings.Contains(msg, "You have 0 operations in flight and asked for 3 more; one person may have 2 at once.") {
		t.Fatalf("bulk copy over the limit = %d, %q", rec.Code, msg)
	}
	if n := doc.Find(`[data-testid="bulk-row"] input[name="id"]:checked`).Length(); n != 3 {
		t.Errorf("the form came back with %d of 3 images ticked", n)
	}
	if got := e.sim.Created(); got != before {
		t.Errorf("a refused bulk copy created %d images", got-before)
	}
	// Two fit (the emulator finishes them at once).
	form["id"] = ids[:2]
	if rec, _ := e.post("copier-a", "/images/bulk-copy", form); rec.Code != http.StatusSeeOther {
		t.Fatalf("bulk copy of 2 = %d", rec.Code)
	}
	// With two of theirs in flight, a copy of one more is refused, the
	// form as typed.
	ctx := context.Background()
	u, err := e.store.UserByName(ctx, "copier-a")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := e.store.CreateIntent(ctx, store.Operation{Key: fmt.Sprintf("open-%d", i), Action: tracker.ActionCopy,
			Service: cloud.Compute, FolderID: alpha, Request: []byte("{}"), UserID: u.ID, Username: u.Username,
			NextPollAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	rec, doc = e.post("copier-a", "/images/compute/"+ids[2]+"/copy", url.Values{"folder": {alpha}, "name": {"typed-name"}})
	if rec.Code != http.StatusTooManyRequests || !strings.Contains(formError(doc), "You have 2 operations in flight") {
		t.Errorf("copy over the limit = %d, %q", rec.Code, formError(doc))
	}
	if v, _ := doc.Find(`input[name="name"]`).Attr("value"); v != "typed-name" {
		t.Errorf("the name typed was not kept: %q", v)
	}
}

func TestCopyWithoutTracker(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 4})
	img := e.images[cloud.Compute][0]
	r := e.do(http.MethodPost, "/images/compute/"+img.ID+"/copy", url.Values{"folder": {team}, "name": {"x-copy"}}, nil)
	if r.code != http.StatusServiceUnavailable {
		t.Errorf("copy without a tracker = %d, want 503", r.code)
	}
}
