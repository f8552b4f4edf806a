package handlers

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/fault"
)

// reachability is what the cloud client says of the cloud (*cloud.Client):
// whether it has answered since the server started, and if not, since
// when it has been tried. A client without it (a test's fake) is taken
// as reachable.
type reachability interface {
	Reachable() bool
	UnreachableSince() (time.Time, bool)
}

// cloudDown reports whether the cloud has not answered since the server
// started, and since when it has been tried.
func (h *Handlers) cloudDown() (time.Time, bool) {
	r, ok := h.cloud.(reachability)
	if !ok {
		return time.Time{}, false
	}
	return r.UnreachableSince()
}

// cloudRetryAfter is the Retry-After of a change refused while the cloud
// is unreachable.
const cloudRetryAfter = 30 * time.Second

// requireCloud refuses a change (copy, edit, delete) while the cloud has
// not answered since the server started: its intent would only wait, and
// the person would think it was sent. Once the cloud has answered, a later
// outage is the watcher's to ride out (intents are kept and sent later).
func (h *Handlers) requireCloud(c echo.Context) error {
	if _, down := h.cloudDown(); !down {
		return nil
	}
	return fault.New(fault.Unavailable, "The cloud is unreachable, so nothing was sent. Try again when it answers.").RetryIn(cloudRetryAfter)
}

// cloudBanner is the banner of every cached page while the cloud has not
// answered since start: since when, and how old the data shown is
// (freshest is the least fresh folder's last successful sync, zero for
// none).
func (h *Handlers) cloudBanner(leastFresh time.Time) string {
	since, down := h.cloudDown()
	if !down {
		return ""
	}
	msg := "The cloud has been unreachable since " + since.UTC().Format("15:04 MST") + "; "
	if leastFresh.IsZero() {
		return msg + "nothing is cached yet. The dashboard keeps trying."
	}
	return msg + "showing data from " + leastFresh.UTC().Format("2006-01-02 15:04 MST") + ". The dashboard keeps trying."
}

// OutageBanner is the banner of every page while the cloud has not
// answered since start ("" otherwise). Pages that read the cache's
// freshness (the list, the families) show cloudBanner instead, which also
// says how old their data is.
func (h *Handlers) OutageBanner() string {
	since, down := h.cloudDown()
	if !down {
		return ""
	}
	return "The cloud has been unreachable since " + since.UTC().Format("15:04 MST") +
		"; pages show what is cached, and copies, edits and deletes are refused until it answers. The dashboard keeps trying."
}
