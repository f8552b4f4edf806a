package syncer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/cloud/cloudtest"
	"github.com/imagedash/imagedash/cloud/sim"
	"github.com/imagedash/imagedash/store"
)

// env is an emulator, a client on a real loopback connection and a store on
// a temp file: the syncer's whole world, nothing faked.
type env struct {
	sim    *sim.Sim
	client *cloud.Client
	store  *store.Store
	folder string
}

func newEnv(t *testing.T, images int) *env {
	t.Helper()
	ctx := context.Background()
	s, c := cloudtest.Start(t, sim.Options{Images: images})
	st, err := store.Open(ctx, t.TempDir()+"/imagedash.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &env{sim: s, client: c, store: st, folder: s.DefaultFolderID()}
}

func (e *env) cached(t *testing.T, svc cloud.Service) map[string]cloud.Image {
	t.Helper()
	out := map[string]cloud.Image{}
	q := store.ImageQuery{Service: svc, FolderIDs: []string{e.folder}, Limit: store.MaxLimit}
	for {
		p, err := e.store.Images(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, img := range p.Images {
			out[img.ID] = img
		}
		if p.Next == "" {
			return out
		}
		q.After = p.Next
	}
}

func TestSyncAddRenameDelete(t *testing.T) {
	e := newEnv(t, 40)
	ctx := context.Background()
	sy := New(e.client, e.store, Config{PageSize: 7}) // small pages: paging is part of the test

	p := sy.SyncAll(ctx)
	if p.Err != nil || p.Failures != 0 {
		t.Fatalf("first pass: err=%v failures=%d", p.Err, p.Failures)
	}
	before := e.cached(t, cloud.Compute)
	upstream, _, err := e.client.ListImages(ctx, cloud.Compute, e.folder, cloud.ListOptions{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(before), len(upstream); got != want {
		t.Fatalf("cached %d compute images, upstream has %d", got, want)
	}

	// Upstream: one new image, one renamed, one deleted. TimeScale 0 makes each operation done at once.
	var src, victim cloud.Image
	for _, img := range upstream {
		if img.Status != "READY" {
			continue
		}
		if src.ID == "" {
			src = img
		} else if victim.ID == "" {
			victim = img
		}
	}
	if _, err := e.client.CreateImage(ctx, "", cloud.CreateImageSpec{FolderID: e.folder, Name: "fresh-copy", SourceImageID: src.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.UpdateImage(ctx, "", cloud.Compute, src.ID, cloud.ImageUpdate{Mask: []string{"name"}, Name: "renamed-one"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.DeleteImage(ctx, "", cloud.Compute, victim.ID); err != nil {
		t.Fatal(err)
	}

	ch, err := sy.SyncFolder(ctx, cloud.Compute, e.folder)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Added != 1 || ch.Updated != 1 || ch.Removed != 1 {
		t.Errorf("changes %+v, want 1 added, 1 updated, 1 removed", ch)
	}
	after := e.cached(t, cloud.Compute)
	if got := after[src.ID].Name; got != "renamed-one" {
		t.Errorf("renamed image is %q in the cache, want renamed-one", got)
	}
	if _, ok := after[victim.ID]; ok {
		t.Error("deleted image is still cached")
	}
	if got, want := len(after), len(before); got != want {
		t.Errorf("cache holds %d images, want %d (one added, one removed)", got, want)
	}
}

func TestSyncUnavailableKeepsCache(t *testing.T) {
	e := newEnv(t, 30)
	ctx := context.Background()
	sy := New(e.client, e.store, Config{})
	if p := sy.SyncAll(ctx); p.Failures != 0 {
		t.Fatalf("first pass failures %d", p.Failures)
	}
	before := len(e.cached(t, cloud.Compute))

	e.sim.SetFaults(sim.Faults{UnavailableRate: 1})
	if _, err := sy.SyncFolder(ctx, cloud.Compute, e.folder); !errors.Is(err, cloud.ErrUnavailable) {
		t.Fatalf("sync with the cloud down: %v, want ErrUnavailable", err)
	}
	if got := len(e.cached(t, cloud.Compute)); got != before {
		t.Errorf("cache holds %d images after a failed sync, want %d", got, before)
	}
	states, err := e.store.SyncStates(ctx, cloud.Compute)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, st := range states {
		if st.FolderID != e.folder {
			continue
		}
		found = true
		if st.LastError == "" || st.LastSuccessAt.IsZero() {
			t.Errorf("state %+v, want the error and the earlier success", st)
		}
	}
	if !found {
		t.Error("no sync state for the folder")
	}

	// A whole pass with the cloud down records the failure on every cached
	// folder, so the page says how old the cache is getting, and why.
	later := time.Now().Add(time.Minute).Truncate(time.Millisecond) // the store keeps milliseconds
	sy.cfg.Now = func() time.Time { return later }
	if p := sy.SyncAll(ctx); p.Err == nil {
		t.Error("pass with folders unlistable: no error")
	}
	states, err = e.store.SyncStates(ctx, cloud.Desktop)
	if err != nil {
		t.Fatal(err)
	}
	if len(states) == 0 {
		t.Fatal("no desktop sync states")
	}
	for _, st := range states {
		if st.LastError == "" || !st.LastAttemptAt.Equal(later) {
			t.Errorf("folder %s after a failed pass: attempt %v error %q, want the failed attempt at %v", st.FolderID, st.LastAttemptAt, st.LastError, later)
		}
	}
}

func TestRefreshIsRateLimited(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	sy := New(nil, nil, Config{MinRefreshGap: 10 * time.Second, Now: func() time.Time { return now }})
	if err := sy.Refresh(); err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	now = now.Add(3 * time.Second)
	if err := sy.Refresh(); !errors.Is(err, ErrTooSoon) {
		t.Errorf("refresh 3s later: %v, want ErrTooSoon", err)
	}
	now = now.Add(8 * time.Second)
	if err := sy.Refresh(); err != nil {
		t.Errorf("refresh 11s later: %v", err)
	}
}

func TestRunStopsWithContext(t *testing.T) {
	e := newEnv(t, 10)
	ctx, cancel := context.WithCancel(context.Background())
	sy := New(e.client, e.store, Config{Interval: time.Hour})
	done := make(chan error, 1)
	go func() { done <- sy.Run(ctx) }()
	// Refresh wakes the loop; a second pass proves Run is looping, not stuck.
	deadline := time.After(10 * time.Second)
	for sy.LastPass().Finished.IsZero() {
		select {
		case <-deadline:
			t.Fatal("no pass finished")
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func BenchmarkSync100k(b *testing.B) {
	s, c := cloudtest.Start(b, sim.Options{Images: benchImages})
	ctx := context.Background()
	st, err := store.Open(ctx, b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sy := New(c, st, Config{Services: []cloud.Service{cloud.Compute}, Folders: []string{s.DefaultFolderID()}})
	for b.Loop() {
		if p := sy.SyncAll(ctx); p.Failures != 0 || p.Err != nil {
			b.Fatalf("pass: %+v", p)
		}
	}
}

// benchImages is the emulator's size in BenchmarkSync100k: half of it lands
// in the synced folder.
const benchImages = 100000
