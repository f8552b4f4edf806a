package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// noSidewaysScroll is true when the page is no wider than the window.
const noSidewaysScroll = `document.documentElement.scrollWidth <= window.innerWidth`

// rowsOnFirstScreen is true when at least n image rows end above the
// window's bottom edge, and each shows its name and status inside the
// window's width.
func rowsOnFirstScreen(n string) string {
	return `(() => {
		const rows = [...document.querySelectorAll("#image-table [data-testid=image-row]")];
		const fits = e => { const r = e.getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth && r.bottom <= window.innerHeight };
		return rows.length >= ` + n + ` && rows.slice(0, ` + n + `).every(r => fits(r.querySelector("[data-testid=name]")) && fits(r.querySelector(".badge")));
	})()`
}

// TestBrowserPhone is issue 17's item 9 in a real browser at a phone's
// width (390 × 844): the list shows rows on the first screen with their
// name and status, the header takes a few short lines, the filters and
// the bulk actions are reachable, and no page scrolls sideways: the list,
// the bulk copy form, an image's page and the operations. With
// $IMAGEDASH_SHOTS set it saves the list at 390 px and at 1440 px, light
// and dark (the README's screenshots: IMAGEDASH_SHOTS=docs).
func TestBrowserPhone(t *testing.T) {
	t.Parallel() // reads only: the shared demo app; most of its time is waiting
	base, browser := readOnlyDemo(t)
	amir, errs := signedIn(t, base, browser, "amir")
	runSteps(t, amir, errs, []step{
		{"a phone", chromedp.EmulateViewport(390, 844)},
		{"the list again", chromedp.Reload()},
		{"rows", chromedp.WaitVisible(chromedp.CSS(`[data-testid="image-row"]`))},
		{"three rows on the first screen", until(rowsOnFirstScreen("3"))},
		{"no sideways scroll", until(noSidewaysScroll)},
		{"a short header", until(`document.querySelector("header.app-header").getBoundingClientRect().height < 160`)},
		{"search and folders in reach", until(`(() => { const f = e => { const r = document.querySelector(e).getBoundingClientRect(); return r.width > 40 && r.right <= window.innerWidth };
			return f("form#search input#q") && f("#folder-picker summary") })()`)},
		{"the bulk actions in reach", until(`document.querySelector("[data-testid=bulk-copy]").getBoundingClientRect().right <= window.innerWidth`)},
	})
	shots := os.Getenv("IMAGEDASH_SHOTS")
	shot := func(name string) {
		if shots == "" {
			return
		}
		png, err := chromedp.Run(amir, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	shot("list-390.png")

	runSteps(t, amir, errs, []step{
		{"a filter on a phone", chromedp.SetValue(chromedp.CSS(`[data-testid="filters"] select[name="status"]`), "READY")},
		{"applied", chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-testid=filters] select[name=status]").dispatchEvent(new Event("change", {bubbles: true}))`)},
		{"the filtered list", until(`new URLSearchParams(location.search).get("status") === "READY" && ` + rowsOnFirstScreen("3"))},
		{"tick two", chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("[data-testid=select-row]")].slice(0, 2).forEach(b => b.click())`)},
		{"copy selected", chromedp.Click(chromedp.CSS(`[data-testid="bulk-copy"]`))},
		{"the bulk copy form", chromedp.WaitVisible(chromedp.CSS(`[data-testid="bulk-copy-form"]`))},
		{"its submit in reach", until(noSidewaysScroll + ` && document.querySelector("[data-testid=copy-submit]").getBoundingClientRect().right <= window.innerWidth`)},
		{"back to the list", chromedp.NavigateBack()},
		{"rows again", chromedp.WaitVisible(chromedp.CSS(`[data-testid="image-row"]`))},
		{"open an image", chromedp.Click(chromedp.CSS(`#image-table [data-testid="name"]`))},
		{"its page", chromedp.WaitVisible(chromedp.CSS(`[data-testid="image-detail"]`))},
		{"the image page fits", until(noSidewaysScroll)},
		{"the operations", chromedp.Navigate(base + "/operations")},
		{"the monitor", chromedp.WaitVisible(chromedp.CSS(`header.app-header`))},
		{"the monitor fits", until(noSidewaysScroll)},
	})

	if shots == "" {
		return
	}
	for _, v := range []struct{ name, scheme string }{{"list-1440.png", "light"}, {"list-1440-dark.png", "dark"}} {
		if _, err := chromedp.Call(amir, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v.scheme}}}); err != nil {
			t.Fatal(err)
		}
		runSteps(t, amir, errs, []step{
			{"a wide window", chromedp.EmulateViewport(1440, 900)},
			{"the list", chromedp.Navigate(base + "/?status=READY")},
			{"rows", chromedp.WaitVisible(chromedp.CSS(`[data-testid="image-row"]`))},
		})
		shot(v.name)
	}
}
