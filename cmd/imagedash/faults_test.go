package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/yandex-cloud/go-genproto/yandex/cloud/operation"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/cloud/sim"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/internal/asnobody"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/syncer"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/web"
	"github.com/imagedash/imagedash/web/webtest"
)

// The faults of issue 6: a fifth of the calls Unavailable, 300 ms added to
// each, a tenth of the operations ending in an error.
var issueFaults = sim.Faults{Latency: 300 * time.Millisecond, UnavailableRate: 0.2, OpErrorRate: 0.1}

// Upstream methods whose calls are counted.
const (
	methodCreate = "/yandex.cloud.compute.v1.ImageService/Create"
	methodUpdate = "/yandex.cloud.compute.v1.ImageService/Update"
)

// TestFaultsWholeApp runs the whole program against an emulator that
// fails: 20 % Unavailable, 300 ms latency, 10 % of operations in error. A
// copier bulk-copies 20 images and an editor edits 10, through the real
// routes, while every page is read. It checks that
//   - every page answers (200, never a 5xx), from the cache;
//   - every operation ends recorded: done, failed or lost, none open;
//   - upstream, each operation was created once, by its idempotency key:
//     images created = copies that got a cloud operation (done, or failed by
//     the injected error after creation), no two operations share a cloud
//     id, and the mutation calls the emulator saw = the sends the tracker
//     recorded (the client never re-sends on its own);
//
// and then, with the cloud down altogether, that the pages still answer
// from the cache and say the cloud is unreachable.
func TestFaultsWholeApp(t *testing.T) {
	t.Parallel() // its own app, browser and data: most of its time is waiting
	emu, err := sim.New(sim.Options{Seed: 1, Images: 200, TimeScale: 0.1, Faults: issueFaults})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	folders := map[string]string{}
	for _, f := range emu.Folders() {
		folders[f.GetName()] = f.GetId()
	}
	golden, alpha := folders["golden-images"], folders["team-alpha"]
	createdBefore := emu.Created()

	began := time.Now()
	phase := func(name string) { t.Logf("%s: %s", name, time.Since(began).Round(100*time.Millisecond)) }
	base, data, stop := startRun(t, "--endpoint", addr, "--sync-interval", "2s")
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()
	bad := &fiveXX{}
	admin := faultClient(bad)
	faultSignIn(t, admin, base, "admin", testAdminPassword)
	listURL := func(folder string) string {
		return base + "/?" + url.Values{"service": {"compute"}, "folder": {folder}, "status": {"READY"}, "limit": {"100"}}.Encode()
	}
	waitRows(t, admin, listURL(golden))
	waitRows(t, admin, listURL(alpha))

	phase("cache filled")
	// The people, made by the admin through the admin pages.
	const pass = "faults-password-1234"
	team := faultPostOK(t, admin, base, "/admin/teams", url.Values{"name": {"alpha"}}).Request.URL.Path
	faultPostOK(t, admin, base, team+"/folders", url.Values{"folder": {alpha}})
	faultPostOK(t, admin, base, "/admin/folders/share", url.Values{"folder": {golden}, "shared": {"true"}})
	for _, p := range []struct{ user, role string }{{"amir", "copier"}, {"alice", "editor"}} {
		resp := faultPostOK(t, admin, base, "/admin/users", url.Values{"username": {p.user}, "password": {pass}})
		faultPostOK(t, admin, base, team+"/members", url.Values{"user": {resp.Request.URL.Query().Get("id")}, "role": {p.role}})
	}
	amir, alice := faultClient(bad), faultClient(bad)
	faultSignIn(t, amir, base, "amir", pass)
	faultSignIn(t, alice, base, "alice", pass)

	sources := faultRowIDs(t, admin, listURL(golden), 20)
	targets := faultRowIDs(t, admin, listURL(alpha), 10)

	// The work, all at once, with every page read meanwhile.
	var wg sync.WaitGroup
	wg.Go(func() {
		form := url.Values{"service": {"compute"}, "id": sources, "folder": {alpha}, "name": {"{name}-ft"}}
		if resp := faultPost(t, amir, base, "/images/bulk-copy", form); resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.Path, "/copies/") {
			t.Errorf("bulk copy of 20: ended at %s with %s", resp.Request.URL, resp.Status)
		}
	})
	for i, id := range targets {
		wg.Go(func() { faultEdit(t, alice, base, id, fmt.Sprintf("edited under faults %d", i)) })
	}
	done := make(chan struct{})
	var pages sync.WaitGroup
	pages.Go(func() {
		for {
			faultPages(t, admin, base, targets[0], false)
			select {
			case <-done:
				return
			default:
			}
		}
	})
	wg.Wait()
	phase("copies and edits sent")

	// Every operation ends, recorded. The program's watcher polls them
	// (its real loop, on the real clock).
	deadline := time.Now().Add(45 * time.Second)
	st := openBusy(t, data, deadline)
	defer st.Close()
	var ops []store.Operation
	for {
		ops, err = st.Operations(context.Background(), store.OperationQuery{Limit: store.MaxOperationLimit})
		if err != nil {
			t.Fatal(err)
		}
		open := 0
		for _, o := range ops {
			if o.State.Open() { // pending, sending or running
				open++
			}
		}
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d operations still open after 45 s", open, len(ops))
		}
		time.Sleep(200 * time.Millisecond)
	}
	close(done)
	pages.Wait()
	phase("every operation ended")

	// Outcomes and the upstream ledger.
	var (
		copies, edits         int
		created               int // copies that got a cloud operation
		sendsCopy, sendsEdit  int
		states                = map[store.OpState]int{}
		byCloudID             = map[string]int64{}
		resent, injectedFails int
	)
	for _, o := range ops {
		states[o.State]++
		switch o.Action {
		case tracker.ActionCopy:
			copies++
			sendsCopy += o.Attempts
			if o.CloudID != "" {
				created++
			}
		case tracker.ActionUpdate:
			edits++
			sendsEdit += o.Attempts
		default:
			t.Errorf("operation %d: action %s, want only copies and edits", o.ID, o.Action)
		}
		if o.Attempts > 1 {
			resent++
		}
		if strings.Contains(o.ErrorMessage, "injected fault") {
			injectedFails++
		}
		switch o.State {
		case store.OpDone, store.OpFailed, store.OpLost:
		default:
			t.Errorf("operation %d ended %s", o.ID, o.State)
		}
		if o.State == store.OpDone && o.CloudID == "" {
			t.Errorf("operation %d is done with no cloud operation", o.ID)
		}
		if o.CloudID == "" {
			continue
		}
		if other, dup := byCloudID[o.CloudID]; dup {
			t.Errorf("operations %d and %d share cloud operation %s", other, o.ID, o.CloudID)
		}
		byCloudID[o.CloudID] = o.ID
		want := map[string]string{tracker.ActionCopy: methodCreate, tracker.ActionUpdate: methodUpdate}[o.Action]
		if m, id, ok := emu.KeyedOperation(o.Key); !ok || id != o.CloudID || m != want {
			t.Errorf("operation %d (key %s): the emulator started %s by %s (%v), want %s by %s", o.ID, o.Key, id, m, ok, o.CloudID, want)
		}
	}
	t.Logf("operations: %d copies, %d edits; states %v; %d re-sent with their key, %d ended by the injected error", copies, edits, states, resent, injectedFails)
	t.Logf("upstream: %d images created, Create called %d times for %d sends, Update %d for %d",
		emu.Created()-createdBefore, emu.Calls(methodCreate), sendsCopy, emu.Calls(methodUpdate), sendsEdit)
	if copies != len(sources) || edits != len(targets) {
		t.Errorf("recorded %d copies and %d edits, want %d and %d", copies, edits, len(sources), len(targets))
	}
	if got := emu.Created() - createdBefore; got != created {
		t.Errorf("the emulator created %d images; %d copies got a cloud operation", got, created)
	}
	if keyed := emu.KeyedOperations(methodCreate); keyed != emu.Created()-createdBefore {
		t.Errorf("%d images created, %d of them by an idempotency key: some creation came without one", emu.Created()-createdBefore, keyed)
	}
	if got := emu.Calls(methodCreate); got != sendsCopy {
		t.Errorf("Create called %d times upstream, the tracker recorded %d sends: something re-sent a copy on its own", got, sendsCopy)
	}
	if got := emu.Calls(methodUpdate); got != sendsEdit {
		t.Errorf("Update called %d times upstream, the tracker recorded %d sends: something re-sent an edit on its own", got, sendsEdit)
	}

	// The cloud down altogether: pages answer from the cache and say so.
	emu.SetFaults(sim.Faults{UnavailableRate: 1})
	deadline = time.Now().Add(30 * time.Second)
	for {
		doc := faultGet(t, admin, base+"/", http.StatusOK)
		if strings.Contains(doc.Find(`[data-testid="banner"]`).Text(), "could not reach the cloud") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner 30 s after the cloud went down: %q", doc.Find(`[data-testid="banner"]`).Text())
		}
		time.Sleep(200 * time.Millisecond)
	}
	phase("the banner shows the cloud down")
	faultPages(t, admin, base, targets[0], true)
	phase("pages read with the cloud down")
	if len(bad.list()) > 0 {
		t.Errorf("answers of 500 or more: %q", bad.list())
	}
	stopped = true
	if err := stop(); err != nil {
		t.Errorf("run: %v", err)
	}
}

// faultPages reads every page kind and checks each answers 200 from the
// cache; with down, that the cloud's failure is shown.
func faultPages(t *testing.T, c *http.Client, base, imageID string, down bool) {
	t.Helper()
	img := base + "/images/compute/" + imageID
	list := faultGet(t, c, base+"/?service=compute", http.StatusOK)
	families := faultGet(t, c, base+"/families?service=compute", http.StatusOK)
	detail := faultGet(t, c, img, http.StatusOK)
	monitor := faultGet(t, c, base+"/operations", http.StatusOK)
	hx := []string{"HX-Request", "true"}
	sections := []*goquery.Document{
		faultGet(t, c, img+"/operations", http.StatusOK, hx...),
		faultGet(t, c, img+"/latest", http.StatusOK, hx...),
	}
	if list.Find(`[data-testid="image-row"]`).Length() == 0 || detail.Find("main").Length() == 0 ||
		monitor.Find("main").Length() == 0 || families.Find("main").Length() == 0 {
		t.Errorf("a page came back without its content from the cache")
	}
	if !down {
		return
	}
	for name, doc := range map[string]*goquery.Document{"list": list, "families": families} {
		if b := doc.Find(`[data-testid="banner"]`).Text(); !strings.Contains(b, "could not reach the cloud") {
			t.Errorf("%s with the cloud down: banner %q", name, b)
		}
	}
	for i, doc := range sections {
		if msg := doc.Find(`[data-testid="cloud-error"]`).Text(); !strings.Contains(msg, "Could not reach the cloud") {
			t.Errorf("lazy section %d with the cloud down: %q, want it to say the cloud is unreachable", i, msg)
		}
	}
}

// faultEdit changes an image's description through its edit form.
func faultEdit(t *testing.T, c *http.Client, base, id, description string) {
	doc := faultGet(t, c, base+"/images/compute/"+id+"/edit", http.StatusOK)
	form := url.Values{}
	doc.Find(`form[data-testid="edit-form"]`).Find("input[name], textarea[name]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		if goquery.NodeName(s) == "textarea" {
			form.Add(name, s.Text())
			return
		}
		v, _ := s.Attr("value")
		form.Add(name, v)
	})
	form.Set("description", description)
	if resp := faultPost(t, c, base, "/images/compute/"+id+"/edit", form); resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/images/compute/"+id {
		t.Errorf("edit %s: ended at %s with %s", id, resp.Request.URL, resp.Status)
	}
}

// faultRowIDs is the ids of the first n rows of an image list.
func faultRowIDs(t *testing.T, c *http.Client, u string, n int) []string {
	t.Helper()
	var ids []string
	faultGet(t, c, u, http.StatusOK).Find(`[data-testid="image-row"]`).Each(func(_ int, s *goquery.Selection) {
		if id, ok := s.Attr("data-id"); ok && len(ids) < n {
			ids = append(ids, id)
		}
	})
	if len(ids) < n {
		t.Fatalf("%s lists %d images, want %d", u, len(ids), n)
	}
	return ids
}

// fiveXX records every answer of 500 or more a client got.
type fiveXX struct {
	mu  sync.Mutex
	got []string
}

func (f *fiveXX) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

func (f *fiveXX) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && resp.StatusCode >= 500 {
		f.mu.Lock()
		f.got = append(f.got, req.Method+" "+req.URL.RequestURI()+": "+resp.Status)
		f.mu.Unlock()
	}
	return resp, err
}

// faultClient is a browser-like client (cookies, redirects followed) whose
// 5xx answers are recorded in bad.
func faultClient(bad *fiveXX) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: bad, Timeout: 60 * time.Second}
}

// faultSignIn signs c in through the sign-in form; c then keeps the
// session and the CSRF cookie.
func faultSignIn(t *testing.T, c *http.Client, base, user, password string) {
	t.Helper()
	resp := faultPost(t, c, base, "/login", url.Values{"username": {user}, "password": {password}})
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		t.Fatalf("sign in as %s: ended at %s with %s", user, resp.Request.URL, resp.Status)
	}
}

// faultPost posts form to path with the CSRF token of the sign-in page
// (the _csrf cookie's), follows redirects and returns the last answer,
// its body read and closed.
func faultPost(t *testing.T, c *http.Client, base, path string, form url.Values) *http.Response {
	tok, _ := faultGet(t, c, base+"/login", 0).Find(`input[name="_csrf"]`).Attr("value")
	form = faultClone(form)
	form.Set("_csrf", tok)
	resp, err := c.PostForm(base+path, form)
	if err != nil {
		t.Errorf("POST %s: %v", path, err)
		return &http.Response{Status: err.Error(), Request: &http.Request{URL: &url.URL{Path: path}}}
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// faultPostOK is faultPost that fails the test unless it ends in a 200.
func faultPostOK(t *testing.T, c *http.Client, base, path string, form url.Values) *http.Response {
	t.Helper()
	resp := faultPost(t, c, base, path, form)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: ended at %s with %s", path, resp.Request.URL, resp.Status)
	}
	return resp
}

func faultClone(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// faultGet GETs u with the header pairs hdr and parses it; the status must
// be want (any below 500 when want is 0).
func faultGet(t *testing.T, c *http.Client, u string, want int, hdr ...string) *goquery.Document {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Errorf("GET %s: %v", u, err)
		return goquery.NewDocumentFromNode(nil)
	}
	defer resp.Body.Close()
	if (want != 0 && resp.StatusCode != want) || resp.StatusCode >= 500 {
		t.Errorf("GET %s = %s, want %d", u, resp.Status, want)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Errorf("GET %s: %v", u, err)
		return goquery.NewDocumentFromNode(nil)
	}
	return doc
}

// TestFaultFlags: the --sim-* fault flags (and their IMAGEDASH_* twins)
// reach the embedded emulator.
func TestFaultFlags(t *testing.T) {
	cfg, err := parseConfig([]string{"imagedash", "--sim-latency", "300ms", "--sim-op-error-rate", "0.1", "--data", filepath.Join(t.TempDir(), "x.db")},
		env(map[string]string{"IMAGEDASH_SIM_UNAVAILABLE_RATE": "1", "IMAGEDASH_SIM_EXHAUSTED_RATE": "0.05"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.simFaults != (sim.Faults{Latency: 300 * time.Millisecond, UnavailableRate: 1, ExhaustedRate: 0.05, OpErrorRate: 0.1}) {
		t.Errorf("faults = %+v", cfg.simFaults)
	}
	for _, args := range [][]string{{"--sim-unavailable-rate", "1.5"}, {"--sim-op-error-rate", "-0.1"}, {"--sim-exhausted-rate", "2"}} {
		if _, err := parseConfig(append([]string{"imagedash"}, args...), env(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "between 0 and 1") {
			t.Errorf("%v: err = %v, want a range error", args, err)
		}
	}

	addr, _, stopSim, err := startSim(cfg, slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer stopSim()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	_, err = operation.NewOperationServiceClient(conn).Get(context.Background(), &operation.GetOperationRequest{OperationId: "x"})
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "injected fault") {
		t.Errorf("a call with --sim-unavailable-rate 1: %v, want the injected Unavailable", err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("a call took %s with --sim-latency 300ms", took)
	}
}

// TestStorageFullAnswersClearly: when the database's disk is full (SQLite's
// max_page_count stands in for the disk), the sync records its failure and
// the pages show it, reads still answer from the cache, a change answers
// 507 with a message that says why (a toast for HTMX), never a 500; with
// room again everything works and the file is sound.
func TestStorageFullAnswersClearly(t *testing.T) {
	ctx := context.Background()
	emu, err := sim.New(sim.Options{Seed: 1, Images: 300, TimeScale: 0})
	if err != nil {
		t.Fatal(err)
	}
	addr, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	client, err := cloud.Dial(ctx, cloud.Config{Endpoint: addr, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	path := filepath.Join(t.TempDir(), "imagedash.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var gamma string
	for _, f := range emu.Folders() {
		if f.GetName() == "team-gamma" {
			gamma = f.GetId()
		}
	}
	// A first sync of one folder: the cache knows every folder and holds
	// that one's images.
	if p := syncer.New(client, st, syncer.Config{Folders: []string{gamma}}).SyncAll(ctx); p.Err != nil || p.Failures > 0 {
		t.Fatalf("first sync: %+v", p)
	}
	sy := syncer.New(client, st, syncer.Config{})
	// The sessions' clock: moved past the touch interval once the disk is
	// full, so reading a page would want to record the session's activity.
	var (
		clockMu sync.Mutex
		clockAt = time.Now()
	)
	clock := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clockAt }
	advance := func(d time.Duration) { clockMu.Lock(); clockAt = clockAt.Add(d); clockMu.Unlock() }
	sessions, dir := webtest.People(t, st, clock)
	srv, err := web.New(web.Config{}, web.Deps{
		Handlers: handlers.New(handlers.Config{Store: st, Syncer: sy, Cloud: client, People: st, Sessions: sessions,
			Tracker: tracker.New(client, st, tracker.Config{}), Ops: st}),
		Sessions: sessions, Directory: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	webtest.AddUser(t, st, "root", true)
	b := webtest.NewBrowser(t, srv)
	b.Login("root", webtest.Password)
	rows := func(rec *httptest.ResponseRecorder) (int, string) {
		doc, err := goquery.NewDocumentFromReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		return doc.Find(`[data-testid="image-row"]`).Length(), strings.TrimSpace(doc.Find(`[data-testid="banner"]`).Text())
	}
	list := "/?service=compute&limit=200"
	rec := b.Get(list)
	before, _ := rows(rec)
	// A second person signs out before the disk fills: their session
	// carries the "signed out" notice to the sign-in page.
	leaver := webtest.NewBrowser(t, srv)
	leaver.Login("root", webtest.Password)
	if rec := leaver.Post("/logout", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("logout = %d", rec.Code)
	}
	var copySrc string
	if imgs, err := st.Images(ctx, store.ImageQuery{Service: cloud.Compute, Statuses: []string{"READY"}, Limit: 1}); err != nil || len(imgs.Images) == 0 {
		t.Fatalf("an image to copy: %v", err)
	} else {
		copySrc = imgs.Images[0].ID
	}
	copyForm := url.Values{"folder": {gamma}, "name": {"copied-on-a-full-disk"}}
	opsBefore := faultOpCount(t, st)

	limit, err := st.SetMaxPages(ctx, 1) // the disk is full
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("max_page_count %d", limit)

	// The sync cannot write the other folders' images: it records why.
	if p := sy.SyncAll(ctx); p.Failures == 0 {
		t.Fatalf("sync on a full disk: %+v, want failures", p)
	}
	states, err := st.SyncStates(ctx, cloud.Compute)
	if err != nil {
		t.Fatal(err)
	}
	recorded := 0
	for _, s := range states {
		if strings.Contains(s.LastError, "full") {
			recorded++
		}
	}
	if recorded == 0 {
		t.Errorf("no sync state records the full disk: %+v", states)
	}
	// Reads answer from the cache, the failure shown.
	rec = b.Get(list)
	n, banner := rows(rec)
	if rec.Code != http.StatusOK || n != before || banner == "" {
		t.Errorf("list on a full disk = %d, %d rows (want %d), banner %q", rec.Code, n, before, banner)
	}
	t.Logf("list on a full disk: banner %q", banner)
	// A session older than the touch interval reads every page, and a
	// notice that cannot be cleared is shown all the same.
	readAll := func(when string, notice bool) {
		t.Helper()
		advance(5 * time.Minute)
		for _, page := range []struct{ path, hdr string }{
			{list, ""}, {list, "HX-Request"}, {"/images/compute/" + copySrc, ""}, {"/families?service=compute", ""},
			{"/operations", ""}, {"/operations/counts", "HX-Request"}, {"/sync?service=compute", ""}, {"/admin/audit", ""},
			{"/admin/users", ""}, {"/images/compute/" + copySrc + "/copy", ""},
		} {
			var hdr []string
			if page.hdr != "" {
				hdr = []string{page.hdr, "true"}
			}
			if rec := b.Get(page.path, hdr...); rec.Code != http.StatusOK {
				t.Errorf("%s: GET %s (%s), session last seen 5 min ago = %d, want 200:\n%.400s", when, page.path, page.hdr, rec.Code, rec.Body.String())
			}
		}
		if !notice {
			return
		}
		if rec := leaver.Get("/login"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "You have signed out.") {
			t.Errorf("%s: sign-in page with a notice = %d, want 200 with the notice:\n%.400s", when, rec.Code, rec.Body.String())
		}
	}
	readAll("full disk", false)
	// No write at all goes through (a full disk fails an update in place
	// too, when the WAL cannot grow): the pages still answer, recording
	// nothing, and a change is refused whole, saying why.
	if err := st.SetWritesFail(ctx, true); err != nil {
		t.Fatal(err)
	}
	readAll("no write possible", true)
	rec = b.Post("/images/compute/"+copySrc+"/copy", copyForm)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "cannot be written just now, so nothing was saved") {
		t.Errorf("a copy with no write possible = %d, want 503 saying so:\n%.600s", rec.Code, rec.Body.String())
	}
	if n := faultOpCount(t, st); n != opsBefore {
		t.Errorf("operations after a refused copy = %d, want %d", n, opsBefore)
	}
	if err := st.SetWritesFail(ctx, false); err != nil {
		t.Fatal(err)
	}
	// A change: 507 and why, as a page and as a toast.
	for i := range 1000 {
		rec = b.Post("/admin/teams", url.Values{"name": {fmt.Sprintf("team-%04d-filling-the-disk", i)}})
		if rec.Code != http.StatusSeeOther {
			break
		}
	}
	const why = "database is full, so nothing was saved"
	if rec.Code != http.StatusInsufficientStorage || !strings.Contains(rec.Body.String(), why) {
		t.Errorf("a change on a full disk = %d, want 507 saying %q:\n%.600s", rec.Code, why, rec.Body.String())
	}
	rec = b.Post("/admin/teams", url.Values{"name": {"one-more-team"}}, "HX-Request", "true")
	if rec.Code != http.StatusInsufficientStorage || !strings.Contains(rec.Body.String(), why) || rec.Header().Get("HX-Retarget") == "" {
		t.Errorf("an HTMX change on a full disk = %d, retarget %q, want a 507 toast", rec.Code, rec.Header().Get("HX-Retarget"))
	}
	// Copies: each is recorded whole (its intent fits in a page with
	// room) or refused whole with 507 saying why; none is half kept.
	accepted := 0
	for i := range 200 {
		copyForm.Set("name", fmt.Sprintf("copied-on-a-full-disk-%03d", i))
		if rec = b.Post("/images/compute/"+copySrc+"/copy", copyForm); rec.Code != http.StatusSeeOther {
			break
		}
		accepted++
	}
	if rec.Code != http.StatusInsufficientStorage || !strings.Contains(rec.Body.String(), why) {
		t.Errorf("a copy on a full disk = %d, want 507 saying %q:\n%.600s", rec.Code, why, rec.Body.String())
	}
	if n := faultOpCount(t, st); n != opsBefore+accepted {
		t.Errorf("operations after %d accepted copies and a refused one = %d, want %d", accepted, n, opsBefore+accepted)
	}

	// Room again: the sync catches up, changes work, the file is sound.
	if _, err := st.SetMaxPages(ctx, 1<<30); err != nil {
		t.Fatal(err)
	}
	if p := sy.SyncAll(ctx); p.Err != nil || p.Failures > 0 {
		t.Errorf("sync with room again: %+v", p)
	}
	rec = b.Get(list)
	if n, banner := rows(rec); rec.Code != http.StatusOK || n <= before || banner != "" {
		t.Errorf("list with room again = %d, %d rows (want more than %d), banner %q", rec.Code, n, before, banner)
	}
	if rec = b.Post("/admin/teams", url.Values{"name": {"after-the-full-disk"}}); rec.Code != http.StatusSeeOther {
		t.Errorf("a change with room again = %d, want 303", rec.Code)
	}
	// With no restart: the copy refused on the full disk goes through,
	// and the session's activity is recorded again.
	if rec = b.Post("/images/compute/"+copySrc+"/copy", copyForm); rec.Code != http.StatusSeeOther {
		t.Errorf("the copy with room again = %d, want 303:\n%.600s", rec.Code, rec.Body.String())
	}
	if n := faultOpCount(t, st); n != opsBefore+accepted+1 {
		t.Errorf("operations after the copy with room again = %d, want %d", n, opsBefore+accepted+1)
	}
	advance(5 * time.Minute)
	if rec = b.Get(list); rec.Code != http.StatusOK {
		t.Errorf("list with room again, session touched = %d", rec.Code)
	}
	faultIntegrity(t, path)
}

// faultOpCount is the number of operations recorded in st.
func faultOpCount(t *testing.T, st *store.Store) int {
	t.Helper()
	ops, err := st.Operations(context.Background(), store.OperationQuery{Limit: store.MaxOperationLimit})
	if err != nil {
		t.Fatal(err)
	}
	return len(ops)
}

// faultIntegrity fails the test unless PRAGMA integrity_check of the database
// at path, through a connection of its own, says ok.
func faultIntegrity(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&got); err != nil || got != "ok" {
		t.Errorf("integrity_check = %q, %v; want ok", got, err)
	}
}

// TestReadOnlyDataStart: started on a database it cannot write (the file
// 0444, or its directory 0555), imagedash exits with status 1 and prints an
// error naming the path and saying it is read-only. As root, whom file
// modes do not stop, the test runs itself as the user nobody.
func TestReadOnlyDataStart(t *testing.T) {
	if !asnobody.Here(t) {
		return
	}
	tests := []struct {
		name   string
		chmod  func(dir, path string) error
		wantIn string
	}{
		{"file 0444", func(_, path string) error { return os.Chmod(path, 0o444) }, "the file "},
		{"directory 0555", func(dir, _ string) error { return os.Chmod(dir, 0o555) }, "the directory "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(dir, 0o755) })
			path := filepath.Join(dir, "imagedash.db")
			st, err := store.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			if err := tt.chmod(dir, path); err != nil {
				t.Fatal(err)
			}
			stderr, code := faultRunMain(t, "--addr", "127.0.0.1:0", "--data", path, "--sim-images", "10", "--log-level", "error")
			t.Logf("exit %d, stderr:\n%s", code, stderr)
			if code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			if !strings.Contains(stderr, "imagedash: store: open "+path) || !strings.Contains(stderr, "read-only") || !strings.Contains(stderr, tt.wantIn) {
				t.Errorf("stderr does not name %s, say read-only and %q", path, tt.wantIn)
			}
		})
	}
}

// faultMainArgsEnv carries the arguments of main to TestReadOnlyMainHelper.
const faultMainArgsEnv = "IMAGEDASH_TEST_MAIN_ARGS"

// TestReadOnlyMainHelper is no test: faultRunMain starts this test binary again
// to run main itself (which calls os.Exit) with the arguments in
// $IMAGEDASH_TEST_MAIN_ARGS.
func TestReadOnlyMainHelper(t *testing.T) {
	args := os.Getenv(faultMainArgsEnv)
	if args == "" {
		t.Skip("runs main for TestReadOnlyDataStart")
	}
	os.Args = append([]string{"imagedash"}, strings.Split(args, "\x1f")...)
	main()
}

// faultRunMain runs main with args in a child process and returns its stderr
// and exit status.
func faultRunMain(t *testing.T, args ...string) (string, int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run=^TestReadOnlyMainHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), faultMainArgsEnv+"="+strings.Join(args, "\x1f"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stderr.String(), 0
	case errors.As(err, &exit):
		return stderr.String(), exit.ExitCode()
	}
	t.Fatalf("run main: %v", err)
	return "", 0
}

// openBusy opens the store of a running app. Open begins a transaction for
// each migration, and on a loaded machine the app's writes can hold the
// database for longer than the busy timeout: SQLITE_BUSY is tried again
// (each try waits the busy timeout) until the deadline.
func openBusy(t *testing.T, data string, deadline time.Time) *store.Store {
	t.Helper()
	for {
		st, err := store.Open(context.Background(), data)
		if err == nil {
			return st
		}
		if !strings.Contains(err.Error(), "SQLITE_BUSY") || time.Now().After(deadline) {
			t.Fatal(err)
		}
		t.Logf("open the running app's store: %v; again", err)
	}
}
