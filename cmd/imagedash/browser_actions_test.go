package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// actionsInOrder is true when every actions bar on the page lists its
// actions primary, then secondary, then danger.
const actionsInOrder = `[...document.querySelectorAll("[data-actions]")].every(bar => {
	const rank = {primary: 0, secondary: 1, danger: 2};
	const ks = [...bar.querySelectorAll("[data-kind]")].map(e => rank[e.dataset.kind]);
	return ks.every((k, i) => i === 0 || ks[i-1] <= k);
})`

// pageBarPlaced is true when the page's bar (if any) is in the window and
// where the pattern puts it: beside the title on a desktop, a full-width
// row under it on a phone.
func pageBarPlaced(phone bool) string {
	return `(() => {
		const bar = document.querySelector("[data-actions=page]");
		if (!bar) return true;
		const head = bar.parentElement, h1 = head.querySelector("h1");
		const b = bar.getBoundingClientRect(), t = h1.getBoundingClientRect(), p = head.getBoundingClientRect();
		const inView = [...bar.querySelectorAll("[data-kind]")].every(e => { const r = e.getBoundingClientRect();
			return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth + 0.5 && r.top >= 0 && r.bottom <= window.innerHeight });
		if (!inView) return false;
		return ` + fmt.Sprint(phone) + `
			? b.top >= t.bottom - 1 && b.width >= p.width - 2
			: b.top < t.bottom && b.right >= p.right - 2;
	})()`
}

// actionsSignature is what the page's actions and rows say, to tell that
// nothing changed: every action's kind and testid, and the rows.
const actionsSignature = `JSON.stringify({acts: [...document.querySelectorAll("[data-actions] [data-kind]")].map(e => e.dataset.kind + ":" + (e.dataset.testid || "")),
	rows: document.querySelectorAll("tbody tr, [data-testid=image-row]").length})`

// TestBrowserActions is issue 17's item 11 in a real browser: on every
// page with actions, as the administrator at 1440 and at 390 px, the
// actions bar is there, in the window, in order (primary → secondary →
// danger) and in its place; and every danger action asks first: clicking
// it opens a confirm page naming what goes, and its Cancel leads back to a
// page where nothing changed. The console stays clean.
func TestBrowserActions(t *testing.T) {
	// Operations crawl, so the copy below is still running (and can be
	// cancelled) while the test looks at it.
	base, browser := demoApp(t, "--sim-images", "60", "--sim-time-scale", "1000")
	admin, errs := newPerson(t, browser)
	other, otherErrs := newPerson(t, browser) // a second session of the admin's, for "End this session…"
	runSteps(t, other, otherErrs, []step{
		{"the admin signs in elsewhere", chromedp.Steps(chromedp.Navigate(base+"/"), browserSignIn("admin", testAdminPassword))},
	})
	runSteps(t, admin, errs, []step{
		{"a desktop", chromedp.EmulateViewport(1440, 900)},
		{"the admin signs in", chromedp.Steps(chromedp.Navigate(base+"/"), browserSignIn("admin", testAdminPassword))},
		{"rows", chromedp.WaitVisible(chromedp.CSS(`[data-testid="image-row"]`))},
	})
	golden, alpha := folderIDOf(t, admin, "golden-images"), folderIDOf(t, admin, "team-alpha")
	steps := bulkCopySteps(golden, alpha, 1)
	steps[0].do = chromedp.Navigate(base + "/?status=READY&folder=" + golden)
	runSteps(t, admin, errs, steps)
	str := func(expr string) string {
		t.Helper()
		s, err := chromedp.Run(admin, chromedp.Evaluate[string](expr))
		if err != nil || s == "" {
			t.Fatalf("%s: %q, %v", expr, s, err)
		}
		return s
	}
	opURL := str(`document.querySelector("[data-testid=copy-result] [data-testid=op-link]")?.getAttribute("href") || ""`)
	runSteps(t, admin, errs, []step{
		{"the team's list", chromedp.Navigate(base + "/admin/teams")},
		{"a team", chromedp.WaitVisible(chromedp.CSS(`[data-testid="team-link"]`))},
	})
	teamURL := str(`document.querySelector("[data-testid=team-link]").getAttribute("href")`)
	runSteps(t, admin, errs, []step{
		{"the list", chromedp.Navigate(base + "/?status=READY&folder=" + golden)},
		{"rows", chromedp.WaitVisible(chromedp.CSS(`#image-table [data-testid="name"]`))},
	})
	imageURL := str(`document.querySelector("#image-table [data-testid=name]").getAttribute("href")`)

	pages := []struct {
		name, url, ready string
		// before readies the page for its danger actions (the bulk bar
		// needs a ticked row).
		before string
	}{
		{"image", imageURL, "image-actions", ""},
		// The bulk delete's Cancel leads to the folder's list, unfiltered.
		{"list", "/?folder=" + golden, "bulk-bar", `document.querySelector("[data-testid=select-row]").click()`},
		{"operation", opURL, "op-actions", ""},
		{"users", "/admin/users", "user-actions", ""},
		{"teams", "/admin/teams", "page-actions", ""},
		{"team", teamURL, "member-actions", ""},
		{"folders", "/admin/folders", "folder-actions", ""},
		{"your sessions", "/account/sessions", "session-actions", ""},
	}
	asked := map[string]bool{}
	for _, width := range []int{1440, 390} {
		phone := width == 390
		runSteps(t, admin, errs, []step{{fmt.Sprintf("%d px", width), chromedp.EmulateViewport(int64(width), 844)}})
		for _, p := range pages {
			runSteps(t, admin, errs, []step{
				{p.name + " at " + fmt.Sprint(width), chromedp.Navigate(base + p.url)},
				{p.name + ": its actions", chromedp.WaitVisible(chromedp.CSS(`[data-testid="` + p.ready + `"]`))},
				{p.name + ": in order", until(actionsInOrder)},
				{p.name + ": the page's bar in its place and in the window", until(pageBarPlaced(phone))},
				{p.name + ": three looks only", until(`[...document.querySelectorAll("[data-actions] [data-kind]:not(span)")].every(e =>
					e.dataset.kind === "primary" ? !e.classList.contains("secondary") && !e.classList.contains("danger") :
					e.dataset.kind === "secondary" ? e.classList.contains("secondary") && e.classList.contains("outline") :
					e.classList.contains("danger") && !e.classList.contains("outline") && getComputedStyle(e).borderTopColor !== getComputedStyle(e).backgroundColor)`)},
			})
			if phone {
				continue
			}
			// Every danger action asks first: its confirm page, then Cancel.
			dangers := str(`JSON.stringify([...new Set([...document.querySelectorAll("[data-actions] [data-kind=danger]")].map(e => e.dataset.testid))])`)
			for _, id := range strings.Split(strings.Trim(dangers, `[]`), ",") {
				id = strings.Trim(id, `"`)
				if id == "" {
					continue
				}
				runSteps(t, admin, errs, []step{
					{p.name + " again", chromedp.Navigate(base + p.url)},
					{p.name + ": ready", chromedp.WaitVisible(chromedp.CSS(`[data-testid="` + p.ready + `"]`))},
				})
				if p.before != "" {
					runSteps(t, admin, errs, []step{{p.name + ": ready to act", chromedp.Evaluate[chromedp.Void](p.before)}})
				}
				before := str(actionsSignature)
				runSteps(t, admin, errs, []step{
					{p.name + ": " + id, chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-actions] [data-kind=danger][data-testid=` + id + `]").click()`)},
					{p.name + ": " + id + " asks, naming what goes", until(`(() => { const c = document.querySelector("section[data-testid=confirm], section[data-testid=image-delete], section[data-testid=bulk-delete]");
						return c !== null && (c.querySelector("h1")?.textContent.trim() || "") !== "" && c.querySelector("button.danger[type=submit]") !== null })()`)},
					{p.name + ": " + id + ": Cancel", chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-testid=confirm-cancel], section[data-testid=image-delete] [data-testid=cancel], section[data-testid=bulk-delete] [data-testid=cancel]").click()`)},
					{p.name + ": back", chromedp.WaitVisible(chromedp.CSS(`[data-testid="` + p.ready + `"]`))},
				})
				asked[id] = true
				if after := str(actionsSignature); after != before {
					t.Errorf("%s: %s changed the page before it was confirmed:\nbefore %s\nafter  %s", p.name, id, before, after)
				}
			}
		}
	}
	// And confirming acts: the operation's Cancel, through its new page.
	runSteps(t, admin, errs, []step{
		{"a desktop again", chromedp.EmulateViewport(1440, 900)},
		{"the operation", chromedp.Navigate(base + opURL)},
		{"Cancel…", chromedp.Click(chromedp.CSS(`[data-actions] [data-testid="cancel"]`))},
		{"the question", chromedp.WaitVisible(chromedp.CSS(`[data-testid="confirm-button"]`))},
		{"confirm", chromedp.Click(chromedp.CSS(`[data-testid="confirm-button"]`))},
	})
	if err := untilAcrossLoads(admin, `location.pathname === "`+opURL+`" &&
		document.querySelector("[data-testid=op-detail]") !== null && document.querySelector("[data-actions] [data-testid=cancel]") === null`); err != nil {
		t.Fatalf("after confirming Cancel: not back on the operation, or it still offers Cancel: %v", err)
	}
	for _, id := range []string{"delete-link", "bulk-delete", "cancel", "disable", "end-sessions", "delete-user",
		"delete-team", "remove-member", "end-others", "end-session"} {
		if !asked[id] {
			t.Errorf("no page offered the danger action %s", id)
		}
	}
	for _, e := range append(errs.get(), otherErrs.get()...) {
		t.Errorf("the console has an error: %s", e)
	}
}
