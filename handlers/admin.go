package handlers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// AdminStore is what the admin pages need from the store: accounts, teams,
// folders and the audit log. *store.Store satisfies it.
type AdminStore interface {
	Auditor
	CreateUser(ctx context.Context, nu store.NewUser) (store.User, error)
	User(ctx context.Context, id int64) (store.User, error)
	Users(ctx context.Context) ([]store.User, error)
	SetPassword(ctx context.Context, id int64, hash string) error
	SetDisabled(ctx context.Context, id int64, disabled bool) error
	SetAdmin(ctx context.Context, id int64, admin bool) error
	DeleteUser(ctx context.Context, id int64) error
	DeleteUserSessions(ctx context.Context, userID int64) (int, error)
	CreateTeam(ctx context.Context, name string) (store.Team, error)
	DeleteTeam(ctx context.Context, id int64) error
	Team(ctx context.Context, id int64) (store.Team, error)
	Teams(ctx context.Context) ([]store.Team, error)
	AddMember(ctx context.Context, teamID, userID int64, role store.Role) error
	RemoveMember(ctx context.Context, teamID, userID int64) error
	Members(ctx context.Context, teamID int64) ([]store.Member, error)
	Memberships(ctx context.Context, userID int64) ([]store.Membership, error)
	AssignFolder(ctx context.Context, teamID int64, folderID string) error
	UnassignFolder(ctx context.Context, teamID int64, folderID string) error
	SetFolderShared(ctx context.Context, folderID string, shared bool) error
	SharedFolders(ctx context.Context) ([]string, error)
	AuditLog(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error)
}

var _ AdminStore = (*store.Store)(nil)

// The admin pages' own limits.
const (
	// adminMinPassword and adminMaxPassword bound a password set by an admin, in
	// characters (a long passphrase is welcome; 256 characters stay well
	// under auth.MaxPasswordLen bytes).
	adminMinPassword = 12
	adminMaxPassword = 256
	// adminMaxName mirrors the store's bound on usernames and team names, so
	// the form can say so next to the field.
	adminMaxName = 64
)

// adminLastAdminMessage is what an admin sees when a change would leave nobody
// able to manage the dashboard.
const adminLastAdminMessage = "This is the last enabled administrator: make another account an administrator first, " +
	"or nobody could manage the dashboard any more."

// adminPathID is the positive integer path parameter name; anything else is a
// 404, as for an id that does not exist.
func adminPathID(c echo.Context, name, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, fault.New(fault.NotFound, "There is no "+what+" at this address.")
	}
	return id, nil
}

// auditClip bounds text from the request before it goes into the audit log, so
// a crafted path cannot bloat it.
func auditClip(s string) string {
	const limit = 100
	if len(s) <= limit {
		return s
	}
	return strings.ToValidUTF8(s[:limit], "") + "…"
}

// checkAccountName says what is wrong with a username or team name ("" when
// nothing), with the store's rules, so the message lands next to the field
// instead of the store's generic refusal.
func checkAccountName(name string) string {
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return "Enter a name."
	case n > adminMaxName:
		return fmt.Sprintf("At most %d characters.", adminMaxName)
	case !utf8.ValidString(name) || strings.TrimSpace(name) != name:
		return "No spaces at the start or the end."
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "No control characters."
	}
	return ""
}

// checkNewPassword says what is wrong with a new password ("" when nothing).
func checkNewPassword(pw string) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < adminMinPassword:
		return fmt.Sprintf("At least %d characters: a passphrase of a few words is easy to remember.", adminMinPassword)
	case n > adminMaxPassword:
		return fmt.Sprintf("At most %d characters.", adminMaxPassword)
	}
	return ""
}

// adminOKNotice is the confirmation a redirect after a change asked for with a
// fixed ?ok= code; name resolves the subject's ?id= to its name ("" when
// gone). The text itself never comes from the URL.
func adminOKNotice(c echo.Context, name func(id int64) string) views.AdminNotice {
	code := c.QueryParam("ok")
	if code == "" {
		return views.AdminNotice{}
	}
	id, _ := strconv.ParseInt(c.QueryParam("id"), 10, 64)
	n, _ := strconv.Atoi(c.QueryParam("n"))
	subject := ""
	if id > 0 && name != nil {
		subject = name(id)
	}
	return views.AdminNotice{OK: views.NoticeText(code, subject, max(n, 0))}
}

// auditOK records a successful admin change.
func (h *Handlers) auditOK(c echo.Context, action, kind, target, detail string) {
	h.audit(c, store.AuditEntry{Action: action, TargetKind: kind, TargetID: target,
		Outcome: store.OutcomeSuccess, Detail: detail})
}

// auditFailed records a auditFailed admin change, with why in words (never a
// password).
func (h *Handlers) auditFailed(c echo.Context, action, kind, target, detail string) {
	h.audit(c, store.AuditEntry{Action: action, TargetKind: kind, TargetID: target,
		Outcome: store.OutcomeFailure, Detail: detail})
}

// adminRerender prepares the answer to a POST that re-renders its page (a form
// with messages, a refusal): htmx must not push the POST's address, which
// a reload would GET.
func adminRerender(c echo.Context) {
	if IsHTMX(c.Request()) {
		NoPush(c.Response().Header())
	}
}

// adminTimes formats t for a table cell.
func (h *Handlers) adminTimes(t time.Time) (rel, exact, iso string) { return views.Times(t, h.now()) }

// invalidInput is a form's messages in one line, for the audit log.
func invalidInput(errs views.FieldErrors) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(errs)) {
		parts = append(parts, k+": "+errs[k])
	}
	return "invalid input: " + strings.Join(parts, "; ")
}
