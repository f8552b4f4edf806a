package handlers

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// The confirm pages of the danger actions that had none: every danger
// action on every page is a link to a page like these (or to the image
// delete pages, the same pattern) that names what goes, with the danger
// button and a Cancel link back (docs/design.md, "Actions"). Each is the
// GET of the address its action posts to, so the button's form and the
// question share one URL. Asking changes nothing and is not audited.

// pathUser is the account the path's :id names, for an admin's page
// about it: 403 for others, 404 for an unknown id.
func (h *Handlers) pathUser(c echo.Context) (store.User, error) {
	if err := h.adminOnly(c); err != nil {
		return store.User{}, err
	}
	id, err := adminPathID(c, "id", "user")
	if err != nil {
		return store.User{}, err
	}
	u, err := h.people.User(c.Request().Context(), id)
	if err != nil {
		return store.User{}, userNotFound(err)
	}
	return u, nil
}

// confirm renders p.
func confirm(c echo.Context, p views.ConfirmPage) error {
	return Render(c, http.StatusOK, views.ConfirmFull(p), views.ConfirmFull(p))
}

// ConfirmDisableUser asks before disabling an account (GET
// /admin/users/:id/disable).
func (h *Handlers) ConfirmDisableUser(c echo.Context) error {
	u, err := h.pathUser(c)
	if err != nil {
		return err
	}
	id := u.ID
	return confirm(c, views.ConfirmPage{
		Section:  views.AdminUsers,
		Title:    "Disable " + u.Username,
		Question: fmt.Sprintf("Disable the account “%s”?", u.Username),
		Detail:   "They are signed out everywhere and cannot sign in until an administrator enables the account again.",
		Action:   views.UserURL(id) + "/disable",
		Button:   "Disable " + u.Username,
		Back:     usersURL,
	})
}

// ConfirmEndUserSessions asks before signing an account out everywhere
// (GET /admin/users/:id/sessions).
func (h *Handlers) ConfirmEndUserSessions(c echo.Context) error {
	u, err := h.pathUser(c)
	if err != nil {
		return err
	}
	id := u.ID
	return confirm(c, views.ConfirmPage{
		Section:  views.AdminUsers,
		Title:    "End the sessions of " + u.Username,
		Question: fmt.Sprintf("Sign “%s” out everywhere?", u.Username),
		Detail:   "Every session of the account ends; they can sign in again with their password.",
		Action:   views.UserURL(id) + "/sessions",
		Button:   "End the sessions of " + u.Username,
		Back:     usersURL,
	})
}

// ConfirmRemoveTeamMember asks before taking a member out of a team (GET
// /admin/teams/:id/members/:user/remove).
func (h *Handlers) ConfirmRemoveTeamMember(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	id, err := adminPathID(c, "id", "team")
	if err != nil {
		return err
	}
	uid, err := adminPathID(c, "user", "member")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	t, err := h.people.Team(ctx, id)
	if err != nil {
		return teamNotFound(err)
	}
	u, err := h.people.User(ctx, uid)
	if err != nil {
		return userNotFound(err)
	}
	back := views.TeamURL(id)
	return confirm(c, views.ConfirmPage{
		Section:  views.AdminTeams,
		Title:    "Remove " + u.Username + " from " + t.Name,
		Question: fmt.Sprintf("Remove “%s” from the team “%s”?", u.Username, t.Name),
		Detail:   "They lose what the team's role gave them in its folders at once; adding them again restores it.",
		Action:   back + "/members/" + strconv.FormatInt(uid, 10) + "/remove",
		Button:   "Remove " + u.Username,
		Back:     back,
	})
}

// ConfirmCancelOperation asks before cancelling an operation (GET
// /operations/:id/cancel). When it cannot be cancelled (any more, or by
// this person) the operation's page says why.
func (h *Handlers) ConfirmCancelOperation(c echo.Context) error {
	o, err := h.operation(c, "operation.view")
	if err != nil {
		return err
	}
	back := views.OperationURL(o.ID)
	if !o.State.Open() || !h.mayCancel(c, o) || h.tracker == nil {
		return Redirect(c, back)
	}
	n, err := h.opNamesFor(c)
	if err != nil {
		return err
	}
	r := h.opRowAt(o, n, h.now())
	what := r.ActionTitle + " of " + r.Subject()
	return confirm(c, views.ConfirmPage{
		Title:    "Cancel operation " + strconv.FormatInt(o.ID, 10),
		Question: "Ask the cloud to cancel the " + what + "?",
		Detail:   "What the cloud has done so far stays; an image it was making may be left unfinished.",
		Action:   back + "/cancel",
		Button:   "Cancel the operation",
		Back:     back,
	})
}

// ConfirmEndSession asks before ending one of the person's sessions on
// another device (GET /account/sessions/:id/end); another person's
// session answers as a missing one.
func (h *Handlers) ConfirmEndSession(c echo.Context) error {
	me := viewer(c).User
	id := c.Param("id")
	ss, err := h.people.UserSessions(c.Request().Context(), me.ID, h.now())
	if err != nil {
		return fmt.Errorf("confirm end session: %w", err)
	}
	for _, s := range ss {
		if s.ID != id {
			continue
		}
		where := deviceName(s.UserAgent)
		if s.IP != "" {
			where += " (" + s.IP + ")"
		}
		return confirm(c, views.ConfirmPage{
			Title:    "End a session",
			Question: "End your session on " + where + "?",
			Detail:   "Whoever uses it is signed out at their next click.",
			Action:   views.SessionEndURL(id),
			Button:   "End this session",
			Back:     sessionsURL,
		})
	}
	return fault.New(fault.NotFound, "There is no such session: it may have ended already.")
}

// ConfirmEndOtherSessions asks before ending every session of the person
// but this one (GET /account/sessions/end-others).
func (h *Handlers) ConfirmEndOtherSessions(c echo.Context) error {
	me := viewer(c).User
	ss, err := h.people.UserSessions(c.Request().Context(), me.ID, h.now())
	if err != nil {
		return fmt.Errorf("confirm end other sessions: %w", err)
	}
	n := max(len(ss)-1, 0)
	return confirm(c, views.ConfirmPage{
		Title:    "End your other sessions",
		Question: fmt.Sprintf("End %s, keeping only this one?", views.Plural(n, "other session", "other sessions")),
		Detail:   "Every other device is signed out at its next click.",
		Action:   views.SessionsEndOthersURL,
		Button:   "End " + views.Plural(n, "other session", "other sessions"),
		Back:     sessionsURL,
	})
}
