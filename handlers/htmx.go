package handlers

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// HTMX request and response headers, all in one place
// (https://htmx.org/reference/#headers).
const (
	// Request headers.
	HeaderRequest               = "HX-Request"
	HeaderHistoryRestoreRequest = "HX-History-Restore-Request"
	HeaderBoosted               = "HX-Boosted"
	HeaderCurrentURL            = "HX-Current-URL"
	HeaderTarget                = "HX-Target"
	HeaderTrigger               = "HX-Trigger"
	HeaderTriggerName           = "HX-Trigger-Name"

	// Response headers.
	HeaderPushURL            = "HX-Push-Url"
	HeaderReplaceURL         = "HX-Replace-Url"
	HeaderRedirect           = "HX-Redirect"
	HeaderRefresh            = "HX-Refresh"
	HeaderRetarget           = "HX-Retarget"
	HeaderReswap             = "HX-Reswap"
	HeaderReselect           = "HX-Reselect"
	HeaderTriggerResponse    = "HX-Trigger"
	HeaderTriggerAfterSwap   = "HX-Trigger-After-Swap"
	HeaderTriggerAfterSettle = "HX-Trigger-After-Settle"
)

// StatusStopPolling is the status that makes htmx stop an hx-trigger="every …" poll.
const StatusStopPolling = 286

// IsHTMX reports whether htmx sent the request.
func IsHTMX(r *http.Request) bool { return r.Header.Get(HeaderRequest) == "true" }

// IsBoosted reports whether the request comes from a boosted link or form
// (hx-boost), which swaps the whole body.
func IsBoosted(r *http.Request) bool { return r.Header.Get(HeaderBoosted) == "true" }

// WantsPartial reports whether the request should get a partial rather than
// the full page: htmx sent it, it is not a history restore (after a cache
// miss htmx reloads the page through XHR and needs all of it), and not a
// boosted link or form (which replaces the whole body).
func WantsPartial(r *http.Request) bool {
	return IsHTMX(r) && r.Header.Get(HeaderHistoryRestoreRequest) != "true" && !IsBoosted(r)
}

// PushURL makes htmx record u, the canonical address of what the answer
// shows, in the browser's history: as a new entry, or in place of the
// current one when canon (which turns an address into its canonical form,
// "" when it cannot) says the page already shows u, as for a poll or a
// reload. htmx would otherwise push the request's own URL, with every empty
// form field in it. Plain requests and history restores are left alone.
func PushURL(c echo.Context, u string, canon func(string) string) {
	r := c.Request()
	if !IsHTMX(r) || r.Header.Get(HeaderHistoryRestoreRequest) == "true" {
		return
	}
	h := c.Response().Header()
	if cur := r.Header.Get(HeaderCurrentURL); cur != "" && canon(cur) == u {
		h.Set(HeaderReplaceURL, u)
		return
	}
	h.Set(HeaderPushURL, u)
}

// AddVary adds name to the Vary header unless it is there already: a page and
// its partial share a URL, so caches must key on HX-Request.
func AddVary(h http.Header, name string) {
	for _, v := range h.Values(echo.HeaderVary) {
		if slices.ContainsFunc(strings.Split(v, ","), func(s string) bool {
			return strings.EqualFold(strings.TrimSpace(s), name)
		}) {
			return
		}
	}
	h.Add(echo.HeaderVary, name)
}

// Retarget makes htmx swap the response into selector, with swap style swap
// (e.g. "beforeend"), instead of the requesting element's target.
func Retarget(h http.Header, selector, swap string) {
	h.Set(HeaderRetarget, selector)
	h.Set(HeaderReswap, swap)
}

// NoPush stops htmx from pushing the request URL into history (a failed
// request should not become the page's address).
func NoPush(h http.Header) { h.Set(HeaderPushURL, "false") }

// Redirect sends a browser to url: HX-Redirect for htmx (a 302 would be
// followed inside the XHR and swapped into the target), 303 otherwise.
func Redirect(c echo.Context, url string) error {
	if IsHTMX(c.Request()) {
		c.Response().Header().Set(HeaderRedirect, url)
		return c.NoContent(http.StatusOK)
	}
	return c.Redirect(http.StatusSeeOther, url)
}
