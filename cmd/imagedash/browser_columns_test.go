package main

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/views"
)

// Expressions of the columns test, on the image list.
const (
	// columnTitles is the titles of the table's columns, without the
	// selection column and the sort arrows, as a JSON array.
	columnTitles = `JSON.stringify([...document.querySelectorAll("#image-table thead th")].slice(1).map(th => th.textContent.replace(/[▲▼]/g, "").trim()))`
	// listRows is the number of rows of the list.
	listRows = `document.querySelectorAll("#image-table [data-testid=image-row]").length`
	// compactTable says the table is compact.
	compactTable = `document.querySelector("#image-table table[data-testid=images]").classList.contains("compact")`
	// absoluteTimes says the rows show dates, the relative time on hover.
	absoluteTimes = `(() => { const t = document.querySelector("#image-table [data-testid=image-row] time");
		return t !== null && t.textContent.includes("UTC") && t.title.includes("ago") })()`
)

// computeTitles is the titles of the Compute table's columns, hidden ones
// left out, as a JSON array.
func computeTitles(hidden ...string) string {
	var out []string
	for _, c := range views.ShownColumns(views.ColumnsOf(cloud.Compute), hidden) {
		out = append(out, c.Title)
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// TestBrowserColumns is issue 17 item 8: alice opens the "Columns" menu on a
// filtered list, unticks ID and Labels, picks compact and dates, applies;
// the table re-renders without a page load, keeps the URL's filter, and
// shows exactly her columns, compact, with dates (the relative time on
// hover). A forged column key is refused by the boxes and changes nothing.
// A reload keeps all of it (saved on the server); bob, in another
// browser, still sees the defaults. No page reports an error.
func TestBrowserColumns(t *testing.T) {
	base, browser := demoApp(t, "--sim-images", "150")
	// Every column, and the ones alice keeps: all but ID and Labels.
	defaults, chosenColumns := computeTitles(), computeTitles("id", "labels")

	alice, errs := newPerson(t, browser)
	runSteps(t, alice, errs, []step{
		{"sign in", chromedp.Steps(chromedp.Navigate(base+"/?status=READY"), browserSignIn("alice", demoPassword))},
		{"the filtered list", until(listRows + ` > 0 && location.search.includes("status=READY")`)},
		{"default columns", until(columnTitles + ` === '` + defaults + `' && !` + compactTable)},
		{"relative times, the date on hover", until(`(() => { const t = document.querySelector("#image-table [data-testid=image-row] time");
			return t !== null && t.textContent.includes("ago") && t.title.includes("UTC") })()`)},
		// A full page load would lose the mark; htmx keeps it.
		{"mark", chromedp.Evaluate[chromedp.Void](`document.body.dataset.mark = "kept"`)},
		{"open the menu", chromedp.Click(chromedp.CSS(`[data-testid="columns-menu"]`))},
		{"menu open", until(`document.querySelector("[data-testid=column-chooser]").open`)},
		{"untick ID", chromedp.Click(chromedp.CSS(`[data-testid="col-id"]`))},
		{"untick Labels", chromedp.Click(chromedp.CSS(`[data-testid="col-labels"]`))},
		{"compact", chromedp.Click(chromedp.CSS(`[data-testid="density-compact"]`))},
		{"dates", chromedp.Click(chromedp.CSS(`[data-testid="times-absolute"]`))},
		{"apply", chromedp.Click(chromedp.CSS(`[data-testid="prefs-apply"]`))},
		{"table re-rendered in place", until(columnTitles + ` === '` + chosenColumns + `' && ` + compactTable + ` && ` + absoluteTimes + ` &&
			` + listRows + ` > 0 && document.body.dataset.mark === "kept" && location.search.includes("status=READY") &&
			document.querySelector("[data-testid=filter-chip][data-kind=status]") !== null`)},
		{"a row has as many cells", until(`document.querySelector("#image-table [data-testid=image-row]").cells.length === ` + strconv.Itoa(len(views.ShownColumns(views.ColumnsOf(cloud.Compute), []string{"id", "labels"}))+1))},
		// A forged column is refused next to the boxes, quietly (an
		// expected 400 is no console error), and nothing changes.
		{"open the menu again", chromedp.Click(chromedp.CSS(`[data-testid="columns-menu"]`))},
		{"forge a column", chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-testid=col-os]").value = "secret_column"`)},
		{"apply the forged column", chromedp.Click(chromedp.CSS(`[data-testid="prefs-apply"]`))},
		{"refused by the field", until(`(document.querySelector("[data-testid=error-prefs-col]") || {textContent: ""}).textContent.includes("secret_column") &&
			` + columnTitles + ` === '` + chosenColumns + `'`)},
		{"reload", chromedp.Reload()},
		{"still applied", until(listRows + ` > 0 && document.body.dataset.mark !== "kept" && ` + columnTitles + ` === '` + chosenColumns + `' && ` +
			compactTable + ` && ` + absoluteTimes + ` && location.search.includes("status=READY")`)},
		{"the menu says so", until(`!document.querySelector("[data-testid=col-id]").checked && !document.querySelector("[data-testid=col-labels]").checked &&
			document.querySelector("[data-testid=col-family]").checked && document.querySelector("[data-testid=density-compact]").checked &&
			document.querySelector("[data-testid=times-absolute]").checked`)},
		{"another list of hers", chromedp.Navigate(base + "/?service=desktop")},
		{"her choice there too", until(`document.querySelector("#image-table") !== null &&
			!` + columnTitles + `.includes('"ID"') && !` + columnTitles + `.includes('"Labels"')`)},
	})
	// Chromium's own network line for the refused post is no page error;
	// htmx logs nothing for it (ExpectedRefusals).
	for _, e := range errs.get() {
		if !networkRefusal.MatchString(e) {
			t.Errorf("alice's page reported an error: %s", e)
		}
	}

	bob, bobErrs := newPerson(t, browser)
	runSteps(t, bob, bobErrs, []step{
		{"sign in", chromedp.Steps(chromedp.Navigate(base+"/"), browserSignIn("bob", demoPassword))},
		{"rows", until(listRows + ` > 0`)},
		{"bob sees the defaults", until(columnTitles + ` === '` + defaults + `' && !` +
			compactTable + ` && document.querySelector("#image-table [data-testid=image-row] time").textContent.includes("ago")`)},
	})
	if e := bobErrs.get(); len(e) > 0 {
		t.Errorf("bob's pages reported errors: %q", e)
	}
}
