package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/web/webtest"
)

// betaFolder is team B's folder: no images, so B's lists hold only the
// shared golden folder's.
const betaFolder = "b1gbeta0000000000000c"

// people are the accounts of the role matrix: team A (viewer, copier,
// editor) owns the team folder; team B's editor owns betaFolder; golden is
// shared; root (made by env.serve) is the admin.
var people = []struct {
	name string
	team string
	role store.Role
}{
	{"viewer-a", "A", store.RoleViewer},
	{"copier-a", "A", store.RoleCopier},
	{"editor-a", "A", store.RoleEditor},
	{"editor-b", "B", store.RoleEditor},
}

// matrixEnv is env with the matrix's accounts and a signed-in browser for
// each (plus "anonymous", who never signs in).
func matrixEnv(t *testing.T) (*env, map[string]*webtest.Browser) {
	t.Helper()
	e := newEnv(t, envOptions{compute: 60, desktop: 10, baremetal: 10})
	ctx := context.Background()
	teams := map[string]store.Team{}
	for name, folder := range map[string]string{"A": team, "B": betaFolder} {
		tm, err := e.store.CreateTeam(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.AssignFolder(ctx, tm.ID, folder); err != nil {
			t.Fatal(err)
		}
		teams[name] = tm
	}
	if err := e.store.SetFolderShared(ctx, golden, true); err != nil {
		t.Fatal(err)
	}
	browsers := map[string]*webtest.Browser{"admin": e.browser, "anonymous": webtest.NewBrowser(t, e.srv)}
	for _, p := range people {
		u := webtest.AddUser(t, e.store, p.name, false)
		if err := e.store.AddMember(ctx, teams[p.team].ID, u.ID, p.role); err != nil {
			t.Fatal(err)
		}
		b := webtest.NewBrowser(t, e.srv)
		b.Login(p.name, webtest.Password)
		browsers[p.name] = b
	}
	// The anonymous browser has a CSRF token too (from the sign-in page),
	// so its refusals are for being signed out, not for the token.
	browsers["anonymous"].Get("/login")
	return e, browsers
}

// Outcomes of a request in the matrix.
const (
	ok     = "ok"     // 2xx or a redirect that is not to the sign-in page
	denied = "denied" // 403
	login  = "login"  // sent to sign in: a redirect to /login, or 401
)

// outcome classifies an answer.
func outcome(code int, hdr http.Header) string {
	loc := hdr.Get("Location") + hdr.Get(handlers.HeaderRedirect)
	switch {
	case code == http.StatusUnauthorized, strings.HasPrefix(loc, "/login") && code != http.StatusOK || strings.HasPrefix(hdr.Get(handlers.HeaderRedirect), "/login"):
		return login
	case code == http.StatusForbidden:
		return denied
	case code >= 200 && code < 400:
		return ok
	}
	return fmt.Sprint(code)
}

// TestRoleMatrix sends every route and partial as every role through the
// real router (sessions, CSRF and all) and checks who gets through: the
// allowed succeed, the rest get 403 or are sent to sign in, and a refused
// change changes nothing.
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	e, browsers := matrixEnv(t)
	ctx := context.Background()

	teamImg, goldenImg := "", ""
	for _, img := range e.images[cloud.Compute] {
		switch {
		case img.FolderID == team && teamImg == "":
			teamImg = img.ID
		case img.FolderID == golden && goldenImg == "":
			goldenImg = img.ID
		}
	}
	roles := []string{"anonymous", "viewer-a", "copier-a", "editor-a", "editor-b", "admin"}
	// allow lists who succeeds; everyone else signed in gets 403, and
	// anonymous is sent to sign in.
	all := []string{"viewer-a", "copier-a", "editor-a", "editor-b", "admin"}
	teamA := []string{"viewer-a", "copier-a", "editor-a", "admin"}
	admin := []string{"admin"}

	// The admin's changes act on an account outside the matrix, so the
	// matrix's own sessions live on.
	victim := webtest.AddUser(t, e.store, "victim", false)
	teamsList, err := e.store.Teams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	teamID := fmt.Sprint(teamsList[0].ID)
	uid := fmt.Sprint(victim.ID)
	// An operation of editor-a in team A's folder, for the operation routes.
	op, err := e.store.CreateIntent(ctx, store.Operation{Key: "matrix-op", Action: "image.update", Service: cloud.Compute,
		FolderID: team, ImageID: teamImg, Request: []byte(`{"action":"image.update"}`), UserID: 0, Username: "editor-a"})
	if err != nil {
		t.Fatal(err)
	}
	opID := fmt.Sprint(op.ID)
	editors := []string{"editor-a", "admin"}
	copiersA := []string{"copier-a", "editor-a", "admin"}

	tests := []struct {
		method, target string
		form           url.Values
		htmx           bool
		allow          []string
		// passes: the allowed get past authorization, whatever the
		// handler then says (this env has no cloud: changes answer 503,
		// a form without changes 422).
		passes bool
	}{
		{"GET", "/", nil, false, all, false},
		{"GET", "/?service=desktop", nil, true, all, false},
		{"GET", "/?folder=" + team, nil, false, teamA, false},
		{"GET", "/?folder=" + team + "&status=READY", nil, true, teamA, false},
		{"GET", "/?folder=" + golden, nil, false, all, false},
		{"GET", "/images/compute/" + goldenImg, nil, false, all, false},
		{"GET", "/images/compute/" + teamImg, nil, false, teamA, false},
		{"GET", "/images/compute/" + teamImg + "/operations", nil, true, teamA, false},
		{"GET", "/images/compute/" + teamImg + "/latest", nil, true, teamA, false},
		{"GET", "/families", nil, false, all, false},
		{"GET", "/families?folder=" + team, nil, true, teamA, false},
		{"GET", "/sync?service=compute", nil, true, all, false},
		{"GET", "/sync?service=compute&folder=" + team, nil, true, teamA, false},
		{"GET", "/admin/users", nil, false, admin, false},
		{"GET", "/admin/users/" + uid + "/delete", nil, false, admin, false},
		{"GET", "/admin/teams", nil, false, admin, false},
		{"GET", "/admin/teams/" + teamID, nil, false, admin, false},
		{"GET", "/admin/teams/" + teamID + "/delete", nil, false, admin, false},
		{"GET", "/admin/folders", nil, false, admin, false},
		{"GET", "/admin/audit", nil, true, admin, false},
		{"GET", "/admin/audit.csv", nil, false, admin, false},
		// Changes: refused ones must change nothing (checked below).
		{"POST", "/admin/users", url.Values{"username": {"mallory"}, "password": {"long enough password"}}, false, admin, false},
		{"POST", "/admin/users/" + uid + "/disable", url.Values{}, false, admin, false},
		{"POST", "/admin/users/" + uid + "/enable", url.Values{}, false, admin, false},
		{"POST", "/admin/users/" + uid + "/password", url.Values{"password": {"another long password"}}, false, admin, false},
		{"POST", "/admin/users/" + uid + "/admin", url.Values{"admin": {"false"}}, false, admin, false},
		{"POST", "/admin/users/" + uid + "/sessions", url.Values{}, false, admin, false},
		{"POST", "/admin/teams", url.Values{"name": {"C"}}, false, admin, false},
		{"POST", "/admin/teams/" + teamID + "/members", url.Values{"user": {uid}, "role": {"editor"}}, false, admin, false},
		{"POST", "/admin/teams/" + teamID + "/folders", url.Values{"folder": {"b1gnew00000000000000d"}}, false, admin, false},
		{"POST", "/admin/teams/" + teamID + "/folders/remove", url.Values{"folder": {"b1gnew00000000000000d"}}, false, admin, false},
		{"POST", "/admin/folders/share", url.Values{"folder": {team}, "shared": {"true"}}, false, admin, false},
		{"POST", "/admin/folders/share", url.Values{"folder": {team}, "shared": {"false"}}, false, admin, false},
		{"POST", "/sync", url.Values{"service": {"compute"}, "folder": {betaFolder}}, true, []string{"editor-b", "admin"}, false},
		// Changing images: edit and delete need the editor role on the folder.
		{"GET", "/images/compute/" + teamImg + "/edit", nil, false, editors, true},
		{"POST", "/images/compute/" + teamImg + "/edit", url.Values{"description": {"matrix"}}, false, editors, true},
		{"GET", "/images/compute/" + teamImg + "/delete", nil, false, editors, true},
		{"POST", "/images/compute/" + teamImg + "/delete", url.Values{}, false, editors, true},
		{"GET", "/images/compute/" + goldenImg + "/edit", nil, false, admin, true},
		{"GET", "/images/bulk-delete?service=compute&id=" + teamImg, nil, false, editors, true},
		{"POST", "/images/bulk-delete", url.Values{"service": {"compute"}, "id": {teamImg}, "count": {"1"}}, false, editors, true},
		// Copying: any visible image, into a folder of the copier's team.
		// (editor-b's folder is not in the cache: nowhere to copy into.)
		{"GET", "/images/compute/" + goldenImg + "/copy", nil, false, copiersA, true},
		{"POST", "/images/compute/" + goldenImg + "/copy", url.Values{"folder": {team}, "name_template": {"{name}-m"}}, false, copiersA, true},
		{"POST", "/images/compute/" + teamImg + "/copy", url.Values{"folder": {betaFolder}, "name_template": {"{name}-m"}}, false, admin, true},
		{"POST", "/images/bulk-copy", url.Values{"service": {"compute"}, "id": {goldenImg}, "folder": {team}, "name_template": {"{name}-b"}}, false, copiersA, true},
		{"POST", "/desktop-images/new", url.Values{"folder": {team}, "desktop_id": {"e3vdesktop"}, "name": {"from-desk"}}, false, copiersA, true},
		// Operations: seen by those who see their folder; cancelled by its
		// owner, an editor of the folder or an admin.
		{"GET", "/operations", nil, false, all, false},
		{"GET", "/operations/counts", nil, true, all, false},
		{"GET", "/operations/" + opID, nil, false, teamA, false},
		{"GET", "/operations/" + opID + "/badge", nil, true, teamA, false},
		{"POST", "/operations/" + opID + "/cancel", url.Values{}, true, editors, true},
	}
	for _, tt := range tests {
		name := tt.method + " " + tt.target
		if tt.htmx {
			name += " (htmx)"
		}
		t.Run(name, func(t *testing.T) {
			for _, role := range roles {
				b := browsers[role]
				before := snapshot(t, e)
				var hdr []string
				if tt.htmx {
					hdr = []string{handlers.HeaderRequest, "true", handlers.HeaderCurrentURL, "http://example.com/?service=compute"}
				}
				var code int
				var h http.Header
				if tt.method == "GET" {
					rec := b.Get(tt.target, hdr...)
					code, h = rec.Code, rec.Header()
				} else {
					rec := b.Post(tt.target, tt.form, hdr...)
					code, h = rec.Code, rec.Header()
				}
				want := denied
				switch {
				case role == "anonymous":
					want = login
				case contains(tt.allow, role):
					want = ok
				}
				got := outcome(code, h)
				if tt.passes && want == ok && got != denied && got != login {
					got = ok
				}
				if want == denied && got != denied && got != login && got != ok {
					// What a person may not see is answered as what does
					// not exist: the same request about made-up ids must
					// get the same answer (TestHiddenAnswersAsMissing
					// compares them byte for byte).
					hidden := []string{betaFolder} // what team A may not see
					if role == "editor-b" {
						hidden = []string{teamImg, team, opID}
					}
					if twin := missingTwin(b, tt.method, tt.target, tt.form, hdr, hidden...); twin == code {
						got = denied
					}
				}
				if tt.target == "/sync" && got == "429" && role == "admin" {
					// Refresh is rate-limited for everyone: editor-b, the
					// first allowed, got 202 after the refusals, which
					// proves they started no sync; admin comes too soon.
					got = ok
				}
				if got != want {
					t.Errorf("%s: %s (%d), want %s", role, got, code, want)
				}
				if got != ok && tt.method == "POST" {
					if after := snapshot(t, e); after != before {
						t.Errorf("%s: a refused change changed the store:\n before %s\n after  %s", role, before, after)
					}
				}
			}
		})
	}
}

// missingTwin sends the request again with each of ids (a path segment or a
// whole form or query value) replaced by a made-up one, and returns the
// answer's status.
func missingTwin(b *webtest.Browser, method, target string, form url.Values, hdr []string, ids ...string) int {
	madeUp := map[string]string{}
	for _, id := range ids {
		madeUp[id] = "b1gnosuch" + strings.Repeat("0", max(len(id)-9, 1))
		if strings.Trim(id, "0123456789") == "" {
			madeUp[id] = "987654"
		}
	}
	swap := func(s string, seps string) string {
		parts := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) })
		for _, p := range parts {
			if m, ok := madeUp[p]; ok {
				s = strings.Replace(s, p, m, 1)
			}
		}
		return s
	}
	target = swap(target, "/?&=")
	if method == "GET" {
		return b.Get(target, hdr...).Code
	}
	f := url.Values{}
	for k, vs := range form {
		for _, v := range vs {
			if m, ok := madeUp[v]; ok {
				v = m
			}
			f.Add(k, v)
		}
	}
	return b.Post(target, f, hdr...).Code
}

func TestRefusalsAreAudited(t *testing.T) {
	t.Parallel()
	e, browsers := matrixEnv(t)
	b := browsers["editor-b"]
	// Another team's folder is answered as one that does not exist, and
	// not named.
	if rec := b.Get("/?folder=" + team); rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), team) {
		t.Fatalf("GET another team's folder = %d:\n%s", rec.Code, rec.Body.String())
	}
	if rec := b.Post("/admin/teams", url.Values{"name": {"sneaky"}}); rec.Code != http.StatusForbidden {
		t.Fatalf("POST /admin/teams = %d", rec.Code)
	}
	got, err := e.store.AuditLog(context.Background(), store.AuditQuery{User: "editor-b", Outcome: store.OutcomeDenied})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].Action != "image.list" || got[1].TargetID != team || got[0].TargetKind != "team" || got[0].IP == "" {
		t.Errorf("denied entries of editor-b = %+v", got)
	}
}

// snapshot is the people side of the store as text: accounts, teams,
// members and their folders, shared folders.
func snapshot(t *testing.T, e *env) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	users, err := e.store.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		fmt.Fprintf(&b, "u:%s/%v/%v/%s ", u.Username, u.Admin, u.Disabled, u.PasswordHash)
	}
	teams, err := e.store.Teams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range teams {
		ms, err := e.store.Members(ctx, tm.ID)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "t:%s%v[", tm.Name, tm.Folders)
		for _, m := range ms {
			fmt.Fprintf(&b, "%s=%s,", m.User.Username, m.Role)
		}
		b.WriteString("] ")
	}
	shared, err := e.store.SharedFolders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "shared:%v", shared)
	return b.String()
}

// TestAuditFloodCounted: a signed-in person sending the same refused
// request by the hundred (another team's folder as a filter, made-up folder
// ids, their own sessions ended again and again) adds at most a score of
// rows an hour per action and outcome; the rest are counted on the last,
// so the counts still add up.
func TestAuditFloodCounted(t *testing.T) {
	t.Parallel()
	e, browsers := matrixEnv(t)
	b := browsers["editor-b"]
	const n = 150
	for i := range n {
		target := "/?folder=" + team
		if i%2 == 1 {
			target = fmt.Sprintf("/?folder=b1gmadeup%07d", i)
		}
		if rec := b.Get(target); rec.Code != http.StatusNotFound {
			t.Fatalf("GET %s = %d", target, rec.Code)
		}
	}
	got, err := e.store.AuditLog(context.Background(), store.AuditQuery{User: "editor-b", Action: "image.list", Limit: store.MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, a := range got {
		sum += a.Count
	}
	if len(got) > 21 || sum != n {
		t.Errorf("%d rows counting %d refusals, want at most 21 rows counting %d", len(got), sum, n)
	}
}
