package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
	"github.com/imagedash/imagedash/web/webtest"
)

// headers are the titles of the image table's columns (without the
// selection column), and cells the number of cells of its first row.
func (r response) headers() []string {
	var out []string
	r.doc.Find(`[data-testid="images"] thead th`).Each(func(i int, s *goquery.Selection) {
		if i == 0 {
			return // the selection box
		}
		t := strings.Fields(s.Text())
		out = append(out, strings.Trim(strings.Join(t, " "), " ▲▼"))
	})
	return out
}

// titles are the titles of a service's columns, hidden ones left out.
func titles(svc cloud.Service, hidden ...string) []string {
	var out []string
	for _, c := range views.ShownColumns(views.ColumnsOf(svc), hidden) {
		out = append(out, c.Title)
	}
	return out
}

func (r response) cells() int {
	return r.doc.Find(`[data-testid="image-row"]`).First().Find("td").Length() - 1
}

// prefsOf is the stored preferences of a person.
func (e *env) prefsOf(id int64) store.Prefs {
	e.t.Helper()
	p, err := e.store.Prefs(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) userID(name string) int64 {
	e.t.Helper()
	u, err := e.store.UserByName(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

// TestPrefsApply: the menu's columns, density and times are saved for the
// person, and the table they reload shows exactly the columns chosen, in
// the table's order, compact, with dates and the relative time on hover.
func TestPrefsApply(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 30, desktop: 10})
	list := "/?status=READY&sort=name"
	before := e.ok(list)
	if got, want := before.headers(), titles(cloud.Compute); !slices.Equal(got, want) {
		t.Fatalf("default columns %q, want %q", got, want)
	}
	if before.attr(`[data-testid="images"]`, "data-density") != views.DensityComfortable {
		t.Fatalf("default density %q", before.attr(`[data-testid="images"]`, "data-density"))
	}
	// The menu is on the list, and leads back to it.
	if got := before.attr(`[data-testid="prefs-form"] input[name="return"]`, "value"); !strings.Contains(got, "status=READY") || !strings.Contains(got, "sort=name") {
		t.Fatalf("menu's return = %q, want the list's address", got)
	}

	r := e.do(http.MethodPost, views.PrefsURL, url.Values{
		"return":  {"/?status=READY&sort=name"},
		"col":     {"family", "size", "created_at"},
		"density": {"compact"},
		"times":   {"absolute"},
	}, htmx)
	if r.code != http.StatusOK {
		t.Fatalf("POST %s = %d:\n%s", views.PrefsURL, r.code, r.body)
	}
	if got := r.hdr.Get(handlers.HeaderTriggerResponse); got != views.PrefsEvent {
		t.Errorf("HX-Trigger = %q, want %q (the table reloads on it)", got, views.PrefsEvent)
	}
	if r.doc.Find(`[data-testid="prefs-form"]`).Length() != 1 {
		t.Errorf("the answer is not the form:\n%s", r.body)
	}

	after := e.get(list, htmx)
	if got, want := after.headers(), []string{"Name", "Family", "Status", "Size", "Created"}; !slices.Equal(got, want) {
		t.Fatalf("columns after choosing %q, want %q", got, want)
	}
	if got := after.cells(); got != 5 {
		t.Errorf("a row has %d cells, want 5", got)
	}
	if !slices.Equal(after.rowIDs(), before.rowIDs()) {
		t.Errorf("the rows changed with the columns: %v, want %v", after.rowIDs(), before.rowIDs())
	}
	tbl := after.doc.Find(`[data-testid="images"]`)
	if c, _ := tbl.Attr("class"); !strings.Contains(c, "compact") {
		t.Errorf("table class %q, want compact", c)
	}
	tm := after.doc.Find(`[data-testid="image-row"] time`).First()
	title, _ := tm.Attr("title")
	if !strings.Contains(tm.Text(), "UTC") || !strings.Contains(title, "ago") {
		t.Errorf("time shows %q (hover %q), want the date shown and the relative time on hover", tm.Text(), title)
	}
	// The menu shows what is saved.
	for key, want := range map[string]bool{"name": true, "status": true, "family": true, "id": false, "labels": false, "os": false} {
		_, checked := after.doc.Find(`[data-testid="col-` + key + `"]`).Attr("checked")
		if checked != want {
			t.Errorf("menu box %s checked = %v, want %v", key, checked, want)
		}
	}
	if _, ok := after.doc.Find(`[data-testid="density-compact"]`).Attr("checked"); !ok {
		t.Error("menu does not show compact as chosen")
	}

	// A choice is by column, on every list that has it: the Desktop menu
	// shows id, min disk and labels again everywhere, hides its storage
	// size, and leaves the columns it does not offer (Compute's OS) as
	// they were.
	r = e.do(http.MethodPost, views.PrefsURL, url.Values{
		"return":  {"/?service=desktop"},
		"col":     {"id", "min_disk_size", "labels", "created_at"},
		"density": {"compact"},
		"times":   {"absolute"},
	}, htmx)
	if r.code != http.StatusOK {
		t.Fatalf("POST desktop prefs = %d:\n%s", r.code, r.body)
	}
	if got, want := e.get("/?service=desktop", htmx).headers(), []string{"Name", "ID", "Status", "Min disk", "Labels", "Created"}; !slices.Equal(got, want) {
		t.Errorf("desktop columns %q, want %q", got, want)
	}
	hidden := e.prefsOf(e.userID("root")).Hidden
	for k, want := range map[string]bool{"os": true, "storage_size": true, "id": false, "labels": false, "min_disk_size": false, "family": false} {
		if slices.Contains(hidden, k) != want {
			t.Errorf("hidden after the desktop choice %q: %s hidden = %v, want %v", hidden, k, !want, want)
		}
	}
	if got, want := e.get(list, htmx).headers(), titles(cloud.Compute, hidden...); !slices.Equal(got, want) || slices.Contains(got, "OS") || !slices.Contains(got, "ID") {
		t.Errorf("compute columns after a desktop choice %q, want %q (OS still hidden, ID shown again)", got, want)
	}

	// Every box ticked again: every column is back.
	var all []string
	for _, c := range views.ColumnsOf(cloud.Compute) {
		all = append(all, c.Key)
	}
	r = e.do(http.MethodPost, views.PrefsURL, url.Values{"return": {list}, "col": all}, htmx)
	if r.code != http.StatusOK {
		t.Fatalf("POST = %d", r.code)
	}
	if got, want := e.get(list, htmx).headers(), titles(cloud.Compute); !slices.Equal(got, want) {
		t.Errorf("columns after ticking all %q, want %q", got, want)
	}
}

// TestPrefsPlainPost: without JavaScript the form leads back to the list
// it was on, filters and all; a return address off the list cannot make
// it a redirect elsewhere.
func TestPrefsPlainPost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 10})
	tests := []struct {
		give, want string
	}{
		{"/?status=READY&sort=name", "/?service=compute&status=READY&sort=name"},
		{"//evil.example/?status=READY", "/?service=compute"},
		{"https://evil.example/", "/?service=compute"},
		{"/admin/users", "/?service=compute"},
		{"/?service=nope", "/?service=compute"},
		{"", "/?service=compute"},
	}
	for _, tt := range tests {
		r := e.do(http.MethodPost, views.PrefsURL, url.Values{"return": {tt.give}, "col": {"id"}}, nil)
		if r.code != http.StatusSeeOther {
			t.Errorf("return %q: POST = %d, want 303", tt.give, r.code)
			continue
		}
		loc := r.hdr.Get("Location")
		if !strings.HasPrefix(loc, "/?") || strings.HasPrefix(loc, "//") {
			t.Errorf("return %q: Location %q leaves the list", tt.give, loc)
		}
		u, _ := url.Parse(loc)
		w, _ := url.Parse(tt.want)
		if u.Query().Get("status") != w.Query().Get("status") {
			t.Errorf("return %q: Location %q, want the filters of %q", tt.give, loc, tt.want)
		}
	}
}

// TestPrefsBadValues: an unknown column, density or time format is 400
// with its message next to its field, and nothing is saved.
func TestPrefsBadValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 10})
	root := e.userID("root")
	saved := store.Prefs{Density: store.DensityCompact, Hidden: []string{"labels"}}
	if err := e.store.SavePrefs(context.Background(), root, saved); err != nil {
		t.Fatal(err)
	}
	many := make([]string, 65)
	for i := range many {
		many[i] = "id"
	}
	tests := []struct {
		name  string
		give  url.Values
		field string // the data-testid of the message
		says  string
	}{
		{"unknown column", url.Values{"col": {"id", "password_hash"}}, "error-prefs-col", "password_hash"},
		{"column with markup", url.Values{"col": {"<script>x</script>"}}, "error-prefs-col", "There is no column"},
		{"too many columns", url.Values{"col": many}, "error-prefs-col", "Too many"},
		{"unknown density", url.Values{"col": {"id"}, "density": {"cosy"}}, "error-prefs-density", "Comfortable or Compact"},
		{"density in capitals", url.Values{"density": {"COMPACT"}}, "error-prefs-density", "Comfortable or Compact"},
		{"unknown times", url.Values{"times": {"yesterday"}}, "error-prefs-times", "relative"},
	}
	for _, tt := range tests {
		for _, hx := range []map[string]string{htmx, nil} {
			t.Run(tt.name+map[bool]string{true: " htmx", false: " plain"}[hx != nil], func(t *testing.T) {
				tt.give.Set("return", "/?status=READY")
				r := e.do(http.MethodPost, views.PrefsURL, tt.give, hx)
				if r.code != http.StatusBadRequest {
					t.Fatalf("POST = %d, want 400:\n%s", r.code, r.body)
				}
				if got := r.text(`[data-testid="` + tt.field + `"]`); !strings.Contains(got, tt.says) {
					t.Errorf("message %q by the field, want it to say %q:\n%s", got, tt.says, r.body)
				}
				if strings.Contains(r.body, "<script>x") {
					t.Error("the posted key is echoed unescaped")
				}
				if r.hdr.Get(handlers.HeaderTriggerResponse) != "" {
					t.Error("a refused post raised the reload event")
				}
				if got := e.prefsOf(root); !got.Compact() || !slices.Equal(got.Hidden, []string{"labels"}) || got.AbsoluteTimes {
					t.Errorf("prefs after a refused post = %+v, want %+v", got, saved)
				}
			})
		}
	}
}

// TestPrefsOwnOnly: a person writes only their own preferences, whatever
// the form names; another person's list keeps its own columns.
func TestPrefsOwnOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 10})
	carol := webtest.AddUser(t, e.store, "carol", true)
	theirs := store.Prefs{Density: store.DensityComfortable, Hidden: []string{"os"}}
	if err := e.store.SavePrefs(context.Background(), carol.ID, theirs); err != nil {
		t.Fatal(err)
	}
	cid := strconv.FormatInt(carol.ID, 10)
	for _, target := range []string{views.PrefsURL, views.PrefsURL + "?user=" + cid, views.PrefsURL + "?user_id=" + cid} {
		r := e.do(http.MethodPost, target, url.Values{
			"return": {"/"}, "col": {"id"}, "density": {"compact"}, "times": {"absolute"},
			"user": {cid}, "user_id": {cid}, "username": {"carol"},
		}, htmx)
		if r.code != http.StatusOK {
			t.Fatalf("POST %s = %d", target, r.code)
		}
	}
	if got := e.prefsOf(carol.ID); got.Compact() || got.AbsoluteTimes || !slices.Equal(got.Hidden, []string{"os"}) {
		t.Fatalf("carol's prefs = %+v after root's posts naming her, want %+v", got, theirs)
	}
	if got := e.prefsOf(e.userID("root")); !got.Compact() {
		t.Fatalf("root's prefs = %+v, want compact", got)
	}
	b := webtest.NewBrowser(t, e.srv)
	b.Login("carol", webtest.Password)
	rec := b.Get("/", handlers.HeaderRequest, "true")
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	r := response{code: rec.Code, body: rec.Body.String(), doc: doc}
	if got, want := r.headers(), titles(cloud.Compute, "os"); !slices.Equal(got, want) {
		t.Errorf("carol's columns %q, want her own (all but OS)", got)
	}
	if c := r.attr(`[data-testid="images"]`, "data-density"); c != views.DensityComfortable {
		t.Errorf("carol's density %q, want comfortable", c)
	}
}

// TestPrefsRefused: a request signed out, or without the CSRF token, or
// from another site, saves nothing.
func TestPrefsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 10})
	form := url.Values{"return": {"/"}, "density": {"compact"}}

	anon := webtest.NewBrowser(t, e.srv)
	anon.Get("/login") // the CSRF token of the sign-in page
	if rec := anon.Post(views.PrefsURL, form); rec.Code != http.StatusUnauthorized {
		t.Errorf("signed out: POST = %d, want 401", rec.Code)
	}
	if rec := anon.Post(views.PrefsURL, form, handlers.HeaderRequest, "true"); rec.Header().Get(handlers.HeaderRedirect) == "" ||
		!strings.HasPrefix(rec.Header().Get(handlers.HeaderRedirect), "/login") {
		t.Errorf("signed out, htmx: POST = %d HX-Redirect %q, want the sign-in page", rec.Code, rec.Header().Get(handlers.HeaderRedirect))
	}
	if rec := e.browser.PostRaw(views.PrefsURL, form); rec.Code != http.StatusForbidden {
		t.Errorf("no CSRF token: POST = %d, want 403", rec.Code)
	}
	if rec := e.browser.Post(views.PrefsURL, form, "Sec-Fetch-Site", "cross-site"); rec.Code != http.StatusForbidden {
		t.Errorf("cross-site: POST = %d, want 403", rec.Code)
	}
	if got := e.prefsOf(e.userID("root")); got.Compact() {
		t.Fatalf("a refused post saved %+v", got)
	}
}
