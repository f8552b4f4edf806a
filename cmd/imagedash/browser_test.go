package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// newBrowser starts headless Debian Chromium and collects what pages report
// as errors. Without Chromium the test is skipped locally and fails in CI,
// where scripts/test installs it.
func newBrowser(t *testing.T) (context.Context, *pageErrors) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing in CI: %v", chromiumPath, err)
		}
		t.Skipf("%s missing (apt-get install -y chromium)", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })

	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// Exceptions, console.error and browser log errors (CSP violations and
	// failed loads arrive there).
	errs := &pageErrors{}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				errs.add(fmt.Sprintf("%s %s: %s (%s)", m.Type, m.Source, m.Text, m.URL))
			}
		}
	}()
	return ctx, errs
}

// until waits for a JavaScript condition, checking every 50 ms (animation
// frame polling stalls in a background headless tab).
func until(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))
}

// pageErrors collects what the page reported as errors.
type pageErrors struct {
	mu   sync.Mutex
	list []string
}

func (p *pageErrors) add(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, s)
}

func (p *pageErrors) get() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.list...)
}

// TestBrowserFolderSwitchAndPaging drives the page as a person would: under
// the strict CSP, htmx must load, switch folders by swapping only the table,
// keep the tabs in step (out-of-band swap), leave Back working, and page.
func TestBrowserFolderSwitchAndPaging(t *testing.T) {
	// Enough images that the golden folder has a second page of 100.
	base, _, stop := startRun(t, "--sim-images", "400")
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	waitHealthy(t, base)
	ctx, errs := newBrowser(t)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="image-row"]`)),
	); err != nil {
		t.Fatal(err)
	}
	htmxLoaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof htmx === "object" && htmx.version === "2.0.11"`))
	if err != nil || !htmxLoaded {
		t.Fatalf("htmx 2.0.11 did not load: %v (page errors: %q)", err, errs.get())
	}
	firstFolder, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`#folder-select`)))
	if err != nil {
		t.Fatal(err)
	}
	otherFolder, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll("#folder-select option")].map(o => o.value).find(v => v !== document.querySelector("#folder-select").value) || ""`))
	if err != nil || otherFolder == "" {
		t.Fatalf("no second folder to pick: %v", err)
	}

	// Mark the document: a full page load would lose the mark, an htmx swap keeps it.
	err = chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`document.body.dataset.mark = "kept"`),
		// SetValue fires input and change, as picking an option does.
		chromedp.SetValue(chromedp.CSS(`#folder-select`), otherFolder),
		until(fmt.Sprintf(`location.search.includes("folder=%s") && document.querySelector("#image-table").dataset.folder === %q`, otherFolder, otherFolder)),
	)
	if err != nil {
		t.Fatalf("folder switch: %v (page errors: %q)", err, errs.get())
	}
	marked, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.mark || ""`))
	if err != nil || marked != "kept" {
		t.Errorf("the folder switch reloaded the whole page instead of swapping the table (mark %q, %v)", marked, err)
	}
	tab, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`#service-tabs a[href*="desktop"]`), "href"))
	if err != nil || !strings.Contains(tab.Value, "folder="+otherFolder) {
		t.Errorf("Cloud Desktop tab href = %q (%v), want it to follow the folder %s", tab.Value, err, otherFolder)
	}

	// Back returns to the first folder; then page forward with htmx.
	steps := []struct {
		name string
		do   chromedp.Action[chromedp.Void]
	}{
		{"back", chromedp.Evaluate[chromedp.Void](`history.back()`)},
		{"back leaves the folder", until(fmt.Sprintf(`!location.search.includes("folder=%s")`, otherFolder))},
		{"open first folder", chromedp.Navigate(base + "/?service=compute&folder=" + firstFolder)},
		{"next link", chromedp.WaitVisible(chromedp.CSS(`[data-testid="next-page"]`))},
		{"click next", chromedp.Click(chromedp.CSS(`[data-testid="next-page"]`))},
		{"first-page link appears", chromedp.WaitVisible(chromedp.CSS(`[data-testid="first-page"]`))},
		{"URL has the page token", until(`location.search.includes("page_token=")`)},
		{"rows", chromedp.WaitVisible(chromedp.CSS(`[data-testid="image-row"]`))},
	}
	for _, s := range steps {
		if err := chromedp.Do(ctx, s.do); err != nil {
			url, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
			t.Fatalf("%s: %v (at %s; page errors: %q)", s.name, err, url, errs.get())
		}
	}
	// A failed htmx request shows a toast and leaves the table in place.
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`htmx.ajax("GET", "/?service=nope", {target: "#image-table", swap: "outerHTML"})`),
		chromedp.WaitVisible(chromedp.CSS(`#toasts [data-testid="toast"]`)),
	); err != nil {
		t.Fatalf("error toast: %v (page errors: %q)", err, errs.get())
	}
	toast, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#toasts [data-testid="toast"]`)))
	if err != nil || !strings.Contains(toast, `Unknown service "nope"`) {
		t.Errorf("toast = %q (%v)", toast, err)
	}
	if rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#image-table [data-testid=image-row]").length`)); err != nil || rows == 0 {
		t.Errorf("table rows after a failed request = %d (%v), want the table kept", rows, err)
	}
	if shot := os.Getenv("IMAGEDASH_SCREENSHOT"); shot != "" {
		if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
			_ = os.WriteFile(shot, png, 0o644)
		}
	}
	// The browser and htmx both log the 400 above; anything else is a fault.
	var unexpected []string
	for _, e := range errs.get() {
		if !strings.Contains(e, "status of 400") && !strings.Contains(e, "Error Code 400") {
			unexpected = append(unexpected, e)
		}
	}
	if len(unexpected) > 0 {
		t.Errorf("the page reported errors (CSP violations, exceptions): %q", unexpected)
	}
}
