package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/syncer"
	"github.com/imagedash/imagedash/views"
)

// Syncer is what the handlers need from the background sync: ask for a
// sync now, and see whether one runs and how the last one went.
type Syncer interface {
	Refresh() error
	Running() bool
	LastPass() syncer.Pass
}

// pollGiveUp is how long the freshness line waits for an asked-for sync
// before it stops polling.
const pollGiveUp = 2 * time.Minute

// RefreshCache asks the syncer for a sync now (POST /sync). HTMX gets 202
// with a toast and the freshness line, which then polls until the sync is
// done; a browser without JavaScript is sent back where it came from. Asking
// again too soon is a 429 whose message says when to try.
func (h *Handlers) RefreshCache(c echo.Context) error {
	if h.syncer == nil {
		return fault.New(fault.Unavailable, "Refreshing is not available: no sync runs in this server.")
	}
	form, err := c.FormParams()
	if err != nil {
		return badRequest("Unreadable form.")
	}
	svc, err := parseService(form.Get("service"))
	if err != nil {
		return err
	}
	folders, err := parseFolders(form["folder"])
	if err != nil {
		return err
	}
	if folders, err = h.scope(c, "cache.refresh", folders); err != nil {
		return err
	}
	asked := h.now()
	if err := h.syncer.Refresh(); err != nil {
		if errors.Is(err, syncer.ErrTooSoon) {
			msg := err.Error()
			return fault.New(fault.RateLimited, strings.ToUpper(msg[:1])+msg[1:]+".")
		}
		return err
	}
	h.audit(c, store.AuditEntry{Action: "cache.refresh", TargetKind: "service", TargetID: string(svc), Outcome: store.OutcomeSuccess})
	if !IsHTMX(c.Request()) {
		return c.Redirect(http.StatusSeeOther, localURL(form.Get("return")))
	}
	fr, _, _, err := h.freshness(c.Request().Context(), svc, folders, nil)
	if err != nil {
		return err
	}
	fr.Syncing = true
	fr.PollURL = pollURL(svc, folders, asked)
	fr.Return = localURL(form.Get("return"))
	answer := views.RefreshAnswer(views.Notice{Message: "Refresh started: the cache is being synced with the cloud."}, fr)
	return Render(c, http.StatusAccepted, answer, answer) // only HTMX gets here
}

// SyncStatus is the freshness line (GET /sync), which polls it while a sync
// it waits for runs. The answer that finds the sync done raises
// views.SyncedEvent, so the page reloads its table with the new rows.
func (h *Handlers) SyncStatus(c echo.Context) error {
	q := c.QueryParams()
	svc, err := parseService(q.Get("service"))
	if err != nil {
		return err
	}
	folders, err := parseFolders(q["folder"])
	if err != nil {
		return err
	}
	if folders, err = h.scope(c, "cache.status", folders); err != nil {
		return err
	}
	var since time.Time
	if s := q.Get("since"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return badRequest("Bad since %q: unix milliseconds.", truncate(s))
		}
		if n > 0 {
			since = time.UnixMilli(n)
		}
	}
	fr, banner, _, err := h.freshness(c.Request().Context(), svc, folders, nil)
	if err != nil {
		return err
	}
	if h.waiting(since) {
		fr.Syncing = true
		fr.PollURL = pollURL(svc, folders, since)
	} else if IsHTMX(c.Request()) && q.Has("since") {
		c.Response().Header().Set(HeaderTriggerResponse, views.SyncedEvent)
	}
	nav := views.Nav{Page: views.PageImages, Service: svc, Filter: views.ImageFilter{Service: svc, Folders: folders}}
	return Render(c, http.StatusOK,
		views.FreshnessFull(views.Layout{Title: "Cache freshness", Nav: nav, Banner: banner}, fr),
		views.FreshnessView(fr, false))
}

// waiting reports whether a poll that waits for a sync begun after since
// (any sync, for the zero time) should go on.
func (h *Handlers) waiting(since time.Time) bool {
	if h.syncer == nil || h.now().Sub(since) > pollGiveUp && !since.IsZero() {
		return false
	}
	if h.syncer.Running() {
		return true
	}
	return !since.IsZero() && h.syncer.LastPass().Started.Before(since)
}

// pollURL is the freshness line's poll, waiting for a sync begun after since.
func pollURL(svc cloud.Service, folders []string, since time.Time) string {
	v := url.Values{}
	v.Set("service", string(svc))
	for _, f := range folders {
		v.Add("folder", f)
	}
	ms := int64(0)
	if !since.IsZero() {
		ms = since.UnixMilli()
	}
	v.Set("since", strconv.FormatInt(ms, 10))
	return "/sync?" + v.Encode()
}

// localURL is u when it is a path on this server, "/" otherwise, so a
// form's return address cannot send anyone elsewhere (see safeNext, the
// one check of return addresses).
func localURL(u string) string { return safeNext(u) }

// freshness says how fresh the cache of svc is in the folders shown (all
// when folderIDs is empty), whether they were all synced at least once,
// and, when the last sync could not reach the cloud, a banner. known are
// the cached folders when the caller has them (nil: read them).
func (h *Handlers) freshness(ctx context.Context, svc cloud.Service, folderIDs []string, known []cloud.Folder) (views.Freshness, string, views.CacheState, error) {
	fr := views.Freshness{Service: svc, FolderIDs: folderIDs, CanRefresh: h.syncer != nil}
	if known == nil {
		var err error
		if known, err = h.store.Folders(ctx); err != nil {
			return fr, "", 0, err
		}
	}
	states, err := h.store.SyncStates(ctx, svc)
	if err != nil {
		return fr, "", 0, err
	}
	now := h.now()
	names := views.FolderNames(known)

	// The folders the page shows: those asked for, or every watched one.
	expected := folderIDs
	if len(expected) == 0 {
		for _, f := range h.visible(known) {
			expected = append(expected, f.ID)
		}
	}
	byFolder := map[string]store.SyncState{}
	for _, st := range states {
		byFolder[st.FolderID] = st
	}
	cache := views.CacheReady
	if len(expected) == 0 {
		cache = views.CacheSyncing
	}
	var (
		oldest   time.Time
		problem  string
		failedAt time.Time
		failed   int
	)
	for _, id := range expected {
		st, ok := byFolder[id]
		name := names[id]
		if name == "" {
			name = id
		}
		if !ok {
			cache = views.CacheSyncing
			fr.Folders = append(fr.Folders, views.FolderFreshness{Name: name, Synced: "not synced yet"})
			continue
		}
		ff := views.FolderFreshness{Name: name, Synced: "never synced", Count: st.ImageCount}
		if !st.LastSuccessAt.IsZero() {
			ff.Synced = "synced " + views.Since(st.LastSuccessAt, now)
			ff.Title = st.LastSuccessAt.UTC().Format("2006-01-02 15:04:05 MST")
			if oldest.IsZero() || st.LastSuccessAt.Before(oldest) {
				oldest = st.LastSuccessAt
			}
		}
		if st.LastError != "" {
			ff.Problem = syncReason(st.LastError) + ", " + views.Since(st.LastAttemptAt, now)
			failed++
			if st.LastAttemptAt.After(failedAt) {
				failedAt, problem = st.LastAttemptAt, ff.Problem
			}
		}
		fr.Folders = append(fr.Folders, ff)
	}
	// A pass that could not even list the folders records nothing per folder.
	if h.syncer != nil {
		if p := h.syncer.LastPass(); p.Err != nil && p.Started.After(failedAt) {
			failedAt, problem = p.Started, syncReason(p.Err.Error())+", "+views.Since(p.Started, now)
			failed = max(failed, 1)
		}
		fr.Syncing = h.syncer.Running()
	}
	switch {
	case !oldest.IsZero():
		fr.Summary = "synced " + views.Since(oldest, now)
		fr.SummaryTitle = "least fresh folder synced at " + oldest.UTC().Format("2006-01-02 15:04:05 MST")
	default:
		fr.Summary = "not synced yet"
	}
	if fr.Syncing && cache == views.CacheReady {
		fr.PollURL = pollURL(svc, folderIDs, time.Time{})
	}
	fr.Return = views.ImageFilter{Service: svc, Folders: folderIDs}.URL()
	var banner string
	if problem != "" {
		fr.Problem = problem
		where := "a folder"
		if failed > 1 {
			where = strconv.Itoa(failed) + " folders"
		}
		banner = "The last sync could not reach the cloud for " + where + " (" + problem + "). "
		if localReasons[problem] {
			banner = "The last sync could not save what it read for " + where + ": the dashboard's database (" + problem + "). "
		}
		if oldest.IsZero() {
			banner += "Nothing is cached yet; the sync keeps trying."
		} else {
			banner += "Showing the cached images, " + fr.Summary + "."
		}
	}
	// Not reached since start: that says more than the last sync's error.
	if b := h.cloudBanner(oldest); b != "" {
		banner = b
	}
	return fr, banner, cache, nil
}

// visible are the folders the picker offers: the watched ones when the
// server watches only some, else every cached folder.
func (h *Handlers) visible(known []cloud.Folder) []cloud.Folder {
	if len(h.folders) == 0 {
		return known
	}
	out := make([]cloud.Folder, 0, len(h.folders))
	for _, id := range h.folders {
		f := cloud.Folder{ID: id}
		if i := slices.IndexFunc(known, func(k cloud.Folder) bool { return k.ID == id }); i >= 0 {
			f = known[i]
		}
		out = append(out, f)
	}
	return out
}

// syncReasons map the gRPC code in a recorded sync error to a short reason.
var syncReasons = []struct{ code, reason string }{
	{"Unavailable", "Unavailable"},
	{"DeadlineExceeded", "Timed out"},
	{"deadline exceeded", "Timed out"},
	{"ResourceExhausted", "Rate limited"},
	{"PermissionDenied", "Permission denied"},
	{"Unauthenticated", "Not authenticated"},
	{"NotFound", "Not found"},
	// The dashboard's own database, not the cloud (see localReasons).
	{"disk is full", "Disk full"},
	{"read-only", "Database read-only"},
}

// localReasons are the reasons that are the dashboard's own storage: the
// banner must not blame the cloud for them.
var localReasons = map[string]bool{"Disk full": true, "Database read-only": true}

// syncReason is why a sync failed, from its recorded error text, in a
// word or two: the text itself (with the server's message) is not shown.
func syncReason(msg string) string {
	for _, r := range syncReasons {
		if strings.Contains(msg, r.code) {
			return r.reason
		}
	}
	return "Failed"
}
