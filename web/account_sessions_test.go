package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
	"github.com/imagedash/imagedash/web/webtest"
)

// sessionIDs are alice's session ids in the store, newest first.
func sessionIDs(t *testing.T, st *store.Store, user int64, now time.Time) []string {
	t.Helper()
	ss, err := st.UserSessions(context.Background(), user, now)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range ss {
		ids = append(ids, s.ID)
	}
	return ids
}

// TestSessionCap: the 21st sign-in ends the oldest session, and only it.
func TestSessionCap(t *testing.T) {
	e := newAuthEnv(t)
	alice, _ := e.store.UserByName(context.Background(), "alice")
	var bs []*webtest.Browser
	for range 21 {
		b := webtest.NewBrowser(t, e.srv)
		b.Login("alice", webtest.Password)
		bs = append(bs, b)
		e.clock.Advance(time.Second)
	}
	if n := len(sessionIDs(t, e.store, alice.ID, e.clock.Now())); n != 20 {
		t.Errorf("alice has %d sessions, want 20", n)
	}
	if rec := bs[0].Get("/account/sessions"); rec.Code != http.StatusSeeOther {
		t.Errorf("the oldest session = %d, want signed out", rec.Code)
	}
	for i, b := range bs[1:] {
		if rec := b.Get("/account/sessions"); rec.Code != http.StatusOK {
			t.Errorf("session %d = %d, want still signed in", i+2, rec.Code)
		}
	}
}

// TestOwnSessions: a person sees their sessions (device, address, this
// one), ends one and the others, and cannot end another person's: that
// answers as a missing session does (404), and the session lives on.
func TestOwnSessions(t *testing.T) {
	e := newAuthEnv(t)
	webtest.AddUser(t, e.store, "bob", false)
	alice, _ := e.store.UserByName(context.Background(), "alice")
	bob, _ := e.store.UserByName(context.Background(), "bob")

	phone := webtest.NewBrowser(t, e.srv)
	phone.RemoteAddr = "198.51.100.7:5000"
	req, _ := http.NewRequest(http.MethodGet, "/login", nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36")
	phone.Do(req)
	req, _ = http.NewRequest(http.MethodPost, "/login", strings.NewReader(url.Values{
		"username": {"alice"}, "password": {webtest.Password}, views.CSRFField: {phone.CSRF}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36")
	if rec := phone.Do(req); rec.Code != http.StatusSeeOther {
		t.Fatalf("phone sign-in = %d", rec.Code)
	}
	e.clock.Advance(time.Second)
	laptop := webtest.NewBrowser(t, e.srv)
	laptop.Login("alice", webtest.Password)
	e.clock.Advance(time.Second)
	other := webtest.NewBrowser(t, e.srv)
	other.Login("bob", webtest.Password)

	rec := laptop.Get("/account/sessions")
	if rec.Code != http.StatusOK {
		t.Fatalf("sessions page = %d", rec.Code)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	rows := doc.Find(`[data-testid="session-row"]`)
	if rows.Length() != 2 || !strings.Contains(rows.Eq(1).Text(), "Chrome on Android") ||
		!strings.Contains(rows.Eq(1).Text(), "198.51.100.7") || rows.Eq(0).AttrOr("data-current", "") != "true" ||
		doc.Find(`[data-testid="this-session"]`).Length() != 1 {
		t.Errorf("sessions page rows:\n%s", rows.Text())
	}
	if doc.Find(`a[data-testid="me"][href="/account/sessions"]`).Length() != 1 {
		t.Error("no link to the sessions page from the name in the header")
	}

	// Another person's session, or none: the same 404.
	bobs := sessionIDs(t, e.store, bob.ID, e.clock.Now())
	varying := regexp.MustCompile(`(value|nonce)="[^"]*"|'nonce-[^']*'|&#34;X-CSRF-Token&#34;:&#34;[^&]*&#34;`)
	theirs := laptop.Post(views.SessionEndURL(bobs[0]), nil)
	missing := laptop.Post(views.SessionEndURL("no-such-session"), nil)
	if theirs.Code != http.StatusNotFound ||
		varying.ReplaceAllString(theirs.Body.String(), "") != varying.ReplaceAllString(missing.Body.String(), "") {
		t.Errorf("ending bob's session = %d, a missing one = %d (bodies differ: %t)", theirs.Code, missing.Code,
			theirs.Body.String() != missing.Body.String())
	}
	if rec := other.Get("/account/sessions"); rec.Code != http.StatusOK {
		t.Errorf("bob was signed out by alice: %d", rec.Code)
	}

	// Without the CSRF token (and no Sec-Fetch-Site), nothing ends.
	mine := sessionIDs(t, e.store, alice.ID, e.clock.Now())
	if rec := laptop.PostRaw(views.SessionEndURL(mine[1]), nil); rec.Code != http.StatusForbidden {
		t.Errorf("end without token = %d, want 403", rec.Code)
	}
	if rec := laptop.PostRaw("/account/sessions/end-others", nil); rec.Code != http.StatusForbidden {
		t.Errorf("end others without token = %d, want 403", rec.Code)
	}
	if n := len(sessionIDs(t, e.store, alice.ID, e.clock.Now())); n != 2 {
		t.Fatalf("alice has %d sessions after refused posts, want 2", n)
	}

	// End the phone's session from the laptop: the phone is signed out.
	if rec := laptop.Post(views.SessionEndURL(mine[1]), nil); rec.Code != http.StatusSeeOther {
		t.Errorf("end the phone's session = %d", rec.Code)
	}
	if rec := phone.Get("/account/sessions"); rec.Code != http.StatusSeeOther {
		t.Errorf("the ended phone session = %d, want signed out", rec.Code)
	}
	if rec := laptop.Get("/account/sessions"); !strings.Contains(rec.Body.String(), "The session has ended.") {
		t.Error("no notice after ending a session")
	}
	// End the others: a second laptop session goes, this one stays.
	tablet := webtest.NewBrowser(t, e.srv)
	tablet.Login("alice", webtest.Password)
	if rec := laptop.Post("/account/sessions/end-others", nil); rec.Code != http.StatusSeeOther {
		t.Errorf("end others = %d", rec.Code)
	}
	if ids := sessionIDs(t, e.store, alice.ID, e.clock.Now()); len(ids) != 1 {
		t.Errorf("after end-others: %d sessions", len(ids))
	}
	if rec := laptop.Get("/account/sessions"); rec.Code != http.StatusOK {
		t.Errorf("this session after end-others = %d", rec.Code)
	}
	if rec := tablet.Get("/account/sessions"); rec.Code != http.StatusSeeOther {
		t.Errorf("the other session after end-others = %d", rec.Code)
	}
	es, _ := e.store.AuditLog(context.Background(), store.AuditQuery{User: "alice"})
	var got []string
	for _, a := range es {
		if strings.HasPrefix(a.Action, "session.") {
			got = append(got, a.Action+":"+string(a.Outcome))
		}
	}
	if strings.Join(got, " ") != "session.end_others:success session.end:success session.end:failure session.end:failure" {
		t.Errorf("audit = %v", got)
	}
}
