package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/imagedash/imagedash/cloud/sim"
)

// TestBrowserFailedCopyIsNotADeadEnd: a copier's copy fails in the
// emulator (every operation fails while OpErrorRate is 1). The result page
// greets them with a toast linking the new image and its operation; once
// the copy has failed, its row offers to delete the ERROR image it left;
// from the toast they open that image, see Delete (and no Edit), and delete
// it through the confirmation, and (the cloud well again) it is gone. A
// viewer of the same team sees no Delete on it. No page reports an error.
func TestBrowserFailedCopyIsNotADeadEnd(t *testing.T) {
	t.Parallel() // its own app, browser and data: most of its time is waiting
	emu, err := sim.New(sim.Options{Seed: 1, Images: 120, TimeScale: 0.3, Faults: sim.Faults{OpErrorRate: 1}})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	folders := map[string]string{}
	for _, f := range emu.Folders() {
		folders[f.GetName()] = f.GetId()
	}
	golden, alpha := folders["golden-images"], folders["team-alpha"]
	base, _, stop := startRun(t, "--endpoint", addr, "--sync-interval", "2s")
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	waitHealthy(t, base)
	// The people, made by the admin through the admin pages.
	admin := faultClient(&fiveXX{})
	faultSignIn(t, admin, base, "admin", testAdminPassword)
	waitRows(t, admin, base+"/?"+url.Values{"folder": {golden}, "status": {"READY"}}.Encode())
	const pass = "copies-password-1234"
	team := faultPostOK(t, admin, base, "/admin/teams", url.Values{"name": {"alpha"}}).Request.URL.Path
	faultPostOK(t, admin, base, team+"/folders", url.Values{"folder": {alpha}})
	faultPostOK(t, admin, base, "/admin/folders/share", url.Values{"folder": {golden}, "shared": {"true"}})
	for _, p := range []struct{ user, role string }{{"amir", "copier"}, {"ava", "viewer"}} {
		resp := faultPostOK(t, admin, base, "/admin/users", url.Values{"username": {p.user}, "password": {pass}})
		faultPostOK(t, admin, base, team+"/members", url.Values{"user": {resp.Request.URL.Query().Get("id")}, "role": {p.role}})
	}

	browser, _ := newBrowser(t)
	amir, amirErrs := newPerson(t, browser)
	runSteps(t, amir, amirErrs, []step{
		{"amir signs in", chromedp.Steps(chromedp.Navigate(base+"/?status=READY&folder="+golden), browserSignIn("amir", pass))},
		{"the golden folder's ready images", chromedp.WaitVisible(chromedp.CSS(`[data-testid="image-row"]`))},
	})

	src, err := chromedp.Run(amir, chromedp.Evaluate[string](`document.querySelector("#image-table [data-testid=name]").getAttribute("href")`))
	if err != nil || !strings.HasPrefix(src, "/images/compute/") {
		t.Fatalf("a golden image's link: %q, %v", src, err)
	}

	runSteps(t, amir, amirErrs, []step{
		{"the copy form, into team-alpha", chromedp.Navigate(base + src + "/copy?folder=" + alpha)},
		{"the form", chromedp.WaitVisible(chromedp.CSS(`[data-testid="copy-form"]`))},
		{"team-alpha ticked", until(`document.querySelector('[data-testid=target][value="` + alpha + `"]').checked`)},
		{"a name", chromedp.SetValue(chromedp.CSS(`[data-testid="copy-form"] input[name="name"]`), "doomed-copy")},
		{"copy", chromedp.Click(chromedp.CSS(`[data-testid="copy-submit"]`))},
		{"the batch", chromedp.WaitVisible(chromedp.CSS(`[data-testid="copy-batch"]`))},
		{"the toast", chromedp.WaitVisible(chromedp.CSS(`[data-testid="copy-toast"]`))},
		{"it names the new image", until(`document.querySelector("[data-testid=toast-image]").textContent.trim() === "doomed-copy"`)},
		{"linking its page and its operation", until(`document.querySelector("[data-testid=toast-image]").getAttribute("href").startsWith("/images/compute/") &&
			document.querySelector("[data-testid=toast-op]").getAttribute("href").startsWith("/operations/")`)},
		{"the copy fails", chromedp.Poll[chromedp.Void](`document.querySelector("[data-testid=copy-result]")?.dataset.state === "failed"`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second))},
		{"its row offers to delete what it left", until(`document.querySelector("[data-testid=delete-failed]")?.getAttribute("href") ===
			document.querySelector("[data-testid=toast-image]").getAttribute("href") + "/delete"`)},
		{"the toast is still there to follow", chromedp.WaitVisible(chromedp.CSS(`[data-testid="toast-image"]`))},
	})
	img, err := chromedp.Run(amir, chromedp.Evaluate[string](`document.querySelector("[data-testid=toast-image]").getAttribute("href")`))
	if err != nil {
		t.Fatal(err)
	}

	// ava, viewer of team-alpha, sees the ERROR image but may not delete it.
	ava, avaErrs := newPerson(t, browser)
	runSteps(t, ava, avaErrs, []step{
		{"ava signs in", chromedp.Steps(chromedp.Navigate(base+img), browserSignIn("ava", pass))},
		{"the image", chromedp.WaitVisible(chromedp.CSS(`[data-testid="image-detail"]`))},
		{"no Delete for a viewer", until(`document.querySelector("[data-testid=delete-link]") === null`)},
	})

	// The cloud well again (the fault is decided when an operation starts):
	// the delete, sent through its operation as any other, ends and the
	// image is gone.
	emu.SetFaults(sim.Faults{})
	runSteps(t, amir, amirErrs, []step{
		{"open the new image from the toast", chromedp.Click(chromedp.CSS(`[data-testid="toast-image"]`))},
		{"its page", chromedp.WaitVisible(chromedp.CSS(`[data-testid="image-detail"]`))},
		{"ERROR", until(`location.pathname === "` + img + `" && document.querySelector("[data-testid=image-detail] .badge").textContent.toLowerCase().includes("error")`)},
		{"Delete for its maker, no Edit", until(`document.querySelector("[data-testid=delete-link]") !== null && document.querySelector("[data-testid=edit-link]") === null`)},
		{"delete", chromedp.Click(chromedp.CSS(`[data-testid="delete-link"]`))},
		{"the confirmation names it", until(`document.querySelector("[data-testid=delete-name]")?.textContent.includes("doomed-copy")`)},
		{"confirm", chromedp.Click(chromedp.CSS(`[data-testid="confirm-delete"]`))},
		{"back on the list", chromedp.WaitVisible(chromedp.CSS(`#image-table`))},
		{"the list says so", until(`document.querySelector("#toasts").textContent.includes("Deleting doomed-copy")`)},
	})
	runSteps(t, amir, amirErrs, []step{
		{"ask for the image until it is gone", chromedp.Evaluate[chromedp.Void](`(() => {
			const tick = () => fetch("` + img + `").then(r => { if (r.status === 404) { document.body.dataset.gone = "1" } else { setTimeout(tick, 200) } });
			tick(); })()`)},
		{"gone", chromedp.Poll[chromedp.Void](`document.body.dataset.gone === "1"`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second))},
	})
	// The one 404 expected is the test's own ask for the deleted image.
	var errs []string
	for _, e := range append(amirErrs.get(), avaErrs.get()...) {
		if !strings.Contains(e, "404") || !strings.HasSuffix(e, img+")") {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		t.Errorf("page errors: %q", errs)
	}
}
