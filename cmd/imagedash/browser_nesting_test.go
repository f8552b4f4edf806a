package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// liveLinks are the links inside an element that polls or swaps itself.
const liveLinks = `[...document.querySelectorAll('[hx-trigger*="every"] a[href], [hx-target="this"] a[href]')]`

// bulkCopySteps tick the first n ready golden images and copy them into
// the folder into, up to the copies' result page.
func bulkCopySteps(golden, into string, n int) []step {
	selected := fmt.Sprintf("%d images selected", n)
	if n == 1 {
		selected = "1 image selected"
	}
	steps := []step{
		{"the golden folder's ready images", chromedp.Navigate(fmt.Sprintf("/?status=READY&folder=%s", golden))},
		{"rows", chromedp.WaitVisible(chromedp.CSS(`[data-testid="image-row"]`))},
		{"tick", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`[...document.querySelectorAll("[data-testid=select-row]")].slice(0, %d).forEach(b => b.click())`, n))},
		{"ticked", until(fmt.Sprintf(`document.querySelector("[data-testid=selected-count]").textContent === "%s"`, selected))},
		{"copy selected", chromedp.Click(chromedp.CSS(`[data-testid="bulk-copy"]`))},
		{"bulk copy form", chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-copy-form"]`))},
		{"into the folder", chromedp.Click(chromedp.CSS(`[data-testid="target"][value="` + into + `"]`))},
		{"copy", chromedp.Click(chromedp.CSS(`[data-testid="copy-submit"]`))},
	}
	if n > 1 { // one copy is sent without a plan to confirm
		steps = append(steps,
			step{"the plan to confirm", until(fmt.Sprintf(`document.querySelectorAll("[data-testid=plan-row]").length === %d`, n))},
			step{"confirm", chromedp.Click(chromedp.CSS(`[data-testid="copy-confirm"]`))})
	}
	return append(steps, step{"the batch", chromedp.WaitVisible(chromedp.CSS(`[data-testid="copy-batch"]`))})
}

// untilAcrossLoads waits for a JavaScript condition on a page that may be
// replaced by a plain navigation meanwhile: a wait cut short by the
// navigation (its page's context destroyed) starts again on the new page.
func untilAcrossLoads(ctx context.Context, expr string) error {
	var err error
	for range 20 {
		err = chromedp.Do(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second)))
		if err == nil || errors.Is(err, chromedp.ErrPollingTimeout) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// folderIDOf is the id of the folder picker's folder of that name.
func folderIDOf(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll("#folder-picker label")].find(l => l.textContent.trim() === "`+name+`").querySelector("input").value`))
	if err != nil || id == "" {
		t.Fatalf("folder %s: %v", name, err)
	}
	return id
}

// TestBrowserNoPageInsideALiveElement is issue 17's defect 1: a link inside
// an element that polls itself (the header's counts, a live operation badge,
// the monitor's in-flight rows, the copies' results) inherited its
// hx-target="this", so clicking it put a whole page inside the badge. Every
// link inside every live element, on every page that shows one, is clicked,
// and each click must load a whole page: the new address, one header, one
// main region, and nothing left of the page before.
func TestBrowserNoPageInsideALiveElement(t *testing.T) {
	t.Parallel() // its own app, browser and data: most of its time is waiting
	// Slow operations: the copies stay in flight while every link is tried.
	base, _, amir, errs := demoSignedIn(t, "amir", "--sim-images", "120", "--sim-time-scale", "300")
	golden, alpha := folderIDOf(t, amir, "golden-images"), folderIDOf(t, amir, "team-alpha")
	steps := bulkCopySteps(golden, alpha, 2)
	steps[0].do = chromedp.Navigate(base + "/?status=READY&folder=" + golden)
	runSteps(t, amir, errs, steps)
	runSteps(t, amir, errs, []step{{"two copies in flight", until(`document.querySelectorAll("[data-testid=copy-result][data-state=started]").length === 2`)}})
	batch, err := chromedp.Run(amir, chromedp.Evaluate[string](`location.pathname`))
	if err != nil {
		t.Fatal(err)
	}
	opURL, err := chromedp.Run(amir, chromedp.Evaluate[string](`document.querySelector("[data-testid=copy-result] [data-testid=op-link]").getAttribute("href")`))
	if err != nil || !strings.HasPrefix(opURL, "/operations/") {
		t.Fatalf("an operation's link: %q, %v", opURL, err)
	}
	list := "/?q=copy&folder=" + alpha
	runSteps(t, amir, errs, []step{
		{"the team's list", chromedp.Navigate(base + list)},
		{"a copy in it", chromedp.WaitVisible(chromedp.CSS(`#image-table [data-testid="name"]`))},
	})
	imageURL, err := chromedp.Run(amir, chromedp.Evaluate[string](`document.querySelector("#image-table [data-testid=name]").getAttribute("href")`))
	if err != nil || !strings.HasPrefix(imageURL, "/images/") {
		t.Fatalf("a copy's link: %q, %v", imageURL, err)
	}

	// Each page, with the live elements it must show before its links are
	// tried (the header's counts are on every page).
	pages := []struct {
		path, ready string
	}{
		{batch, `#copy-results[hx-trigger*="every"]`},
		{list, `#image-table [data-testid="op-badge"][data-live]`},
		{"/operations", `#ops-inflight[hx-trigger*="every"]`},
		{opURL, `#op-detail [data-testid="op-badge"][data-live]`},
		{imageURL, `[data-testid="image-ops"] [data-testid="op-badge"][data-live]`},
	}
	clicked := map[string]int{}
	for _, p := range pages {
		// The page is ready once htmx has processed its live elements,
		// the header's counts among them.
		ready := `(() => { const need = [document.querySelector('#op-counts[hx-trigger*="every"]'), document.querySelector(` + strconv.Quote(p.ready) + `)];
			return document.readyState === "complete" && need.every(e => e && e["htmx-internal-data"]); })()`
		open := func(what string) {
			t.Helper()
			runSteps(t, amir, errs, []step{{what, chromedp.Navigate(base + p.path)}})
			if err := untilAcrossLoads(amir, ready); err != nil {
				t.Fatalf("%s: its live elements: %v", what, err)
			}
		}
		open("open " + p.path)
		n, err := chromedp.Run(amir, chromedp.Evaluate[int](liveLinks+`.length`))
		if err != nil || n == 0 {
			t.Fatalf("%s: %d links in live elements (%v)", p.path, n, err)
		}
		for i := range n {
			if i > 0 {
				open("open " + p.path + " again")
			}
			// Mark the page, then click the i-th link as a person would
			// (htmx sees the click); a whole page replaces the mark.
			href, err := chromedp.Run(amir, chromedp.Evaluate[string](`(() => {
				const links = `+liveLinks+`;
				const a = links[Math.min(`+strconv.Itoa(i)+`, links.length - 1)];
				const mark = document.createElement("i"); mark.id = "nesting-mark"; document.querySelector("#main").prepend(mark);
				a.click();
				return a.href; })()`))
			if err != nil {
				t.Fatalf("%s: link %d: %v", p.path, i, err)
			}
			loaded := `location.href === ` + strconv.Quote(href) + ` && document.readyState === "complete" &&
				document.getElementById("nesting-mark") === null &&
				document.querySelectorAll("header.app-header").length === 1 &&
				document.querySelectorAll("main#main").length === 1 &&
				document.querySelectorAll("body header, body main").length === 2`
			if err := untilAcrossLoads(amir, loaded); err != nil {
				state, _ := chromedp.Run(amir, chromedp.Evaluate[string](`JSON.stringify({at: location.href, headers: document.querySelectorAll("header.app-header").length,
					mains: document.querySelectorAll("main").length, mark: document.getElementById("nesting-mark") !== null})`))
				t.Fatalf("%s: clicking %s inside a live element did not load its page: %s (%v)", p.path, href, state, err)
			}
			clicked[p.path]++
		}
	}
	t.Logf("links clicked inside live elements, by page: %v", clicked)
	if len(clicked) != len(pages) {
		t.Errorf("links clicked on %d pages, want %d", len(clicked), len(pages))
	}
	for _, e := range errs.get() {
		t.Errorf("the pages reported: %s", e)
	}
}
