package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserPlainMessages is issue 17's defects 4 and 5 in a real
// browser, against a cloud whose every operation fails: a copier's copy
// fails, and every place that says so (the copies page, the monitor, the
// operation's page, the new image's page) says it in plain words with the
// folder's name, never the cloud's code or text; the new image's
// operations card names the person who asked (not the cloud's account)
// and fits its card at a desktop's and at a phone's width.
func TestBrowserPlainMessages(t *testing.T) {
	t.Parallel() // its own app, browser and data: most of its time is waiting
	base, _, amir, errs := demoSignedIn(t, "amir", "--sim-images", "120", "--sim-time-scale", "0.05", "--sim-op-error-rate", "1")
	golden, alpha := folderIDOf(t, amir, "golden-images"), folderIDOf(t, amir, "team-alpha")

	// The plain sentence for an operation the cloud failed on its side,
	// and what the cloud's own message and code would show.
	const plain = "could not finish the copy in team-alpha"
	noRaw := `(() => { const t = document.body.innerText;
		return !["Internal", "injected fault", "rpc error", "NotFound"].some(w => t.includes(w)); })()`

	runSteps(t, amir, errs, []step{
		{"the golden folder's ready images", chromedp.Navigate(base + "/?status=READY&folder=" + golden)},
		{"rows", chromedp.WaitVisible(chromedp.CSS(`[data-testid="select-row"]`))},
		{"tick one", chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-testid=select-row]").click()`)},
		{"copy selected", chromedp.Click(chromedp.CSS(`[data-testid="bulk-copy"]`))},
		{"bulk copy form", chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-copy-form"]`))},
		{"into team-alpha", chromedp.Click(chromedp.CSS(`[data-testid="target"][value="` + alpha + `"]`))},
		{"copy", chromedp.Click(chromedp.CSS(`[data-testid="copy-submit"]`))},
		// One image goes straight to the batch; several show a plan first.
		{"the batch or its plan", chromedp.WaitVisible(chromedp.CSS(`[data-testid="copy-batch"], [data-testid="plan-row"]`))},
		{"confirm a plan", chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-testid=copy-confirm]")?.click()`)},
		{"the batch", chromedp.WaitVisible(chromedp.CSS(`[data-testid="copy-batch"]`))},
		{"the copy fails, in plain words with the folder's name", chromedp.Poll[chromedp.Void](
			`document.querySelector("[data-testid=copy-result][data-state=failed] [data-testid=copy-message]")?.textContent.includes("`+plain+`")`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second))},
		{"no raw words on the copies page", until(noRaw)},
		{"the operation's page", chromedp.Click(chromedp.CSS(`[data-testid="copy-result"] [data-testid="op-link"]`))},
		{"says it plainly", until(`document.querySelector("[data-testid=op-error-message]")?.textContent.includes("` + plain + `")`)},
		{"no cloud's own words for a copier", until(`document.querySelector("[data-testid=cloud-words]") === null`)},
		{"no raw words on the operation's page", until(noRaw)},
		{"the monitor", chromedp.Navigate(base + "/operations")},
		{"says it plainly", until(`[...document.querySelectorAll("[data-testid=op-row] .op-msg")].some(m => m.textContent.includes("` + plain + `"))`)},
		{"no raw words on the monitor", until(noRaw)},
	})

	// The failed copy's image (ERROR), as its page shows it.
	runSteps(t, amir, errs, []step{
		{"the team's list", chromedp.Navigate(base + "/?folder=" + alpha + "&status=ERROR")},
		{"the failed copy", chromedp.WaitVisible(chromedp.CSS(`#image-table [data-testid="name"]`))},
		{"its page", chromedp.Evaluate[chromedp.Void](`location.href = document.querySelector("#image-table [data-testid=name]").href`)},
		{"its operations card", chromedp.WaitVisible(chromedp.CSS(`#image-operations[data-state="loaded"] [data-testid="operation"]`))},
		{"names the person who asked", until(`document.querySelector("[data-testid=operation-by]")?.textContent === "amir"`)},
		{"not the cloud's account", until(`!document.querySelector("#image-operations").innerText.includes("ajesim")`)},
		{"its failure in plain words", until(`document.querySelector("[data-testid=operation-error]")?.textContent.includes("` + plain + `")`)},
		{"no raw words on the image page", until(noRaw)},
	})
	// Nothing is clipped: the card's table fits the card, at a desktop's
	// width and at a phone's, with no horizontal page scroll on the phone.
	fits := `(() => { const t = document.querySelector("[data-testid=image-ops-table]"), c = document.querySelector("#image-operations");
		return t.scrollWidth <= c.clientWidth && t.getBoundingClientRect().right <= c.getBoundingClientRect().right + 1; })()`
	runSteps(t, amir, errs, []step{
		{"at 1440 px", chromedp.EmulateViewport(1440, 900)},
		{"the card fits", until(fits)},
		{"at 390 px", chromedp.EmulateViewport(390, 844)},
		{"the card fits", until(fits)},
		{"the person still shows", until(`document.querySelector("[data-testid=operation-by]").getBoundingClientRect().width > 0`)},
	})
	for _, e := range errs.get() {
		if !strings.Contains(e, "status of 4") {
			t.Errorf("amir's pages reported: %s", e)
		}
	}
}
