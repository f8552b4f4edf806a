package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// usersURL is the accounts page.
const usersURL = "/admin/users"

// ListUsers shows every account with its teams, and the forms to change
// them (GET /admin/users).
func (h *Handlers) ListUsers(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	return h.renderUsers(c, http.StatusOK, views.NewUserForm{}, views.AdminNotice{}, 0, "", true)
}

// renderUsers renders the accounts page: form is the create form as
// filled, notice a message above, and rowID's reset form shows rowErr.
// withOK adds the confirmation a redirect asked for.
func (h *Handlers) renderUsers(c echo.Context, status int, form views.NewUserForm, notice views.AdminNotice,
	rowID int64, rowErr string, withOK bool,
) error {
	ctx := c.Request().Context()
	rows, err := h.userRows(ctx, viewer(c).User.ID)
	if err != nil {
		return err
	}
	if withOK {
		notice = adminOKNotice(c, func(id int64) string {
			for _, r := range rows {
				if r.ID == id {
					return r.Name
				}
			}
			return ""
		})
	}
	for i := range rows {
		if rows[i].ID == rowID {
			rows[i].PasswordError = rowErr
		}
	}
	if status != http.StatusOK {
		adminRerender(c)
	}
	p := views.UsersPage{Notice: notice, Users: rows, Form: form}
	return Render(c, status, views.UsersFull(p), views.UsersFull(p))
}

// userRows are the accounts for the table, each with its teams; you is the
// signed-in admin.
func (h *Handlers) userRows(ctx context.Context, you int64) ([]views.UserRow, error) {
	users, err := h.people.Users(ctx)
	if err != nil {
		return nil, fmt.Errorf("admin users: %w", err)
	}
	teams, err := h.people.Teams(ctx)
	if err != nil {
		return nil, fmt.Errorf("admin users: %w", err)
	}
	// One query per team, not per user: there are far fewer teams.
	roles := map[int64][]views.TeamRole{}
	for _, t := range teams {
		ms, err := h.people.Members(ctx, t.ID)
		if err != nil {
			return nil, fmt.Errorf("admin users: %w", err)
		}
		for _, m := range ms {
			roles[m.User.ID] = append(roles[m.User.ID], views.TeamRole{Team: t.Name, URL: views.TeamURL(t.ID), Role: string(m.Role)})
		}
	}
	rows := make([]views.UserRow, len(users))
	for i, u := range users {
		r := views.UserRow{ID: u.ID, Name: u.Username, Admin: u.Admin, Disabled: u.Disabled, You: u.ID == you, Teams: roles[u.ID]}
		r.Created, r.CreatedAt, r.CreatedISO = h.adminTimes(u.CreatedAt)
		r.PasswordChanged, r.PasswordChangedAt, r.PasswordChangedISO = h.adminTimes(u.PasswordChangedAt)
		rows[i] = r
	}
	return rows, nil
}

// CreateUser adds an account (POST /admin/users: username, password,
// admin).
func (h *Handlers) CreateUser(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	const action = "user.create"
	form := views.NewUserForm{
		Username: c.FormValue("username"),
		Admin:    c.FormValue("admin") == "true",
		Errors:   views.FieldErrors{},
	}
	password := c.FormValue("password")
	if msg := checkAccountName(form.Username); msg != "" {
		form.Errors["username"] = msg
	}
	if msg := checkNewPassword(password); msg != "" {
		form.Errors["password"] = msg
	}
	if len(form.Errors) > 0 {
		h.auditFailed(c, action, "user", "", auditClip(form.Username)+": "+invalidInput(form.Errors))
		return h.renderUsers(c, http.StatusUnprocessableEntity, form, views.AdminNotice{}, 0, "", false)
	}
	hash, err := h.hasher.Hash(c.Request().Context(), password)
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	u, err := h.people.CreateUser(c.Request().Context(), store.NewUser{Username: form.Username, PasswordHash: hash, Admin: form.Admin})
	switch {
	case errors.Is(err, store.ErrExists):
		form.Errors["username"] = fmt.Sprintf("A user named “%s” exists already.", form.Username)
		h.auditFailed(c, action, "user", "", form.Username+": exists already")
		return h.renderUsers(c, http.StatusConflict, form, views.AdminNotice{}, 0, "", false)
	case errors.Is(err, store.ErrInvalid):
		form.Errors["username"] = "The store refused this name."
		h.auditFailed(c, action, "user", "", auditClip(form.Username)+": refused by the store")
		return h.renderUsers(c, http.StatusUnprocessableEntity, form, views.AdminNotice{}, 0, "", false)
	case err != nil:
		return fmt.Errorf("create user: %w", err)
	}
	detail := "created " + u.Username
	if u.Admin {
		detail += " as an administrator"
	}
	h.auditOK(c, action, "user", idText(u.ID), detail)
	return Redirect(c, views.OKURL(usersURL, "user_created", u.ID, 0))
}

// DisableUser disables an account and ends its sessions (POST
// /admin/users/:id/disable).
func (h *Handlers) DisableUser(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	return h.changeUser(c, "user.disable", "user_disabled", func(ctx context.Context, u store.User) (string, int, error) {
		return "disabled " + u.Username, 0, h.people.SetDisabled(ctx, u.ID, true)
	})
}

// EnableUser enables a disabled account (POST /admin/users/:id/enable).
func (h *Handlers) EnableUser(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	return h.changeUser(c, "user.enable", "user_enabled", func(ctx context.Context, u store.User) (string, int, error) {
		return "enabled " + u.Username, 0, h.people.SetDisabled(ctx, u.ID, false)
	})
}

// SetUserAdmin grants (admin=true) or revokes (admin=false) the global
// admin role (POST /admin/users/:id/admin).
func (h *Handlers) SetUserAdmin(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	grant, err := strconv.ParseBool(c.FormValue("admin"))
	if err != nil {
		return fault.New(fault.Invalid, "Say whether the account should be an administrator (admin=true or false).")
	}
	code := "user_unadmin"
	if grant {
		code = "user_admin"
	}
	return h.changeUser(c, "user.admin", code, func(ctx context.Context, u store.User) (string, int, error) {
		detail := "revoked admin from " + u.Username
		if grant {
			detail = "granted admin to " + u.Username
		}
		return detail, 0, h.people.SetAdmin(ctx, u.ID, grant)
	})
}

// EndUserSessions signs a user out everywhere (POST
// /admin/users/:id/sessions); the confirmation says how many sessions
// ended.
func (h *Handlers) EndUserSessions(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	return h.changeUser(c, "user.sessions_end", "user_sessions", func(ctx context.Context, u store.User) (string, int, error) {
		n, err := h.people.DeleteUserSessions(ctx, u.ID)
		return fmt.Sprintf("ended %d sessions of %s", n, u.Username), n, err
	})
}

// ResetPassword sets a new password an admin typed (POST
// /admin/users/:id/password: password, end_sessions), and by default signs
// the user out everywhere, so whoever knew the old one is out too.
func (h *Handlers) ResetPassword(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	const action = "user.password"
	id, err := adminPathID(c, "id", "user")
	if err != nil {
		return err
	}
	password := c.FormValue("password")
	if msg := checkNewPassword(password); msg != "" {
		h.auditFailed(c, action, "user", idText(id), invalidInput(views.FieldErrors{"password": msg}))
		return h.renderUsers(c, http.StatusUnprocessableEntity, views.NewUserForm{}, views.AdminNotice{}, id, msg, false)
	}
	end := c.FormValue("end_sessions") == "true"
	code := "user_password"
	if end {
		code = "user_password_s"
	}
	return h.changeUser(c, action, code, func(ctx context.Context, u store.User) (string, int, error) {
		hash, err := h.hasher.Hash(ctx, password)
		if err != nil {
			return "", 0, fmt.Errorf("hash: %w", err)
		}
		if err := h.people.SetPassword(ctx, u.ID, hash); err != nil {
			return "", 0, err
		}
		if !end {
			return "reset the password of " + u.Username, 0, nil
		}
		n, err := h.people.DeleteUserSessions(ctx, u.ID)
		return fmt.Sprintf("reset the password of %s and ended %d sessions", u.Username, n), n, err
	})
}

// ConfirmDeleteUser asks before deleting an account, naming it (GET
// /admin/users/:id/delete).
func (h *Handlers) ConfirmDeleteUser(c echo.Context) error {
	u, err := h.pathUser(c)
	if err != nil {
		return err
	}
	id := u.ID
	p := views.ConfirmPage{
		Section:  views.AdminUsers,
		Title:    "Delete " + u.Username,
		Question: fmt.Sprintf("Delete the account “%s”?", u.Username),
		Detail:   "Their memberships and sessions go with it; their entries in the audit log stay. This cannot be undone.",
		Action:   views.UserURL(id) + "/delete",
		Button:   "Delete " + u.Username,
		Back:     usersURL,
	}
	return Render(c, http.StatusOK, views.ConfirmFull(p), views.ConfirmFull(p))
}

// DeleteUser deletes an account (POST /admin/users/:id/delete with
// confirm=yes; without it, the confirmation page asks first).
func (h *Handlers) DeleteUser(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		id, err := adminPathID(c, "id", "user")
		if err != nil {
			return err
		}
		return Redirect(c, views.UserURL(id)+"/delete")
	}
	return h.changeUser(c, "user.delete", "user_deleted", func(ctx context.Context, u store.User) (string, int, error) {
		return "deleted " + u.Username, 0, h.people.DeleteUser(ctx, u.ID)
	})
}

// changeUser is the common path of a change to the account :id: load it
// (404 when gone), apply change (which says what it did, for the log, and
// may count sessions), record the outcome, and go back to the accounts
// page with the confirmation code, or say why not.
func (h *Handlers) changeUser(c echo.Context, action, code string,
	change func(ctx context.Context, u store.User) (detail string, n int, err error),
) error {
	id, err := adminPathID(c, "id", "user")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u, err := h.people.User(ctx, id)
	if err != nil {
		h.auditFailed(c, action, "user", idText(id), "no such user")
		return userNotFound(err)
	}
	detail, n, err := change(ctx, u)
	switch {
	case errors.Is(err, store.ErrLastAdmin):
		h.auditFailed(c, action, "user", idText(id), u.Username+": the last enabled administrator")
		return h.renderUsers(c, http.StatusConflict, views.NewUserForm{}, views.AdminNotice{Error: adminLastAdminMessage}, 0, "", false)
	case errors.Is(err, store.ErrNotFound):
		// Deleted between the two calls.
		h.auditFailed(c, action, "user", idText(id), "no such user")
		return userNotFound(err)
	case err != nil:
		h.auditFailed(c, action, "user", idText(id), u.Username+": internal error")
		return fmt.Errorf("%s %d: %w", action, id, err)
	}
	h.auditOK(c, action, "user", idText(id), detail)
	return Redirect(c, views.OKURL(usersURL, code, id, n))
}

// userNotFound is the 404 of an account that does not exist; other store
// errors pass through.
func userNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fault.New(fault.NotFound, "There is no such account: it may have been deleted.").Wrap(err)
	}
	return fmt.Errorf("load user: %w", err)
}

// idText is an id as the audit log's target.
func idText(id int64) string { return strconv.FormatInt(id, 10) }
