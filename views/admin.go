package views

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The admin pages' sections, for the sub-nav.
const (
	AdminUsers   = "users"
	AdminTeams   = "teams"
	AdminFolders = "folders"
	AdminAudit   = "audit"
)

// AuditID is the audit log's swappable region (filters, table, paging).
const AuditID = "audit"

// adminSections are the sub-nav's entries, in order.
var adminSections = []struct{ Key, Title, URL string }{
	{AdminUsers, "Users", "/admin/users"},
	{AdminTeams, "Teams", "/admin/teams"},
	{AdminFolders, "Folders", "/admin/folders"},
	{AdminAudit, "Audit log", "/admin/audit"},
}

// AdminLayout is the layout of an admin page: no image toolbar.
func AdminLayout(title string) Layout { return Layout{Title: title + " · Admin"} }

// AdminNotice is shown above an admin page: what the last action did (OK) or
// why it could not (Error). Both are fixed texts chosen by the handler or
// messages it wrote, never text from the URL.
type AdminNotice struct {
	OK    string
	Error string
}

// The codes a handler puts in ?ok= after a change, and their texts. A
// fixed set, so a crafted link cannot make the page say anything else;
// {name} is the subject (looked up in the store) and {sessions} a count.
var noticeTexts = map[string]string{
	"user_created":    "Created the account {name}.",
	"user_disabled":   "Disabled {name} and ended their sessions.",
	"user_enabled":    "Enabled {name}.",
	"user_password":   "Set a new password for {name}.",
	"user_password_s": "Set a new password for {name} and ended {sessions}.",
	"user_admin":      "{name} is now an administrator.",
	"user_unadmin":    "{name} is no longer an administrator.",
	"user_sessions":   "Ended {sessions} of {name}.",
	"user_deleted":    "Deleted the account.",
	"team_created":    "Created the team {name}.",
	"team_deleted":    "Deleted the team.",
	"member_added":    "{name} is now a member with that role.",
	"member_removed":  "Removed {name} from the team.",
	"folder_assigned": "The team now owns the folder.",
	"folder_removed":  "The team no longer owns the folder.",
	"folder_shared":   "The folder is now shared: everyone can see it.",
	"folder_unshared": "The folder is no longer shared.",
}

// NoticeText is the confirmation for code, naming subject ("" when it is
// gone) and counting n sessions where the text says so; "" for an unknown
// code.
func NoticeText(code, subject string, n int) string {
	f, ok := noticeTexts[code]
	if !ok {
		return ""
	}
	name := "the account"
	if subject != "" {
		name = "“" + subject + "”"
	}
	return strings.NewReplacer("{name}", name, "{sessions}", Plural(n, "session", "sessions")).Replace(f)
}

// Plural is "1 session", "3 sessions".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return Count(n) + " " + many
}

// OKURL is path with the confirmation code and, when not zero, the subject's
// id and a count.
func OKURL(path, code string, id int64, n int) string {
	v := url.Values{}
	v.Set("ok", code)
	if id != 0 {
		v.Set("id", strconv.FormatInt(id, 10))
	}
	if n != 0 {
		v.Set("n", strconv.Itoa(n))
	}
	return path + "?" + v.Encode()
}

// FieldErrors are form messages by field name.
type FieldErrors map[string]string

// Has reports whether there is a message for field.
func (e FieldErrors) Has(field string) bool { return e[field] != "" }

// UsersPage lists the accounts, with the form to create one.
type UsersPage struct {
	Notice AdminNotice
	Users  []UserRow
	Form   NewUserForm
}

// UserRow is one account.
type UserRow struct {
	ID       int64
	Name     string
	Admin    bool
	Disabled bool
	You      bool // the signed-in admin
	Created, CreatedAt, CreatedISO,
	PasswordChanged, PasswordChangedAt, PasswordChangedISO string
	Teams []TeamRole
	// PasswordError is a rejected new password's message; it opens the
	// row's reset form.
	PasswordError string
}

// TeamRole is one team of a user, with the user's role in it.
type TeamRole struct {
	Team string
	URL  string
	Role string
}

// Base is the user's admin actions' path prefix.
func (u UserRow) Base() string { return UserURL(u.ID) }

// UserURL is the path prefix of a user's admin actions.
func UserURL(id int64) string { return "/admin/users/" + strconv.FormatInt(id, 10) }

// TeamURL is a team's admin page.
func TeamURL(id int64) string { return "/admin/teams/" + strconv.FormatInt(id, 10) }

// NewUserForm is the create-user form as the person filled it (never the
// password: it is not sent back).
type NewUserForm struct {
	Username string
	Admin    bool
	Errors   FieldErrors
}

// ConfirmPage asks before something that cannot be undone.
type ConfirmPage struct {
	Section  string // for the admin sub-nav; "" on a page outside /admin
	Title    string
	Question string
	Detail   string
	Action   string // where the form posts
	Button   string
	Back     string
}

// Layout is the confirm page's layout: an admin page's under /admin.
func (p ConfirmPage) Layout() Layout {
	if p.Section != "" {
		return AdminLayout(p.Title)
	}
	return Layout{Title: p.Title}
}

// TeamsPage lists the teams, with the form to create one.
type TeamsPage struct {
	Notice AdminNotice
	Teams  []TeamSummary
	Form   NewTeamForm
}

// TeamSummary is one team in the list.
type TeamSummary struct {
	ID      int64
	Name    string
	Members int
	Folders []FolderRef
	// Created is relative, CreatedAt exact, CreatedISO for <time>.
	Created    string
	CreatedAt  string
	CreatedISO string
}

// URL is the team's page.
func (t TeamSummary) URL() string { return TeamURL(t.ID) }

// NewTeamForm is the create-team form as filled.
type NewTeamForm struct {
	Name   string
	Errors FieldErrors
}

// FolderRef is a folder by id, with its name when the cache knows it.
type FolderRef struct {
	ID   string
	Name string
}

// Label is the folder's name, or its id when the cache does not know it.
func (f FolderRef) Label() string {
	if f.Name != "" {
		return f.Name
	}
	return f.ID
}

// Choice is one choice of a select or datalist.
type Choice struct {
	Value, Label string
}

// TeamPage is one team: members and folders, with their forms.
type TeamPage struct {
	Notice AdminNotice
	ID     int64
	Name   string
	// Created is relative, CreatedAt exact, CreatedISO for <time>.
	Created    string
	CreatedAt  string
	CreatedISO string
	Members    []MemberRow
	Folders    []FolderRef
	// Users are the accounts that can be added; KnownFolders the folders
	// the cache knows, offered when assigning one.
	Users        []Choice
	KnownFolders []Choice
	Roles        []string
	MemberForm   MemberForm
	FolderForm   FolderForm
}

// URL is the team's page.
func (p TeamPage) URL() string { return TeamURL(p.ID) }

// MemberRow is one member of a team.
type MemberRow struct {
	UserID   int64
	Name     string
	Role     string
	Disabled bool
}

// ID is the member's user id as a form value.
func (m MemberRow) ID() string { return strconv.FormatInt(m.UserID, 10) }

// MemberForm is the add-member form as filled.
type MemberForm struct {
	User   string
	Role   string
	Errors FieldErrors
}

// FolderForm is the assign-folder form as filled.
type FolderForm struct {
	Folder string
	Errors FieldErrors
}

// FoldersPage lists every folder known to the cache or the teams, who owns
// it and whether it is shared.
type FoldersPage struct {
	Notice  AdminNotice
	Folders []FolderAdminRow
}

// FolderAdminRow is one folder.
type FolderAdminRow struct {
	ID     string
	Name   string
	Cached bool // the cache knows it (else it is only assigned or shared)
	Teams  []TeamLink
	Shared bool
}

// TeamLink is a team by name, linking to its page.
type TeamLink struct {
	Name string
	URL  string
}

// AuditFilter is the audit log's filter form, as the person typed it.
type AuditFilter struct {
	User    string
	Action  string
	Target  string
	Outcome string
	From    string
	To      string
}

// Outcomes are the audit outcomes a filter can pick.
var Outcomes = []string{"success", "failure", "denied"}

// Values is the filter as query parameters, empty ones left out.
func (f AuditFilter) Values() url.Values {
	v := url.Values{}
	for _, p := range []Param{
		{"user", f.User}, {"action", f.Action}, {"target", f.Target},
		{"outcome", f.Outcome}, {"from", f.From}, {"to", f.To},
	} {
		if p.Value != "" {
			v.Set(p.Name, p.Value)
		}
	}
	return v
}

// AuditURL is the audit log with filter f, from the entry before id
// (0: the newest).
func AuditURL(f AuditFilter, before int64) string {
	v := f.Values()
	if before > 0 {
		v.Set("before", strconv.FormatInt(before, 10))
	}
	if len(v) == 0 {
		return "/admin/audit"
	}
	return "/admin/audit?" + v.Encode()
}

// AuditCSVURL is the CSV export of everything f selects.
func AuditCSVURL(f AuditFilter) string {
	v := f.Values()
	if len(v) == 0 {
		return "/admin/audit.csv"
	}
	return "/admin/audit.csv?" + v.Encode()
}

// AuditPage is one page of the audit log.
type AuditPage struct {
	Filter AuditFilter
	Errors FieldErrors
	Rows   []AuditRow
	// Before is the cursor of this page (0: the newest); Older the cursor
	// of the next one (0: this is the last).
	Before int64
	Older  int64
	// Actions are the known actions, offered while typing the filter.
	Actions []string
	// RetentionDays is how long entries are kept (0: not said).
	RetentionDays int
}

// URL is this page's address.
func (p AuditPage) URL() string { return AuditURL(p.Filter, p.Before) }

// OlderURL is the next (older) page, "" on the last.
func (p AuditPage) OlderURL() string {
	if p.Older == 0 {
		return ""
	}
	return AuditURL(p.Filter, p.Older)
}

// NewestURL is the first page with the same filter.
func (p AuditPage) NewestURL() string { return AuditURL(p.Filter, 0) }

// CSVURL exports what the filter selects.
func (p AuditPage) CSVURL() string { return AuditCSVURL(p.Filter) }

// Title is the document title.
func (p AuditPage) Title() string { return PageTitle(AdminLayout("Audit log").Title) }

// AuditRow is one audit entry.
type AuditRow struct {
	ID                 int64
	At, AtExact, AtISO string
	User               string
	IP                 string
	Action             string
	Target             string // "kind id"
	TargetID           string
	OperationID        string
	Outcome            string
	Detail             string
	// Count is how many times a repeated refusal happened, from At to
	// LastExact (1: once).
	Count     int64
	LastExact string
}

// Repeats says how often an aggregate entry happened, "" for one that
// happened once: "refused 1 234 times between … and …".
func (r AuditRow) Repeats() string {
	if r.Count <= 1 {
		return ""
	}
	verb := "happened"
	if r.Outcome == "denied" {
		verb = "refused"
	}
	return fmt.Sprintf("%s %s times between %s and %s", verb, groupDigits(r.Count), r.AtExact, r.LastExact)
}

// groupDigits writes n with a thin space between groups of three digits.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u202f")
		}
		b.WriteRune(d)
	}
	return b.String()
}

// outcomeClass is the badge class of an audit outcome.
func outcomeClass(o string) string {
	switch o {
	case "success":
		return "badge badge-ready"
	case "failure":
		return "badge badge-error"
	case "denied":
		return "badge badge-deleting"
	}
	return "badge"
}

// sortedKeys are m's keys in order, so hidden fields render stably.
func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// With is this page's filter with field set to value, from the newest
// entry: a person, action or target in the table filters by itself.
func (p AuditPage) With(field, value string) string {
	f := p.Filter
	switch field {
	case "user":
		f.User = value
	case "action":
		f.Action = value
	case "target":
		f.Target = value
	}
	return AuditURL(f, 0)
}

// DateTimeInput is a from/to filter value as a datetime-local input shows
// it: a date alone (the whole day) becomes its first minute for from and
// its last for to, which select the same entries; anything else is kept.
func DateTimeInput(v string, to bool) string {
	if len(v) != len("2006-01-02") {
		return v
	}
	if to {
		return v + "T23:59"
	}
	return v + "T00:00"
}

// Actions is a user row's bar: Enable, Make or Revoke admin and Reset
// password (secondary); Disable…, End sessions… and Delete… (danger, each
// to its confirm page, since each cuts the person off).
func (u UserRow) Actions() []Action {
	as := []Action{}
	if u.Disabled {
		as = append(as, Action{Kind: Secondary, Label: "Enable", Post: u.Base() + "/enable", TestID: "enable"})
	} else {
		as = append(as, Action{Kind: Danger, Label: "Disable…", URL: u.Base() + "/disable", TestID: "disable"})
	}
	if u.Admin {
		as = append(as, Action{Kind: Secondary, Label: "Revoke admin", Post: u.Base() + "/admin", Hidden: map[string]string{"admin": "false"}, TestID: "revoke-admin"})
	} else {
		as = append(as, Action{Kind: Secondary, Label: "Make admin", Post: u.Base() + "/admin", Hidden: map[string]string{"admin": "true"}, TestID: "make-admin"})
	}
	as = append(as,
		Action{Kind: Secondary, Body: resetPassword(u)},
		Action{Kind: Danger, Label: "End sessions…", URL: u.Base() + "/sessions", TestID: "end-sessions"},
		Action{Kind: Danger, Label: "Delete…", URL: u.Base() + "/delete", TestID: "delete-user"},
	)
	return as
}
