package loadtest_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud/cloudtest"
	"github.com/imagedash/imagedash/cloud/sim"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/loadtest"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/store/storetest"
	"github.com/imagedash/imagedash/syncer"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/web"
	"github.com/imagedash/imagedash/web/webtest"
)

// dashboard is the real router over the emulator's data, with sign-in:
// team alpha owns team-alpha, "amir" is its copier, golden-images is
// shared. The emulator's operations take hours (TimeScale 1000), so every
// copy stays in flight and its badge keeps answering 200.
type dashboard struct {
	url   string
	store *store.Store
	alpha string // team-alpha's folder id
}

func newDashboard(t *testing.T) *dashboard {
	t.Helper()
	ctx := context.Background()
	s, c := cloudtest.Start(t, sim.Options{Images: 60, TimeScale: 1000})
	st, err := store.Open(ctx, storetest.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sy := syncer.New(c, st, syncer.Config{})
	if p := sy.SyncAll(ctx); p.Err != nil || p.Failures > 0 {
		t.Fatalf("sync: %+v", p)
	}
	folders := map[string]string{}
	for _, f := range s.Folders() {
		folders[f.GetName()] = f.GetId()
	}
	if err := st.SetFolderShared(ctx, folders["golden-images"], true); err != nil {
		t.Fatal(err)
	}
	team, err := st.CreateTeam(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AssignFolder(ctx, team.ID, folders["team-alpha"]); err != nil {
		t.Fatal(err)
	}
	u := webtest.AddUser(t, st, "amir", false)
	if err := st.AddMember(ctx, team.ID, u.ID, store.RoleCopier); err != nil {
		t.Fatal(err)
	}
	sessions, dir := webtest.People(t, st, nil)
	h := handlers.New(handlers.Config{Store: st, Syncer: sy, Cloud: c, CloudTimeout: 3 * time.Second,
		Tracker: tracker.New(c, st, tracker.Config{}), Ops: st, People: st, Sessions: sessions})
	e, err := web.New(web.Config{}, web.Deps{Handlers: h, Sessions: sessions, Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &dashboard{url: srv.URL, store: st, alpha: folders["team-alpha"]}
}

func TestRunUsersAgainstTheDashboard(t *testing.T) {
	d := newDashboard(t)
	cfg := loadtest.UserConfig{
		BaseURL:  d.url,
		Users:    3,
		Username: "amir",
		Password: webtest.Password,
		// Two seconds: on a busy CI machine one second held ~45 actions,
		// and once none of them was a detail page.
		Duration: 2 * time.Second,
		Warmup:   300 * time.Millisecond,
		Think:    5 * time.Millisecond,
		// Copies often enough to see each step of one in a short run.
		Weights: loadtest.Weights{List: 6, Search: 3, Detail: 3, Badge: 3, Monitor: 2, Counts: 2, Copy: 3},
	}
	url, stop := loadtest.BareEcho()
	defer stop()
	rep, err := loadtest.CompareUsers(context.Background(), cfg, url, "in the test's process", 500*time.Millisecond)
	if err != nil {
		t.Fatalf("CompareUsers: %v\n%s", err, rep.Markdown())
	}
	md := rep.Markdown()
	if rep.SignedIn != 3 || rep.SignIn.Requests != 3 || rep.SignIn.Errors != 0 {
		t.Errorf("signed in %d, sign-in figures %+v; want 3 clean sign-ins\n%s", rep.SignedIn, rep.SignIn, md)
	}
	if n := rep.Errors(); n > 0 {
		t.Errorf("%d errors\n%s", n, md)
	}
	for _, name := range []string{
		loadtest.EndpointList, loadtest.EndpointSearch, loadtest.EndpointDetail, loadtest.EndpointBadge,
		loadtest.EndpointMonitor, loadtest.EndpointCounts, loadtest.EndpointCopyForm, loadtest.EndpointCopy,
		loadtest.EndpointCopyResult,
	} {
		// The whole run, warmup included: on a busy machine a short
		// window may miss the rarer steps.
		if rep.Sent(name) == 0 {
			t.Errorf("no %s requests\n%s", name, md)
		}
		if rep.Baseline.Sent(name) == 0 {
			t.Errorf("the baseline has no %s requests", name)
		}
	}
	if rep.Total.Requests == 0 {
		t.Errorf("nothing measured\n%s", md)
	}
	if rep.Copies == 0 {
		t.Fatalf("no copy started\n%s", md)
	}

	// The copies went into team-alpha, as amir, each under a name of its own.
	ops, err := d.store.Operations(context.Background(), store.OperationQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, o := range ops {
		if o.FolderID != d.alpha || o.Username != "amir" || !strings.Contains(o.ImageName, "-lt-") {
			t.Errorf("operation %d: folder %s, by %s, name %q; want team-alpha, amir, a -lt- name", o.ID, o.FolderID, o.Username, o.ImageName)
		}
		if names[o.ImageName] {
			t.Errorf("two copies named %q", o.ImageName)
		}
		names[o.ImageName] = true
	}
	if len(ops) < rep.Copies {
		t.Errorf("%d operations recorded, %d copies reported", len(ops), rep.Copies)
	}

	for _, want := range []string{
		"| endpoint | requests | req/s | p50 | p95 | p99 | max | errors | req/s % of bare Echo | p50 × bare Echo | p99 × bare Echo |",
		"| bare Echo (same users, every request to it) |",
		"| **total** | ",
		"3 virtual users signed in as amir (3 of 3",
		"think time 5ms mean",
		"in the test's process",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "\nErrors:\n") {
		t.Errorf("Markdown lists errors:\n%s", md)
	}
}

func TestRunUsersWrongPassword(t *testing.T) {
	d := newDashboard(t)
	began := time.Now()
	rep, err := loadtest.RunUsers(context.Background(), loadtest.UserConfig{
		BaseURL: d.url, Users: 1, Username: "amir", Password: "not the password", Duration: time.Second,
	})
	if err == nil || !strings.Contains(err.Error(), "no user signed in") {
		t.Errorf("RunUsers error = %v, want one saying no user signed in", err)
	}
	if rep.SignIn.Errors == 0 || rep.SignIn.Statuses[401] == 0 {
		t.Errorf("sign-in figures %+v, want the 401s counted as errors", rep.SignIn)
	}
	if rep.Total.Requests != 0 {
		t.Errorf("%d requests measured without a signed-in user", rep.Total.Requests)
	}
	if took := time.Since(began); took > 8*time.Second {
		t.Errorf("took %v to give up", took)
	}
}

func TestRunUsersRefuses(t *testing.T) {
	ok := loadtest.UserConfig{BaseURL: "http://127.0.0.1:1", Users: 1, Username: "a", Password: "b", Duration: time.Second}
	tests := []struct {
		name string
		edit func(*loadtest.UserConfig)
		want error
	}{
		{name: "no users", edit: func(c *loadtest.UserConfig) { c.Users = 0 }, want: loadtest.ErrConfig},
		{name: "too many users", edit: func(c *loadtest.UserConfig) { c.Users = loadtest.MaxUsers + 1 }, want: loadtest.ErrConfig},
		{name: "no password", edit: func(c *loadtest.UserConfig) { c.Password = "" }, want: loadtest.ErrConfig},
		{name: "no duration", edit: func(c *loadtest.UserConfig) { c.Duration = 0 }, want: loadtest.ErrConfig},
		{name: "negative weight", edit: func(c *loadtest.UserConfig) { c.Weights = loadtest.Weights{List: 1, Copy: -1} }, want: loadtest.ErrConfig},
		{name: "copy name without {n}", edit: func(c *loadtest.UserConfig) { c.CopyName = "{name}-lt" }, want: loadtest.ErrConfig},
		{name: "remote", edit: func(c *loadtest.UserConfig) { c.BaseURL = "http://192.0.2.1:8080" }, want: loadtest.ErrNotLoopback},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.edit(&cfg)
			if _, err := loadtest.RunUsers(context.Background(), cfg); !errors.Is(err, tt.want) {
				t.Errorf("RunUsers error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestKeepInFlight(t *testing.T) {
	d := newDashboard(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k, err := loadtest.KeepInFlight(ctx, loadtest.KeeperConfig{
		BaseURL: d.url, Username: "amir", Password: webtest.Password, Target: 3, Every: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for k.InFlight() < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	k.Wait()
	started, failed, last := k.Copies()
	if got := k.InFlight(); got != 3 || started != 3 || failed != 0 {
		t.Errorf("in flight %d, started %d, failed %d (%s); want 3 kept in flight by 3 copies", got, started, failed, last)
	}
	ops, err := d.store.Operations(context.Background(), store.OperationQuery{Open: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 3 {
		t.Errorf("%d open operations in the store, want 3", len(ops))
	}
}
