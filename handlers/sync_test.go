package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/views"
)

func TestRefreshCache(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 5})
	form := url.Values{"service": {"compute"}, "folder": {golden}, "return": {"/?folder=" + golden + "&service=compute"}}

	r := e.do(http.MethodPost, "/sync", form, htmx)
	if r.code != http.StatusAccepted {
		t.Fatalf("refresh = %d, want 202; body:\n%s", r.code, r.body)
	}
	if got := r.text(`[data-testid="toast"]`); !strings.HasPrefix(got, "Refresh started") {
		t.Errorf("toast = %q", got)
	}
	fr := r.doc.Find("#" + views.FreshnessID)
	if oob, _ := fr.Attr("hx-swap-oob"); oob != "true" {
		t.Errorf("freshness hx-swap-oob = %q", oob)
	}
	poll, _ := fr.Attr("hx-get")
	if trig, _ := fr.Attr("hx-trigger"); trig != "every 3s" || !strings.HasPrefix(poll, "/sync?") {
		t.Errorf("freshness does not poll: hx-get %q hx-trigger %q", poll, trig)
	}

	// Asked again at once: 429, with the syncer's message, as a toast.
	r = e.do(http.MethodPost, "/sync", form, htmx)
	if r.code != http.StatusTooManyRequests {
		t.Fatalf("second refresh = %d, want 429", r.code)
	}
	if got := r.text(`[data-testid="toast"]`); !strings.Contains(got, "A refresh was asked for moments ago: try again in 1m0s") {
		t.Errorf("429 toast = %q", got)
	}
	if got := r.hdr.Get(handlers.HeaderRetarget); got != "#"+views.ToastsID {
		t.Errorf("HX-Retarget = %q", got)
	}

	// The poll: the syncer never ran a pass, so it keeps waiting.
	r = e.get(poll, htmx)
	if trig := r.attr("#"+views.FreshnessID, "hx-trigger"); r.code != http.StatusOK || trig != "every 3s" {
		t.Errorf("poll = %d, hx-trigger %q", r.code, trig)
	}
	if got := r.text(`[data-testid="freshness-summary"]`); got != "syncing…" {
		t.Errorf("poll summary = %q", got)
	}
}

func TestRefreshCacheWithoutJavaScript(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 5})
	tests := []struct {
		ret, want string
	}{
		{"/?folder=" + golden + "&service=compute", "/?folder=" + golden + "&service=compute"},
		{"https://evil.example/", "/"},
		{"//evil.example/", "/"},
	}
	for i, tt := range tests {
		if i > 0 {
			e = newEnv(t, envOptions{compute: 1}) // a fresh rate limit
		}
		r := e.do(http.MethodPost, "/sync", url.Values{"service": {"compute"}, "return": {tt.ret}}, nil)
		if r.code != http.StatusSeeOther || r.hdr.Get("Location") != tt.want {
			t.Errorf("return %q: %d to %q, want 303 to %q", tt.ret, r.code, r.hdr.Get("Location"), tt.want)
		}
	}
	r := e.do(http.MethodPost, "/sync", url.Values{"service": {"compute"}}, nil)
	if r.code != http.StatusTooManyRequests || !strings.Contains(r.text(`[data-testid="error-page"]`), "try again in") {
		t.Errorf("too soon without JS = %d %q", r.code, r.text(`[data-testid="error-page"]`))
	}
	if r := e.do(http.MethodPost, "/sync", url.Values{"service": {"nope"}}, htmx); r.code != http.StatusBadRequest {
		t.Errorf("bad service = %d, want 400", r.code)
	}
}

func TestSyncStatusAfterTheSync(t *testing.T) {
	t.Parallel()
	e := newCloudEnv(t, 20) // its syncer has run a pass
	r := e.get("/sync?service=compute&since=0", htmx)
	if r.code != http.StatusOK {
		t.Fatalf("status = %d", r.code)
	}
	if _, polls := r.doc.Find("#" + views.FreshnessID).Attr("hx-trigger"); polls {
		t.Error("still polling after the sync")
	}
	if got := r.hdr.Get(handlers.HeaderTriggerResponse); got != views.SyncedEvent {
		t.Errorf("HX-Trigger = %q, want %s (the table reloads)", got, views.SyncedEvent)
	}
	if got := r.text(`[data-testid="freshness-summary"]`); !strings.HasPrefix(got, "synced ") {
		t.Errorf("summary = %q", got)
	}
	if got := r.doc.Find(`[data-testid="folder-freshness"]`).Length(); got != len(e.sim.Folders()) {
		t.Errorf("folders in the freshness list = %d, want %d", got, len(e.sim.Folders()))
	}
	if r := e.get("/sync?service=compute&since=x", htmx); r.code != http.StatusBadRequest {
		t.Errorf("bad since = %d, want 400", r.code)
	}
}
