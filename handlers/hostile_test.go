package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/static"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/views"
	"github.com/imagedash/imagedash/web/webtest"
)

// hostileValues are what someone may paste into any field or address:
// oversized, empty, odd unicode, control characters, SQL and HTML/JS.
var hostileValues = []struct{ name, v string }{
	{"empty", ""},
	{"10KB", strings.Repeat("A", 10<<10)},
	{"100KB", strings.Repeat("ab", 50<<10)},
	{"rtl", "\u202egnp.exe\u202c عربى עברית"},
	{"emoji", "😀🔥👩‍👩‍👧"},
	{"combining", "e\u0301\u0302\u0303 Z\u0337\u0322a\u0338l\u0336g\u0335o"},
	{"nul", "a\x00b"},
	{"esc", "\x1b[31mred\x1b[0m"},
	{"crlf", "x\r\nSet-Cookie: evil=1"},
	{"sql-or", "' OR 1=1 --"},
	{"sql-drop", `"; DROP TABLE images; --`},
	{"script", "<script>alert(1)</script>"},
	{"img-onerror", `"><img src=x onerror=alert(1)>`},
	{"js-url", "javascript:alert(1)"},
	{"bad-utf8", "\xff\xfe\xfd"},
}

// hostileRoute is a route of the table: its baseline request (path
// parameters, query or form), which parameters take the hostile values,
// and, for a change a valid request may make, how to tell that a change
// is the one asked for.
type hostileRoute struct {
	method string
	// path has :name parameters, filled from pathVals (escaped).
	path     string
	pathVals map[string]string
	base     url.Values
	params   []string
	// browser sends the requests (nil: the admin's).
	browser *webtest.Browser
	// changed, when not nil, is asked about a success that changed the
	// people tables: is it what the request asked for (param set to v)?
	changed func(t *testing.T, param, v string) bool
}

func (r hostileRoute) target(pathVals map[string]string) string {
	segs := strings.Split(r.path, "/")
	for i, s := range segs {
		if name, ok := strings.CutPrefix(s, ":"); ok {
			segs[i] = url.PathEscape(pathVals[name])
		}
	}
	return strings.Join(segs, "/")
}

// send makes the request with param (a path parameter, or a query or form
// parameter) set to v; htmx asks as htmx does.
func (r hostileRoute) send(e *cloudEnv, param, v string, htmxReq bool) *httptest.ResponseRecorder {
	pv := maps.Clone(r.pathVals)
	vals := url.Values{}
	for k, vs := range r.base {
		vals[k] = slices.Clone(vs)
	}
	if _, ok := pv[param]; ok {
		pv[param] = v
	} else if param != "" {
		vals[param] = []string{v}
	}
	b := r.browser
	if b == nil {
		b = e.browser
	}
	var hdr []string
	if htmxReq {
		hdr = []string{handlers.HeaderRequest, "true", handlers.HeaderCurrentURL, "http://example.com/?service=compute"}
	}
	target := r.target(pv)
	if r.method == http.MethodGet {
		if len(vals) > 0 {
			target += "?" + vals.Encode()
		}
		return b.Get(target, hdr...)
	}
	return b.Post(target, vals, hdr...)
}

// checkHostileAnswer: never a 5xx; a 4xx says why in words; an HTML answer
// is inert (no script but ours, no event handler attribute, no javascript:
// link, the payload never raw); redirects stay on this site.
func checkHostileAnswer(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	body := rec.Body.String()
	if rec.Code >= 500 {
		t.Fatalf("status %d:\n%.2000s", rec.Code, body)
	}
	for name, vs := range rec.Header() {
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				t.Errorf("header %s carries a control character: %q", name, v)
			}
		}
	}
	for _, name := range []string{"Location", handlers.HeaderRedirect, handlers.HeaderPushURL} {
		if loc := rec.Header().Get(name); loc != "" && loc != "false" &&
			(!strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.Contains(loc, "\\")) {
			t.Errorf("%s %q leaves the site", name, loc)
		}
	}
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		if rec.Code >= 400 && strings.TrimSpace(body) == "" {
			t.Errorf("status %d with an empty body", rec.Code)
		}
		return
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Code >= 400 {
		msg := ""
		doc.Find(`[role="alert"], [data-testid="error-page"], .field-error, [data-testid^="error-"]`).Each(func(_ int, s *goquery.Selection) { msg += strings.TrimSpace(s.Text()) })
		if msg == "" {
			t.Errorf("status %d without a message for people:\n%.2000s", rec.Code, body)
		}
	}
	for _, raw := range []string{"<script>alert(1)", "<img src=x onerror", "<img src=\"x\""} {
		if strings.Contains(body, raw) {
			t.Errorf("the payload %q is in the page unescaped", raw)
		}
	}
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if src, _ := s.Attr("src"); !strings.HasPrefix(src, static.Prefix) {
			t.Errorf("a script not from %s: %s", static.Prefix, goquery.NodeName(s))
		}
	})
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			key := strings.ToLower(a.Key)
			if strings.HasPrefix(key, "on") {
				t.Errorf("<%s> has an event handler %s=%q", goquery.NodeName(s), a.Key, a.Val)
			}
			if strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") &&
				(key == "href" || key == "src" || key == "action" || key == "formaction" || strings.HasPrefix(key, "hx-")) {
				t.Errorf("<%s %s=%q> runs script", goquery.NodeName(s), a.Key, a.Val)
			}
		}
	})
}

// scrapeForm is the values a browser would post from the form sel of doc:
// inputs (checkboxes and radios when checked), textareas and selects.
func scrapeForm(t *testing.T, rec *httptest.ResponseRecorder, sel string) url.Values {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("form page = %d:\n%.2000s", rec.Code, rec.Body.String())
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	form := doc.Find(sel).First()
	if form.Length() == 0 {
		t.Fatalf("no form %s in:\n%.2000s", sel, rec.Body.String())
	}
	v := url.Values{}
	form.Find("input[name], textarea[name], select[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		switch goquery.NodeName(s) {
		case "textarea":
			v.Add(name, s.Text())
		case "select":
			if o := s.Find("option[selected]").First(); o.Length() > 0 {
				val, _ := o.Attr("value")
				v.Add(name, val)
			}
		default:
			typ, _ := s.Attr("type")
			if _, checked := s.Attr("checked"); (typ == "checkbox" || typ == "radio") && !checked {
				return
			}
			if typ == "submit" {
				return
			}
			val, _ := s.Attr("value")
			v.Add(name, val)
		}
	})
	return v
}

// simImages is the emulator's images of every service and folder as text,
// by image id.
func simImages(t *testing.T, e *cloudEnv) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, svc := range []cloud.Service{cloud.Compute, cloud.Desktop, cloud.BareMetal} {
		for _, f := range e.sim.Folders() {
			opt := cloud.ListOptions{}
			for {
				imgs, next, err := e.client.ListImages(ctx, svc, f.Id, opt)
				if err != nil {
					t.Fatal(err)
				}
				for _, img := range imgs {
					b, _ := json.Marshal(img)
					out[img.ID] = string(b)
				}
				if next == "" {
					break
				}
				opt.PageToken = next
			}
		}
	}
	return out
}

// opCount is how many operations the store has recorded.
func opCount(t *testing.T, e *cloudEnv) int {
	t.Helper()
	ops, err := e.store.Operations(context.Background(), store.OperationQuery{Limit: store.MaxOperationLimit})
	if err != nil {
		t.Fatal(err)
	}
	return len(ops)
}

// hostileRoutes is the table's routes over the env's data: every route
// and every query and form parameter of the dashboard (but POST /logout,
// which has none and would sign the admin out).
func hostileRoutes(t *testing.T, e *cloudEnv, guest *webtest.Browser) []hostileRoute {
	t.Helper()
	ctx := context.Background()
	img := e.first(cloud.Compute, func(i cloud.Image) bool { return i.Status == "READY" && len(i.Labels) > 0 })
	dsk := e.first(cloud.Desktop, func(i cloud.Image) bool { return i.Name != "" })
	imgPath := map[string]string{"service": "compute", "id": img.ID}
	// Deletes name an image that is not cached: every variation is
	// refused, and "" (compute, for a service) cannot delete anything.
	nowhere := map[string]string{"service": "compute", "id": "fd8nosuchimage000000"}

	// The operation the operations' routes name is on another image: an
	// image has one open change at a time, and img is edited below.
	opImg := e.first(cloud.Compute, func(i cloud.Image) bool { return i.ID != img.ID })
	op, err := e.store.CreateIntent(ctx, store.Operation{Key: "hostile-op", Batch: "hostile-batch", Action: tracker.ActionUpdate,
		Service: cloud.Compute, FolderID: opImg.FolderID, ImageID: opImg.ID, Request: []byte(`{"action":"image.update"}`), Username: "root"})
	if err != nil {
		t.Fatal(err)
	}
	opID := fmt.Sprint(op.ID)
	victim := webtest.AddUser(t, e.store, "victim", false)
	keeper := webtest.AddUser(t, e.store, "keeper", false)
	uid, kid := fmt.Sprint(victim.ID), fmt.Sprint(keeper.ID)
	tm, err := e.store.CreateTeam(ctx, "hostile-team")
	if err != nil {
		t.Fatal(err)
	}
	tid := fmt.Sprint(tm.ID)

	// The forms as the pages render them; the copies name an image that
	// exists in the target folder, so every variation of them is refused
	// (the emulator creates nothing) while all their fields are read.
	edit := scrapeForm(t, e.browser.Get("/images/compute/"+img.ID+"/edit"), `form[data-testid="edit-form"]`)
	cp := scrapeForm(t, e.browser.Get("/images/compute/"+img.ID+"/copy?folder="+img.FolderID), `form[data-testid="copy-form"]`)
	cp.Set("name", "{name}")
	bulk := scrapeForm(t, e.browser.Get("/images/bulk-copy?service=compute&id="+img.ID+"&folder="+img.FolderID), `form[data-testid="bulk-copy-form"]`)
	bulk.Set("name", "{name}")
	desk := scrapeForm(t, e.browser.Get("/desktop-images/new?folder="+dsk.FolderID+"&desktop_id=e3vnosuchdesktop0000"), `form[data-testid="from-desktop-form"]`)
	desk.Set("name", dsk.Name)
	for name, f := range map[string]struct {
		target string
		form   url.Values
	}{
		"edit": {"/images/compute/" + img.ID + "/edit", edit},
		"copy": {"/images/compute/" + img.ID + "/copy", cp}, "bulk copy": {"/images/bulk-copy", bulk},
		"from desktop": {"/desktop-images/new", desk},
	} {
		if rec := e.browser.Post(f.target, f.form); rec.Code != http.StatusUnprocessableEntity {
			t.Fatalf("baseline %s = %d, want 422:\n%.3000s", name, rec.Code, rec.Body.String())
		}
	}

	user := func(name string) (store.User, bool) {
		u, err := e.store.UserByName(ctx, name)
		return u, err == nil
	}
	teamFolders := func() []string {
		t, err := e.store.Team(ctx, tm.ID)
		if err != nil {
			return nil
		}
		return t.Folders
	}
	auditQ := []string{"user", "action", "target", "outcome", "from", "to", "before"}

	return []hostileRoute{
		// Reading images.
		{method: "GET", path: "/", params: []string{"service", "folder", "q", "status", "family", "os", "label", "sort", "dir", "limit", "after", "before", "start"}},
		{method: "GET", path: "/families", params: []string{"service", "folder"}},
		{method: "GET", path: "/sync", params: []string{"service", "folder", "since"}},
		{method: "GET", path: "/images/:service/:id", pathVals: imgPath, params: []string{"service", "id", "op"}},
		{method: "GET", path: "/images/:service/:id/operations", pathVals: imgPath, params: []string{"service", "id"}},
		{method: "GET", path: "/images/:service/:id/latest", pathVals: imgPath, params: []string{"service", "id"}},
		// Changing images.
		{method: "POST", path: "/sync", base: url.Values{"service": {"compute"}, "return": {"/"}}, params: []string{"service", "folder", "return"}},
		{method: "GET", path: "/images/:service/:id/edit", pathVals: imgPath, params: []string{"service", "id"}},
		{method: "POST", path: "/images/:service/:id/edit", pathVals: imgPath, base: edit,
			params: []string{"service", "id", "name", "description", "min_disk_gib", "label_key", "label_value",
				"orig_name", "orig_description", "orig_min_disk", "orig_labels", "overwrite"}},
		{method: "GET", path: "/images/:service/:id/delete", pathVals: imgPath, params: []string{"service", "id"}},
		{method: "POST", path: "/images/:service/:id/delete", pathVals: nowhere, params: []string{"service", "id"}},
		{method: "GET", path: "/images/bulk-delete", base: url.Values{"service": {"compute"}, "id": {img.ID}}, params: []string{"service", "id"}},
		{method: "POST", path: "/images/bulk-delete", base: url.Values{"service": {"compute"}, "id": {img.ID}, "count": {"0"}},
			params: []string{"service", "id", "count"}},
		{method: "GET", path: "/images/:service/:id/copy", pathVals: imgPath, params: []string{"service", "id", "as", "folder"}},
		{method: "POST", path: "/images/:service/:id/copy", pathVals: imgPath, base: cp,
			params: []string{"service", "id", "as", "folder", "name", "description", "family", "min_disk_gib", "label_key", "label_value", "batch"}},
		{method: "GET", path: "/images/bulk-copy", base: url.Values{"service": {"compute"}, "id": {img.ID}}, params: []string{"service", "id", "folder"}},
		{method: "POST", path: "/images/bulk-copy", base: bulk,
			params: []string{"service", "id", "row", "folder", "name", "label_key", "label_value"}},
		{method: "GET", path: "/desktop-images/new", params: []string{"folder", "desktop_id"}},
		{method: "POST", path: "/desktop-images/new", base: desk,
			params: []string{"folder", "desktop_id", "name", "description", "label_key", "label_value", "batch"}},
		{method: "GET", path: "/copies/:batch", pathVals: map[string]string{"batch": "hostile-batch"}, params: []string{"batch"}},
		// Operations.
		{method: "GET", path: "/operations", params: []string{"user", "action", "service", "folder", "state", "from", "to", "before", "part", "shown"}},
		{method: "GET", path: "/operations/counts", params: []string{"x"}},
		{method: "GET", path: "/operations/:id", pathVals: map[string]string{"id": opID}, params: []string{"id"}},
		{method: "GET", path: "/operations/:id/badge", pathVals: map[string]string{"id": opID}, params: []string{"id"}},
		{method: "POST", path: "/operations/:id/cancel", pathVals: map[string]string{"id": opID}, params: []string{"id"}},
		// Signing in (a browser of its own, signing in as root).
		{method: "GET", path: "/login", params: []string{"next"}},
		{method: "POST", path: "/login", browser: guest,
			base: url.Values{"username": {"root"}, "password": {webtest.Password}, "next": {"/"}}, params: []string{"username", "password", "next"}},
		// Administration: the changes first, then the pages that show them.
		{method: "POST", path: "/admin/users", base: url.Values{"username": {"hostile-new"}, "password": {"long enough password"}},
			params: []string{"username", "password", "admin"},
			changed: func(t *testing.T, param, v string) bool {
				if param == "username" {
					_, ok := user(v)
					return ok
				}
				_, ok := user("hostile-new")
				return ok
			}},
		{method: "POST", path: "/admin/users/:id/disable", pathVals: map[string]string{"id": uid}, params: []string{"id"}},
		{method: "POST", path: "/admin/users/:id/enable", pathVals: map[string]string{"id": uid}, params: []string{"id"}},
		{method: "POST", path: "/admin/users/:id/password", pathVals: map[string]string{"id": uid},
			base: url.Values{"password": {"another long password"}}, params: []string{"id", "password", "end_sessions"},
			changed: func(t *testing.T, param, v string) bool {
				pw := "another long password"
				if param == "password" {
					pw = v
				}
				u, ok := user("victim")
				return ok && auth.CheckPassword(u.PasswordHash, pw) == nil
			}},
		{method: "POST", path: "/admin/users/:id/admin", pathVals: map[string]string{"id": uid}, base: url.Values{"admin": {"false"}}, params: []string{"id", "admin"}},
		{method: "POST", path: "/admin/users/:id/sessions", pathVals: map[string]string{"id": uid}, params: []string{"id"}},
		{method: "GET", path: "/admin/users/:id/delete", pathVals: map[string]string{"id": kid}, params: []string{"id"}},
		// confirm=yes on keeper: only a hostile id or confirm is sent, so
		// nobody is deleted.
		{method: "POST", path: "/admin/users/:id/delete", pathVals: map[string]string{"id": kid}, base: url.Values{"confirm": {"yes"}}, params: []string{"id", "confirm"}},
		{method: "POST", path: "/admin/teams", params: []string{"name"},
			changed: func(t *testing.T, param, v string) bool {
				ts, _ := e.store.Teams(ctx)
				return slices.ContainsFunc(ts, func(tm store.Team) bool { return tm.Name == v })
			}},
		{method: "GET", path: "/admin/teams/:id", pathVals: map[string]string{"id": tid}, params: []string{"id", "ok"}},
		{method: "GET", path: "/admin/teams/:id/delete", pathVals: map[string]string{"id": tid}, params: []string{"id"}},
		{method: "POST", path: "/admin/teams/:id/delete", pathVals: map[string]string{"id": tid}, base: url.Values{"confirm": {"yes"}}, params: []string{"id", "confirm"}},
		{method: "POST", path: "/admin/teams/:id/members", pathVals: map[string]string{"id": tid},
			base: url.Values{"user": {uid}, "role": {"viewer"}}, params: []string{"id", "user", "role"}},
		{method: "POST", path: "/admin/teams/:id/members/:user/remove", pathVals: map[string]string{"id": tid, "user": kid}, params: []string{"id", "user"}},
		{method: "POST", path: "/admin/teams/:id/folders", pathVals: map[string]string{"id": tid},
			base: url.Values{"folder": {"b1gnewfolder00000000"}}, params: []string{"id", "folder"},
			changed: func(t *testing.T, param, v string) bool {
				return param == "folder" && slices.Contains(teamFolders(), strings.TrimSpace(v))
			}},
		{method: "POST", path: "/admin/teams/:id/folders/remove", pathVals: map[string]string{"id": tid},
			base: url.Values{"folder": {"b1gnewfolder00000000"}}, params: []string{"id", "folder"},
			changed: func(t *testing.T, param, v string) bool {
				return param == "folder" && !slices.Contains(teamFolders(), v)
			}},
		{method: "POST", path: "/admin/folders/share", base: url.Values{"folder": {img.FolderID}, "shared": {"true"}}, params: []string{"folder", "shared"},
			changed: func(t *testing.T, param, v string) bool {
				shared, _ := e.store.SharedFolders(ctx)
				return param == "folder" && slices.Contains(shared, v)
			}},
		{method: "GET", path: "/admin/users", params: []string{"ok", "id", "n"}},
		{method: "GET", path: "/admin/teams", params: []string{"ok", "id", "n"}},
		{method: "GET", path: "/admin/folders", params: []string{"ok"}},
		{method: "GET", path: "/admin/audit", params: auditQ},
		{method: "GET", path: "/admin/audit.csv", params: auditQ},
	}
}

// checkEdit checks that an edit the dashboard accepted reached the
// emulator as typed: param (set to v) as the form's other fields say.
func checkEdit(t *testing.T, e *cloudEnv, id string, base url.Values, param, v string) {
	t.Helper()
	img, err := e.client.GetImage(context.Background(), cloud.Compute, id)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{}
	for k, vs := range base {
		form[k] = vs
	}
	form[param] = []string{v}
	if want := strings.TrimSpace(form.Get("name")); img.Name != want {
		t.Errorf("after the edit the image's name is %q, want %q", img.Name, want)
	}
	if want := strings.ReplaceAll(form.Get("description"), "\r\n", "\n"); img.Description != want {
		t.Errorf("after the edit the image's description is %q, want %q", img.Description, want)
	}
}

// TestHostileInput sends every hostile value in every parameter of every
// route, as an admin (so authorization hides nothing), every other request
// as htmx does: no 5xx, a 4xx with a message, inert HTML, and no change but
// the ones valid requests make.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	// Passwords hash cheaply here (env.serve's webtest.Hasher): the table
	// sets a few dozen, and the real cost (64 MiB, ~0.1 s; seconds under
	// -race) would be most of its time.
	e := newCloudEnv(t, 12)
	guest := webtest.NewBrowser(t, e.srv)
	guest.RemoteAddr = "192.0.2.7:4321"
	guest.Get("/login")
	routes := hostileRoutes(t, e, guest)
	simBefore, createdBefore := simImages(t, e), e.sim.Created()
	edited := map[string]bool{}

	n := 0
	codes := map[int]int{}
	for _, r := range routes {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			// The people tables are compared after each request of a
			// route whose valid requests change them, else once after the
			// route; the operations after each edit, else after the route
			// (the store's reads are most of the table's time under -race).
			perCase, isEdit := r.method == http.MethodPost && r.changed != nil, r.path == "/images/:service/:id/edit"
			before, opsBefore := snapshot(t, e.env), opCount(t, e)
			for _, p := range r.params {
				for _, hv := range hostileValues {
					n++
					t.Run(p+"="+hv.name, func(t *testing.T) {
						rec := r.send(e, p, hv.v, n%2 == 0)
						codes[rec.Code]++
						checkHostileAnswer(t, rec)
						if perCase {
							after := snapshot(t, e.env)
							switch {
							case after == before:
							case rec.Code >= 400:
								t.Errorf("refused (%d), but the people tables changed:\n before %s\n after  %s", rec.Code, before, after)
							case !r.changed(t, p, hv.v):
								t.Errorf("%d, and the people tables changed as the request did not ask:\n before %s\n after  %s", rec.Code, before, after)
							}
							before = after
						}
						if isEdit {
							// One operation when an edit succeeds, none else.
							ops := opCount(t, e)
							if rec.Code < 400 && ops == opsBefore+1 {
								edited[r.pathVals["id"]] = true
								checkEdit(t, e, r.pathVals["id"], r.base, p, hv.v)
							} else if ops != opsBefore {
								t.Errorf("%d, and %d operations were started", rec.Code, ops-opsBefore)
							}
							opsBefore = ops
						}
					})
				}
			}
			if after := snapshot(t, e.env); !perCase && after != before {
				t.Errorf("no request of this route may change the people tables, but they changed:\n before %s\n after  %s", before, after)
			}
			// The copies are all refused: only an edit starts an operation.
			if ops := opCount(t, e); !isEdit && ops != opsBefore {
				t.Errorf("%d operations were started", ops-opsBefore)
			}
		})
	}

	// A body over the limit (1 MB) is refused before any handler acts on
	// it, whether its length is declared (413) or it comes in chunks.
	t.Run("body over the limit", func(t *testing.T) {
		before, opsBefore := snapshot(t, e.env), opCount(t, e)
		body := "pad=" + strings.Repeat("x", 1_000_001) + "&" + views.CSRFField + "=" + url.QueryEscape(e.browser.CSRF)
		for _, r := range routes {
			if r.method != http.MethodPost {
				continue
			}
			for _, chunked := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s chunked=%v", r.path, chunked), func(t *testing.T) {
					req := httptest.NewRequest(http.MethodPost, r.target(r.pathVals), strings.NewReader(body))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					if chunked {
						req.ContentLength = -1
					}
					b := r.browser
					if b == nil {
						b = e.browser
					}
					rec := b.Do(req)
					// Chunked, the limit shows only as the body is read:
					// the CSRF check reads the form first, finds no token
					// in a body cut short, and refuses with 403.
					if want := http.StatusRequestEntityTooLarge; rec.Code != want && !(chunked && rec.Code == http.StatusForbidden) {
						t.Errorf("status %d, want %d:\n%.1000s", rec.Code, want, rec.Body.String())
					}
					checkHostileAnswer(t, rec)
				})
			}
		}
		if after := snapshot(t, e.env); after != before {
			t.Errorf("the people tables changed:\n before %s\n after  %s", before, after)
		}
		if ops := opCount(t, e); ops != opsBefore {
			t.Errorf("%d operations were started", ops-opsBefore)
		}
	})

	if got := e.sim.Created(); got != createdBefore {
		t.Errorf("the emulator created %d images", got-createdBefore)
	}
	simAfter := simImages(t, e)
	for id, was := range simBefore {
		if now, ok := simAfter[id]; !ok {
			t.Errorf("image %s was deleted", id)
		} else if now != was && !edited[id] {
			t.Errorf("image %s changed:\n was %s\n now %s", id, was, now)
		}
	}
	if len(simAfter) != len(simBefore) {
		t.Errorf("the emulator has %d images, had %d", len(simAfter), len(simBefore))
	}
	t.Logf("%d requests over %d routes; answers by status: %v", n, len(routes), codes)
}
