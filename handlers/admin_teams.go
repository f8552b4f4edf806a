package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/rules"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// teamsURL is the list of teams.
const teamsURL = "/admin/teams"

// ListTeams shows every team with its members and folders, and the form to
// create one (GET /admin/teams).
func (h *Handlers) ListTeams(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	return h.renderTeams(c, http.StatusOK, views.NewTeamForm{}, true)
}

// renderTeams renders the list of teams with the create form as filled;
// withOK adds the confirmation a redirect asked for.
func (h *Handlers) renderTeams(c echo.Context, status int, form views.NewTeamForm, withOK bool) error {
	ctx := c.Request().Context()
	teams, err := h.people.Teams(ctx)
	if err != nil {
		return fmt.Errorf("admin teams: %w", err)
	}
	names, err := h.folderNames(ctx)
	if err != nil {
		return err
	}
	p := views.TeamsPage{Form: form}
	for _, t := range teams {
		ms, err := h.people.Members(ctx, t.ID)
		if err != nil {
			return fmt.Errorf("admin teams: %w", err)
		}
		s := views.TeamSummary{ID: t.ID, Name: t.Name, Members: len(ms), Folders: folderRefs(t.Folders, names)}
		s.Created, s.CreatedAt, s.CreatedISO = h.adminTimes(t.CreatedAt)
		p.Teams = append(p.Teams, s)
	}
	if withOK {
		// The only confirmation here is of a deletion, which names nobody.
		p.Notice = adminOKNotice(c, nil)
	}
	if status != http.StatusOK {
		adminRerender(c)
	}
	return Render(c, status, views.TeamsFull(p), views.TeamsFull(p))
}

// folderNames maps the cached folders' ids to their names (empty when the
// handlers have no cache).
func (h *Handlers) folderNames(ctx context.Context) (map[string]string, error) {
	fs, err := h.cachedFolders(ctx)
	if err != nil {
		return nil, err
	}
	return views.FolderNames(fs), nil
}

// cachedFolders are the folders the cache knows.
func (h *Handlers) cachedFolders(ctx context.Context) ([]cloud.Folder, error) {
	if h.store == nil {
		return nil, nil
	}
	fs, err := h.store.Folders(ctx)
	if err != nil {
		return nil, fmt.Errorf("admin: cached folders: %w", err)
	}
	return fs, nil
}

// folderRefs names folder ids.
func folderRefs(ids []string, names map[string]string) []views.FolderRef {
	out := make([]views.FolderRef, len(ids))
	for i, id := range ids {
		out[i] = views.FolderRef{ID: id, Name: names[id]}
	}
	return out
}

// CreateTeam adds a team and opens its page (POST /admin/teams: name).
func (h *Handlers) CreateTeam(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	const action = "team.create"
	form := views.NewTeamForm{Name: c.FormValue("name"), Errors: views.FieldErrors{}}
	if msg := checkAccountName(form.Name); msg != "" {
		form.Errors["name"] = msg
		h.auditFailed(c, action, "team", "", auditClip(form.Name)+": "+invalidInput(form.Errors))
		return h.renderTeams(c, http.StatusUnprocessableEntity, form, false)
	}
	t, err := h.people.CreateTeam(c.Request().Context(), form.Name)
	switch {
	case errors.Is(err, store.ErrExists):
		form.Errors["name"] = fmt.Sprintf("A team named “%s” exists already.", form.Name)
		h.auditFailed(c, action, "team", "", form.Name+": exists already")
		return h.renderTeams(c, http.StatusConflict, form, false)
	case errors.Is(err, store.ErrInvalid):
		form.Errors["name"] = "The store refused this name."
		h.auditFailed(c, action, "team", "", auditClip(form.Name)+": refused by the store")
		return h.renderTeams(c, http.StatusUnprocessableEntity, form, false)
	case err != nil:
		return fmt.Errorf("create team: %w", err)
	}
	h.auditOK(c, action, "team", idText(t.ID), "created "+t.Name)
	return Redirect(c, views.OKURL(views.TeamURL(t.ID), "team_created", t.ID, 0))
}

// ShowTeam shows a team's members and folders with the forms to change
// them (GET /admin/teams/:id).
func (h *Handlers) ShowTeam(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	id, err := adminPathID(c, "id", "team")
	if err != nil {
		return err
	}
	return h.renderTeam(c, http.StatusOK, id, teamForms{}, true)
}

// teamForms are the team page's forms as filled, and a message above.
type teamForms struct {
	notice views.AdminNotice
	member views.MemberForm
	folder views.FolderForm
}

// renderTeam renders team id's page (404 when it does not exist).
func (h *Handlers) renderTeam(c echo.Context, status int, id int64, f teamForms, withOK bool) error {
	ctx := c.Request().Context()
	t, err := h.people.Team(ctx, id)
	if err != nil {
		return teamNotFound(err)
	}
	members, err := h.people.Members(ctx, id)
	if err != nil {
		return fmt.Errorf("admin team %d: %w", id, err)
	}
	users, err := h.people.Users(ctx)
	if err != nil {
		return fmt.Errorf("admin team %d: %w", id, err)
	}
	folders, err := h.cachedFolders(ctx)
	if err != nil {
		return err
	}
	p := views.TeamPage{
		Notice:     f.notice,
		ID:         t.ID,
		Name:       t.Name,
		Folders:    folderRefs(t.Folders, views.FolderNames(folders)),
		MemberForm: f.member,
		FolderForm: f.folder,
	}
	p.Created, p.CreatedAt, p.CreatedISO = h.adminTimes(t.CreatedAt)
	if p.MemberForm.Role == "" {
		p.MemberForm.Role = string(store.RoleViewer)
	}
	for _, r := range store.Roles {
		p.Roles = append(p.Roles, string(r))
	}
	for _, m := range members {
		p.Members = append(p.Members, views.MemberRow{UserID: m.User.ID, Name: m.User.Username, Role: string(m.Role), Disabled: m.User.Disabled})
	}
	for _, u := range users {
		label := u.Username
		if u.Disabled {
			label += " (disabled)"
		}
		p.Users = append(p.Users, views.Choice{Value: idText(u.ID), Label: label})
	}
	for _, fo := range folders {
		label := fo.ID
		if fo.Name != "" {
			label = fo.Name + " (" + fo.ID + ")"
		}
		p.KnownFolders = append(p.KnownFolders, views.Choice{Value: fo.ID, Label: label})
	}
	if withOK {
		// The subject is the team itself after its creation, else a member.
		teamItself := c.QueryParam("ok") == "team_created"
		p.Notice = adminOKNotice(c, func(id int64) string {
			if teamItself {
				if id == t.ID {
					return t.Name
				}
				return ""
			}
			for _, u := range users {
				if u.ID == id {
					return u.Username
				}
			}
			return ""
		})
	}
	if status != http.StatusOK {
		adminRerender(c)
	}
	return Render(c, status, views.TeamFull(p), views.TeamFull(p))
}

// ConfirmDeleteTeam asks before deleting a team, naming it (GET
// /admin/teams/:id/delete).
func (h *Handlers) ConfirmDeleteTeam(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	id, err := adminPathID(c, "id", "team")
	if err != nil {
		return err
	}
	t, err := h.people.Team(c.Request().Context(), id)
	if err != nil {
		return teamNotFound(err)
	}
	p := views.ConfirmPage{
		Section:  views.AdminTeams,
		Title:    "Delete " + t.Name,
		Question: fmt.Sprintf("Delete the team “%s”?", t.Name),
		Detail:   "Its members lose the roles it gave them in its folders; the folders and images stay in the cloud. This cannot be undone.",
		Action:   views.TeamURL(id) + "/delete",
		Button:   "Delete " + t.Name,
		Back:     views.TeamURL(id),
	}
	return Render(c, http.StatusOK, views.ConfirmFull(p), views.ConfirmFull(p))
}

// DeleteTeam deletes a team with its memberships and folder assignments
// (POST /admin/teams/:id/delete with confirm=yes).
func (h *Handlers) DeleteTeam(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	const action = "team.delete"
	id, err := adminPathID(c, "id", "team")
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		return Redirect(c, views.TeamURL(id)+"/delete")
	}
	ctx := c.Request().Context()
	t, err := h.people.Team(ctx, id)
	if err == nil {
		err = h.people.DeleteTeam(ctx, id)
	}
	if err != nil {
		h.auditFailed(c, action, "team", idText(id), failureDetail(err))
		return teamNotFound(err)
	}
	h.auditOK(c, action, "team", idText(id), "deleted "+t.Name)
	return Redirect(c, views.OKURL(teamsURL, "team_deleted", 0, 0))
}

// AddTeamMember makes a user a member with a role, or changes the role of
// a member (POST /admin/teams/:id/members: user, role).
func (h *Handlers) AddTeamMember(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	const action = "team.member_add"
	id, err := adminPathID(c, "id", "team")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	t, err := h.people.Team(ctx, id)
	if err != nil {
		return teamNotFound(err)
	}
	form := views.MemberForm{User: c.FormValue("user"), Role: c.FormValue("role"), Errors: views.FieldErrors{}}
	var u store.User
	uid, perr := strconv.ParseInt(form.User, 10, 64)
	switch {
	case form.User == "":
		form.Errors["user"] = "Pick a user."
	case perr != nil || uid <= 0:
		form.Errors["user"] = "There is no such user: it may have been deleted."
	default:
		u, err = h.people.User(ctx, uid)
		if errors.Is(err, store.ErrNotFound) {
			form.Errors["user"] = "There is no such user: it may have been deleted."
		} else if err != nil {
			return fmt.Errorf("add member: %w", err)
		}
	}
	role := store.Role(form.Role)
	if !role.Valid() {
		form.Errors["role"] = "Pick a role: viewer, copier or editor."
	}
	if len(form.Errors) > 0 {
		h.auditFailed(c, action, "team", idText(id), t.Name+": "+invalidInput(form.Errors))
		return h.renderTeam(c, http.StatusUnprocessableEntity, id, teamForms{member: form}, false)
	}
	before, err := h.people.Members(ctx, id)
	if err != nil {
		return fmt.Errorf("add member: %w", err)
	}
	detail := fmt.Sprintf("added %s to %s as %s", u.Username, t.Name, role)
	for _, m := range before {
		if m.User.ID == uid {
			detail = fmt.Sprintf("changed the role of %s in %s from %s to %s", u.Username, t.Name, m.Role, role)
		}
	}
	if err := h.people.AddMember(ctx, id, uid, role); err != nil {
		h.auditFailed(c, action, "team", idText(id), failureDetail(err))
		if errors.Is(err, store.ErrNotFound) {
			form.Errors["user"] = "There is no such user or team any more."
			return h.renderTeam(c, http.StatusUnprocessableEntity, id, teamForms{member: form}, false)
		}
		return fmt.Errorf("add member: %w", err)
	}
	h.auditOK(c, action, "team", idText(id), detail)
	return Redirect(c, views.OKURL(views.TeamURL(id), "member_added", uid, 0))
}

// RemoveTeamMember takes a user out of a team (POST
// /admin/teams/:id/members/:user/remove).
func (h *Handlers) RemoveTeamMember(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	const action = "team.member_remove"
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
	name := "user " + idText(uid)
	if u, err := h.people.User(ctx, uid); err == nil {
		name = u.Username
	}
	if err := h.people.RemoveMember(ctx, id, uid); err != nil {
		h.auditFailed(c, action, "team", idText(id), name+": "+failureDetail(err))
		if errors.Is(err, store.ErrNotFound) {
			return fault.New(fault.NotFound, "That user is not a member of this team.").Wrap(err)
		}
		return fmt.Errorf("remove member: %w", err)
	}
	h.auditOK(c, action, "team", idText(id), fmt.Sprintf("removed %s from %s", name, t.Name))
	return Redirect(c, views.OKURL(views.TeamURL(id), "member_removed", uid, 0))
}

// AssignTeamFolder gives a folder to a team (POST /admin/teams/:id/folders:
// folder, picked from the cached folders or typed, as it need not be
// cached yet).
func (h *Handlers) AssignTeamFolder(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	const action = "team.folder_assign"
	id, err := adminPathID(c, "id", "team")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	t, err := h.people.Team(ctx, id)
	if err != nil {
		return teamNotFound(err)
	}
	form := views.FolderForm{Folder: strings.TrimSpace(c.FormValue("folder")), Errors: views.FieldErrors{}}
	if msg := checkFolderID(form.Folder); msg != "" {
		form.Errors["folder"] = msg
		h.auditFailed(c, action, "team", idText(id), t.Name+": "+auditClip(form.Folder)+": "+invalidInput(form.Errors))
		return h.renderTeam(c, http.StatusUnprocessableEntity, id, teamForms{folder: form}, false)
	}
	if err := h.people.AssignFolder(ctx, id, form.Folder); err != nil {
		h.auditFailed(c, action, "team", idText(id), form.Folder+": "+failureDetail(err))
		return teamNotFound(err)
	}
	h.auditOK(c, action, "team", idText(id), fmt.Sprintf("assigned folder %s to %s", form.Folder, t.Name))
	return Redirect(c, views.OKURL(views.TeamURL(id), "folder_assigned", 0, 0))
}

// UnassignTeamFolder takes a folder from a team (POST
// /admin/teams/:id/folders/remove: folder).
func (h *Handlers) UnassignTeamFolder(c echo.Context) error {
	if err := h.adminOnly(c); err != nil {
		return err
	}
	const action = "team.folder_unassign"
	id, err := adminPathID(c, "id", "team")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	t, err := h.people.Team(ctx, id)
	if err != nil {
		return teamNotFound(err)
	}
	folder := c.FormValue("folder")
	if msg := checkFolderID(folder); msg != "" {
		h.auditFailed(c, action, "team", idText(id), t.Name+": "+auditClip(folder)+": "+msg)
		return fault.New(fault.Invalid, "Folder: "+msg)
	}
	if err := h.people.UnassignFolder(ctx, id, folder); err != nil {
		h.auditFailed(c, action, "team", idText(id), folder+": "+failureDetail(err))
		if errors.Is(err, store.ErrNotFound) {
			return fault.New(fault.NotFound, "The team does not own that folder.").Wrap(err)
		}
		return fmt.Errorf("unassign folder: %w", err)
	}
	h.auditOK(c, action, "team", idText(id), fmt.Sprintf("took folder %s from %s", folder, t.Name))
	return Redirect(c, views.OKURL(views.TeamURL(id), "folder_removed", 0, 0))
}

// checkFolderID says what is wrong with a folder id ("" when nothing), by
// the API's rules.
func checkFolderID(id string) string {
	if id == "" {
		return "Pick a folder or type its id."
	}
	if vs := rules.ID("folder", id, true); len(vs) > 0 {
		return "The folder id " + vs[0].Message + "."
	}
	if strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "A folder id has no spaces or control characters."
	}
	return ""
}

// teamNotFound is the 404 of a team that does not exist; other store
// errors pass through.
func teamNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fault.New(fault.NotFound, "There is no such team: it may have been deleted.").Wrap(err)
	}
	return fmt.Errorf("admin team: %w", err)
}

// failureDetail says briefly, for the audit log, why a store call failed.
func failureDetail(err error) string {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "not found"
	case errors.Is(err, store.ErrLastAdmin):
		return "the last enabled administrator"
	case errors.Is(err, store.ErrExists):
		return "exists already"
	case errors.Is(err, store.ErrInvalid):
		return "invalid"
	}
	return "internal error"
}
