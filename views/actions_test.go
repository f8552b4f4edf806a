package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/imagedash/imagedash/cloud"
)

// TestActionsOneOrderAndLook renders every page's actions and checks the
// one pattern: each bar lists primary before secondary before danger,
// each kind wears its one class, and each danger action leads to its
// confirm page (a link, or the bulk bar's GET button) rather than acting.
func TestActionsOneOrderAndLook(t *testing.T) {
	img := ImageRow{Service: cloud.Compute, ID: "fd8img", URL: "/images/compute/fd8img", Name: "web", Status: "READY"}
	running := OpRow{ID: 7, Action: "image.copy", ActionTitle: "Copy", Service: cloud.Compute, State: "running", ImageName: "web"}
	tests := []struct {
		name string
		page templ.Component
		// want is each bar's actions in order, as "kind:testid".
		want    []string
		confirm map[string]string // danger testid → its confirm page
	}{
		{
			name:    "image, editor",
			page:    ImageFull(ImagePage{Image: img, CanEdit: true, CopyURL: img.URL + "/copy"}),
			want:    []string{"primary:edit-link secondary:copy-link danger:delete-link"},
			confirm: map[string]string{"delete-link": img.URL + "/delete"},
		},
		{
			name:    "image, maker of a failed copy",
			page:    ImageFull(ImagePage{Image: img, CanDelete: true}),
			want:    []string{"danger:delete-link"},
			confirm: map[string]string{"delete-link": img.URL + "/delete"},
		},
		{
			name:    "list's bulk bar",
			page:    BulkBar(cloud.Compute),
			want:    []string{"secondary:bulk-copy secondary:clear-selection danger:bulk-delete"},
			confirm: map[string]string{"bulk-delete": "/images/bulk-delete"},
		},
		{
			name:    "operation",
			page:    OpFull(OpDetail{Op: running, CanCancel: true}),
			want:    []string{"danger:cancel"},
			confirm: map[string]string{"cancel": "/operations/7/cancel"},
		},
		{
			name: "users",
			page: UsersFull(UsersPage{Users: []UserRow{{ID: 3, Name: "carol"}}}),
			want: []string{
				"primary:new-user",
				"secondary:make-admin secondary: danger:disable danger:end-sessions danger:delete-user",
			},
			confirm: map[string]string{
				"disable": "/admin/users/3/disable", "end-sessions": "/admin/users/3/sessions", "delete-user": "/admin/users/3/delete",
			},
		},
		{
			name: "users, a disabled admin",
			page: UsersFull(UsersPage{Users: []UserRow{{ID: 4, Name: "dan", Admin: true, Disabled: true}}}),
			want: []string{
				"primary:new-user",
				"secondary:enable secondary:revoke-admin secondary: danger:end-sessions danger:delete-user",
			},
			confirm: map[string]string{"end-sessions": "/admin/users/4/sessions", "delete-user": "/admin/users/4/delete"},
		},
		{
			name: "teams",
			page: TeamsFull(TeamsPage{}),
			want: []string{"primary:new-team"},
		},
		{
			name: "team",
			page: TeamFull(TeamPage{ID: 2, Name: "alpha", Members: []MemberRow{{UserID: 3, Name: "carol", Role: "editor"}},
				Folders: []FolderRef{{ID: "b1g"}}}),
			want:    []string{"danger:delete-team", "danger:remove-member", "secondary:unassign-folder"},
			confirm: map[string]string{"delete-team": "/admin/teams/2/delete", "remove-member": "/admin/teams/2/members/3/remove"},
		},
		{
			name: "folders",
			page: FoldersFull(FoldersPage{Folders: []FolderAdminRow{{ID: "b1g", Shared: true}, {ID: "b2g"}}}),
			want: []string{"secondary:unshare", "secondary:share"},
		},
		{
			name:    "your sessions",
			page:    SessionsFull(SessionsPage{Rows: []SessionRow{{ID: "here", Current: true}, {ID: "there"}}}),
			want:    []string{"danger:end-others", "secondary:end-session", "danger:end-session"},
			confirm: map[string]string{"end-others": SessionsEndOthersURL, "end-session": "/account/sessions/there/end"},
		},
		{
			name:    "copies, a failed copy's row",
			page:    CopyBatchFull(CopyBatchPage{Batch: "b", Rows: []CopyResultRow{{State: "ERROR", Name: "web-copy", DeleteURL: "/images/compute/fd8err/delete"}}}),
			want:    []string{"danger:delete-failed"},
			confirm: map[string]string{"delete-failed": "/images/compute/fd8err/delete"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, tt.page)
			var got []string
			doc.Find("[data-actions]").Each(func(_ int, bar *goquery.Selection) {
				var items []string
				rank := -1
				bar.Find("[data-kind]").Each(func(_ int, a *goquery.Selection) {
					kind := a.AttrOr("data-kind", "")
					items = append(items, kind+":"+a.AttrOr("data-testid", ""))
					r := map[string]int{"primary": 0, "secondary": 1, "danger": 2}[kind]
					if r < rank {
						t.Errorf("%s comes after a weightier action", a.AttrOr("data-testid", kind))
					}
					rank = r
					checkActionLook(t, a, kind, tt.confirm)
				})
				got = append(got, strings.Join(items, " "))
			})
			if strings.Join(got, " | ") != strings.Join(tt.want, " | ") {
				t.Errorf("bars = %q, want %q", got, tt.want)
			}
		})
	}
}

// checkActionLook checks one action's classes, and that a danger action
// asks first: it is a link, or a GET form's button, to its confirm page,
// and no form of its own posts.
func checkActionLook(t *testing.T, a *goquery.Selection, kind string, confirm map[string]string) {
	t.Helper()
	id := a.AttrOr("data-testid", kind)
	if a.Is("span.action") { // a component of its own (Reset password)
		return
	}
	classes := strings.Fields(a.AttrOr("class", ""))
	has := func(c string) bool {
		for _, x := range classes {
			if x == c {
				return true
			}
		}
		return false
	}
	switch kind {
	case "primary":
		if has("secondary") || has("outline") || has("danger") {
			t.Errorf("%s: primary with classes %q", id, classes)
		}
	case "secondary":
		if !has("secondary") || !has("outline") || has("danger") {
			t.Errorf("%s: secondary with classes %q", id, classes)
		}
	case "danger":
		if !has("danger") || has("secondary") || has("outline") {
			t.Errorf("%s: danger with classes %q", id, classes)
		}
		target := a.AttrOr("href", "")
		if a.Is("button") {
			target = a.AttrOr("formaction", "")
			if m := a.Closest("form").AttrOr("method", "get"); !strings.EqualFold(m, "get") {
				t.Errorf("%s: a danger button in a %s form acts at once", id, m)
			}
		} else if !a.Is("a") {
			t.Errorf("%s: a danger action is a <%s>, want a link to its confirm page", id, goquery.NodeName(a))
		}
		if want, ok := confirm[id]; ok && target != want {
			t.Errorf("%s leads to %q, want its confirm page %q", id, target, want)
		}
		if a.AttrOr("data-confirm", "") != target {
			t.Errorf("%s: data-confirm %q, want %q", id, a.AttrOr("data-confirm", ""), target)
		}
	default:
		t.Errorf("%s: unknown kind %q", id, kind)
	}
}

// TestConfirmPageNamesWhatGoes: the one confirm pattern has the danger
// button, posting confirm=yes, and a Cancel link back; outside /admin it
// shows no admin sub-nav.
func TestConfirmPageNamesWhatGoes(t *testing.T) {
	for _, section := range []string{"", AdminUsers} {
		doc := render(t, ConfirmFull(ConfirmPage{Section: section, Title: "End a session", Question: "End your session on Firefox on Linux?",
			Action: "/account/sessions/x/end", Button: "End this session", Back: "/account/sessions"}))
		form := doc.Find(`[data-testid="confirm"] form[method="post"]`)
		if form.AttrOr("action", "") != "/account/sessions/x/end" || form.Find(`input[name="confirm"][value="yes"]`).Length() != 1 {
			t.Errorf("section %q: the confirm form does not post confirm=yes to the action", section)
		}
		if b := form.Find(`[data-testid="confirm-button"]`); !b.HasClass("danger") || b.Text() != "End this session" {
			t.Errorf("section %q: confirm button %q, classes %q", section, b.Text(), b.AttrOr("class", ""))
		}
		if c := form.Find(`[data-testid="confirm-cancel"]`); c.AttrOr("href", "") != "/account/sessions" || c.Text() != "Cancel" {
			t.Errorf("section %q: no Cancel link back", section)
		}
		if got := doc.Find(`[data-testid="admin-nav"]`).Length() == 1; got != (section != "") {
			t.Errorf("section %q: admin nav shown = %v", section, got)
		}
	}
}
