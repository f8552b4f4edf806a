package handlers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// SessionName is the session cookie's name.
const SessionName = "imagedash"

// People is what the sign-in and admin pages need from the store: the
// accounts, teams and audit log. *store.Store satisfies it.
type People interface {
	AdminStore
	AccountSessions
	UserByName(ctx context.Context, username string) (store.User, error)
}

var _ People = (*store.Store)(nil)

// loginMaxName bounds the username the sign-in form reads, in bytes (64
// characters of up to 4 bytes). Passwords are bounded by
// auth.MaxPasswordLen: a hash costs 64 MiB, so a megabyte-long password
// must not reach it.
const loginMaxName = 256

// LoginURL is the sign-in page's address, coming back to back after.
func LoginURL(back string) string {
	if back = safeNext(back); back == "/" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(back)
}

// safeNext keeps a return address only when it is a path on this site:
// "/images/x" yes; "//evil.example", "https://evil.example", "/\\evil" no
// (those would make the sign-in page an open redirect). "/" otherwise.
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") ||
		len(next) > 2048 {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Path == "/login" || u.Path == "/logout" {
		return "/"
	}
	return next
}

// ShowLogin is the sign-in page (GET /login). Someone already signed in is
// sent on to where they were going.
func (h *Handlers) ShowLogin(c echo.Context) error {
	next := safeNext(c.QueryParam("next"))
	if _, ok := ViewerFrom(c.Request().Context()); ok {
		return Redirect(c, next)
	}
	return h.renderLogin(c, http.StatusOK, views.LoginForm{Next: next})
}

// Login checks a username and password (POST /login). The attempt is
// counted by the rate limiter before the password hash, in one step with
// the check against the limit, so a burst of concurrent guesses gets at
// most the limit checked and the rest a 429 (with no hash). An unknown
// name costs a hash all the same (auth.CheckNoUser), and a disabled
// account gets the wrong-password answer after its hash is checked, so
// neither the answer nor its timing tells which names exist or are
// disabled (the audit log says which it was). Success rotates the session
// id (an id planted before sign-in is worthless) and goes to the return
// address.
func (h *Handlers) Login(c echo.Context) error {
	ctx := c.Request().Context()
	form := views.LoginForm{
		Username: strings.TrimSpace(c.FormValue("username")),
		Next:     safeNext(c.FormValue("next")),
	}
	password := c.FormValue("password")
	ip := c.RealIP()
	aggKey := "" // see the refusal below
	fail := func(status int, outcome store.Outcome, detail, msg string) error {
		h.audit(c, store.AuditEntry{Action: "login", TargetKind: "user", TargetID: form.Username,
			Username: form.Username, Outcome: outcome, Detail: detail, AggKey: aggKey})
		form.Error = msg
		return h.renderLogin(c, status, form)
	}
	const wrong = "Wrong username or password."

	switch {
	case form.Username == "" || password == "":
		form.Error = "Enter your username and password."
		return h.renderLogin(c, http.StatusUnprocessableEntity, form)
	case len(form.Username) > loginMaxName || len(password) > auth.MaxPasswordLen:
		form.Error = wrong
		return h.renderLogin(c, http.StatusUnprocessableEntity, form)
	}
	attempt, wait, ok := h.limiter.Reserve(form.Username, ip)
	if !ok {
		mins := int(math.Ceil(wait.Minutes()))
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		// A locked-out client may keep posting by the thousand: its
		// refusals are one audit entry a window with a count, not a row
		// each (the first name typed is the one kept).
		aggKey = "login.refused " + auth.AddressKey(ip)
		return fail(http.StatusTooManyRequests, store.OutcomeDenied, "rate limited",
			fmt.Sprintf("Too many failed sign-ins for this name or from this address. Try again in %d %s.", mins, plural(mins, "minute")))
	}

	// busy: every hashing slot stayed taken (auth.Hasher); nothing is
	// wrong with the attempt, so it is given back to the limiter.
	busy := func() error {
		attempt.Cancel()
		// Not counted by the limiter, so a client that posts and hangs up
		// while the slots are taken could write a row a request: these are
		// one entry a window per address too.
		aggKey = "login.busy " + auth.AddressKey(ip)
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(h.hasher.RetryAfter().Seconds())))
		return fail(http.StatusServiceUnavailable, store.OutcomeFailure, "busy",
			"Many people are signing in at this moment. Try again in a few seconds.")
	}
	u, err := h.people.UserByName(ctx, form.Username)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if err := h.hasher.CheckNoUser(ctx, password); err != nil {
			return busy()
		}
		return fail(http.StatusUnauthorized, store.OutcomeFailure, "unknown user", wrong)
	case err != nil:
		attempt.Cancel()
		return fmt.Errorf("login: %w", err)
	}
	if err := h.hasher.Check(ctx, u.PasswordHash, password); errors.Is(err, auth.ErrBusy) {
		return busy()
	} else if err != nil {
		return fail(http.StatusUnauthorized, store.OutcomeFailure, "wrong password", wrong)
	}
	if u.Disabled {
		// The same answer as a wrong password, and it counts as one.
		return fail(http.StatusUnauthorized, store.OutcomeDenied, "account disabled", wrong)
	}
	attempt.Succeeded()

	req := c.Request()
	sess, err := h.sessions.Get(req, SessionName)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	// Nothing of the anonymous session carries over.
	auth.SignIn(sess, u.ID, u.SessionsGen, u.PasswordChangedAt, ip, req.UserAgent())
	if err := h.sessions.Rotate(req, c.Response(), sess); errors.Is(err, store.ErrRevoked) {
		// Disabled, reset or signed out everywhere while the password was
		// checked: what was checked no longer holds.
		return fail(http.StatusUnauthorized, store.OutcomeDenied, "sessions revoked during sign-in", wrong)
	} else if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	h.audit(c, store.AuditEntry{Action: "login", TargetKind: "user", TargetID: u.Username,
		UserID: u.ID, Username: u.Username, Outcome: store.OutcomeSuccess})
	return Redirect(c, form.Next)
}

// Logout ends the session (POST /logout): its row is deleted, and the
// browser gets a fresh anonymous session that only carries the "signed
// out" notice to the sign-in page.
func (h *Handlers) Logout(c echo.Context) error {
	req := c.Request()
	sess, err := h.sessions.Get(req, SessionName)
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	h.audit(c, store.AuditEntry{Action: "logout", TargetKind: "user", TargetID: viewer(c).User.Username,
		Outcome: store.OutcomeSuccess})
	clear(sess.Values)
	sess.AddFlash("You have signed out.")
	// Rotate deletes the signed-in row and writes the new one under a new id.
	if err := h.sessions.Rotate(req, c.Response(), sess); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return Redirect(c, "/login")
}

// Flash adds a one-time notice for the person's next page (after a
// redirect). A failure to save it is logged: the action it reports is done.
func (h *Handlers) Flash(c echo.Context, msg string) {
	if h.sessions == nil {
		return
	}
	req := c.Request()
	sess, err := h.sessions.Get(req, SessionName)
	if err == nil {
		sess.AddFlash(msg)
		err = h.sessions.Save(req, c.Response(), sess)
	}
	if err != nil {
		h.log.ErrorContext(req.Context(), "save flash", "err", err)
	}
}

func (h *Handlers) renderLogin(c echo.Context, status int, form views.LoginForm) error {
	AddVary(c.Response().Header(), HeaderRequest)
	NoPush(c.Response().Header())
	// Always the whole page: the form is the body of a boosted request.
	p := views.LoginPage{Form: form}
	return Render(c, status, views.LoginFull(p), views.LoginFull(p))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
