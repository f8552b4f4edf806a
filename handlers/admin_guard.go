package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// adminGuard is how an admin route refuses a person who is not an
// administrator: the audit log's action and target kind, where the target
// is read from, and what the person is told (403).
type adminGuard struct {
	action, kind string
	target       func(c echo.Context) string // nil: no target
	message      string
}

func pathID(c echo.Context) string     { return auditClip(c.Param("id")) }
func formFolder(c echo.Context) string { return auditClip(c.FormValue("folder")) }

// adminGuards are the admin routes, by method and route pattern (as
// web.New mounts them in its /admin group). TestAdminGroup checks that
// every route of the group has its row.
var adminGuards = map[string]adminGuard{
	"GET /admin/users":                           {"admin.user.list", "user", nil, "Only an administrator may see the accounts."},
	"POST /admin/users":                          {"admin.user.create", "user", nil, "Only an administrator may create accounts."},
	"GET /admin/users/:id/disable":               {"admin.user.disable", "user", pathID, "Only an administrator may disable accounts."},
	"POST /admin/users/:id/disable":              {"admin.user.disable", "user", pathID, "Only an administrator may disable accounts."},
	"POST /admin/users/:id/enable":               {"admin.user.enable", "user", pathID, "Only an administrator may enable accounts."},
	"POST /admin/users/:id/password":             {"admin.user.password", "user", pathID, "Only an administrator may reset passwords."},
	"POST /admin/users/:id/admin":                {"admin.user.admin", "user", pathID, "Only an administrator may grant or revoke the admin role."},
	"GET /admin/users/:id/sessions":              {"admin.user.sessions_end", "user", pathID, "Only an administrator may end the sessions of an account."},
	"POST /admin/users/:id/sessions":             {"admin.user.sessions_end", "user", pathID, "Only an administrator may end the sessions of an account."},
	"GET /admin/users/:id/delete":                {"admin.user.delete", "user", pathID, "Only an administrator may delete accounts."},
	"POST /admin/users/:id/delete":               {"admin.user.delete", "user", pathID, "Only an administrator may delete accounts."},
	"GET /admin/teams":                           {"admin.team.list", "team", nil, "Only an administrator may see the teams."},
	"POST /admin/teams":                          {"admin.team.create", "team", nil, "Only an administrator may create teams."},
	"GET /admin/teams/:id":                       {"admin.team.show", "team", pathID, "Only an administrator may see the teams."},
	"GET /admin/teams/:id/delete":                {"admin.team.delete", "team", pathID, "Only an administrator may delete teams."},
	"POST /admin/teams/:id/delete":               {"admin.team.delete", "team", pathID, "Only an administrator may delete teams."},
	"POST /admin/teams/:id/members":              {"admin.team.member_add", "team", pathID, "Only an administrator may change the members of a team."},
	"GET /admin/teams/:id/members/:user/remove":  {"admin.team.member_remove", "team", pathID, "Only an administrator may change the members of a team."},
	"POST /admin/teams/:id/members/:user/remove": {"admin.team.member_remove", "team", pathID, "Only an administrator may change the members of a team."},
	"POST /admin/teams/:id/folders":              {"admin.team.folder_assign", "team", pathID, "Only an administrator may assign folders."},
	"POST /admin/teams/:id/folders/remove":       {"admin.team.folder_unassign", "team", pathID, "Only an administrator may unassign folders."},
	"GET /admin/folders":                         {"admin.folder.list", "folder", nil, "Only an administrator may manage folders."},
	"POST /admin/folders/share":                  {"admin.folder.share", "folder", formFolder, "Only an administrator may share folders."},
	"GET /admin/audit":                           {"admin.audit.list", "audit", nil, "Only an administrator may read the audit log."},
	"GET /admin/audit.csv":                       {"admin.audit.export", "audit", nil, "Only an administrator may export the audit log."},
}

// adminElsewhere refuses an address under /admin that is no admin route (a
// non-admin learns nothing about which ones exist).
var adminElsewhere = adminGuard{"admin.page", "page", func(c echo.Context) string { return auditClip(c.Request().URL.Path) },
	"Only an administrator may use the admin pages."}

// AdminGuarded tells whether the admin route method path has its row in
// the guards' table (for web's test of its /admin group).
func AdminGuarded(method, path string) bool {
	_, ok := adminGuards[method+" "+path]
	return ok
}

// RequireAdmin is the admin pages' one check, for web's /admin group: a
// person who is not an administrator is refused with 403 and the route's
// message, and the refusal is audited (denied) once, before any handler
// reads the request.
func (h *Handlers) RequireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := h.adminOnly(c); err != nil {
			return err
		}
		return next(c)
	}
}

// adminOnly is nil for an administrator, else the audited 403 of the route
// c is on. Each admin handler calls it too (the same helper, so the same
// answer), so that a handler mounted without the group still fails closed.
func (h *Handlers) adminOnly(c echo.Context) error {
	if viewer(c).Policy.Admin() {
		return nil
	}
	g, ok := adminGuards[c.Request().Method+" "+c.Path()]
	if !ok && c.Request().Method == http.MethodHead {
		g, ok = adminGuards[http.MethodGet+" "+c.Path()]
	}
	if !ok {
		g = adminElsewhere
	}
	target := ""
	if g.target != nil {
		target = g.target(c)
	}
	return h.deny(c, g.action, g.kind, target, "%s", g.message)
}
