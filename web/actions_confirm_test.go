package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/imagedash/imagedash/web/webtest"
)

// TestDangerActionsAskFirst: the danger actions that used to act on one
// click (disable, end sessions, end one or the other sessions) are now
// links to a confirm page at the GET of the same address; asking names
// what goes and changes nothing, a non-admin may not ask the admin's
// questions, and another person's session answers as a missing one.
func TestDangerActionsAskFirst(t *testing.T) {
	e := newRevokeEnv(t)
	ctx := context.Background()
	laptop, phone := webtest.NewBrowser(t, e.srv), webtest.NewBrowser(t, e.srv)
	laptop.Login("alice", webtest.Password)
	phone.Login("alice", webtest.Password)
	if n := e.signedIn(t); n != 2 {
		t.Fatalf("alice has %d sessions, want 2", n)
	}
	ask := func(b *webtest.Browser, path, want string) {
		t.Helper()
		rec := b.Get(path)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) ||
			!strings.Contains(rec.Body.String(), `data-testid="confirm-button"`) || !strings.Contains(rec.Body.String(), `data-testid="confirm-cancel"`) {
			t.Errorf("GET %s = %d, want a confirm page saying %q:\n%s", path, rec.Code, want, rec.Body.String())
		}
	}
	alice := e.alice.ID
	ask(e.admin, fmt.Sprintf("/admin/users/%d/disable", alice), "Disable the account “alice”?")
	ask(e.admin, fmt.Sprintf("/admin/users/%d/sessions", alice), "Sign “alice” out everywhere?")
	ask(laptop, "/account/sessions/end-others", "End 1 other session, keeping only this one?")
	ids := sessionIDs(t, e.st, alice, time.Now())
	ask(laptop, "/account/sessions/"+ids[0]+"/end", "End your session on")

	if n := e.signedIn(t); n != 2 {
		t.Errorf("after asking, alice has %d sessions, want 2", n)
	}
	if u, err := e.st.User(ctx, alice); err != nil || u.Disabled {
		t.Errorf("after asking, alice disabled = %v (%v)", u.Disabled, err)
	}
	for _, path := range []string{fmt.Sprintf("/admin/users/%d/disable", alice), fmt.Sprintf("/admin/users/%d/sessions", alice)} {
		if rec := laptop.Get(path); rec.Code != http.StatusForbidden {
			t.Errorf("alice GET %s = %d, want 403", path, rec.Code)
		}
	}
	root, err := e.st.UserByName(ctx, "root")
	if err != nil {
		t.Fatal(err)
	}
	theirs := sessionIDs(t, e.st, root.ID, time.Now())
	if rec := laptop.Get("/account/sessions/" + theirs[0] + "/end"); rec.Code != http.StatusNotFound {
		t.Errorf("alice asks to end root's session = %d, want 404", rec.Code)
	}
}
