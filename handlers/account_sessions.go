package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// AccountSessions is what a person's sessions page needs from the store.
// The owner is part of every call: a person can end only their own.
type AccountSessions interface {
	UserSessions(ctx context.Context, userID int64, now time.Time) ([]store.Session, error)
	EndUserSession(ctx context.Context, userID int64, id string) error
	EndOtherUserSessions(ctx context.Context, userID int64, keep string) (int, error)
}

var _ AccountSessions = (*store.Store)(nil)

const sessionsURL = "/account/sessions"

// currentSessionID is the store id of the request's own session.
func (h *Handlers) currentSessionID(c echo.Context) (string, error) {
	sess, err := h.sessions.Get(c.Request(), SessionName)
	if err != nil {
		return "", fmt.Errorf("session: %w", err)
	}
	return auth.RowID(sess), nil
}

// ListSessions shows the person's own signed-in sessions (GET
// /account/sessions): device, address, signed in, last seen, this one.
func (h *Handlers) ListSessions(c echo.Context) error {
	me := viewer(c).User
	cur, err := h.currentSessionID(c)
	if err != nil {
		return fmt.Errorf("list sessions: %w", err)
	}
	ss, err := h.people.UserSessions(c.Request().Context(), me.ID, h.now())
	if err != nil {
		return fmt.Errorf("list sessions: %w", err)
	}
	p := views.SessionsPage{Max: store.MaxSessionsPerUser}
	for _, s := range ss {
		r := views.SessionRow{ID: s.ID, Device: deviceName(s.UserAgent), IP: s.IP, Current: s.ID == cur}
		r.SignedIn, r.SignedInExact, r.SignedInISO = h.adminTimes(s.CreatedAt)
		r.LastSeen, r.LastSeenExact, r.LastSeenISO = h.adminTimes(s.LastSeenAt)
		p.Rows = append(p.Rows, r)
	}
	return Render(c, http.StatusOK, views.SessionsFull(p), views.SessionsFull(p))
}

// EndSession ends one of the person's sessions (POST
// /account/sessions/:id/end). Another person's session answers as a
// missing one, 404: the store deletes by id and owner together.
func (h *Handlers) EndSession(c echo.Context) error {
	me := viewer(c).User
	id := c.Param("id")
	target := auditClip(id)
	if len(target) > 12 {
		target = target[:12] // enough to tell sessions apart in the log
	}
	err := h.people.EndUserSession(c.Request().Context(), me.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		h.auditFailed(c, "session.end", "session", target, "no such session of this person")
		return fault.New(fault.NotFound, "There is no such session: it may have ended already.").Wrap(err)
	}
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	h.auditOK(c, "session.end", "session", target, "ended a session of "+me.Username)
	h.Flash(c, "The session has ended.")
	return Redirect(c, sessionsURL)
}

// EndOtherSessions ends every session of the person but this one (POST
// /account/sessions/end-others).
func (h *Handlers) EndOtherSessions(c echo.Context) error {
	me := viewer(c).User
	cur, err := h.currentSessionID(c)
	if err != nil {
		return fmt.Errorf("end other sessions: %w", err)
	}
	n, err := h.people.EndOtherUserSessions(c.Request().Context(), me.ID, cur)
	if err != nil {
		return fmt.Errorf("end other sessions: %w", err)
	}
	h.auditOK(c, "session.end_others", "user", me.Username, fmt.Sprintf("ended %d other sessions", n))
	h.Flash(c, fmt.Sprintf("Ended %s.", views.Plural(n, "other session", "other sessions")))
	return Redirect(c, sessionsURL)
}

// deviceName is a User-Agent told simply: browser on system ("Firefox on
// Linux"), "Unknown device" when neither is recognised.
func deviceName(ua string) string {
	find := func(table [][2]string) string {
		for _, t := range table {
			if strings.Contains(ua, t[0]) {
				return t[1]
			}
		}
		return ""
	}
	// Order matters: Edge and Opera say Chrome too, Chrome says Safari,
	// Android says Linux, iOS says Mac OS X.
	browser := find([][2]string{{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"YaBrowser/", "Yandex Browser"}, {"Firefox/", "Firefox"},
		{"Chrome/", "Chrome"}, {"Chromium/", "Chromium"}, {"Safari/", "Safari"}, {"curl/", "curl"}, {"Go-http-client", "Go client"}})
	system := find([][2]string{{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Windows", "Windows"},
		{"CrOS", "ChromeOS"}, {"Mac OS X", "macOS"}, {"Macintosh", "macOS"}, {"Linux", "Linux"}})
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	case system != "":
		return "A browser on " + system
	}
	return "Unknown device"
}
