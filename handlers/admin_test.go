package handlers_test

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
	"github.com/imagedash/imagedash/web/webtest"
)

// The admin tests' folders: two the cache knows and one it does not.
const (
	adminGolden  = "b1gadmgolden00000001"
	adminAlpha   = "b1gadmalpha000000002"
	adminUnknown = "b1gadmunknown0000003"
)

// adminEnv is the admin handlers on their own Echo, over a real store on
// a temp file, with a test middleware in place of the login one: it puts
// the account as (looked up afresh on every request, as the real one does)
// on the request. It holds an admin, and an editor of team alpha.
type adminEnv struct {
	t      *testing.T
	st     *store.Store
	e      *echo.Echo
	admin  store.User
	editor store.User
	alpha  store.Team
	routes []adminRoute
	as     int64 // the viewer's user id; 0 is anonymous
}

// testHash is a valid argon2id hash made with cheap parameters: the
// fixtures' passwords are never checked through the slow default.
func testHash(t testing.TB, pw string) string {
	h, err := auth.HashPasswordParams(pw, auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func newAdminEnv(t *testing.T) *adminEnv {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "admin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.SaveFolders(ctx, []cloud.Folder{
		{ID: adminGolden, CloudID: "b1gcloud", Name: "golden-images"},
		{ID: adminAlpha, CloudID: "b1gcloud", Name: "team-alpha"},
	}); err != nil {
		t.Fatal(err)
	}
	env := &adminEnv{t: t, st: st}
	if env.admin, err = st.CreateUser(ctx, store.NewUser{Username: "root", PasswordHash: testHash(t, "root password!"), Admin: true}); err != nil {
		t.Fatal(err)
	}
	if env.editor, err = st.CreateUser(ctx, store.NewUser{Username: "eddie", PasswordHash: testHash(t, "eddie password")}); err != nil {
		t.Fatal(err)
	}
	if env.alpha, err = st.CreateTeam(ctx, "alpha"); err != nil {
		t.Fatal(err)
	}
	if err := st.AssignFolder(ctx, env.alpha.ID, adminAlpha); err != nil {
		t.Fatal(err)
	}
	if err := st.AddMember(ctx, env.alpha.ID, env.editor.ID, store.RoleEditor); err != nil {
		t.Fatal(err)
	}
	env.as = env.admin.ID

	h := handlers.New(handlers.Config{Store: st, People: st, Hasher: webtest.Hasher(), Now: func() time.Time { return now }})
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		code, msg := http.StatusInternalServerError, err.Error()
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code, msg = he.Code, fmt.Sprint(he.Message)
		}
		if fe, ok := errors.AsType[*fault.Error](err); ok {
			code, msg = fe.Status(), fe.Say()
		}
		if !c.Response().Committed {
			_ = c.String(code, msg)
		}
	}
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if env.as == 0 {
				return next(c)
			}
			ctx := c.Request().Context()
			u, err := st.User(ctx, env.as)
			if err != nil {
				return err
			}
			ms, err := st.Memberships(ctx, u.ID)
			if err != nil {
				return err
			}
			shared, err := st.SharedFolders(ctx)
			if err != nil {
				return err
			}
			ctx = handlers.WithViewer(ctx, handlers.Viewer{User: u, Policy: auth.NewPolicy(u, ms, shared)})
			ctx = views.WithRequest(ctx, views.Request{Me: views.Me{Name: u.Username, Admin: u.Admin}, CSRF: "test-token"})
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	})
	env.routes = adminRoutes(h)
	for _, r := range env.routes {
		e.Add(r.method, r.path, r.handler)
	}
	env.e = e
	return env
}

// adminRoute is one admin route: as in web.New, with a sample path.
type adminRoute struct {
	method, path, sample string
	handler              echo.HandlerFunc
}

// adminRoutes are web.New's admin block; sample paths name team alpha
// (id 1) and user eddie (id 2).
func adminRoutes(h *handlers.Handlers) []adminRoute {
	return []adminRoute{
		{http.MethodGet, "/admin/users", "/admin/users", h.ListUsers},
		{http.MethodPost, "/admin/users", "/admin/users", h.CreateUser},
		{http.MethodPost, "/admin/users/:id/disable", "/admin/users/2/disable", h.DisableUser},
		{http.MethodPost, "/admin/users/:id/enable", "/admin/users/2/enable", h.EnableUser},
		{http.MethodPost, "/admin/users/:id/password", "/admin/users/2/password", h.ResetPassword},
		{http.MethodPost, "/admin/users/:id/admin", "/admin/users/2/admin", h.SetUserAdmin},
		{http.MethodPost, "/admin/users/:id/sessions", "/admin/users/2/sessions", h.EndUserSessions},
		{http.MethodGet, "/admin/users/:id/delete", "/admin/users/2/delete", h.ConfirmDeleteUser},
		{http.MethodPost, "/admin/users/:id/delete", "/admin/users/2/delete", h.DeleteUser},
		{http.MethodGet, "/admin/teams", "/admin/teams", h.ListTeams},
		{http.MethodPost, "/admin/teams", "/admin/teams", h.CreateTeam},
		{http.MethodGet, "/admin/teams/:id", "/admin/teams/1", h.ShowTeam},
		{http.MethodGet, "/admin/teams/:id/delete", "/admin/teams/1/delete", h.ConfirmDeleteTeam},
		{http.MethodPost, "/admin/teams/:id/delete", "/admin/teams/1/delete", h.DeleteTeam},
		{http.MethodPost, "/admin/teams/:id/members", "/admin/teams/1/members", h.AddTeamMember},
		{http.MethodPost, "/admin/teams/:id/members/:user/remove", "/admin/teams/1/members/2/remove", h.RemoveTeamMember},
		{http.MethodPost, "/admin/teams/:id/folders", "/admin/teams/1/folders", h.AssignTeamFolder},
		{http.MethodPost, "/admin/teams/:id/folders/remove", "/admin/teams/1/folders/remove", h.UnassignTeamFolder},
		{http.MethodGet, "/admin/folders", "/admin/folders", h.ListFolders},
		{http.MethodPost, "/admin/folders/share", "/admin/folders/share", h.ShareFolder},
		{http.MethodGet, "/admin/audit", "/admin/audit", h.ListAudit},
		{http.MethodGet, "/admin/audit.csv", "/admin/audit.csv", h.ExportAudit},
	}
}

// adminResp is an answer, with the HTML parsed.
type adminResp struct {
	code int
	hdr  http.Header
	body string
	doc  *goquery.Document
}

func (r adminResp) text(sel string) string { return strings.TrimSpace(r.doc.Find(sel).Text()) }

func (e *adminEnv) do(method, target string, form url.Values, hdr map[string]string) adminResp {
	e.t.Helper()
	var req *http.Request
	if method == http.MethodPost {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.e.ServeHTTP(rec, req)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		e.t.Fatal(err)
	}
	return adminResp{code: rec.Code, hdr: rec.Header(), body: rec.Body.String(), doc: doc}
}

func (e *adminEnv) get(target string) adminResp { return e.do(http.MethodGet, target, nil, nil) }

func (e *adminEnv) post(target string, form url.Values) adminResp {
	return e.do(http.MethodPost, target, form, nil)
}

// redirected checks r is a 303 to want and follows it.
func (e *adminEnv) redirected(r adminResp, want string) adminResp {
	e.t.Helper()
	if r.code != http.StatusSeeOther || r.hdr.Get("Location") != want {
		e.t.Fatalf("got %d to %q, want 303 to %q; body: %.300s", r.code, r.hdr.Get("Location"), want, r.body)
	}
	return e.get(want)
}

// lastAudit is the newest audit entry (zero when the log is empty).
func (e *adminEnv) lastAudit() store.AuditEntry {
	e.t.Helper()
	es, err := e.st.AuditLog(context.Background(), store.AuditQuery{Limit: 1})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(es) == 0 {
		return store.AuditEntry{}
	}
	return es[0]
}

// wantAudit checks the newest audit entry.
func (e *adminEnv) wantAudit(action, kind, target string, outcome store.Outcome) store.AuditEntry {
	e.t.Helper()
	got := e.lastAudit()
	if got.Action != action || got.TargetKind != kind || got.TargetID != target || got.Outcome != outcome {
		e.t.Errorf("audit = %s %s:%s %s (%q), want %s %s:%s %s", got.Action, got.TargetKind, got.TargetID, got.Outcome,
			got.Detail, action, kind, target, outcome)
	}
	if got.UserID != e.as {
		e.t.Errorf("audit by user %d, want %d", got.UserID, e.as)
	}
	return got
}

func (e *adminEnv) user(name string) store.User {
	e.t.Helper()
	u, err := e.st.UserByName(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func TestAdminUsers(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	ctx := context.Background()
	const pw = "correct horse battery"

	// Create.
	r := e.post("/admin/users", url.Values{"username": {"carol"}, "password": {pw}, "_csrf": {"test-token"}})
	carol := e.user("carol")
	r = e.redirected(r, fmt.Sprintf("/admin/users?id=%d&ok=user_created", carol.ID))
	if got := r.text(`[data-testid="notice"]`); got != "Created the account “carol”." {
		t.Errorf("notice = %q", got)
	}
	if carol.Admin || carol.Disabled || auth.CheckPassword(carol.PasswordHash, pw) != nil {
		t.Errorf("carol = %+v, or the password does not check", carol)
	}
	if a := e.wantAudit("user.create", "user", strconv.FormatInt(carol.ID, 10), store.OutcomeSuccess); strings.Contains(a.Detail, pw) {
		t.Errorf("audit detail has the password: %q", a.Detail)
	}
	row := r.doc.Find(`[data-testid="user-row"][data-user="eddie"]`)
	if got := strings.Join(strings.Fields(row.Find(`[data-testid="user-teams"]`).Text()), " "); got != "alpha editor" {
		t.Errorf("eddie's teams = %q", got)
	}
	if r.doc.Find(`[data-testid="user-row"][data-user="root"] [data-testid="you"]`).Length() != 1 {
		t.Error("the admin's own row is not marked")
	}
	if n := r.doc.Find(`[data-testid="admin-nav"] a[aria-current="page"]`).Text(); n != "Users" {
		t.Errorf("sub-nav current = %q", n)
	}
	// Every form carries the CSRF token.
	r.doc.Find(`form[method="post"]`).Each(func(_ int, f *goquery.Selection) {
		if v, _ := f.Find(`input[name="_csrf"]`).Attr("value"); v != "test-token" {
			t.Errorf("form %s has no CSRF token", f.AttrOr("action", "?"))
		}
	})

	// Two sessions to end.
	for _, id := range []string{"s1", "s2"} {
		if err := e.st.CreateSession(ctx, store.Session{ID: id, UserID: carol.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	base := fmt.Sprintf("/admin/users/%d", carol.ID)
	id := strconv.FormatInt(carol.ID, 10)
	tests := []struct {
		name    string
		path    string
		form    url.Values
		ok      string // the redirect's query
		notice  string
		action  string
		check   func(u store.User) bool
		htmx    bool
		noAudit bool
	}{
		{"end sessions", "/sessions", nil, "id=" + id + "&n=2&ok=user_sessions", "Ended 2 sessions of “carol”.", "user.sessions_end",
			func(store.User) bool { n, _ := e.st.DeleteUserSessions(ctx, carol.ID); return n == 0 }, false, false},
		{"disable", "/disable", nil, "id=" + id + "&ok=user_disabled", "Disabled “carol” and ended their sessions.", "user.disable",
			func(u store.User) bool { return u.Disabled }, false, false},
		{"enable", "/enable", nil, "id=" + id + "&ok=user_enabled", "Enabled “carol”.", "user.enable",
			func(u store.User) bool { return !u.Disabled }, true, false},
		{"make admin", "/admin", url.Values{"admin": {"true"}}, "id=" + id + "&ok=user_admin", "“carol” is now an administrator.", "user.admin",
			func(u store.User) bool { return u.Admin }, false, false},
		{"revoke admin", "/admin", url.Values{"admin": {"false"}}, "id=" + id + "&ok=user_unadmin", "“carol” is no longer an administrator.", "user.admin",
			func(u store.User) bool { return !u.Admin }, false, false},
		{"reset password", "/password", url.Values{"password": {"a brand new passphrase"}, "end_sessions": {"true"}},
			"id=" + id + "&ok=user_password_s", "Set a new password for “carol” and ended 0 sessions.", "user.password",
			func(u store.User) bool { return auth.CheckPassword(u.PasswordHash, "a brand new passphrase") == nil }, false, false},
		{"reset password, sessions kept", "/password", url.Values{"password": {"another passphrase!"}},
			"id=" + id + "&ok=user_password", "Set a new password for “carol”.", "user.password",
			func(u store.User) bool { return auth.CheckPassword(u.PasswordHash, "another passphrase!") == nil }, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr map[string]string
			if tt.htmx {
				hdr = map[string]string{handlers.HeaderRequest: "true", handlers.HeaderBoosted: "true"}
			}
			r := e.do(http.MethodPost, base+tt.path, tt.form, hdr)
			want := "/admin/users?" + tt.ok
			if tt.htmx {
				if r.code != http.StatusOK || r.hdr.Get(handlers.HeaderRedirect) != want {
					t.Fatalf("htmx: %d HX-Redirect %q, want %q", r.code, r.hdr.Get(handlers.HeaderRedirect), want)
				}
				r = e.get(want)
			} else {
				r = e.redirected(r, want)
			}
			if got := r.text(`[data-testid="notice"]`); got != tt.notice {
				t.Errorf("notice = %q, want %q", got, tt.notice)
			}
			if !tt.check(e.user("carol")) {
				t.Errorf("store not changed: %+v", e.user("carol"))
			}
			a := e.wantAudit(tt.action, "user", id, store.OutcomeSuccess)
			if strings.Contains(a.Detail, "passphrase") {
				t.Errorf("audit detail has the password: %q", a.Detail)
			}
		})
	}

	// Delete: first the confirmation, naming the account.
	r = e.redirected(e.post(base+"/delete", nil), base+"/delete")
	if got := r.text(`[data-testid="question"]`); got != "Delete the account “carol”?" {
		t.Errorf("confirmation = %q", got)
	}
	if v, _ := r.doc.Find(`[data-testid="confirm"] form input[name="confirm"]`).Attr("value"); v != "yes" {
		t.Errorf("confirm field = %q", v)
	}
	if _, err := e.st.User(ctx, carol.ID); err != nil {
		t.Fatalf("deleted without confirmation: %v", err)
	}
	r = e.redirected(e.post(base+"/delete", url.Values{"confirm": {"yes"}}), "/admin/users?id="+id+"&ok=user_deleted")
	if got := r.text(`[data-testid="notice"]`); got != "Deleted the account." {
		t.Errorf("notice = %q", got)
	}
	if _, err := e.st.User(ctx, carol.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("carol after delete: %v", err)
	}
	e.wantAudit("user.delete", "user", id, store.OutcomeSuccess)
}

func TestAdminUsersRefusals(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	rootID := strconv.FormatInt(e.admin.ID, 10)
	tests := []struct {
		name     string
		path     string
		form     url.Values
		code     int
		sel      string // where the message shows
		msg      string
		action   string
		target   string
		value    string // the username input's value after
		auditNot bool
	}{
		{"short password", "/admin/users", url.Values{"username": {"dave"}, "password": {"short"}}, 422,
			`[data-testid="error-password"]`, "At least 12 characters", "user.create", "", "dave", false},
		{"long password", "/admin/users", url.Values{"username": {"dave"}, "password": {strings.Repeat("é", 257)}}, 422,
			`[data-testid="error-password"]`, "At most 256 characters.", "user.create", "", "dave", false},
		{"no username", "/admin/users", url.Values{"username": {""}, "password": {"long enough password"}}, 422,
			`[data-testid="error-username"]`, "Enter a name.", "user.create", "", "", false},
		{"spaces", "/admin/users", url.Values{"username": {" dave"}, "password": {"long enough password"}}, 422,
			`[data-testid="error-username"]`, "No spaces at the start or the end.", "user.create", "", " dave", false},
		{"exists", "/admin/users", url.Values{"username": {"EDDIE"}, "password": {"long enough password"}}, 409,
			`[data-testid="error-username"]`, "A user named “EDDIE” exists already.", "user.create", "", "EDDIE", false},
		{"disable the last admin", "/admin/users/" + rootID + "/disable", nil, 409,
			`[data-testid="notice-error"]`, "This is the last enabled administrator", "user.disable", rootID, "", false},
		{"demote the last admin", "/admin/users/" + rootID + "/admin", url.Values{"admin": {"false"}}, 409,
			`[data-testid="notice-error"]`, "This is the last enabled administrator", "user.admin", rootID, "", false},
		{"delete the last admin", "/admin/users/" + rootID + "/delete", url.Values{"confirm": {"yes"}}, 409,
			`[data-testid="notice-error"]`, "This is the last enabled administrator", "user.delete", rootID, "", false},
		{"reset to a short password", "/admin/users/2/password", url.Values{"password": {"tiny"}}, 422,
			`[data-testid="error-password-2"]`, "At least 12 characters", "user.password", "2", "", false},
		{"unknown user", "/admin/users/999/disable", nil, 404, "body", "There is no such account", "user.disable", "999", "", false},
		{"not an id", "/admin/users/x/enable", nil, 404, "body", "There is no user at this address.", "", "", "", true},
		{"bad admin flag", "/admin/users/2/admin", url.Values{"admin": {"maybe"}}, 422, "body", "Say whether", "", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.lastAudit().ID
			users, _ := e.st.Users(context.Background())
			r := e.post(tt.path, tt.form)
			if r.code != tt.code {
				t.Fatalf("code = %d, want %d; body %.300s", r.code, tt.code, r.body)
			}
			if got := r.text(tt.sel); !strings.Contains(got, tt.msg) {
				t.Errorf("message = %q, want %q", got, tt.msg)
			}
			if tt.value != "" {
				if v, _ := r.doc.Find(`input[name="username"]`).Attr("value"); v != tt.value {
					t.Errorf("username kept as %q, want %q", v, tt.value)
				}
			}
			if r.doc.Find(`input[type="password"][value]`).Length() > 0 {
				t.Error("a password was sent back")
			}
			after, _ := e.st.Users(context.Background())
			if !slices.EqualFunc(users, after, func(a, b store.User) bool { return a == b }) {
				t.Errorf("users changed:\n%+v\n%+v", users, after)
			}
			if tt.auditNot {
				return
			}
			a := e.wantAudit(tt.action, "user", tt.target, store.OutcomeFailure)
			if a.ID == before || strings.Contains(a.Detail, "long enough") {
				t.Errorf("audit entry %+v", a)
			}
		})
	}
	// The row whose reset failed has its form open.
	r := e.post("/admin/users/2/password", url.Values{"password": {"tiny"}})
	if _, open := r.doc.Find(`[data-testid="user-row"][data-user="eddie"] details`).Attr("open"); !open {
		t.Error("the failed reset form is closed")
	}
}

func TestAdminTeams(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	ctx := context.Background()

	// Create, then the page of the new team.
	r := e.post("/admin/teams", url.Values{"name": {"beta"}})
	teams, _ := e.st.Teams(ctx)
	var beta store.Team
	for _, tm := range teams {
		if tm.Name == "beta" {
			beta = tm
		}
	}
	if beta.ID == 0 {
		t.Fatalf("beta not created: %d %.200s", r.code, r.body)
	}
	tid := strconv.FormatInt(beta.ID, 10)
	base := "/admin/teams/" + tid
	r = e.redirected(r, base+"?id="+tid+"&ok=team_created")
	if got := r.text(`[data-testid="notice"]`); got != "Created the team “beta”." {
		t.Errorf("notice = %q", got)
	}
	e.wantAudit("team.create", "team", tid, store.OutcomeSuccess)
	var known []string
	r.doc.Find(`[data-testid="known-folders"] option`).Each(func(_ int, s *goquery.Selection) { known = append(known, s.AttrOr("value", "")) })
	if !slices.Equal(known, []string{adminGolden, adminAlpha}) {
		t.Errorf("known folders = %v", known)
	}

	eddie := strconv.FormatInt(e.editor.ID, 10)
	members := func() map[string]store.Role {
		ms, err := e.st.Members(ctx, beta.ID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]store.Role{}
		for _, m := range ms {
			out[m.User.Username] = m.Role
		}
		return out
	}
	folders := func() []string {
		tm, err := e.st.Team(ctx, beta.ID)
		if err != nil {
			t.Fatal(err)
		}
		return tm.Folders
	}
	steps := []struct {
		name   string
		path   string
		form   url.Values
		ok     string
		action string
		check  func() bool
	}{
		{"add member", "/members", url.Values{"user": {eddie}, "role": {"viewer"}}, "id=" + eddie + "&ok=member_added", "team.member_add",
			func() bool { return members()["eddie"] == store.RoleViewer }},
		{"change role", "/members", url.Values{"user": {eddie}, "role": {"copier"}}, "id=" + eddie + "&ok=member_added", "team.member_add",
			func() bool { m := members(); return m["eddie"] == store.RoleCopier && len(m) == 1 }},
		{"assign a cached folder", "/folders", url.Values{"folder": {adminGolden}}, "ok=folder_assigned", "team.folder_assign",
			func() bool { return slices.Equal(folders(), []string{adminGolden}) }},
		{"assign a typed folder", "/folders", url.Values{"folder": {" " + adminUnknown + " "}}, "ok=folder_assigned", "team.folder_assign",
			func() bool { return slices.Equal(folders(), []string{adminGolden, adminUnknown}) }},
		{"unassign", "/folders/remove", url.Values{"folder": {adminGolden}}, "ok=folder_removed", "team.folder_unassign",
			func() bool { return slices.Equal(folders(), []string{adminUnknown}) }},
		{"remove member", "/members/" + eddie + "/remove", nil, "id=" + eddie + "&ok=member_removed", "team.member_remove",
			func() bool { return len(members()) == 0 }},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := e.redirected(e.post(base+s.path, s.form), base+"?"+s.ok)
			if r.text(`[data-testid="notice"]`) == "" {
				t.Error("no confirmation")
			}
			if !s.check() {
				t.Errorf("store not changed: members %v folders %v", members(), folders())
			}
			e.wantAudit(s.action, "team", tid, store.OutcomeSuccess)
		})
	}
	if a := e.lastAudit(); a.Detail != "removed eddie from beta" {
		t.Errorf("detail = %q", a.Detail)
	}
	r = e.get(base)
	if got := r.doc.Find(`[data-testid="team-folder"]`).AttrOr("data-folder", ""); got != adminUnknown {
		t.Errorf("team page folder = %q", got)
	}

	// Refusals: the message next to the field, the input kept.
	bad := []struct {
		name, path string
		form       url.Values
		code       int
		sel, msg   string
		action     string
	}{
		{"duplicate team", "/admin/teams", url.Values{"name": {"ALPHA"}}, 409, `[data-testid="error-name"]`, "A team named “ALPHA” exists already.", "team.create"},
		{"no team name", "/admin/teams", url.Values{"name": {""}}, 422, `[data-testid="error-name"]`, "Enter a name.", "team.create"},
		{"no user", base + "/members", url.Values{"role": {"viewer"}}, 422, `[data-testid="error-user"]`, "Pick a user.", "team.member_add"},
		{"unknown user", base + "/members", url.Values{"user": {"999"}, "role": {"viewer"}}, 422, `[data-testid="error-user"]`, "There is no such user", "team.member_add"},
		{"bad role", base + "/members", url.Values{"user": {eddie}, "role": {"owner"}}, 422, `[data-testid="error-role"]`, "Pick a role", "team.member_add"},
		{"no folder", base + "/folders", url.Values{"folder": {""}}, 422, `[data-testid="error-folder"]`, "Pick a folder or type its id.", "team.folder_assign"},
		{"long folder id", base + "/folders", url.Values{"folder": {strings.Repeat("a", 51)}}, 422, `[data-testid="error-folder"]`, "at most 50 characters", "team.folder_assign"},
		{"unassign a folder it lacks", base + "/folders/remove", url.Values{"folder": {adminAlpha}}, 404, "body", "The team does not own that folder.", "team.folder_unassign"},
		{"remove a non-member", base + "/members/" + eddie + "/remove", nil, 404, "body", "not a member", "team.member_remove"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			r := e.post(b.path, b.form)
			if r.code != b.code || !strings.Contains(r.text(b.sel), b.msg) {
				t.Errorf("got %d %q, want %d %q", r.code, r.text(b.sel), b.code, b.msg)
			}
			if a := e.lastAudit(); a.Action != b.action || a.Outcome != store.OutcomeFailure {
				t.Errorf("audit = %s %s", a.Action, a.Outcome)
			}
			if f := b.form.Get("folder"); f != "" && b.code == 422 {
				if v, _ := r.doc.Find(`[data-testid="folder-form"] input[name="folder"]`).Attr("value"); v != f {
					t.Errorf("folder input = %q, want %q", v, f)
				}
			}
		})
	}

	// The list, then the delete, confirmed.
	r = e.get("/admin/teams")
	if got := r.doc.Find(`[data-testid="team-row"]`).Length(); got != 2 {
		t.Errorf("teams listed = %d", got)
	}
	if got := r.text(`[data-testid="team-row"][data-team="alpha"] [data-testid="team-folders"]`); got != "team-alpha" {
		t.Errorf("alpha's folders = %q", got)
	}
	r = e.redirected(e.post(base+"/delete", nil), base+"/delete")
	if got := r.text(`[data-testid="question"]`); got != "Delete the team “beta”?" {
		t.Errorf("question = %q", got)
	}
	e.redirected(e.post(base+"/delete", url.Values{"confirm": {"yes"}}), "/admin/teams?ok=team_deleted")
	if _, err := e.st.Team(ctx, beta.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("beta after delete: %v", err)
	}
	e.wantAudit("team.delete", "team", tid, store.OutcomeSuccess)
	if r := e.get(base); r.code != http.StatusNotFound {
		t.Errorf("deleted team's page: %d", r.code)
	}
}

func TestAdminFolders(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	ctx := context.Background()
	if err := e.st.SetFolderShared(ctx, adminUnknown, true); err != nil {
		t.Fatal(err)
	}
	r := e.get("/admin/folders")
	var ids []string
	r.doc.Find(`[data-testid="folder-row"]`).Each(func(_ int, s *goquery.Selection) { ids = append(ids, s.AttrOr("data-folder", "")) })
	if want := []string{adminGolden, adminAlpha, adminUnknown}; !slices.Equal(ids, want) {
		t.Errorf("folders = %v, want %v", ids, want)
	}
	if got := r.text(`[data-folder="` + adminAlpha + `"] [data-testid="folder-teams"]`); got != "alpha" {
		t.Errorf("alpha folder's teams = %q", got)
	}
	if got := r.doc.Find(`[data-folder="`+adminUnknown+`"] [data-testid="folder-shared"]`).AttrOr("data-shared", ""); got != "true" {
		t.Errorf("unknown folder shared = %q", got)
	}

	r = e.redirected(e.post("/admin/folders/share", url.Values{"folder": {adminGolden}, "shared": {"true"}}), "/admin/folders?ok=folder_shared")
	if got := r.doc.Find(`[data-folder="`+adminGolden+`"] [data-testid="folder-shared"]`).AttrOr("data-shared", ""); got != "true" {
		t.Errorf("golden shared = %q", got)
	}
	e.wantAudit("folder.share", "folder", adminGolden, store.OutcomeSuccess)
	e.redirected(e.post("/admin/folders/share", url.Values{"folder": {adminUnknown}, "shared": {"false"}}), "/admin/folders?ok=folder_unshared")
	e.wantAudit("folder.unshare", "folder", adminUnknown, store.OutcomeSuccess)
	if got, _ := e.st.SharedFolders(ctx); !slices.Equal(got, []string{adminGolden}) {
		t.Errorf("shared = %v", got)
	}
	if r := e.post("/admin/folders/share", url.Values{"folder": {""}, "shared": {"true"}}); r.code != 422 {
		t.Errorf("empty folder: %d", r.code)
	}
	e.wantAudit("folder.share", "folder", "", store.OutcomeFailure)
}

// TestAdminRefusesOthers: an editor of a team, a disabled admin and an
// anonymous request get 403 on every admin route, the store is unchanged,
// and (for a person) a denied entry is in the audit log.
func TestAdminRefusesOthers(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	ctx := context.Background()
	if e.alpha.ID != 1 || e.editor.ID != 2 {
		t.Fatalf("sample paths assume team 1 and user 2, got %d and %d", e.alpha.ID, e.editor.ID)
	}
	// A disabled admin: its policy allows nothing.
	off, err := e.st.CreateUser(ctx, store.NewUser{Username: "old-admin", PasswordHash: "x", Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetDisabled(ctx, off.ID, true); err != nil {
		t.Fatal(err)
	}
	form := url.Values{
		"username": {"mallory"}, "password": {"mallory's long password"}, "admin": {"true"}, "name": {"evil"},
		"user": {"2"}, "role": {"editor"}, "folder": {adminGolden}, "shared": {"true"}, "confirm": {"yes"},
	}
	type snapshot struct {
		users   []store.User
		teams   []store.Team
		members []store.Member
		shared  []string
	}
	snap := func() snapshot {
		var s snapshot
		s.users, _ = e.st.Users(ctx)
		s.teams, _ = e.st.Teams(ctx)
		s.members, _ = e.st.Members(ctx, e.alpha.ID)
		s.shared, _ = e.st.SharedFolders(ctx)
		return s
	}
	before := fmt.Sprintf("%+v", snap())
	for _, who := range []struct {
		name string
		id   int64
	}{{"editor", e.editor.ID}, {"disabled admin", off.ID}, {"anonymous", 0}} {
		for _, rt := range e.routes {
			t.Run(who.name+" "+rt.method+" "+rt.sample, func(t *testing.T) {
				e.as = who.id
				last := e.lastAudit().ID
				r := e.do(rt.method, rt.sample, form, nil)
				if r.code != http.StatusForbidden || !strings.Contains(r.body, "Only an administrator may") {
					t.Errorf("got %d %.200q, want 403", r.code, r.body)
				}
				if strings.Contains(r.body, "eddie") || strings.Contains(r.body, "alpha") {
					t.Errorf("the refusal shows data: %.300s", r.body)
				}
				if got := fmt.Sprintf("%+v", snap()); got != before {
					t.Errorf("store changed:\n%s\n%s", before, got)
				}
				a := e.lastAudit()
				if a.ID == last || a.Outcome != store.OutcomeDenied || !strings.HasPrefix(a.Action, "admin.") || a.UserID != who.id {
					t.Errorf("audit = %+v, want a denied admin.* entry by %d", a, who.id)
				}
			})
		}
	}
}

// seedAudit appends entries 1..n, one a minute from start, cycling
// through people, actions and outcomes.
func seedAudit(t *testing.T, st *store.Store, start time.Time, n int) []store.AuditEntry {
	t.Helper()
	people := []string{"ann", "bob", ""}
	actions := []string{"user.create", "image.copy", "login"}
	outcomes := []store.Outcome{store.OutcomeSuccess, store.OutcomeFailure, store.OutcomeDenied, store.OutcomeSuccess}
	out := make([]store.AuditEntry, n)
	for i := range out {
		en, err := st.AppendAudit(context.Background(), store.AuditEntry{
			At: start.Add(time.Duration(i) * time.Minute), Username: people[i%3], IP: "192.0.2.1",
			Action: actions[i%3], TargetKind: "image", TargetID: "fd8" + strconv.Itoa(i%5),
			Outcome: outcomes[i%4], Detail: "entry " + strconv.Itoa(i),
		})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = en
	}
	return out
}

// auditIDs are the ids of an audit page's rows, in order.
func auditIDs(r adminResp) []int64 {
	var ids []int64
	r.doc.Find(`[data-testid="audit-row"]`).Each(func(_ int, s *goquery.Selection) {
		id, _ := strconv.ParseInt(s.AttrOr("data-id", ""), 10, 64)
		ids = append(ids, id)
	})
	return ids
}

func TestAdminAuditFilters(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	start := time.Date(2026, 11, 20, 23, 0, 0, 0, time.UTC)
	all := seedAudit(t, e.st, start, 180) // 23:00 on the 20th to 01:59 on the 21st

	pick := func(keep func(store.AuditEntry) bool) []int64 {
		var ids []int64
		for i := len(all) - 1; i >= 0; i-- {
			if keep(all[i]) {
				ids = append(ids, all[i].ID)
			}
		}
		return ids
	}
	tests := []struct {
		name  string
		query string
		keep  func(store.AuditEntry) bool
	}{
		{"person", "user=ANN", func(a store.AuditEntry) bool { return a.Username == "ann" }},
		{"action", "action=login", func(a store.AuditEntry) bool { return a.Action == "login" }},
		{"target", "target=fd83", func(a store.AuditEntry) bool { return a.TargetID == "fd83" }},
		{"outcome", "outcome=denied", func(a store.AuditEntry) bool { return a.Outcome == store.OutcomeDenied }},
		{"from a date", "from=2026-11-21", func(a store.AuditEntry) bool { return !a.At.Before(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)) }},
		{"to a date, inclusive", "to=2026-11-20", func(a store.AuditEntry) bool { return a.At.Before(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)) }},
		{"datetime range", "from=2026-11-21T00:30&to=2026-11-21T00:39", func(a store.AuditEntry) bool {
			return !a.At.Before(time.Date(2026, 11, 21, 0, 30, 0, 0, time.UTC)) && a.At.Before(time.Date(2026, 11, 21, 0, 40, 0, 0, time.UTC))
		}},
		{"combined", "user=bob&outcome=success&action=image.copy", func(a store.AuditEntry) bool {
			return a.Username == "bob" && a.Outcome == store.OutcomeSuccess && a.Action == "image.copy"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := pick(tt.keep)
			var got []int64
			u := "/admin/audit?" + tt.query
			for pages := 0; u != "" && pages < 10; pages++ {
				r := e.get(u)
				if r.code != http.StatusOK {
					t.Fatalf("%s: %d %.200s", u, r.code, r.body)
				}
				ids := auditIDs(r)
				if len(ids) > 50 {
					t.Fatalf("page of %d rows", len(ids))
				}
				got = append(got, ids...)
				u = r.doc.Find(`[data-testid="older"]`).AttrOr("href", "")
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %d entries %v\nwant %d %v", len(got), got, len(want), want)
			}
		})
	}

	// Paging: 50 a page, "Older" carries the filter and the cursor,
	// "Newest" comes back.
	r := e.get("/admin/audit?outcome=success")
	older := r.doc.Find(`[data-testid="older"]`).AttrOr("href", "")
	ids := auditIDs(r)
	if len(ids) != 50 || older != fmt.Sprintf("/admin/audit?before=%d&outcome=success", ids[49]) {
		t.Fatalf("first page: %d rows, older %q", len(ids), older)
	}
	if r.doc.Find(`[data-testid="newest"]`).Length() != 0 {
		t.Error("the first page links to the newest")
	}
	r = e.get(older)
	if got := r.doc.Find(`[data-testid="newest"]`).AttrOr("href", ""); got != "/admin/audit?outcome=success" {
		t.Errorf("newest = %q", got)
	}
	if v, _ := r.doc.Find(`select[name="outcome"] option[selected]`).Attr("value"); v != "success" {
		t.Errorf("outcome select = %q", v)
	}
	if got := r.doc.Find(`[data-testid="csv"]`).AttrOr("href", ""); got != "/admin/audit.csv?outcome=success" {
		t.Errorf("csv link = %q", got)
	}

	// HTMX: the region alone, its URL pushed, Vary set.
	r = e.do(http.MethodGet, "/admin/audit?action=login&user=", nil, map[string]string{handlers.HeaderRequest: "true"})
	if r.code != http.StatusOK || strings.Contains(r.body, "<html") || r.doc.Find("#"+views.AuditID).Length() != 1 {
		t.Errorf("partial: %d %.200s", r.code, r.body)
	}
	if got := r.hdr.Get(handlers.HeaderPushURL); got != "/admin/audit?action=login" {
		t.Errorf("HX-Push-Url = %q", got)
	}
	if !strings.Contains(r.hdr.Get("Vary"), handlers.HeaderRequest) {
		t.Errorf("Vary = %q", r.hdr.Get("Vary"))
	}
	if r := e.get("/admin/audit?action=login"); !strings.Contains(r.body, "<html") || r.doc.Find(`[data-testid="admin-nav"]`).Length() != 1 {
		t.Error("the full page has no layout or sub-nav")
	}

	// Bad filters: 422, the message next to the field, the input kept.
	bad := []struct{ query, field, msg string }{
		{"from=yesterday", "f-from", "A date (2026-11-23)"},
		{"to=2026-13-01", "f-to", "A date"},
		{"from=2026-11-21&to=2026-11-20", "f-to", "Must be after From."},
		{"outcome=maybe", "f-outcome", "Pick success, failure or denied."},
		{"user=" + strings.Repeat("x", 201), "f-user", "At most 200 characters."},
	}
	for _, b := range bad {
		r := e.get("/admin/audit?" + b.query)
		if r.code != http.StatusUnprocessableEntity || !strings.Contains(r.text(`[data-testid="error-`+b.field+`"]`), b.msg) {
			t.Errorf("%s: %d %q", b.query, r.code, r.text(`[data-testid="error-`+b.field+`"]`))
		}
	}
	if r := e.get("/admin/audit?from=yesterday"); r.doc.Find(`input[name="from"]`).AttrOr("value", "") != "yesterday" {
		t.Error("the bad input is not kept")
	}
	if r := e.get("/admin/audit?before=x"); r.code != http.StatusBadRequest {
		t.Errorf("bad cursor: %d", r.code)
	}
}

func TestAdminAuditCSV(t *testing.T) {
	t.Parallel()
	e := newAdminEnv(t)
	ctx := context.Background()
	start := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	// More than one store page, so the export pages through.
	all := seedAudit(t, e.st, start, store.MaxAuditLimit+30)
	tricky, err := e.st.AppendAudit(ctx, store.AuditEntry{
		At: start.Add(-time.Hour), UserID: e.editor.ID, Username: "=HYPERLINK(\"x\")", Action: "login",
		Outcome: store.OutcomeFailure, Detail: "said \"hi\", then\nleft",
	})
	if err != nil {
		t.Fatal(err)
	}

	read := func(query string) (adminResp, [][]string) {
		t.Helper()
		r := e.get("/admin/audit.csv" + query)
		if r.code != http.StatusOK {
			t.Fatalf("%s: %d %.200s", query, r.code, r.body)
		}
		recs, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return r, recs
	}

	r, recs := read("")
	if ct := r.hdr.Get(echo.HeaderContentType); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd := r.hdr.Get(echo.HeaderContentDisposition); !strings.HasPrefix(cd, `attachment; filename="imagedash-audit-`) {
		t.Errorf("Content-Disposition = %q", cd)
	}
	wantHeader := []string{"id", "time", "user_id", "username", "ip", "action", "target_kind", "target_id", "operation_id", "outcome", "detail", "count", "last_time"}
	if !slices.Equal(recs[0], wantHeader) {
		t.Errorf("header = %v", recs[0])
	}
	if got, want := len(recs)-1, len(all)+1; got != want {
		t.Fatalf("rows = %d, want %d", got, want)
	}
	// Newest (highest id) first, all of them: the tricky one was added last.
	if recs[2][0] != strconv.FormatInt(all[len(all)-1].ID, 10) || recs[len(recs)-1][0] != strconv.FormatInt(all[0].ID, 10) {
		t.Errorf("second row id = %s, last %s", recs[2][0], recs[len(recs)-1][0])
	}
	last := recs[1]
	if last[0] != strconv.FormatInt(tricky.ID, 10) || last[9] != "failure" {
		t.Errorf("first row = %v", last)
	}
	if last[10] != "said \"hi\", then\nleft" {
		t.Errorf("detail round trip = %q", last[10])
	}
	if last[3] != "'=HYPERLINK(\"x\")" {
		t.Errorf("formula not defused: %q", last[3])
	}
	if last[1] != "2026-11-20T23:00:00Z" || last[2] != strconv.FormatInt(e.editor.ID, 10) {
		t.Errorf("time, user = %q, %q", last[1], last[2])
	}
	if !strings.Contains(r.body, `"said ""hi"", then`+"\nleft\"") {
		t.Errorf("raw CSV does not quote: %.200q", r.body[strings.Index(r.body, "said")-1:])
	}

	// The same filters as the page.
	_, recs = read("?user=bob&outcome=success&to=2026-11-21T00:59")
	var want []string
	for i := len(all) - 1; i >= 0; i-- {
		a := all[i]
		if a.Username == "bob" && a.Outcome == store.OutcomeSuccess && a.At.Before(start.Add(time.Hour)) {
			want = append(want, strconv.FormatInt(a.ID, 10))
		}
	}
	var got []string
	for _, rec := range recs[1:] {
		got = append(got, rec[0])
	}
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("filtered ids = %v, want %v", got, want)
	}
	e.wantAudit("audit.export", "audit", "", store.OutcomeSuccess)

	if r := e.get("/admin/audit.csv?from=nope"); r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "from:") {
		t.Errorf("bad filter: %d %q", r.code, r.body)
	}
}
