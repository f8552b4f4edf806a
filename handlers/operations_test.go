package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/cloud/cloudtest"
	"github.com/imagedash/imagedash/cloud/sim"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/store/storetest"
	"github.com/imagedash/imagedash/syncer"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/views"
	"github.com/imagedash/imagedash/web/webtest"
)

// getOperation is the upstream call the watcher polls with.
const getOperation = "/yandex.cloud.operation.OperationService/Get"

// opsEnv is the emulator on a fake clock (operations take seconds of fake
// time), the router over a store the syncer filled from it, a tracker on
// the same clock whose watcher the tests step by hand, and the role
// matrix's people: team A (viewer, copier, editor) owns team-alpha, team B
// (editor) owns team-beta, golden-images is shared; root is the admin.
type opsEnv struct {
	*env
	clock    *sim.FakeClock
	sim      *sim.Sim
	tracker  *tracker.Tracker
	golden   string
	alpha    string
	beta     string
	src      cloud.Image // a READY Compute image of the golden folder
	users    map[string]store.User
	browsers map[string]*webtest.Browser
}

func newOpsEnv(t testing.TB) *opsEnv {
	t.Helper()
	ctx := context.Background()
	clk := sim.NewFakeClock(now)
	s, c := cloudtest.Start(t, sim.Options{Clock: clk, Images: 30, TimeScale: 1})
	st, err := store.Open(ctx, storetest.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sy := syncer.New(c, st, syncer.Config{Now: clk.Now})
	if p := sy.SyncAll(ctx); p.Err != nil || p.Failures > 0 {
		t.Fatalf("sync: %+v", p)
	}
	e := &env{t: t, store: st, syncer: sy}
	tr := tracker.New(c, st, tracker.Config{Now: clk.Now})
	e.serve(handlers.Config{Store: st, Syncer: sy, Cloud: c, CloudTimeout: 3 * time.Second, Tracker: tr, Ops: handlers.NewOpsCache(st), Now: clk.Now})
	oe := &opsEnv{env: e, clock: clk, sim: s, tracker: tr, users: map[string]store.User{},
		browsers: map[string]*webtest.Browser{"admin": e.browser}}
	for _, f := range s.Folders() {
		switch f.GetName() {
		case "golden-images":
			oe.golden = f.GetId()
		case "team-alpha":
			oe.alpha = f.GetId()
		case "team-beta":
			oe.beta = f.GetId()
		}
	}
	imgs, _, err := c.ListImages(ctx, cloud.Compute, oe.golden, cloud.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(imgs, func(img cloud.Image) bool { return img.Status == "READY" })
	if i < 0 {
		t.Fatal("no READY image in the golden folder")
	}
	oe.src = imgs[i]
	oe.src.Service = cloud.Compute
	teams := map[string]store.Team{}
	for name, folder := range map[string]string{"A": oe.alpha, "B": oe.beta} {
		tm, err := st.CreateTeam(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AssignFolder(ctx, tm.ID, folder); err != nil {
			t.Fatal(err)
		}
		teams[name] = tm
	}
	if err := st.SetFolderShared(ctx, oe.golden, true); err != nil {
		t.Fatal(err)
	}
	for _, p := range people {
		u := webtest.AddUser(t, st, p.name, false)
		if err := st.AddMember(ctx, teams[p.team].ID, u.ID, p.role); err != nil {
			t.Fatal(err)
		}
		b := webtest.NewBrowser(t, e.srv)
		b.Login(p.name, webtest.Password)
		oe.users[p.name], oe.browsers[p.name] = u, b
	}
	return oe
}

// copyAs starts a copy of the golden source into folder as user (a
// running operation: a copy takes a few seconds of fake time).
func (e *opsEnv) copyAs(user, folder, name string) store.Operation {
	e.t.Helper()
	u := e.users[user]
	o, err := e.tracker.Start(context.Background(), tracker.Who{UserID: u.ID, Username: u.Username}, "",
		tracker.Copy(e.src, cloud.CreateImageSpec{FolderID: folder, Name: name}))
	if err != nil {
		e.t.Fatal(err)
	}
	if o.State != store.OpRunning {
		e.t.Fatalf("copy %s started %s, want running: %+v", name, o.State, o)
	}
	return o
}

// step advances the fake clock by d and lets the watcher look.
func (e *opsEnv) step(d time.Duration) {
	e.t.Helper()
	e.clock.Advance(d)
	if _, err := e.tracker.Step(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// as is a request through a person's browser, parsed.
func (e *opsEnv) as(who, method, target string, form url.Values, hdr ...string) response {
	e.t.Helper()
	b := e.browsers[who]
	var rec *httptest.ResponseRecorder
	if method == http.MethodPost {
		rec = b.Post(target, form, hdr...)
	} else {
		rec = b.Get(target, hdr...)
	}
	return parse(e.t, rec)
}

func parse(t testing.TB, rec *httptest.ResponseRecorder) response {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	return response{code: rec.Code, hdr: rec.Header(), body: rec.Body.String(), doc: doc}
}

var hx = []string{handlers.HeaderRequest, "true"}

// opRow writes an operation directly in the store, in state st (with
// errCode/msg as the cloud's error), created at created.
type opSpec struct {
	action  string
	svc     cloud.Service
	folder  string
	image   string
	name    string
	user    string
	state   store.OpState
	code    string
	msg     string
	created time.Time
	done    time.Time
}

var keys atomic.Int64

func putOp(t testing.TB, st *store.Store, s opSpec) store.Operation {
	t.Helper()
	ctx := context.Background()
	if s.action == "" {
		s.action = tracker.ActionCopy
	}
	if s.svc == "" {
		s.svc = cloud.Compute
	}
	if s.created.IsZero() {
		s.created = now.Add(-time.Hour)
	}
	req, _ := json.Marshal(map[string]any{"action": s.action, "create": map[string]string{"name": s.name, "folder_id": s.folder}})
	o, err := st.CreateIntent(ctx, store.Operation{
		Key: fmt.Sprintf("key-%d", keys.Add(1)), Action: s.action, Service: s.svc, FolderID: s.folder,
		ImageID: s.image, ImageName: s.name, Request: req, Username: s.user, CreatedAt: s.created,
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.state == store.OpPending {
		return o
	}
	o.State, o.CloudID, o.ErrorCode, o.ErrorMessage, o.Attempts = s.state, "fakeop"+fmt.Sprint(o.ID), s.code, s.msg, 1
	o.NextPollAt = now.Add(time.Hour) // not due: the watcher leaves it alone
	if s.state.Open() {
		err = st.SaveOperation(ctx, o)
	} else {
		o.DoneAt = s.done
		if o.DoneAt.IsZero() {
			o.DoneAt = s.created.Add(time.Minute)
		}
		err = st.FinishOperation(ctx, o, nil, cloud.Image{})
	}
	if err != nil {
		t.Fatal(err)
	}
	o, err = st.Operation(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func badgeURL(id int64) string { return fmt.Sprintf("/operations/%d/badge", id) }

// newMonitorEnv is newEnv's generated folders and images, served with the
// store as the operations store (newEnv serves none), behind the badge
// cache as main wires it.
func newMonitorEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, store: st, images: map[cloud.Service][]cloud.Image{}}
	if err := st.SaveFolders(ctx, genFolders); err != nil {
		t.Fatal(err)
	}
	e.images[cloud.Compute] = genImages(cloud.Compute, 4)
	e.put(cloud.Compute, e.images[cloud.Compute])
	e.syncer = syncer.New(nil, st, syncer.Config{Now: func() time.Time { return now }})
	e.serve(handlers.Config{Store: st, Syncer: e.syncer, Ops: handlers.NewOpsCache(st), Now: func() time.Time { return now }})
	return e
}

func TestOperationBadgeStates(t *testing.T) {
	t.Parallel()
	e := newMonitorEnv(t)
	tests := []struct {
		give      opSpec
		wantLabel string
		// wantMsg is the message in plain words: the cloud's own (msg) is
		// never shown; a lost operation's reason is the tracker's own.
		wantMsg   string
		wantToast string // "" for an open one
	}{
		{opSpec{state: store.OpPending, name: "web-1"}, "Queued", "", ""},
		{opSpec{state: store.OpRunning, name: "web-2"}, "In progress", "", ""},
		{opSpec{state: store.OpRunning, name: "web-3", code: "Internal", msg: "disk stuck"}, "Failing",
			"The cloud could not finish the copy in team-alpha: it failed on its side. Try again; if it fails again, ask the operator (the dashboard's log has the details).", ""},
		{opSpec{state: store.OpDone, name: "web-4"}, "Done", "", "Copy of web-4 done"},
		{opSpec{state: store.OpFailed, action: tracker.ActionUpdate, name: "web-5", image: "fd8web5", code: "InvalidArgument", msg: "name <taken>"},
			"Failed", "The cloud refused the edit in team-alpha: it does not accept some of what was asked (a name, a label or a size). Check the fields and try again.",
			"Edit of web-5 failed: The cloud refused the edit in team-alpha: it does not accept some of what was asked (a name, a label or a size). Check the fields and try again."},
		{opSpec{state: store.OpLost, action: tracker.ActionDelete, name: "web-6", image: "fd8web6", code: "NotFound", msg: "forgotten"},
			"Lost", "forgotten", "Delete of web-6 lost: forgotten"},
		{opSpec{state: store.OpSending, name: "web-7"}, "Sending", "", ""},
		{opSpec{state: store.OpCancelled, name: "web-8", code: "Canceled", msg: "the operation was cancelled"},
			"Cancelled", "", "Copy of web-8 cancelled"},
	}
	for _, tt := range tests {
		t.Run(tt.wantLabel, func(t *testing.T) {
			tt.give.folder = team
			o := putOp(t, e.store, tt.give)
			r := e.get(badgeURL(o.ID), htmx)
			badge := r.doc.Find(`[data-testid="op-badge"]`)
			if badge.Length() != 1 {
				t.Fatalf("badges = %d; body:\n%s", badge.Length(), r.body)
			}
			if got := r.text(`[data-testid="op-state"]`); got != tt.wantLabel {
				t.Errorf("label = %q, want %q", got, tt.wantLabel)
			}
			if got := r.text(`[data-testid="op-msg"]`); got != tt.wantMsg {
				t.Errorf("message = %q, want %q", got, tt.wantMsg)
			}
			if tip := r.attr(`[data-testid="op-state"]`, "title"); !strings.Contains(tip, tt.wantMsg) {
				t.Errorf("tooltip = %q, want the message", tip)
			}
			if tt.give.msg != "" && tt.give.msg != tt.wantMsg && strings.Contains(r.body, tt.give.msg) {
				t.Errorf("the cloud's own words %q are on the badge:\n%s", tt.give.msg, r.body)
			}
			trig, polls := badge.Attr("hx-trigger")
			_, live := badge.Attr("data-live")
			if !contains(r.hdr.Values("Vary"), handlers.HeaderRequest) {
				t.Errorf("Vary = %q", r.hdr.Values("Vary"))
			}
			if tt.wantToast == "" {
				if r.code != http.StatusOK || !polls || trig != "every 2s, imagedash:visible" || !live ||
					r.attr(`[data-testid="op-badge"]`, "hx-get") != badgeURL(o.ID) || r.attr(`[data-testid="op-badge"]`, "hx-swap") != "outerHTML" {
					t.Errorf("open badge: %d, trigger %q (%v), live %v; body:\n%s", r.code, trig, polls, live, r.body)
				}
				if r.hdr.Get(handlers.HeaderTriggerResponse) != "" || r.doc.Find(`[data-testid="toast"]`).Length() != 0 {
					t.Errorf("open badge sent an event or a toast: %q", r.hdr.Get(handlers.HeaderTriggerResponse))
				}
				if r.doc.Find(".spinner").Length() != 1 {
					t.Error("open badge has no spinner")
				}
				return
			}
			if r.code != handlers.StatusStopPolling || polls || live {
				t.Errorf("final badge: %d, trigger %q, live %v", r.code, trig, live)
			}
			var ev map[string]struct {
				ID      int64  `json:"id"`
				Image   string `json:"image"`
				Service string `json:"service"`
				State   string `json:"state"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal([]byte(r.hdr.Get(handlers.HeaderTriggerResponse)), &ev); err != nil {
				t.Fatalf("HX-Trigger %q: %v", r.hdr.Get(handlers.HeaderTriggerResponse), err)
			}
			got, ok := ev[views.OpDoneEvent]
			if !ok || got.ID != o.ID || got.State != string(tt.give.state) || got.Message != tt.wantMsg ||
				got.Service != "compute" || got.Image != tt.give.image {
				t.Errorf("event = %+v", ev)
			}
			oob := r.doc.Find(`#` + views.ToastsID + `[hx-swap-oob="beforeend"] [data-testid="toast"]`)
			if got := strings.Join(strings.Fields(oob.Text()), " "); got != tt.wantToast {
				t.Errorf("toast = %q, want %q", got, tt.wantToast)
			}
			if strings.Contains(r.body, "<taken>") {
				t.Error("the message is not escaped")
			}
			// A plain GET (no htmx) gets the badge, no event.
			r = e.get(badgeURL(o.ID), nil)
			if r.code != http.StatusOK || r.hdr.Get(handlers.HeaderTriggerResponse) != "" || r.doc.Find(`[data-testid="toast"]`).Length() != 0 {
				t.Errorf("plain GET of a final badge: %d, %q", r.code, r.hdr.Get(handlers.HeaderTriggerResponse))
			}
		})
	}
	for _, target := range []string{"/operations/999999/badge", "/operations/x/badge", "/operations/0"} {
		if r := e.get(target, htmx); r.code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", target, r.code)
		}
	}
}

// TestOperationPagesNeverCallTheCloud: badges, the monitor, details and
// counts read the store only.
func TestOperationPagesNeverCallTheCloud(t *testing.T) {
	t.Parallel()
	e := newCloudEnv(t, 20)
	ctx := context.Background()
	src := e.first(cloud.Compute, func(i cloud.Image) bool { return i.Status == "READY" })
	var team string
	for _, f := range e.sim.Folders() {
		if f.GetName() == "team-alpha" {
			team = f.GetId()
		}
	}
	o, err := e.tracker.Start(ctx, tracker.Who{Username: "root"}, "", tracker.Copy(src, cloud.CreateImageSpec{FolderID: team, Name: "quiet-copy"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.tracker.Step(ctx); err != nil {
		t.Fatal(err)
	}
	before := e.sim.Calls(getOperation)
	for range 100 {
		if r := e.get(badgeURL(o.ID), htmx); r.code != http.StatusOK && r.code != handlers.StatusStopPolling {
			t.Fatalf("badge = %d", r.code)
		}
	}
	for _, u := range []string{"/operations", fmt.Sprintf("/operations/%d", o.ID), "/operations/counts"} {
		e.ok(u)
	}
	if got := e.sim.Calls(getOperation); got != before {
		t.Errorf("OperationService.Get calls went from %d to %d while serving badges and pages", before, got)
	}
}

// TestOperationBadgeFanIn: 200 browsers polling the badges of 20
// operations for a minute of fake time cost the cloud at most one Get per
// operation per poll interval (the watcher's 1 s minimum): the badges read
// the store, and the watcher alone polls, whatever the number of watchers.
func TestOperationBadgeFanIn(t *testing.T) {
	t.Parallel()
	e := newOpsEnv(t)
	const (
		ops      = 20
		browsers = 200
		minute   = 60 * time.Second
		tick     = time.Second // the watcher's shortest interval
		pollTick = 2 * time.Second
	)
	var ids []int64
	for i := range ops {
		ids = append(ids, e.copyAs("copier-a", e.alpha, fmt.Sprintf("fan-in-%02d", i)).ID)
	}
	cookie := e.browsers["copier-a"].SessionCookie()
	if cookie == nil {
		t.Fatal("no session cookie")
	}
	before := e.sim.Calls(getOperation)
	var requests, finals, failures atomic.Int64
	for elapsed := time.Duration(0); elapsed < minute; elapsed += tick {
		var wg sync.WaitGroup
		// The watcher runs while the browsers poll.
		wg.Go(func() {
			e.clock.Advance(tick)
			if _, err := e.tracker.Step(context.Background()); err != nil {
				t.Error(err)
			}
		})
		if elapsed%pollTick == 0 {
			for b := range browsers {
				wg.Go(func() {
					req := httptest.NewRequest(http.MethodGet, badgeURL(ids[b%ops]), nil)
					req.Header.Set(handlers.HeaderRequest, "true")
					req.AddCookie(cookie)
					rec := httptest.NewRecorder()
					e.srv.ServeHTTP(rec, req)
					requests.Add(1)
					switch rec.Code {
					case http.StatusOK:
					case handlers.StatusStopPolling:
						finals.Add(1)
					default:
						failures.Add(1)
					}
				})
			}
		}
		wg.Wait()
	}
	gets := e.sim.Calls(getOperation) - before
	limit := ops * int(minute/tick)
	t.Logf("%d badge requests (%d final) caused %d OperationService.Get calls (limit %d)", requests.Load(), finals.Load(), gets, limit)
	if failures.Load() > 0 {
		t.Errorf("%d badge requests failed", failures.Load())
	}
	if gets > limit {
		t.Errorf("Get calls = %d, want at most %d (one per operation per second)", gets, limit)
	}
	if gets == 0 {
		t.Error("the watcher never polled")
	}
	// Every Get is one of the watcher's polls, counted on its operation.
	polls := 0
	for _, id := range ids {
		o, err := e.store.Operation(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if o.State != store.OpDone {
			t.Errorf("operation %d is %s after a minute", id, o.State)
		}
		polls += o.Polls
	}
	if polls != gets {
		t.Errorf("the watcher counted %d polls, the emulator %d Gets", polls, gets)
	}
	if finals.Load() == 0 {
		t.Error("no browser saw an operation end")
	}
}

func TestOperationsMonitor(t *testing.T) {
	t.Parallel()
	e := newMonitorEnv(t)
	base := now.Add(-10 * 24 * time.Hour)
	var history []store.Operation // finished, oldest first
	for i := range 60 {
		s := opSpec{
			folder:  []string{team, golden}[i%2],
			name:    fmt.Sprintf("img-%02d", i),
			user:    []string{"amir", "bea", "chen"}[i%3],
			action:  []string{tracker.ActionCopy, tracker.ActionUpdate, tracker.ActionDelete, tracker.ActionCopyToDesktop}[i%4],
			state:   []store.OpState{store.OpDone, store.OpDone, store.OpFailed, store.OpLost}[i%4],
			created: base.Add(time.Duration(i) * time.Hour),
			msg:     "",
		}
		if s.action == tracker.ActionCopyToDesktop {
			s.svc = cloud.Desktop
		}
		if s.state != store.OpDone {
			s.code, s.msg = "Internal", "boom"
		}
		if s.action != tracker.ActionCopy {
			s.image = fmt.Sprintf("fd8img%02d", i)
		}
		history = append(history, putOp(t, e.store, s))
	}
	open := []store.Operation{
		putOp(t, e.store, opSpec{folder: team, name: "open-1", user: "amir", state: store.OpRunning, created: now.Add(-time.Minute)}),
		putOp(t, e.store, opSpec{folder: golden, name: "open-2", user: "bea", state: store.OpPending, created: now.Add(-30 * time.Second)}),
	}
	idsOf := func(r response, sel string) []int64 {
		var out []int64
		r.doc.Find(sel + ` [data-testid="op-row"]`).Each(func(_ int, s *goquery.Selection) {
			v, _ := s.Attr("data-id")
			var id int64
			fmt.Sscan(v, &id)
			out = append(out, id)
		})
		return out
	}
	newestFirst := func(ops []store.Operation, keep func(store.Operation) bool) []int64 {
		var out []int64
		for i := len(ops) - 1; i >= 0; i-- {
			if keep == nil || keep(ops[i]) {
				out = append(out, ops[i].ID)
			}
		}
		return out
	}

	t.Run("in flight first, then history, paged", func(t *testing.T) {
		r := e.ok("/operations")
		if got, want := idsOf(r, "#"+views.OpsInFlightID), newestFirst(open, nil); !slices.Equal(got, want) {
			t.Errorf("in flight = %v, want %v", got, want)
		}
		if trig := r.attr("#"+views.OpsInFlightID, "hx-trigger"); trig != "every 2s, imagedash:visible" {
			t.Errorf("in-flight trigger = %q", trig)
		}
		all := newestFirst(history, nil)
		if got := idsOf(r, "#"+views.OpsHistoryID); !slices.Equal(got, all[:50]) {
			t.Errorf("history page 1 = %v, want %v", got, all[:50])
		}
		older := r.attr(`[data-testid="older"]`, "href")
		if older != fmt.Sprintf("/operations?before=%d", all[49]) {
			t.Fatalf("older = %q", older)
		}
		r = e.ok(older)
		if got := idsOf(r, "#"+views.OpsHistoryID); !slices.Equal(got, all[50:]) {
			t.Errorf("history page 2 = %v, want %v", got, all[50:])
		}
		if r.doc.Find("#"+views.OpsInFlightID).Length() != 0 || r.attr(`[data-testid="older"]`, "href") != "" {
			t.Error("page 2 shows the in-flight section or an older link")
		}
		// Rows link to their image (when known) and their details.
		r = e.ok("/operations?state=done&action=image.update")
		row := r.doc.Find(`#` + views.OpsHistoryID + ` [data-testid="op-row"]`).First()
		id, _ := row.Attr("data-id")
		if href, _ := row.Find(`[data-testid="op-link"]`).Attr("href"); href != "/operations/"+id {
			t.Errorf("details link = %q", href)
		}
		if href, _ := row.Find(`[data-testid="image-link"]`).Attr("href"); !strings.HasPrefix(href, "/images/compute/fd8img") {
			t.Errorf("image link = %q", href)
		}
	})

	t.Run("filters", func(t *testing.T) {
		tests := []struct {
			query string
			keep  func(store.Operation) bool
			open  bool
		}{
			{"user=AMIR", func(o store.Operation) bool { return o.Username == "amir" }, true},
			{"action=image.delete", func(o store.Operation) bool { return o.Action == tracker.ActionDelete }, true},
			{"service=desktop", func(o store.Operation) bool { return o.Service == cloud.Desktop }, true},
			{"folder=" + golden, func(o store.Operation) bool { return o.FolderID == golden }, true},
			{"state=failed", func(o store.Operation) bool { return o.State == store.OpFailed }, false},
			{"state=problem", func(o store.Operation) bool { return o.State == store.OpFailed || o.State == store.OpLost }, false},
			{"from=" + base.Add(50*time.Hour).Format("2006-01-02T15:04") + "&to=" + base.Add(54*time.Hour).Format("2006-01-02T15:04"),
				func(o store.Operation) bool {
					return !o.CreatedAt.Before(base.Add(50*time.Hour)) && o.CreatedAt.Before(base.Add(54*time.Hour+time.Minute))
				}, false},
			{"user=bea&state=open", func(o store.Operation) bool { return o.Username == "bea" && o.State.Open() }, true},
		}
		for _, tt := range tests {
			r := e.ok("/operations?" + tt.query)
			wantHist := newestFirst(history, tt.keep)
			if len(wantHist) > 50 {
				wantHist = wantHist[:50]
			}
			if strings.Contains(tt.query, "state=open") {
				wantHist = nil
			}
			if got := idsOf(r, "#"+views.OpsHistoryID); !slices.Equal(got, wantHist) {
				t.Errorf("%s: history = %v, want %v", tt.query, got, wantHist)
			}
			var wantOpen []int64
			if tt.open {
				wantOpen = newestFirst(open, tt.keep)
			}
			if got := idsOf(r, "#"+views.OpsInFlightID); !slices.Equal(got, wantOpen) {
				t.Errorf("%s: in flight = %v, want %v", tt.query, got, wantOpen)
			}
		}
		// The filter form shows the state it came from.
		r := e.ok("/operations?state=failed&service=desktop")
		if v, _ := r.doc.Find(`select[name="state"] option[selected]`).Attr("value"); v != "failed" {
			t.Errorf("state option = %q", v)
		}
	})

	t.Run("bad filters", func(t *testing.T) {
		for _, q := range []string{"action=image.explode", "service=floppy", "state=sleeping", "from=yesterday", "from=2026-11-23&to=2026-11-01"} {
			r := e.get("/operations?"+q, htmx)
			if r.code != http.StatusUnprocessableEntity || r.doc.Find(".field-error").Length() == 0 {
				t.Errorf("%s = %d, want 422 with a message", q, r.code)
			}
		}
		if r := e.get("/operations?before=x", nil); r.code != http.StatusBadRequest {
			t.Errorf("bad cursor = %d", r.code)
		}
	})

	t.Run("partials", func(t *testing.T) {
		r := e.get("/operations?user=amir", map[string]string{handlers.HeaderRequest: "true", handlers.HeaderCurrentURL: "http://x/operations"})
		if r.code != http.StatusOK || strings.Contains(r.body, "<html") || r.doc.Find("#"+views.OpsID).Length() != 1 {
			t.Errorf("partial = %d, whole page %v", r.code, strings.Contains(r.body, "<html"))
		}
		if !contains(r.hdr.Values("Vary"), handlers.HeaderRequest) {
			t.Errorf("Vary = %q", r.hdr.Values("Vary"))
		}
		if got := r.hdr.Get(handlers.HeaderPushURL); got != "/operations?user=amir" {
			t.Errorf("push url = %q", got)
		}
		// The in-flight poll: still open ones keep it polling; one shown
		// that ended makes the history reload.
		poll := fmt.Sprintf("/operations?part=inflight&shown=%d,%d", open[0].ID, open[1].ID)
		r = e.get(poll, htmx)
		if r.code != http.StatusOK || r.hdr.Get(handlers.HeaderTriggerResponse) != "" || r.doc.Find("#"+views.OpsHistoryID).Length() != 0 {
			t.Errorf("poll: %d, trigger %q", r.code, r.hdr.Get(handlers.HeaderTriggerResponse))
		}
		if got := r.attr("#"+views.OpsInFlightID, "hx-get"); !strings.Contains(got, "part=inflight") {
			t.Errorf("poll url = %q", got)
		}
		r = e.get(fmt.Sprintf("/operations?part=inflight&shown=%d", history[0].ID), htmx)
		if r.hdr.Get(handlers.HeaderTriggerResponse) != views.OpsFinishedEvent {
			t.Errorf("poll after an end: trigger %q", r.hdr.Get(handlers.HeaderTriggerResponse))
		}
		r = e.get("/operations?part=inflight&user=chen", htmx)
		if r.code != handlers.StatusStopPolling || r.attr("#"+views.OpsInFlightID, "hx-trigger") != "" {
			t.Errorf("poll with nothing open: %d, trigger %q", r.code, r.attr("#"+views.OpsInFlightID, "hx-trigger"))
		}
		r = e.get("/operations?part=history", htmx)
		if r.doc.Find("#"+views.OpsHistoryID).Length() != 1 || r.doc.Find("#"+views.OpsInFlightID).Length() != 0 {
			t.Errorf("history part: %s", r.body[:min(len(r.body), 300)])
		}
	})
}

func TestOperationsVisibility(t *testing.T) {
	t.Parallel()
	e := newOpsEnv(t)
	alphaOp := e.copyAs("copier-a", e.alpha, "alpha-copy")
	betaOp := e.copyAs("editor-b", e.beta, "beta-copy")
	goldenOp := putOp(t, e.store, opSpec{folder: e.golden, name: "golden-fix", user: "root", state: store.OpFailed, code: "Internal", msg: "x", done: now})

	shown := func(r response) []int64 {
		var out []int64
		r.doc.Find(`[data-testid="op-row"]`).Each(func(_ int, s *goquery.Selection) {
			v, _ := s.Attr("data-id")
			var id int64
			fmt.Sscan(v, &id)
			out = append(out, id)
		})
		slices.Sort(out)
		return out
	}
	tests := []struct {
		who  string
		want []int64
	}{
		{"viewer-a", []int64{alphaOp.ID, goldenOp.ID}},
		{"editor-b", []int64{betaOp.ID, goldenOp.ID}},
		{"admin", []int64{alphaOp.ID, betaOp.ID, goldenOp.ID}},
	}
	for _, tt := range tests {
		r := e.as(tt.who, "GET", "/operations", nil)
		if got := shown(r); r.code != http.StatusOK || !slices.Equal(got, tt.want) {
			t.Errorf("%s sees %v (%d), want %v", tt.who, got, r.code, tt.want)
		}
		// The folder filter offers only their folders.
		var offered []string
		r.doc.Find(`select[name="folder"] option`).Each(func(_ int, s *goquery.Selection) {
			if v, _ := s.Attr("value"); v != "" {
				offered = append(offered, v)
			}
		})
		if tt.who == "viewer-a" && (slices.Contains(offered, e.beta) || !slices.Contains(offered, e.alpha)) {
			t.Errorf("viewer-a is offered folders %v", offered)
		}
	}
	// Another team's operation: answered as one that does not exist (404),
	// and nothing via a filter.
	for _, target := range []string{
		fmt.Sprintf("/operations/%d", betaOp.ID),
		badgeURL(betaOp.ID),
		"/operations?folder=" + e.beta,
	} {
		if r := e.as("viewer-a", "GET", target, nil, hx...); r.code != http.StatusNotFound {
			t.Errorf("viewer-a GET %s = %d, want 404", target, r.code)
		}
	}
	if r := e.as("viewer-a", "GET", fmt.Sprintf("/operations/%d", alphaOp.ID), nil); r.code != http.StatusOK {
		t.Errorf("viewer-a's own team's operation = %d", r.code)
	}
	// Counts: over the folders each may see.
	for _, tt := range []struct {
		who              string
		inflight, failed string
	}{
		{"viewer-a", "1", "1"},
		{"editor-b", "1", "1"},
		{"admin", "2", "1"},
	} {
		r := e.as(tt.who, "GET", "/operations/counts", nil, hx...)
		c := r.doc.Find("#" + views.OpCountsID)
		inflight, _ := c.Attr("data-inflight")
		failed, _ := c.Attr("data-failed")
		if r.code != http.StatusOK || inflight != tt.inflight || failed != tt.failed {
			t.Errorf("%s counts: %d, in flight %s, failed %s; want %s, %s", tt.who, r.code, inflight, failed, tt.inflight, tt.failed)
		}
	}
	// A fresh account in no team sees only the shared folder's.
	webtest.AddUser(t, e.store, "loner", false)
	b := webtest.NewBrowser(t, e.srv)
	b.Login("loner", webtest.Password)
	if r := parse(t, b.Get("/operations")); !slices.Equal(shown(r), []int64{goldenOp.ID}) {
		t.Errorf("loner sees %v, want only %d", shown(r), goldenOp.ID)
	}
	r := parse(t, b.Get("/operations/counts", hx...))
	if v, _ := r.doc.Find("#" + views.OpCountsID).Attr("data-inflight"); v != "0" {
		t.Errorf("loner's in-flight count = %q", v)
	}
}

func TestOperationCountsElement(t *testing.T) {
	t.Parallel()
	e := newMonitorEnv(t)
	putOp(t, e.store, opSpec{folder: team, name: "a", state: store.OpRunning})
	putOp(t, e.store, opSpec{folder: team, name: "b", state: store.OpPending})
	putOp(t, e.store, opSpec{folder: team, name: "c", state: store.OpFailed, msg: "x", done: now.Add(-time.Hour)})
	putOp(t, e.store, opSpec{folder: team, name: "d", state: store.OpLost, msg: "x", done: now.Add(-48 * time.Hour)})
	r := e.get("/operations/counts", htmx)
	el := r.doc.Find("#" + views.OpCountsID)
	if trig, _ := el.Attr("hx-trigger"); trig != "every 5s, imagedash:visible, imagedash:op-done from:body, imagedash:ops-finished from:body" {
		t.Errorf("trigger = %q", trig)
	}
	if _, ok := el.Attr("data-live"); !ok {
		t.Error("counts are not a live element")
	}
	if got := r.text(`[data-testid="count-inflight"]`); got != "2 in flight" {
		t.Errorf("in flight = %q", got)
	}
	if got := r.text(`[data-testid="count-failed"]`); got != "1 failed" {
		t.Errorf("failed = %q", got)
	}
	if href := r.attr(`[data-testid="count-inflight"]`, "href"); href != "/operations?state=open" {
		t.Errorf("in-flight link = %q", href)
	}
	if href := r.attr(`[data-testid="count-failed"]`, "href"); !strings.HasPrefix(href, "/operations?from=2026-11-22T12%3A00&state=problem") {
		t.Errorf("failed link = %q", href)
	}
	// The slot loads them.
	var buf strings.Builder
	ctx := views.WithRequest(context.Background(), views.Request{Me: views.Me{Name: "root"}})
	if err := views.OpCountsSlot().Render(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	slot, _ := goquery.NewDocumentFromReader(strings.NewReader(buf.String()))
	if get, _ := slot.Find("#" + views.OpCountsID).Attr("hx-get"); get != "/operations/counts" {
		t.Errorf("slot: %s", buf.String())
	}
	buf.Reset()
	if err := views.OpCountsSlot().Render(context.Background(), &buf); err != nil || buf.Len() != 0 {
		t.Errorf("slot when signed out: %q", buf.String())
	}
}

func TestShowOperation(t *testing.T) {
	t.Parallel()
	e := newOpsEnv(t)
	o := e.copyAs("copier-a", e.alpha, "shown-copy")
	r := e.ok(fmt.Sprintf("/operations/%d", o.ID))
	if got := r.text(`[data-testid="op-title"]`); got != "Copy of shown-copy" {
		t.Errorf("title = %q", got)
	}
	req := r.doc.Find(`[data-testid="op-request"] pre code`).Text()
	if !strings.Contains(req, "\n  \"action\": \"image.copy\"") || !strings.Contains(req, `"Name": "shown-copy"`) {
		t.Errorf("request not pretty-printed:\n%s", req)
	}
	f := map[string]string{}
	r.doc.Find(`[data-testid="op-fields"] dd`).Each(func(_ int, s *goquery.Selection) {
		k, _ := s.Attr("data-field")
		f[k] = strings.Join(strings.Fields(s.Text()), " ")
	})
	for k, want := range map[string]string{
		"Started by": "copier-a", "Idempotency key": o.Key, "Cloud operation": o.CloudID, "Sends": "1", "Polls": "0",
		"State": "In progress (running)",
	} {
		if f[k] != want {
			t.Errorf("field %s = %q, want %q", k, f[k], want)
		}
	}
	if r.doc.Find(`[data-testid="op-badge"][hx-trigger]`).Length() != 1 || r.doc.Find(`[data-testid="cancel"]`).Length() != 1 {
		t.Error("a running operation's page has no live badge or no Cancel")
	}
	// An escaped request, and a failure's error.
	bad := putOp(t, e.store, opSpec{folder: e.alpha, name: "<script>alert(1)</script>", state: store.OpFailed, code: "InvalidArgument", msg: "bad <name>"})
	r = e.ok(fmt.Sprintf("/operations/%d", bad.ID))
	if strings.Contains(r.body, "<script>alert") {
		t.Error("request or name not escaped")
	}
	if got := r.text(`[data-testid="op-error-message"]`); got != "The cloud refused the copy in team-alpha: it does not accept some of what was asked (a name, a label or a size). Check the fields and try again." {
		t.Errorf("error = %q", got)
	}
	// The administrator may unfold the cloud's own words (see
	// TestOperationMessagesPlain for everyone else).
	if got := strings.Join(strings.Fields(r.text(`[data-testid="cloud-words"] p`)), " "); got != "InvalidArgument bad <name>" {
		t.Errorf("cloud's own words = %q", got)
	}
	if r.doc.Find(`[data-testid="cancel"]`).Length() != 0 {
		t.Error("a failed operation offers Cancel")
	}
}

func TestCancelOperation(t *testing.T) {
	t.Parallel()
	e := newOpsEnv(t)
	cancel := func(who string, id int64) response {
		return e.as(who, "POST", fmt.Sprintf("/operations/%d/cancel", id), url.Values{}, hx...)
	}
	tests := []struct {
		who, owner string
		want       int
	}{
		{"copier-a", "copier-a", http.StatusOK}, // the person who started it
		{"editor-a", "copier-a", http.StatusOK}, // an editor of the folder
		{"admin", "copier-a", http.StatusOK},
		{"viewer-a", "copier-a", http.StatusForbidden}, // sees it, may not cancel
		{"copier-a", "editor-a", http.StatusForbidden}, // someone else's, not an editor
		{"editor-b", "copier-a", http.StatusNotFound},  // another team's: as if missing
	}
	for i, tt := range tests {
		name := fmt.Sprintf("%s cancels %s's", tt.who, tt.owner)
		t.Run(name, func(t *testing.T) {
			o := e.copyAs(tt.owner, e.alpha, fmt.Sprintf("cancel-me-%d", i))
			r := cancel(tt.who, o.ID)
			if r.code != tt.want {
				t.Fatalf("POST cancel = %d, want %d; body:\n%s", r.code, tt.want, r.body)
			}
			e.step(time.Millisecond)
			got, err := e.store.Operation(context.Background(), o.ID)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != http.StatusOK {
				if got.State != store.OpRunning {
					t.Errorf("refused cancel changed the operation: %s", got.State)
				}
				return
			}
			if loc := r.hdr.Get(handlers.HeaderRedirect); loc != fmt.Sprintf("/operations/%d", o.ID) {
				t.Errorf("redirect = %q", loc)
			}
			if got.State != store.OpCancelled || got.ErrorCode != "Canceled" {
				t.Errorf("after cancel: %s %s %q", got.State, got.ErrorCode, got.ErrorMessage)
			}
		})
	}
	t.Run("not running", func(t *testing.T) {
		o := e.copyAs("copier-a", e.alpha, "done-already")
		for range 30 {
			e.step(time.Second)
		}
		r := cancel("admin", o.ID)
		if r.code != http.StatusOK || r.hdr.Get(handlers.HeaderRedirect) != fmt.Sprintf("/operations/%d", o.ID) {
			t.Fatalf("cancel of a done operation = %d %q", r.code, r.body)
		}
		// A notice of how it ended, and the operation as it was.
		page := e.as("admin", "GET", fmt.Sprintf("/operations/%d", o.ID), nil)
		if got := page.text(`[data-testid="toasts"]`); !strings.Contains(got, "already finished: the copy succeeded") {
			t.Errorf("notice = %q", got)
		}
		if got, _ := e.store.Operation(context.Background(), o.ID); got.State != store.OpDone {
			t.Errorf("a cancel after the end reopened it: %s", got.State)
		}
		es, _ := e.store.AuditLog(context.Background(), store.AuditQuery{Action: tracker.ActionCopy, Target: o.ImageID, Limit: 100})
		if len(es) != 1 {
			t.Errorf("%d outcome rows for the operation, want 1: %+v", len(es), es)
		}
	})
	t.Run("the cloud refuses", func(t *testing.T) {
		img, err := e.store.Image(context.Background(), cloud.Compute, e.src.ID)
		if err != nil {
			t.Fatal(err)
		}
		o, err := e.tracker.Start(context.Background(), tracker.Who{Username: "root"}, "",
			tracker.Update(img, cloud.ImageUpdate{Mask: []string{"description"}, Description: "slow edit"}))
		if err != nil || o.State != store.OpRunning {
			t.Fatalf("update: %v %+v", err, o)
		}
		r := cancel("admin", o.ID)
		if r.code != http.StatusConflict || !strings.Contains(r.text(`[data-testid="toast"]`), "The cloud would not cancel this operation") {
			t.Errorf("cancel of an update = %d %q", r.code, r.text(`[data-testid="toast"]`))
		}
		// The cloud's own words ("operation <id> (…) cannot be cancelled")
		// go to the log: a person reads no cloud id and no server text.
		if toast := r.text(`[data-testid="toast"]`); strings.Contains(toast, o.CloudID) {
			t.Errorf("the cloud's message reached the person: %q", toast)
		}
	})
	t.Run("audited", func(t *testing.T) {
		es, err := e.store.AuditLog(context.Background(), store.AuditQuery{Action: "operation.cancel", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		count := map[store.Outcome]int{}
		for _, en := range es {
			count[en.Outcome]++
			if en.Outcome == store.OutcomeDenied {
				continue
			}
			// Refused or not, a cancel's row names the dashboard's
			// operation (the cloud's ids repeat after a restart) and the
			// image it targets.
			id, err := strconv.ParseInt(en.OperationID, 10, 64)
			if err != nil {
				t.Errorf("cancel row names operation %q, not the dashboard's id: %+v", en.OperationID, en)
				continue
			}
			o, err := e.store.Operation(context.Background(), id)
			if err != nil || o.ImageID != "" && (en.TargetKind != "image" || en.TargetID != o.ImageID) {
				t.Errorf("cancel row %+v: operation %+v (%v), want its image as the target", en, o, err)
			}
		}
		if count[store.OutcomeSuccess] != 3 || count[store.OutcomeDenied] != 3 || count[store.OutcomeFailure] != 2 {
			t.Errorf("audit outcomes = %v", count)
		}
	})
}

func TestImagePageOperationBadges(t *testing.T) {
	t.Parallel()
	e := newOpsEnv(t)
	ctx := context.Background()
	img, err := e.store.Image(ctx, cloud.Compute, e.src.ID)
	if err != nil {
		t.Fatal(err)
	}
	page := "/images/compute/" + img.ID
	// Nothing in flight: no badge, no listener.
	r := e.ok(page)
	if r.doc.Find(`[data-testid="image-ops"]`).Length() != 0 || r.doc.Find("#"+views.ImageLiveID).Length() != 1 {
		t.Errorf("idle page: badges %d, section %d", r.doc.Find(`[data-testid="image-ops"]`).Length(), r.doc.Find("#"+views.ImageLiveID).Length())
	}
	o, err := e.tracker.Start(ctx, tracker.Who{Username: "root"}, "",
		tracker.Update(img, cloud.ImageUpdate{Mask: []string{"description"}, Description: "live edit"}))
	if err != nil {
		t.Fatal(err)
	}
	// Open: a polling badge by the status, and the section's listener.
	r = e.ok(page)
	badge := r.doc.Find(`.detail-head [data-testid="op-badge"]`)
	if id, _ := badge.Attr("data-op"); id != fmt.Sprint(o.ID) {
		t.Fatalf("badge op = %q, want %d; body:\n%s", id, o.ID, r.body)
	}
	if _, ok := badge.Attr("hx-trigger"); !ok {
		t.Error("open badge does not poll")
	}
	l := r.doc.Find(`[data-testid="image-live-listener"]`)
	if trig, _ := l.Attr("hx-trigger"); trig != views.OpDoneEvent+" from:body" {
		t.Errorf("listener trigger = %q", trig)
	}
	if get, _ := l.Attr("hx-get"); get != fmt.Sprintf("%s?op=%d", page, o.ID) {
		t.Errorf("listener reloads %q", get)
	}
	// Done: ?op= keeps the final badge on the page; another team's
	// operation named there is left out.
	for range 5 {
		e.step(time.Second)
	}
	other := e.copyAs("editor-b", e.beta, "beta-secret")
	r = e.as("viewer-a", "GET", fmt.Sprintf("%s?op=%d&op=%d&op=x", page, o.ID, other.ID), nil)
	var shown []string
	r.doc.Find(`[data-testid="op-badge"]`).Each(func(_ int, s *goquery.Selection) {
		v, _ := s.Attr("data-op")
		st, _ := s.Attr("data-state")
		shown = append(shown, v+":"+st)
	})
	if want := []string{fmt.Sprintf("%d:done", o.ID)}; !slices.Equal(shown, want) {
		t.Errorf("badges = %v, want %v", shown, want)
	}
	if r.doc.Find(`[data-testid="op-badge"][hx-trigger]`).Length() != 0 {
		t.Error("a final badge polls")
	}
	// The section's reload after a delete: the image is gone.
	victim := putOp(t, e.store, opSpec{folder: e.golden, name: "gone", state: store.OpDone})
	r = e.get("/images/compute/fd8nosuchimage000000?op="+fmt.Sprint(victim.ID),
		map[string]string{handlers.HeaderRequest: "true", handlers.HeaderTarget: views.ImageLiveID})
	if r.code != http.StatusOK || r.doc.Find(`#`+views.ImageLiveID+`[data-testid="image-gone"]`).Length() != 1 {
		t.Errorf("reload of a deleted image = %d:\n%s", r.code, r.body)
	}
	if r := e.get("/images/compute/fd8nosuchimage000000", nil); r.code != http.StatusNotFound {
		t.Errorf("plain GET of a missing image = %d", r.code)
	}
}

// TestOpsCache: a cached operation is read again after any write to the
// operations, and never served stale.
func TestOpsCache(t *testing.T) {
	t.Parallel()
	e := newMonitorEnv(t)
	ctx := context.Background()
	c := handlers.NewOpsCache(e.store)
	o := putOp(t, e.store, opSpec{folder: team, name: "cached", state: store.OpRunning})
	for range 3 {
		got, err := c.Operation(ctx, o.ID)
		if err != nil || got.State != store.OpRunning {
			t.Fatalf("first reads: %v %s", err, got.State)
		}
	}
	o.Polls, o.ErrorCode, o.ErrorMessage = 7, "Internal", "hiccup"
	if err := e.store.SaveOperation(ctx, o); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Operation(ctx, o.ID); got.Polls != 7 || !got.Failing() {
		t.Errorf("after a save: polls %d, failing %v", got.Polls, got.Failing())
	}
	o, _ = e.store.Operation(ctx, o.ID) // as saved: a write is made over the version read
	o.State = store.OpDone
	if err := e.store.FinishOperation(ctx, o, nil, cloud.Image{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Operation(ctx, o.ID); got.State != store.OpDone {
		t.Errorf("after finishing: %s", got.State)
	}
	if _, err := c.Operation(ctx, 424242); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	// Concurrent readers and a writer (for -race).
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 200 {
				if _, err := c.Operation(ctx, o.ID); err != nil {
					t.Error(err)
					return
				}
				if i == 0 {
					o2 := o
					o2.Polls++
					_ = e.store.SaveOperation(ctx, o2)
				}
			}
		})
	}
	wg.Wait()
}
