package handlers_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/views"
	"github.com/imagedash/imagedash/web/webtest"
)

// changeEnv is the emulator-backed env with the role matrix over the
// emulator's folders: team A (viewer-a, copier-a, editor-a) owns
// team-alpha, team B's editor-b owns team-beta, golden-images is shared,
// and root (e.browser) is the admin.
type changeEnv struct {
	*cloudEnv
	browsers              map[string]*webtest.Browser
	alpha, beta, goldenID string
}

func newChangeEnv(t *testing.T) *changeEnv {
	t.Helper()
	ce := &changeEnv{cloudEnv: newCloudEnv(t, 60)}
	for _, f := range ce.sim.Folders() {
		switch f.GetName() {
		case "team-alpha":
			ce.alpha = f.GetId()
		case "team-beta":
			ce.beta = f.GetId()
		case "golden-images":
			ce.goldenID = f.GetId()
		}
	}
	ctx := context.Background()
	teams := map[string]store.Team{}
	for name, folder := range map[string]string{"A": ce.alpha, "B": ce.beta} {
		tm, err := ce.store.CreateTeam(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := ce.store.AssignFolder(ctx, tm.ID, folder); err != nil {
			t.Fatal(err)
		}
		teams[name] = tm
	}
	if err := ce.store.SetFolderShared(ctx, ce.goldenID, true); err != nil {
		t.Fatal(err)
	}
	ce.browsers = map[string]*webtest.Browser{"admin": ce.browser}
	for _, p := range people {
		u := webtest.AddUser(t, ce.store, p.name, false)
		if err := ce.store.AddMember(ctx, teams[p.team].ID, u.ID, p.role); err != nil {
			t.Fatal(err)
		}
		b := webtest.NewBrowser(t, ce.srv)
		b.Login(p.name, webtest.Password)
		ce.browsers[p.name] = b
	}
	return ce
}

// ready is a READY (Desktop: ACTIVE) cached image of svc in folder ("" for
// any), other than those in skip.
func (ce *changeEnv) ready(svc cloud.Service, folder string, skip ...string) cloud.Image {
	ce.t.Helper()
	want := "READY"
	if svc == cloud.Desktop {
		want = "ACTIVE"
	}
	return ce.first(svc, func(i cloud.Image) bool {
		return i.Status == want && (folder == "" || i.FolderID == folder) && !slices.Contains(skip, i.ID)
	})
}

// cached is the cached image, fresh from the store.
func (ce *changeEnv) cached(svc cloud.Service, id string) cloud.Image {
	ce.t.Helper()
	img, err := ce.store.Image(context.Background(), svc, id)
	if err != nil {
		ce.t.Fatal(err)
	}
	return img
}

// method is the full gRPC name of a call of svc's image service.
func method(svc cloud.Service, call string) string {
	switch svc {
	case cloud.Desktop:
		return "/yandex.cloud.clouddesktop.v1.api.DesktopImageService/" + call
	case cloud.BareMetal:
		return "/yandex.cloud.baremetal.v1alpha.ImageService/" + call
	}
	return "/yandex.cloud.compute.v1.ImageService/" + call
}

// page parses an answer.
func page(t *testing.T, rec *httptest.ResponseRecorder) response {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	return response{code: rec.Code, hdr: rec.Header(), body: rec.Body.String(), doc: doc}
}

// formOf is what the form sel of r would submit, as a browser does: every
// named input and textarea, in document order.
func formOf(t *testing.T, r response, sel string) url.Values {
	t.Helper()
	form := r.doc.Find(sel)
	if form.Length() == 0 {
		t.Fatalf("no form %s on the page (status %d):\n%s", sel, r.code, r.body)
	}
	v := url.Values{}
	form.Find("input[name], textarea[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		if goquery.NodeName(s) == "textarea" {
			v.Add(name, s.Text())
			return
		}
		val, _ := s.Attr("value")
		v.Add(name, val)
	})
	return v
}

// setLabels replaces the label editor's rows with labels (sorted by key).
func setLabels(v url.Values, labels map[string]string) {
	v.Del("label_key")
	v.Del("label_value")
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		v.Add("label_key", k)
		v.Add("label_value", labels[k])
	}
}

func editURL(img cloud.Image) string {
	return "/images/" + string(img.Service) + "/" + img.ID + "/edit"
}

// openEdit opens img's edit form as b and returns what it would submit.
func openEdit(t *testing.T, b *webtest.Browser, img cloud.Image) url.Values {
	t.Helper()
	r := page(t, b.Get(editURL(img)))
	if r.code != http.StatusOK {
		t.Fatalf("GET %s = %d:\n%s", editURL(img), r.code, r.body)
	}
	return formOf(t, r, `form[data-testid="edit-form"]`)
}

// opOf is the operation a redirect to the image page names (?op=).
func (ce *changeEnv) opOf(r response) store.Operation {
	ce.t.Helper()
	loc := r.hdr.Get("Location")
	u, err := url.Parse(loc)
	if err != nil || r.code != http.StatusSeeOther {
		ce.t.Fatalf("answer %d to %q, want a redirect with ?op=; body:\n%s", r.code, loc, r.body)
	}
	id, err := strconv.ParseInt(u.Query().Get("op"), 10, 64)
	if err != nil {
		ce.t.Fatalf("redirect %q has no op", loc)
	}
	op, err := ce.store.Operation(context.Background(), id)
	if err != nil {
		ce.t.Fatal(err)
	}
	return op
}

// fieldError is the message shown next to field.
func fieldError(r response, field string) string {
	return r.text(`[data-testid="field-error"][data-field="` + field + `"]`)
}

func TestEditImageSendsOnlyChangedFields(t *testing.T) {
	t.Parallel()
	ce := newChangeEnv(t)
	ctx := context.Background()
	img := ce.ready(cloud.Compute, "")
	b := ce.browser
	tests := []struct {
		name   string
		change func(v url.Values)
		mask   []string
		check  func(t *testing.T, got cloud.Image)
	}{
		{"name only", func(v url.Values) { v.Set("name", "renamed-by-test") }, []string{"name"},
			func(t *testing.T, got cloud.Image) {
				if got.Name != "renamed-by-test" || got.Description != img.Description {
					t.Errorf("image %q %q, want the new name and the old description", got.Name, got.Description)
				}
			}},
		{"labels: the full edited set", func(v url.Values) {
			l := maps.Clone(img.Labels)
			l["added"] = "by-test"
			setLabels(v, l)
		}, []string{"labels"},
			func(t *testing.T, got cloud.Image) {
				want := maps.Clone(img.Labels)
				want["added"] = "by-test"
				if !maps.Equal(got.Labels, want) {
					t.Errorf("labels %v, want %v", got.Labels, want)
				}
			}},
		{"description and min disk", func(v url.Values) {
			v.Set("description", "edited\r\nover two lines")
			v.Set("min_disk_gib", strconv.FormatInt(img.Size>>30+3, 10))
		}, []string{"description", "min_disk_size"},
			func(t *testing.T, got cloud.Image) {
				if got.Description != "edited\nover two lines" || got.MinDiskSize != (img.Size>>30+3)<<30 {
					t.Errorf("description %q, min disk %d", got.Description, got.MinDiskSize)
				}
			}},
		{"labels removed, name cleared", func(v url.Values) {
			v.Set("name", "")
			setLabels(v, nil)
		}, []string{"name", "labels"},
			func(t *testing.T, got cloud.Image) {
				if got.Name != "" || len(got.Labels) != 0 {
					t.Errorf("image %q %v, want no name and no labels", got.Name, got.Labels)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := openEdit(t, b, img)
			tt.change(form)
			r := page(t, b.Post(editURL(img), form))
			op := ce.opOf(r)
			if want := "/images/compute/" + img.ID + "?op=" + strconv.FormatInt(op.ID, 10); r.hdr.Get("Location") != want {
				t.Errorf("redirect to %q, want %q", r.hdr.Get("Location"), want)
			}
			mask, ok := ce.sim.UpdateMask(op.CloudID)
			if !ok || !slices.Equal(mask, tt.mask) {
				t.Errorf("update_mask on the emulator = %q (%v), want %q", mask, ok, tt.mask)
			}
			if _, err := ce.tracker.Step(ctx); err != nil {
				t.Fatal(err)
			}
			if op, _ = ce.store.Operation(ctx, op.ID); op.State != store.OpDone {
				t.Errorf("operation %s %s %s, want done", op.State, op.ErrorCode, op.ErrorMessage)
			}
			got, err := ce.client.GetImage(ctx, cloud.Compute, img.ID)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
			if c := ce.cached(cloud.Compute, img.ID); c.Name != got.Name || !maps.Equal(c.Labels, got.Labels) {
				t.Errorf("cache %q %v, emulator %q %v", c.Name, c.Labels, got.Name, got.Labels)
			}
			log, err := ce.store.AuditLog(ctx, store.AuditQuery{Action: tracker.ActionUpdate, Target: img.ID, Outcome: store.OutcomeSuccess})
			if err != nil || !slices.ContainsFunc(log, func(a store.AuditEntry) bool {
				return a.Detail == "fields: "+strings.Join(tt.mask, ", ")+store.CloudNote(op) && a.OperationID == store.AuditOperationID(op) && a.Username == "root"
			}) {
				t.Errorf("no audit entry of the update with its fields: %+v (%v)", log, err)
			}
			img = ce.cached(cloud.Compute, img.ID)
		})
	}

	t.Run("flash on the image page", func(t *testing.T) {
		form := openEdit(t, b, img)
		form.Set("name", "flash-named")
		r := page(t, b.Post(editURL(img), form))
		ce.opOf(r)
		show := page(t, b.Get(r.hdr.Get("Location")))
		if got := show.text(`[data-testid="toasts"]`); !strings.Contains(got, "Saving changes to flash-named…") {
			t.Errorf("toasts %q, want the flash", got)
		}
	})

	t.Run("nothing changed", func(t *testing.T) {
		before := ce.sim.Calls(method(cloud.Compute, "Update"))
		form := openEdit(t, b, img)
		r := page(t, b.Post(editURL(img), form))
		if r.code != http.StatusUnprocessableEntity || !strings.Contains(r.text(`[data-testid="form-error"]`), "Nothing to save") {
			t.Errorf("unchanged save = %d %q", r.code, r.text(`[data-testid="form-error"]`))
		}
		if got := ce.sim.Calls(method(cloud.Compute, "Update")); got != before {
			t.Errorf("%d Update calls for an unchanged form", got-before)
		}
	})
}

func TestEditImageFieldsPerService(t *testing.T) {
	t.Parallel()
	ce := newChangeEnv(t)
	ctx := context.Background()
	tests := []struct {
		svc     cloud.Service
		fields  []string // inputs the form has
		missing []string
		change  func(v url.Values)
		mask    []string
	}{
		{cloud.Compute, []string{"name", "description", "min_disk_gib", "label_key"}, nil,
			func(v url.Values) { v.Set("name", "compute-new"); v.Set("description", "d") }, []string{"name", "description"}},
		{cloud.Desktop, []string{"name", "label_key"}, []string{"description", "min_disk_gib"},
			func(v url.Values) { v.Set("name", "desktop-new"); setLabels(v, map[string]string{"k": "v"}) }, []string{"name", "labels"}},
		{cloud.BareMetal, []string{"name", "description", "label_key"}, []string{"min_disk_gib"},
			func(v url.Values) { v.Set("description", "metal") }, []string{"description"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.svc), func(t *testing.T) {
			img := ce.ready(tt.svc, "")
			form := openEdit(t, ce.browser, img)
			for _, f := range tt.fields {
				if !form.Has(f) {
					t.Errorf("the form has no %s", f)
				}
			}
			for _, f := range tt.missing {
				if form.Has(f) {
					t.Errorf("the form has %s, which %s's Update does not take", f, tt.svc)
				}
			}
			tt.change(form)
			op := ce.opOf(page(t, ce.browser.Post(editURL(img), form)))
			if mask, _ := ce.sim.UpdateMask(op.CloudID); !slices.Equal(mask, tt.mask) {
				t.Errorf("update_mask = %q, want %q", mask, tt.mask)
			}
			if _, err := ce.tracker.Step(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestEditImageValidation(t *testing.T) {
	t.Parallel()
	ce := newChangeEnv(t)
	img := ce.ready(cloud.Compute, "")
	if img.Size < 1<<30 {
		t.Fatalf("image size %d: want at least 1 GiB to test min disk below it", img.Size)
	}
	many := map[string]string{}
	for i := range 65 {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	tests := []struct {
		name   string
		change func(v url.Values)
		field  string
		want   string
		input  string // the input that keeps the typed value
		typed  string
	}{
		{"bad name", func(v url.Values) { v.Set("name", "Bad_Name") }, "name",
			"Name must be 3-63 characters", `input[name="name"]`, "Bad_Name"},
		{"name too short", func(v url.Values) { v.Set("name", "ab") }, "name",
			"must be 3-63 characters", `input[name="name"]`, "ab"},
		{"description too long", func(v url.Values) { v.Set("description", strings.Repeat("d", 257)) }, "description",
			"Description must be at most 256 characters, got 257", "", ""},
		{"bad label key", func(v url.Values) { setLabels(v, map[string]string{"Env": "prod"}) }, "labels.Env",
			"label key must start with a lowercase letter", `input[name="label_key"]`, "Env"},
		{"label key too long", func(v url.Values) { setLabels(v, map[string]string{"k" + strings.Repeat("x", 63): "v"}) }, "labels.k" + strings.Repeat("x", 63),
			"label key must be at most 63 characters", "", ""},
		{"bad label value", func(v url.Values) { setLabels(v, map[string]string{"env": "Prod.1"}) }, "labels.env",
			"label value may hold only lowercase letters", `input[name="label_value"]`, "Prod.1"},
		{"duplicate key", func(v url.Values) {
			v["label_key"] = []string{"env", "env"}
			v["label_value"] = []string{"a", "b"}
		}, "labels.env", "This key is given twice.", "", ""},
		{"65 labels", func(v url.Values) { setLabels(v, many) }, "labels", "at most 64 labels, got 65", "", ""},
		{"min disk below the image size", func(v url.Values) { v.Set("min_disk_gib", "0.5") }, "min_disk_size",
			"Min disk size must not be smaller than the image size", `input[name="min_disk_gib"]`, "0.5"},
		{"min disk above 4 TiB", func(v url.Values) { v.Set("min_disk_gib", "4097") }, "min_disk_size",
			"must be between 4194304 and 4398046511104 bytes", `input[name="min_disk_gib"]`, "4097"},
		{"min disk below 4 MiB", func(v url.Values) { v.Set("min_disk_gib", "0.001") }, "min_disk_size",
			"must be between 4194304 and 4398046511104 bytes", "", ""},
		{"min disk negative", func(v url.Values) { v.Set("min_disk_gib", "-5") }, "min_disk_size", "must be between", "", ""},
		{"min disk removed", func(v url.Values) { v.Set("min_disk_gib", "") }, "min_disk_size", "cannot be removed once set", "", ""},
		{"min disk not a number", func(v url.Values) { v.Set("min_disk_gib", "ten") }, "min_disk_size",
			"Enter the minimum disk size in GiB", `input[name="min_disk_gib"]`, "ten"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ce.sim.Calls(method(cloud.Compute, "Update"))
			form := openEdit(t, ce.browser, img)
			tt.change(form)
			r := page(t, ce.browser.Post(editURL(img), form))
			if r.code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422:\n%s", r.code, r.body)
			}
			if got := fieldError(r, tt.field); !strings.Contains(got, tt.want) {
				t.Errorf("message next to %s = %q, want %q", tt.field, got, tt.want)
			}
			if tt.input != "" {
				var kept bool
				r.doc.Find(`form[data-testid="edit-form"] ` + tt.input).Each(func(_ int, s *goquery.Selection) {
					kept = kept || s.AttrOr("value", "") == tt.typed
				})
				if !kept {
					t.Errorf("the form lost the typed %q", tt.typed)
				}
			}
			if got := ce.sim.Calls(method(cloud.Compute, "Update")); got != before {
				t.Errorf("%d Update calls for an invalid form", got-before)
			}
		})
	}
}

func TestEditImageConflict(t *testing.T) {
	t.Parallel()
	ce := newChangeEnv(t)
	ctx := context.Background()
	img := ce.ready(cloud.Compute, "")
	form := openEdit(t, ce.browser, img)

	// Meanwhile, the description and labels change (a sync brought them).
	changed := img
	changed.Description = "changed upstream"
	changed.Labels = map[string]string{"upstream": "yes"}
	if err := ce.store.UpsertImage(ctx, changed); err != nil {
		t.Fatal(err)
	}
	before := ce.sim.Calls(method(cloud.Compute, "Update"))
	form.Set("name", "mine-now")
	r := page(t, ce.browser.Post(editURL(img), form))
	if r.code != http.StatusConflict {
		t.Fatalf("status %d, want 409:\n%s", r.code, r.body)
	}
	if got := ce.sim.Calls(method(cloud.Compute, "Update")); got != before {
		t.Fatalf("%d Update calls before the person confirmed", got-before)
	}
	rows := map[string][3]string{}
	r.doc.Find(`[data-testid="conflict-row"]`).Each(func(_ int, s *goquery.Selection) {
		f, _ := s.Attr("data-field")
		text := func(sel string) string { return strings.Join(strings.Fields(s.Find(sel).Text()), " ") }
		rows[f] = [3]string{text(`[data-testid="conflict-opened"]`), text(`[data-testid="conflict-now"]`), text(`[data-testid="conflict-typed"]`)}
	})
	if got := rows["description"]; got[0] != img.Description || got[1] != "changed upstream" || !strings.HasPrefix(got[2], img.Description) {
		t.Errorf("description conflict %q", got)
	}
	if got := rows["labels"]; got[1] != "upstream=yes" {
		t.Errorf("labels conflict %q", got)
	}
	if _, ok := rows["name"]; ok || len(rows) != 2 {
		t.Errorf("conflict rows %v, want description and labels", rows)
	}
	if r.doc.Find(`[data-testid="save-anyway"]`).Length() != 1 {
		t.Error("no Save anyway button")
	}
	if got := r.attr(`form[data-testid="edit-form"] input[name="name"]`, "value"); got != "mine-now" {
		t.Errorf("typed name %q lost", got)
	}

	// Save anyway: only the person's change is sent, the upstream ones stay.
	again := formOf(t, r, `form[data-testid="edit-form"]`)
	if again.Get("overwrite") != "1" {
		t.Fatalf("the conflict form does not carry overwrite=1: %v", again)
	}
	op := ce.opOf(page(t, ce.browser.Post(editURL(img), again)))
	if mask, _ := ce.sim.UpdateMask(op.CloudID); !slices.Equal(mask, []string{"name"}) {
		t.Errorf("update_mask = %q, want [name]", mask)
	}
}

func TestEditImageCloudRefusal(t *testing.T) {
	t.Parallel()
	ce := newChangeEnv(t)
	ctx := context.Background()
	img := ce.ready(cloud.Compute, "")
	other := ce.ready(cloud.Compute, img.FolderID, img.ID)

	t.Run("field violation next to the field", func(t *testing.T) {
		// The cache thinks the image is smaller than it is, so the form's
		// check passes and the cloud's refuses.
		small := img
		small.Size = 1 << 30
		if err := ce.store.UpsertImage(ctx, small); err != nil {
			t.Fatal(err)
		}
		form := openEdit(t, ce.browser, small)
		form.Set("min_disk_gib", strconv.FormatFloat(float64(img.Size)/(1<<30)-0.5, 'f', -1, 64))
		before := ce.sim.Calls(method(cloud.Compute, "Update"))
		r := page(t, ce.browser.Post(editURL(img), form))
		if r.code != http.StatusUnprocessableEntity {
			t.Fatalf("status %d, want 422:\n%s", r.code, r.body)
		}
		if got := ce.sim.Calls(method(cloud.Compute, "Update")); got != before+1 {
			t.Errorf("%d Update calls, want the one the cloud refused", got-before)
		}
		if got := fieldError(r, "min_disk_size"); !strings.Contains(got, "must not be smaller than the image size") {
			t.Errorf("message next to min disk = %q", got)
		}
		if got := r.text(`[data-testid="form-error"]`); !strings.Contains(got, "The cloud refused the change") {
			t.Errorf("form error %q", got)
		}
	})

	t.Run("name taken", func(t *testing.T) {
		form := openEdit(t, ce.browser, img)
		form.Set("name", other.Name)
		r := page(t, ce.browser.Post(editURL(img), form))
		if r.code != http.StatusConflict || !strings.Contains(fieldError(r, "name"), "Another image in this folder is named") {
			t.Errorf("status %d, name message %q", r.code, fieldError(r, "name"))
		}
	})
}

func TestEditImageRefused(t *testing.T) {
	t.Parallel()
	ce := newChangeEnv(t)
	ctx := context.Background()
	own := ce.ready(cloud.Compute, ce.alpha)
	golden := ce.ready(cloud.Compute, ce.goldenID)

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
			before := ce.sim.Calls(method(cloud.Compute, "Update"))
			// The form as the admin sees it, posted by this person.
			form := openEdit(t, ce.browser, tt.img)
			form.Del(views.CSRFField)
			form.Set("name", "by-"+tt.who)
			if got := b.Get(editURL(tt.img)).Code; got != tt.want && !(tt.want == http.StatusSeeOther && got == http.StatusOK) {
				t.Errorf("%s GET edit of %s = %d", tt.who, tt.img.FolderID, got)
			}
			r := page(t, b.Post(editURL(tt.img), form))
			if r.code != tt.want {
				t.Errorf("%s POST edit of %s = %d, want %d", tt.who, tt.img.FolderID, r.code, tt.want)
			}
			calls := ce.sim.Calls(method(cloud.Compute, "Update")) - before
			if tt.want >= 400 {
				if calls != 0 {
					t.Errorf("%s: %d Update calls after a %d", tt.who, calls, tt.want)
				}
				if got, _ := ce.client.GetImage(ctx, cloud.Compute, tt.img.ID); got.Name == "by-"+tt.who {
					t.Errorf("%s renamed the image without the right", tt.who)
				}
				if got := r.text(`[data-testid="error-page"]`); !strings.Contains(got, "Only an editor of a team that owns folder") && !strings.Contains(got, "is cached") {
					t.Errorf("%s: refusal %q", tt.who, r.text(`[data-testid="error-page"]`))
				}
			} else if calls != 1 {
				t.Errorf("%s: %d Update calls, want 1", tt.who, calls)
			}
		}
		log, err := ce.store.AuditLog(ctx, store.AuditQuery{Action: tracker.ActionUpdate, Outcome: store.OutcomeDenied})
		if err != nil || len(log) != 8 {
			t.Errorf("%d denied updates in the audit log (%v), want 8 (a GET and a POST each)", len(log), err)
		}
	})

	t.Run("detail page buttons", func(t *testing.T) {
		for who, want := range map[string]int{"viewer-a": 0, "copier-a": 0, "editor-b": 0, "editor-a": 1, "admin": 1} {
			r := page(t, ce.browsers[who].Get("/images/compute/"+own.ID))
			if got := r.doc.Find(`[data-testid="edit-link"]`).Length(); got != want {
				t.Errorf("%s sees %d Edit buttons, want %d", who, got, want)
			}
			if got := r.doc.Find(`[data-testid="delete-link"]`).Length(); got != want {
				t.Errorf("%s sees %d Delete buttons, want %d", who, got, want)
			}
		}
		r := page(t, ce.browser.Get("/images/compute/"+own.ID))
		if got := r.attr(`[data-testid="edit-link"]`, "href"); got != "/images/compute/"+own.ID+"/edit" {
			t.Errorf("Edit links to %q", got)
		}
	})

	t.Run("status forbids an update", func(t *testing.T) {
		img := ce.ready(cloud.Compute, "", own.ID)
		form := openEdit(t, ce.browser, img)
		busy := img
		busy.Status = "CREATING"
		if err := ce.store.UpsertImage(ctx, busy); err != nil {
			t.Fatal(err)
		}
		before := ce.sim.Calls(method(cloud.Compute, "Update"))
		form.Set("name", "while-creating")
		r := page(t, ce.browser.Post(editURL(img), form))
		if r.code != http.StatusConflict || !strings.Contains(r.text(`[data-testid="form-error"]`), "This image is CREATING") {
			t.Errorf("status %d, message %q", r.code, r.text(`[data-testid="form-error"]`))
		}
		if r.doc.Find(`[data-testid="save"], [data-testid="save-anyway"]`).Length() != 0 {
			t.Error("the form offers to save a CREATING image")
		}
		if got := ce.sim.Calls(method(cloud.Compute, "Update")); got != before {
			t.Errorf("%d Update calls", got-before)
		}
	})

	t.Run("no cloud connection", func(t *testing.T) {
		e := newEnv(t, envOptions{compute: 3})
		img := e.images[cloud.Compute][0]
		for _, target := range []string{editURL(img), "/images/compute/" + img.ID + "/delete", "/images/bulk-delete?service=compute&id=" + img.ID} {
			r := e.get(target, nil)
			if r.code != http.StatusServiceUnavailable || !strings.Contains(r.text(`[data-testid="error-page"]`), "Changes are not available: no cloud connection.") {
				t.Errorf("GET %s = %d %q", target, r.code, r.text(`[data-testid="error-page"]`))
			}
		}
	})
}
