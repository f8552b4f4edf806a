package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud/sim"
)

// TestStartDuringCloudOutage: restarted on a warm cache while nothing
// answers at --endpoint, imagedash starts anyway: it serves the cached
// pages with a banner saying since when the cloud is unreachable and how
// old the data is, and refuses a copy with 503 saying nothing was sent.
// When an emulator comes up on that address, the dashboard catches up by
// itself, with no restart: the banner goes and the copy goes through.
func TestStartDuringCloudOutage(t *testing.T) {
	emu, err := sim.New(sim.Options{Seed: 1, Images: 120, TimeScale: 0})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := emu.DefaultFolderID()

	// A first run fills the cache.
	base, data, stop := startRun(t, "--endpoint", addr, "--sync-interval", "1s")
	c := faultClient(&fiveXX{})
	faultSignIn(t, c, base, "admin", testAdminPassword)
	list := base + "/?service=compute"
	waitRows(t, c, list)
	src := faultRowIDs(t, c, list, 1)[0]
	if err := stop(); err != nil {
		t.Fatalf("first run: %v", err)
	}
	emu.Close() // nothing listens at addr now

	// The restart during the outage.
	base, _, stop = startRun(t, "--endpoint", addr, "--data", data, "--sync-interval", "1s")
	defer stop()
	c = faultClient(&fiveXX{})
	faultSignIn(t, c, base, "admin", testAdminPassword)
	list = base + "/?service=compute"
	for _, u := range []string{list, base + "/families?service=compute", base + "/sync?service=compute"} {
		doc := faultGet(t, c, u, http.StatusOK)
		banner := doc.Find(`[data-testid="banner"]`).Text()
		if !strings.Contains(banner, "The cloud has been unreachable since") || !strings.Contains(banner, "showing data from") {
			t.Errorf("GET %s during the outage: banner %q, want since when and how old the data is", u, banner)
		}
	}
	// Every other page says so too, without the data's age it does not show.
	for _, u := range []string{base + "/images/compute/" + src, base + "/operations", base + "/admin/users", base + "/account/sessions"} {
		banner := faultGet(t, c, u, http.StatusOK).Find(`[data-testid="banner"]`).Text()
		if !strings.Contains(banner, "The cloud has been unreachable since") {
			t.Errorf("GET %s during the outage: banner %q, want since when the cloud is unreachable", u, banner)
		}
	}
	if n := faultGet(t, c, list, http.StatusOK).Find(`[data-testid="image-row"]`).Length(); n == 0 {
		t.Error("no cached rows during the outage")
	}
	copyForm := url.Values{"folder": {target}, "name": {"copied-after-the-outage"}}
	code, body, _ := outagePost(t, c, base, "/images/compute/"+src+"/copy", copyForm)
	const why = "The cloud is unreachable, so nothing was sent. Try again when it answers."
	if code != http.StatusServiceUnavailable || !strings.Contains(body, why) {
		t.Errorf("copy during the outage = %d, want 503 saying %q:\n%.600s", code, why, body)
	}

	// The cloud comes back on the same address.
	emu2, err := sim.New(sim.Options{Seed: 1, Images: 120, TimeScale: 0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := emu2.Start(addr); err != nil {
		t.Fatal(err)
	}
	defer emu2.Close()
	deadline := time.Now().Add(90 * time.Second)
	for {
		banner := faultGet(t, c, list, http.StatusOK).Find(`[data-testid="banner"]`).Text()
		if !strings.Contains(banner, "unreachable since") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %q 90 s after the cloud came back", banner)
		}
		time.Sleep(200 * time.Millisecond) // polling the app's state, with the deadline above
	}
	if banner := faultGet(t, c, base+"/operations", http.StatusOK).Find(`[data-testid="banner"]`).Text(); strings.Contains(banner, "unreachable") {
		t.Errorf("operations page once the cloud answers: banner %q", banner)
	}
	code, body, at := outagePost(t, c, base, "/images/compute/"+src+"/copy", copyForm)
	if code != http.StatusOK || strings.HasSuffix(at, "/copy") {
		t.Errorf("copy once the cloud answers = %d at %s, want the copy's result page:\n%.600s", code, at, body)
	}
}

// outagePost posts form to path with the CSRF token of the sign-in page,
// follows redirects, and returns the last status, body and path.
func outagePost(t *testing.T, c *http.Client, base, path string, form url.Values) (int, string, string) {
	t.Helper()
	tok, _ := faultGet(t, c, base+"/login", 0).Find(`input[name="_csrf"]`).Attr("value")
	form = faultClone(form)
	form.Set("_csrf", tok)
	resp, err := c.PostForm(base+path, form)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Request.URL.Path
}
