package syncer

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/store"
)

// lossySource is the emulator's client with folders that can go: left out
// of the folder listing, or their image listings failing with a code.
type lossySource struct {
	*cloud.Client
	mu     sync.Mutex
	hidden map[string]bool       // folders AllFolders leaves out
	fail   map[string]codes.Code // folder → the code its ListImages fails with
}

func (s *lossySource) AllFolders(ctx context.Context) ([]cloud.Folder, error) {
	all, err := s.Client.AllFolders(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.DeleteFunc(all, func(f cloud.Folder) bool { return s.hidden[f.ID] }), err
}

func (s *lossySource) ListImages(ctx context.Context, svc cloud.Service, folderID string, opt cloud.ListOptions) ([]cloud.Image, string, error) {
	s.mu.Lock()
	code, ok := s.fail[folderID]
	s.mu.Unlock()
	if ok {
		return nil, "", cloud.FromStatus("List", status.Error(code, "the cloud's own words"))
	}
	return s.Client.ListImages(ctx, svc, folderID, opt)
}

func (s *lossySource) set(hidden map[string]bool, fail map[string]codes.Code) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hidden, s.fail = hidden, fail
}

// listed counts the images of folder the lists show, per service.
func listed(t *testing.T, st *store.Store, folder string) map[cloud.Service]int {
	t.Helper()
	out := map[cloud.Service]int{}
	for _, svc := range cloud.Services {
		p, err := st.Images(context.Background(), store.ImageQuery{Service: svc, FolderIDs: []string{folder}, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		out[svc] = p.Total
		// The same without the folder filter: the rows are gone, not hidden.
		all, err := st.Images(context.Background(), store.ImageQuery{Service: svc, Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, img := range all.Images {
			if img.FolderID == folder {
				n++
			}
		}
		if n != p.Total {
			t.Errorf("%s: %d images of %s in the list of all folders, %d in the folder's", svc, n, folder, p.Total)
		}
	}
	return out
}

// TestFolderLifecycle: a folder the dashboard no longer syncs leaves the
// lists at the next pass, its rows parked with the pass's time; one that
// fails for a while (Unavailable and the like) stays listed; one that
// comes back is listed again by the pass that sees it.
func TestFolderLifecycle(t *testing.T) {
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		config func(golden, victim string) []string // Config.Folders of the second pass (nil: every folder)
		hide   bool                                 // the folder listing leaves victim out
		code   codes.Code                           // victim's image listings fail with it (OK: they work)
		parked store.ParkReason                     // "": victim's images stay listed
	}{
		{name: "removed from the configuration", config: func(g, v string) []string { return []string{g} }, parked: store.ParkUnwatched},
		{name: "gone from the cloud's folder listing", hide: true, parked: store.ParkUnwatched},
		{name: "configured but gone from the listing", config: func(g, v string) []string { return []string{g, v} }, hide: true, code: codes.NotFound, parked: store.ParkNotFound},
		{name: "not found", code: codes.NotFound, parked: store.ParkNotFound},
		{name: "permission denied", code: codes.PermissionDenied, parked: store.ParkForbidden},
		{name: "unavailable", code: codes.Unavailable},
		{name: "resource exhausted", code: codes.ResourceExhausted},
		{name: "deadline exceeded", code: codes.DeadlineExceeded},
		{name: "unauthenticated", code: codes.Unauthenticated},
		{name: "internal", code: codes.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, 40)
			ctx := context.Background()
			golden, victim := e.folder, ""
			for _, f := range e.sim.Folders() {
				if f.GetId() != golden {
					victim = f.GetId()
					break
				}
			}
			src := &lossySource{Client: e.client}
			now := base
			var folders []string
			if tt.config != nil {
				folders = tt.config(golden, victim)
			}
			first := New(src, e.store, Config{Folders: []string{golden, victim}, Now: func() time.Time { return now }})
			if p := first.SyncAll(ctx); p.Err != nil || p.Failures != 0 || p.Parked != 0 {
				t.Fatalf("first pass: %+v", p)
			}
			before := listed(t, e.store, victim)
			if before[cloud.Compute] == 0 || before[cloud.Desktop] == 0 {
				t.Fatalf("victim folder holds %v, want images of each service", before)
			}
			cached, _, err := e.client.ListImages(ctx, cloud.Compute, victim, cloud.ListOptions{PageSize: 1})
			if err != nil || len(cached) == 0 {
				t.Fatalf("an image of the victim folder: %v", err)
			}
			one := cached[0]

			// The second pass, a restart later with the folder gone (or failing).
			hidden := map[string]bool{victim: tt.hide}
			fail := map[string]codes.Code{}
			if tt.code != codes.OK {
				fail[victim] = tt.code
			}
			src.set(hidden, fail)
			now = base.Add(time.Minute)
			second := New(src, e.store, Config{Folders: folders, Now: func() time.Time { return now }})
			p := second.SyncAll(ctx)
			if p.Err != nil {
				t.Fatalf("second pass: %v", p.Err)
			}
			after := listed(t, e.store, victim)
			parked, perr := e.store.ParkedImage(ctx, cloud.Compute, one.ID)
			if tt.parked == "" {
				if !equalCounts(after, before) {
					t.Errorf("listed %v after a pass failing with %v, want %v kept", after, tt.code, before)
				}
				if p.Parked != 0 || !errors.Is(perr, store.ErrNotFound) {
					t.Errorf("parked %d (%+v, %v) after a transient failure, want none", p.Parked, parked, perr)
				}
				return
			}
			if total := after[cloud.Compute] + after[cloud.Desktop] + after[cloud.BareMetal]; total != 0 {
				t.Errorf("listed %v of the gone folder after the next pass, want none", after)
			}
			if want := before[cloud.Compute] + before[cloud.Desktop] + before[cloud.BareMetal]; p.Parked != want {
				t.Errorf("pass parked %d images, want %d", p.Parked, want)
			}
			if perr != nil {
				t.Fatalf("parked row of %s: %v", one.ID, perr)
			}
			if parked.Image.Name != one.Name || parked.Image.FolderID != victim || parked.Reason != tt.parked || !parked.ParkedAt.Equal(now) {
				t.Errorf("parked %+v, want %s of %s, %s at %v", parked, one.Name, victim, tt.parked, now)
			}
			if g := listed(t, e.store, golden); g[cloud.Compute] == 0 {
				t.Errorf("the watched folder lost its images: %v", g)
			}

			// It comes back: the pass that sees it lists it again.
			src.set(nil, nil)
			now = base.Add(2 * time.Minute)
			every := New(src, e.store, Config{Now: func() time.Time { return now }})
			if p := every.SyncAll(ctx); p.Err != nil || p.Failures != 0 || p.Parked != 0 {
				t.Fatalf("pass after the comeback: %+v", p)
			}
			if got := listed(t, e.store, victim); !equalCounts(got, before) {
				t.Errorf("listed %v after the comeback, want %v", got, before)
			}
			if _, err := e.store.ParkedImage(ctx, cloud.Compute, one.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("parked row after the comeback: %v, want ErrNotFound", err)
			}
		})
	}
}

func equalCounts(a, b map[cloud.Service]int) bool {
	for _, svc := range cloud.Services {
		if a[svc] != b[svc] {
			return false
		}
	}
	return true
}

// TestParkUnsyncedService: a service taken out of Config.Services leaves
// the lists too; the others stay.
func TestParkUnsyncedService(t *testing.T) {
	e := newEnv(t, 20)
	ctx := context.Background()
	if p := New(e.client, e.store, Config{}).SyncAll(ctx); p.Err != nil || p.Failures != 0 {
		t.Fatalf("first pass: %+v", p)
	}
	p := New(e.client, e.store, Config{Services: []cloud.Service{cloud.Compute, cloud.BareMetal}}).SyncAll(ctx)
	if p.Err != nil || p.Parked == 0 {
		t.Fatalf("second pass without Desktop: %+v, want desktop images parked", p)
	}
	for _, svc := range cloud.Services {
		folders, err := e.store.ImageFolders(ctx, svc)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(folders) > 0, svc != cloud.Desktop; got != want {
			t.Errorf("%s: folders with cached images %v", svc, folders)
		}
	}
}

// TestParkedAfterAnOutcomeWroteIntoIt: an operation's outcome that writes
// an image into a folder no longer synced (a copy into it, finished after
// the parking) is parked again at the next pass.
func TestParkedAfterAnOutcomeWroteIntoIt(t *testing.T) {
	e := newEnv(t, 20)
	ctx := context.Background()
	// The passes run a day ahead of the store's clock, which stamps the
	// outcome: a pass parks only what was written before it began.
	now := time.Now().Add(24 * time.Hour).Truncate(time.Millisecond)
	clock := func() time.Time { return now }
	const gone = "b1ggone0000000000000"
	if _, err := e.store.ReplaceFolderImages(ctx, cloud.Compute, gone, []cloud.Image{{ID: "fd8gone1", Name: "old"}}, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	sy := New(e.client, e.store, Config{Now: clock})
	if p := sy.SyncAll(ctx); p.Parked != 1 {
		t.Fatalf("first pass parked %d, want the 1 image of a folder the cloud does not list", p.Parked)
	}
	if err := e.store.UpsertImage(ctx, cloud.Image{Service: cloud.Compute, ID: "fd8gone2", FolderID: gone, Name: "late-copy"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if p := sy.SyncAll(ctx); p.Parked != 1 {
		t.Errorf("second pass parked %d, want the late copy", p.Parked)
	}
	if got := listed(t, e.store, gone); got[cloud.Compute] != 0 {
		t.Errorf("listed %v of the gone folder, want none", got)
	}
}
