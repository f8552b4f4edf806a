package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// hasHeader is true when the page has the one header: the three service
// tabs, the folder picker with its folders, and the image search box.
const hasHeader = `document.querySelectorAll("header.app-header [data-testid=service-tabs] a").length === 3 &&
	document.querySelectorAll("header.app-header #folder-picker [data-testid=folder-option]").length > 0 &&
	document.querySelector("header.app-header form#search input#q") !== null`

// folderCells is the Folder column's names, as a JSON array.
const folderCells = `JSON.stringify([...document.querySelectorAll("#image-table [data-testid=folder]")].map(c => c.textContent.trim()))`

// textLeft is the left edge of the text of the first element matching a
// selector (not of its box: a nav link is padded).
func textLeft(sel string) string {
	return `(() => { const r = document.createRange(); r.selectNodeContents(document.querySelector(` + strconv.Quote(sel) + `)); return r.getBoundingClientRect().left })()`
}

// textGap is the space between the texts of the first two elements
// matching a selector.
func textGap(sel string) string {
	return `(() => { const [a, b] = [...document.querySelectorAll(` + strconv.Quote(sel) + `)].map(e => { const r = document.createRange(); r.selectNodeContents(e); return r.getBoundingClientRect() }); return b.left - a.right })()`
}

// TestBrowserNavEveryPage is issue 17's items 6 and 7 in a real browser:
// every page (the list, an image, the operations, each admin page, the
// account page) has the service tabs, the folder picker and the search box;
// the search on the operations page searches images, and its folder picker
// leads to the list of that folder; the list's Folder column names each
// row's folder, links to the list of that folder, and sorts a folder's rows
// together; a person of a team sees no other team's folder in any of it.
// At 1440 px the admin sub-nav starts where the brand and the page title
// do and is spaced as the service tabs are (screenshots of /operations and
// /admin/users in IMAGEDASH_SHOTS, else the test's temp dir).
func TestBrowserNavEveryPage(t *testing.T) {
	t.Parallel() // reads only: the shared demo app; most of its time is waiting
	base, browser := readOnlyDemo(t)
	admin, errs := newPerson(t, browser)
	runSteps(t, admin, errs, []step{
		{"viewport 1440", chromedp.EmulateViewport(1440, 900)},
		{"admin signs in", chromedp.Steps(chromedp.Navigate(base+"/"), browserSignIn("admin", testAdminPassword))},
		{"rows", chromedp.WaitVisible(chromedp.CSS(`#image-table [data-testid="image-row"]`))},
	})
	image, err := chromedp.Run(admin, chromedp.Evaluate[string](`document.querySelector("#image-table [data-testid=name]").getAttribute("href")`))
	if err != nil || !strings.HasPrefix(image, "/images/") {
		t.Fatalf("an image's link: %q, %v", image, err)
	}
	for _, page := range []struct{ path, ready string }{
		{"/", `[data-testid="image-table"]`},
		{image, `[data-testid="image-detail"]`},
		{"/families", `#families`},
		{"/operations", `[data-testid="ops"]`},
		{"/admin/users", `[data-testid="admin-users"]`},
		{"/admin/teams", `[data-testid="admin-nav"]`},
		{"/admin/folders", `[data-testid="admin-nav"]`},
		{"/admin/audit", `[data-testid="audit-table"]`},
		{"/account/sessions", `[data-testid="account-sessions"]`},
	} {
		runSteps(t, admin, errs, []step{
			{"open " + page.path, chromedp.Navigate(base + page.path)},
			{page.path + " loaded", chromedp.WaitVisible(chromedp.CSS(page.ready))},
			{page.path + " has the header", until(hasHeader)},
		})
	}

	// The admin sub-nav, aligned with the header and the page.
	shots := os.Getenv("IMAGEDASH_SHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	for _, page := range []struct{ path, ready, file string }{
		{"/operations", `[data-testid="ops"]`, "nav-operations-1440.png"},
		{"/admin/users", `[data-testid="admin-users"]`, "nav-admin-1440.png"},
	} {
		runSteps(t, admin, errs, []step{
			{"open " + page.path, chromedp.Navigate(base + page.path)},
			{page.path + " loaded", chromedp.WaitVisible(chromedp.CSS(page.ready))},
			{page.path + " at 1440 px", until(`window.innerWidth === 1440`)},
		})
		png, err := chromedp.Run(admin, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, page.file), png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", filepath.Join(shots, page.file))
	}
	for name, cond := range map[string]string{
		"the sub-nav starts where the title does": `Math.abs(` + textLeft(`.admin-nav a`) + ` - ` + textLeft(`main h1`) + `) <= 1`,
		"the title starts where the brand does":   `Math.abs(` + textLeft(`header .brand`) + ` - ` + textLeft(`main h1`) + `) <= 1`,
		"the sub-nav is spaced as the tabs are":   `Math.abs(` + textGap(`.admin-nav a`) + ` - ` + textGap(`header .tabs a`) + `) <= 1`,
	} {
		ok, err := chromedp.Run(admin, chromedp.Evaluate[bool](cond))
		if err != nil || !ok {
			t.Errorf("/admin/users: %s: %v, %v", name, ok, err)
		}
	}

	// The Folder column: a row's folder links to the list of that folder,
	// and the column sorts a folder's rows together.
	runSteps(t, admin, errs, []step{
		{"the list", chromedp.Navigate(base + "/")},
		{"rows", chromedp.WaitVisible(chromedp.CSS(`#image-table [data-testid="folder"] a`))},
		{"every row names its folder", until(`(() => { const n = ` + folderCells + `; return JSON.parse(n).every(s => s !== "" && s !== "—") })()`)},
		{"mark", chromedp.Evaluate[chromedp.Void](`document.body.dataset.mark = "kept"`)},
		{"sort by folder", chromedp.Click(chromedp.CSS(`[data-testid="sort-folder"]`))},
		{"sorted", until(`location.search.includes("sort=folder") &&
			document.querySelector("th:has([data-testid=sort-folder])").getAttribute("aria-sort") === "ascending"`)},
		{"a folder's rows together", until(`(() => { const n = JSON.parse(` + folderCells + `); const seen = new Set();
			return n.length > 1 && n.every((v, i) => { if (i > 0 && n[i-1] !== v && seen.has(v)) return false; seen.add(v); return true }) })()`)},
		{"open a row's folder", chromedp.Evaluate[chromedp.Void](
			`(() => { const links = [...document.querySelectorAll("#image-table [data-testid=folder] a")];
				(links.find(a => a.textContent.trim() === "team-alpha") || links[links.length - 1]).click() })()`)},
		{"the folder's list", until(`new URLSearchParams(location.search).getAll("folder").length === 1 &&
			new URLSearchParams(location.search).get("sort") === "folder" &&
			(() => { const n = JSON.parse(` + folderCells + `); return n.length > 0 && n.every(v => v === n[0]) &&
				document.querySelector("#folder-summary").textContent.includes(n[0]) })()`)},
	})

	// On the operations page the search box searches images, and the folder
	// picker leads to the list of the folder picked.
	runSteps(t, admin, errs, []step{
		{"operations", chromedp.Navigate(base + "/operations")},
		{"ops loaded", chromedp.WaitVisible(chromedp.CSS(`[data-testid="ops"]`))},
		{"type a search", chromedp.SendKeys(chromedp.CSS(`#q`), "debian\n")},
		{"the image list, searched", until(`location.pathname === "/" && new URLSearchParams(location.search).get("q") === "debian" &&
			document.querySelector("#q").value === "debian" &&
			[...document.querySelectorAll("#image-table [data-testid=image-row]")].length > 0 &&
			[...document.querySelectorAll("#image-table [data-testid=image-row]")].every(r => r.textContent.toLowerCase().includes("debian"))`)},
		{"operations again", chromedp.Navigate(base + "/operations")},
		{"ops loaded again", chromedp.WaitVisible(chromedp.CSS(`[data-testid="ops"]`))},
		{"open the picker", chromedp.Click(chromedp.CSS(`#folder-picker summary`))},
		{"tick golden-images", chromedp.Evaluate[chromedp.Void](
			`[...document.querySelectorAll("#folder-picker label")].find(l => l.textContent.trim() === "golden-images").querySelector("input").click()`)},
		{"show", chromedp.Click(chromedp.CSS(`#folder-picker button[type="submit"]`))},
		{"the golden list", until(`location.pathname === "/" && new URLSearchParams(location.search).getAll("folder").length === 1 &&
			document.querySelector("#folder-summary").textContent.includes("golden-images") &&
			JSON.parse(` + folderCells + `).every(v => v === "golden-images")`)},
	})

	// A person of team alpha: their folders only, on every page.
	alice, aliceErrs := newPerson(t, browser)
	runSteps(t, alice, aliceErrs, []step{
		{"alice signs in", chromedp.Steps(chromedp.Navigate(base+"/"), browserSignIn("alice", demoPassword))},
		{"alice's rows", chromedp.WaitVisible(chromedp.CSS(`#image-table [data-testid="image-row"]`))},
		{"alice's folder cells", until(`JSON.parse(` + folderCells + `).every(v => v === "golden-images" || v === "team-alpha")`)},
		{"sorted by folder, both ways", chromedp.Navigate(base + "/?sort=folder&dir=desc")},
		{"alice's folders only", until(`JSON.parse(` + folderCells + `).length > 0 && JSON.parse(` + folderCells + `).every(v => v === "golden-images" || v === "team-alpha")`)},
	})
	for _, path := range []string{"/operations", "/account/sessions"} {
		runSteps(t, alice, aliceErrs, []step{
			{"alice opens " + path, chromedp.Navigate(base + path)},
			{path + " has the header", until(hasHeader)},
			{path + ": alice's folders", until(folderNames + ` === ` + strconv.Quote(`["golden-images","team-alpha"]`) +
				` && !document.body.textContent.includes("team-beta")`)},
		})
	}

	for name, e := range map[string]*pageErrors{"admin": errs, "alice": aliceErrs} {
		if got := e.get(); len(got) > 0 {
			t.Errorf("%s's pages reported errors (CSP violations, exceptions): %q", name, got)
		}
	}
}
