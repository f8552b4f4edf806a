package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// settled is true once the page has loaded and no htmx request (a lazy
// section, a badge) is in flight.
const settled = `document.readyState === "complete" && document.querySelector(".htmx-request") === null && document.querySelector("main") !== null`

// TestBrowserWalkEveryPage is issue 17's "zero console errors and zero CSP
// violations across a scripted walk of every page as each role": a copier
// (amir), an editor (alice) and a viewer (ava) and the admin open every page the dashboard offers them (the
// lists of the three services, families, the sync state, an image and its
// forms that the role may use, a bulk copy, the operations and one of
// them, their sessions, and for the admin every admin page), following
// what the pages themselves link, so a role meets no refusal; no page
// reports an exception, a console error or a CSP violation.
func TestBrowserWalkEveryPage(t *testing.T) {
	t.Parallel() // its own app, browser and data: most of its time is waiting
	base, browser, amir, amirErrs := demoSignedIn(t, "amir", "--sim-images", "120", "--sim-time-scale", "0.05")
	// One copy, so that every role with the golden folder has an
	// operation to open.
	golden, alpha := folderIDOf(t, amir, "golden-images"), folderIDOf(t, amir, "team-alpha")
	steps := bulkCopySteps(golden, alpha, 1)
	steps[0].do = chromedp.Navigate(base + "/?status=READY&folder=" + golden)
	runSteps(t, amir, amirErrs, steps)

	for _, p := range []struct {
		name, password string
		admin          bool
	}{
		{"admin", testAdminPassword, true},
		{"alice", demoPassword, false},
		{"amir", demoPassword, false},
		{"ava", demoPassword, false},
		// Not bob: an editor of team beta sees the pages alice, an editor
		// of team alpha, walks; TestBrowserTwoTeams has his list and an
		// image of his team without a console error.
	} {
		t.Run(p.name, func(t *testing.T) {
			tab, errs := newPerson(t, browser)
			runSteps(t, tab, errs, []step{
				{"sign in", chromedp.Steps(chromedp.Navigate(base+"/"), browserSignIn(p.name, p.password))},
			})
			visited := 0
			visit := func(path string) {
				t.Helper()
				runSteps(t, tab, errs, []step{
					{"open " + path, chromedp.Navigate(base + path)},
					{"settled on " + path, until(settled)},
				})
				visited++
			}
			// link is the href of the first element matching sel, or "".
			link := func(sel string) string {
				t.Helper()
				href, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector(`+jsString(sel)+`)?.getAttribute("href") || ""`))
				if err != nil {
					t.Fatal(err)
				}
				return href
			}
			attr := func(sel, name string) string {
				t.Helper()
				v, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector(`+jsString(sel)+`)?.getAttribute(`+jsString(name)+`) || ""`))
				if err != nil {
					t.Fatal(err)
				}
				return v
			}

			for _, path := range []string{"/", "/?service=desktop", "/?service=baremetal", "/families", "/sync", "/operations", "/account/sessions"} {
				visit(path)
			}
			visit("/?service=compute&status=READY")
			image := link("#image-table [data-testid=name]")
			copyURL, editURL := attr("#image-table [data-testid=image-row]", "data-copy-url"), attr("#image-table [data-testid=image-row]", "data-edit-url")
			rowID := attr("#image-table [data-testid=image-row]", "data-id")
			if image != "" {
				visit(image)
				if del := link("[data-testid=image-detail] a[href$='/delete']"); del != "" {
					visit(del)
				}
			}
			for _, u := range []string{copyURL, editURL} {
				if u != "" {
					visit(u)
				}
			}
			if copyURL != "" && rowID != "" {
				visit("/images/bulk-copy?service=compute&id=" + rowID)
			}
			visit("/?service=desktop")
			if fromDesktop := link("[data-testid=new-from-desktop]"); fromDesktop != "" {
				visit(fromDesktop)
			}
			visit("/operations")
			if op := link("main a[href^='/operations/']"); op != "" && !strings.Contains(op, "?") {
				visit(op)
			}
			if p.admin {
				for _, path := range []string{"/admin/users", "/admin/teams", "/admin/folders", "/admin/audit"} {
					visit(path)
				}
				visit("/admin/teams")
				if team := link("main a[href^='/admin/teams/']"); team != "" {
					visit(team)
				}
			}
			t.Logf("%s walked %d pages", p.name, visited)
			if got := errs.get(); len(got) > 0 {
				t.Errorf("%s's walk of %d pages reported: %q", p.name, visited, got)
			}
		})
	}
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	return "`" + strings.NewReplacer("\\", "\\\\", "`", "\\`", "$", "\\$").Replace(s) + "`"
}
