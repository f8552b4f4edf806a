package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// countHTMXErrors starts counting, on the page's body (kept across boosted
// navigations), the requests htmx reports as failed.
const countHTMXErrors = `(() => { window.htmxErrors = [];
	for (const ev of ["htmx:responseError", "htmx:sendError", "htmx:swapError", "htmx:targetError"])
		document.body.addEventListener(ev, e => window.htmxErrors.push(ev + " " + (e.detail.xhr ? e.detail.xhr.status : ""))); })()`

// networkRefusal is Chromium's own line for an answer with a 4xx status
// ("Failed to load resource: … status of 422"): the browser logs it for
// every such answer, whoever asked, and no page can silence it.
var networkRefusal = regexp.MustCompile(`^error network: Failed to load resource: the server responded with a status of 4(00|03|04|09|22|29)\b`)

// TestBrowserQuietRefusals is issue 17's defect 2: a refusal a person causes
// (a refused edit 422, an invalid filter 400, a page they may not see 403)
// is shown where it belongs (next to the field, or in a toast) and htmx
// reports no error for it, so the console stays clean but for the
// browser's own network line.
func TestBrowserQuietRefusals(t *testing.T) {
	t.Parallel() // reads only (its edit is refused): the shared demo app; most of its time is waiting
	base, browser := readOnlyDemo(t)
	alice, errs := signedIn(t, base, browser, "alice")
	alpha := folderIDOf(t, alice, "team-alpha")
	runSteps(t, alice, errs, []step{
		{"the team's images", chromedp.Navigate(base + "/?folder=" + alpha)},
		{"rows", chromedp.WaitVisible(chromedp.CSS(`#image-table [data-testid="name"]`))},
		{"count htmx's errors", chromedp.Evaluate[chromedp.Void](countHTMXErrors)},

		// An invalid filter, as a stale link or a hand-made address asks it.
		{"a bad filter", chromedp.Evaluate[chromedp.Void](`htmx.ajax("GET", "/?service=nope", {target: "#image-table", swap: "outerHTML"})`)},
		{"its toast", until(`[...document.querySelectorAll("#toasts [data-testid=toast]")].some(t => t.textContent.includes('Unknown service "nope"')) &&
			document.querySelector("#image-table [data-testid=image-row]") !== null`)},

		// A refused edit: the message next to the field.
		{"open an image", chromedp.Click(chromedp.CSS(`#image-table [data-testid="name"]`))},
		{"edit", chromedp.Click(chromedp.CSS(`[data-testid="edit-link"]`))},
		{"the form", chromedp.WaitVisible(chromedp.CSS(`[data-testid="edit-form"]`))},
		{"a bad name", chromedp.SetValue(chromedp.CSS(`[data-testid="edit-form"] input[name="name"]`), "Not_A_Valid_Name")},
		{"save", chromedp.Click(chromedp.CSS(`[data-testid="save"]`))},
		{"refused next to the field", until(`document.querySelector("[data-testid=field-error][data-field=name]") !== null`)},

		// An invalid filter on the monitor: its form asks for a state that
		// does not exist; the message is next to the field.
		{"the monitor", chromedp.Navigate(base + "/operations")},
		{"its filters", chromedp.WaitVisible(chromedp.CSS(`[data-testid="ops-filter"]`))},
		{"count htmx's errors again", chromedp.Evaluate[chromedp.Void](countHTMXErrors)},
		{"a state that does not exist", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector("[data-testid=filter-state]");
			s.add(new Option("bogus", "bogus")); s.value = "bogus"; })()`)},
		{"apply", chromedp.Click(chromedp.CSS(`[data-testid="apply"]`))},
		{"refused next to the field", until(`document.querySelector("[data-testid=error-f-state]") !== null`)},

		// A page alice may not see, asked by htmx: a toast.
		{"the admin pages", chromedp.Evaluate[chromedp.Void](`htmx.ajax("GET", "/admin/users", {target: "#main"})`)},
		{"refused in a toast", until(`[...document.querySelectorAll("#toasts [data-testid=toast]")].some(t => t.textContent.includes("administrator"))`)},
	})
	got, err := chromedp.Run(alice, chromedp.Evaluate[string](`JSON.stringify(window.htmxErrors)`))
	if err != nil {
		t.Fatal(err)
	}
	if got != "[]" {
		t.Errorf("htmx reported errors for the expected refusals: %s", got)
	}
	for _, e := range errs.get() {
		if !networkRefusal.MatchString(e) {
			t.Errorf("the console has an error: %s", e)
		}
	}
}

// TestBrowserBatchProgress is issue 17's item 13: after a bulk copy, its
// result page shows "n of N done, k failed" with the failures listed, and
// moves by itself until the batch settles; a bulk delete's answer follows
// its batch the same way.
func TestBrowserBatchProgress(t *testing.T) {
	t.Parallel() // its own app, browser and data: most of its time is waiting
	// Operations take a few seconds; half of them fail.
	base, _, alice, errs := demoSignedIn(t, "alice", "--sim-images", "120", "--sim-time-scale", "1", "--sim-op-error-rate", "0.5")
	golden, alpha := folderIDOf(t, alice, "golden-images"), folderIDOf(t, alice, "team-alpha")
	steps := bulkCopySteps(golden, alpha, 4)
	steps[0].do = chromedp.Navigate(base + "/?status=READY&folder=" + golden)
	runSteps(t, alice, errs, steps)
	first, err := chromedp.Run(alice, chromedp.Evaluate[string](`JSON.stringify({text: document.querySelector("[data-testid=batch-progress-text]")?.textContent,
		inFlight: document.querySelector("[data-testid=batch-in-flight]") !== null})`))
	if err != nil {
		t.Fatal(err)
	}
	runSteps(t, alice, errs, []step{
		{"mark the page", chromedp.Evaluate[chromedp.Void](`document.body.dataset.mark = "kept"`)},
		{"settled by itself", chromedp.Poll[chromedp.Void](`(() => {
			const p = document.querySelector("#copy-results [data-testid=batch-progress]");
			return p && document.querySelector("#copy-results[data-state=settled]") !== null &&
				+p.dataset.done + +p.dataset.failed === 4 && document.querySelector("[data-testid=batch-in-flight]") === null; })()`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second))},
		{"no reload", until(`document.body.dataset.mark === "kept"`)},
	})
	type progress struct {
		Text          string
		Done, Failed  int
		Failures      []string
		FailedRows    int
		FailureLinks  int
		ProgressMax   string
		ProgressEnded string
	}
	js := `(() => { const p = document.querySelector("[data-testid=batch-progress]");
		return {Text: p.querySelector("[data-testid=batch-progress-text]").textContent, Done: +p.dataset.done, Failed: +p.dataset.failed,
			Failures: [...p.querySelectorAll("[data-testid=batch-failure]")].map(li => li.textContent.replace(/\s+/g, " ").trim()),
			FailedRows: document.querySelectorAll("[data-testid=copy-result][data-state=failed], [data-testid=copy-result][data-state=refused]").length,
			FailureLinks: p.querySelectorAll("[data-testid=batch-failure] a[href^='/operations/']").length,
			ProgressMax: p.querySelector("progress").getAttribute("max"), ProgressEnded: p.querySelector("progress").getAttribute("value")}; })()`
	got, err := chromedp.Run(alice, chromedp.Evaluate[progress](js))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("right after sending: %s; settled: %+v", first, got)
	if !strings.Contains(first, `"inFlight":true`) {
		t.Log("every copy had ended before the page was shown (a fast machine): no progress seen in flight")
	}
	want := strconv.Itoa(got.Done) + " of 4 done"
	if got.Failed > 0 {
		want += ", " + strconv.Itoa(got.Failed) + " failed"
	}
	if got.Text != want || got.Done+got.Failed != 4 || got.ProgressMax != "4" || got.ProgressEnded != "4" {
		t.Errorf("settled progress %+v, want %q", got, want)
	}
	if len(got.Failures) != got.Failed || got.FailedRows != got.Failed || got.FailureLinks != got.Failed {
		t.Errorf("failures listed %q (%d links), %d failed rows; want %d", got.Failures, got.FailureLinks, got.FailedRows, got.Failed)
	}
	for _, f := range got.Failures {
		if !strings.Contains(f, "into team-alpha:") || strings.HasSuffix(strings.TrimSuffix(f, "operation"), ": ") {
			t.Errorf("a failure without its folder or reason: %q", f)
		}
	}

	// alice deletes the copies that were made: the answer follows its batch.
	if got.Done > 0 {
		runSteps(t, alice, errs, []step{
			{"the team's copies", chromedp.Navigate(base + "/?status=READY&q=copy&folder=" + alpha)},
			{"the done ones", until(`document.querySelectorAll("#image-table [data-testid=image-row]").length === ` + strconv.Itoa(got.Done))},
			{"tick them", chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("#image-table [data-testid=select-row]")].forEach(b => b.click())`)},
			{"delete selected", chromedp.Click(chromedp.CSS(`[data-testid="bulk-delete"]`))},
			{"confirm page", chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-count"]`))},
			{"type the count", chromedp.SetValue(chromedp.CSS(`[data-testid="bulk-count"]`), strconv.Itoa(got.Done))},
			{"delete", chromedp.Click(chromedp.CSS(`[data-testid="confirm-bulk-delete"]`))},
			{"the answer", chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-summary"]`))},
			{"follows its batch to the end", chromedp.Poll[chromedp.Void](`(() => {
				const p = document.querySelector("[data-testid=batch-live] [data-testid=batch-progress]");
				return p && +p.dataset.done + +p.dataset.failed === `+strconv.Itoa(got.Done)+` && !p.querySelector("[data-testid=batch-in-flight]"); })()`,
				chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second))},
		})
	}
	for _, e := range errs.get() {
		t.Errorf("the pages reported: %s", e)
	}
}

// TestBrowserCountsFollowTheBadge is issue 17's defect 3 in the browser:
// when a badge sees its operation end, the header's counts reload on that
// event (not on their next 5 s poll), and say nothing is in flight.
func TestBrowserCountsFollowTheBadge(t *testing.T) {
	t.Parallel() // its own app, browser and data: most of its time is waiting
	// A copy takes several seconds: long enough to open its page first.
	base, _, amir, errs := demoSignedIn(t, "amir", "--sim-images", "120", "--sim-time-scale", "4")
	golden, alpha := folderIDOf(t, amir, "golden-images"), folderIDOf(t, amir, "team-alpha")
	steps := bulkCopySteps(golden, alpha, 1)
	steps[0].do = chromedp.Navigate(base + "/?status=READY&folder=" + golden)
	runSteps(t, amir, errs, steps)
	opURL, err := chromedp.Run(amir, chromedp.Evaluate[string](`document.querySelector("[data-testid=copy-result] [data-testid=op-link]")?.getAttribute("href") || ""`))
	if err != nil || !strings.HasPrefix(opURL, "/operations/") {
		t.Fatalf("the copy's operation: %q, %v", opURL, err)
	}
	runSteps(t, amir, errs, []step{
		{"its page", chromedp.Navigate(base + opURL)},
		{"its badge", chromedp.WaitVisible(chromedp.CSS(`#op-detail [data-testid="op-badge"]`))},
		{"the header's counts", until(`document.querySelector('#op-counts[hx-trigger*="every"]') !== null`)},
	})
	// Record what makes the header's counts reload from now on.
	live, err := chromedp.Run(amir, chromedp.Evaluate[bool](`(() => { window.countsBy = [];
		document.body.addEventListener("htmx:configRequest", e => { if (e.detail.elt.id === "op-counts")
			window.countsBy.push(e.detail.triggeringEvent ? e.detail.triggeringEvent.type : "none"); });
		return document.querySelector("#op-detail [data-testid=op-badge][data-live]") !== null &&
			document.querySelector("#op-counts").dataset.inflight === "1"; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if !live {
		t.Skip("the copy ended before its page was shown (a fast machine): no badge seen in flight")
	}
	runSteps(t, amir, errs, []step{
		{"the badge is final and the counts followed it", chromedp.Poll[chromedp.Void](`
			document.querySelector("#op-detail [data-testid=op-badge]:not([data-live])") !== null &&
			window.countsBy.includes("imagedash:op-done") &&
			document.querySelector("#op-counts").dataset.inflight === "0" &&
			document.querySelector("#op-counts [data-testid=count-inflight]") === null`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second))},
	})
	for _, e := range errs.get() {
		t.Errorf("the pages reported: %s", e)
	}
}
