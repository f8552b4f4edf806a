package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// listedIDs is the ids of every image of svc the lists show, sorted.
func listedIDs(t *testing.T, s *Store, svc cloud.Service) []string {
	t.Helper()
	return sorted(ids(allImages(t, s, ImageQuery{Service: svc})))
}

func TestParkFolderImages(t *testing.T) {
	ctx := context.Background()
	s := fixtureStore(t)
	parkedAt := day(8, 1)

	// Read first, so every cache over the lists holds b1g-b's rows: the
	// parking must reach them through the writer's hooks.
	before := listedIDs(t, s, cloud.Compute)
	if !slices.Contains(before, "fd8b01") {
		t.Fatalf("listed %v before parking, want fd8b01 among them", before)
	}
	if p, err := s.Images(ctx, ImageQuery{Service: cloud.Compute, Text: "a-or-b"}); err != nil || p.Total != 1 {
		t.Fatalf("search a-or-b before parking: total %d, err %v; want 1", p.Total, err)
	}

	n, err := s.ParkFolderImages(ctx, cloud.Compute, "b1g-b", ParkNotFound, parkedAt)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("parked %d images, want 2", n)
	}
	if got, want := listedIDs(t, s, cloud.Compute), []string{"fd8a01", "fd8a02", "fd8a03", "fd8a04", "fd8a05", "fd8a06"}; !slices.Equal(got, want) {
		t.Errorf("listed %v after parking b1g-b, want %v", got, want)
	}
	for _, q := range []ImageQuery{
		{Service: cloud.Compute, FolderIDs: []string{"b1g-b"}},
		{Service: cloud.Compute, Text: "a-or-b"},
		{Service: cloud.Compute, Families: []string{"debian-12"}, Statuses: []string{"DELETING"}},
		{Service: cloud.Compute, Labels: []LabelFilter{{Key: "env", Value: "dev"}}},
	} {
		if p, err := s.Images(ctx, q); err != nil || p.Total != 0 || len(p.Images) != 0 {
			t.Errorf("Images(%+v) after parking: total %d, %d rows, err %v; want none", q, p.Total, len(p.Images), err)
		}
	}
	if _, err := s.Image(ctx, cloud.Compute, "fd8b01"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Image of a parked image: %v, want ErrNotFound", err)
	}
	if got, err := s.ImageFolders(ctx, cloud.Compute); err != nil || !slices.Equal(got, []string{"b1g-a"}) {
		t.Errorf("ImageFolders after parking: %v, %v; want [b1g-a]", got, err)
	}
	p, err := s.ParkedImage(ctx, cloud.Compute, "fd8b02")
	if err != nil {
		t.Fatal(err)
	}
	if p.Image.Name != "a-or-b" || p.Image.FolderID != "b1g-b" || p.Reason != ParkNotFound || !p.ParkedAt.Equal(parkedAt) ||
		p.Image.Labels["env"] != "dev" {
		t.Errorf("parked %+v, want a-or-b of b1g-b, not-found at %v, with its labels", p, parkedAt)
	}
	// Other services of the folder and other folders are untouched.
	if got := listedIDs(t, s, cloud.Desktop); !slices.Equal(got, []string{"d1"}) {
		t.Errorf("desktop images %v, want [d1]", got)
	}

	// Parking again (every pass asks) parks nothing and keeps the first time.
	if n, err := s.ParkFolderImages(ctx, cloud.Compute, "b1g-b", ParkUnwatched, parkedAt.Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("parking again: %d, %v; want 0, nil", n, err)
	}
	if p, err := s.ParkedImage(ctx, cloud.Compute, "fd8b02"); err != nil || !p.ParkedAt.Equal(parkedAt) || p.Reason != ParkNotFound {
		t.Errorf("parked after parking again: %+v, %v; want the first parking kept", p, err)
	}

	// The folder comes back: its sync lists it again and forgets the parking.
	var back []cloud.Image
	for _, img := range fixtureImages() {
		if img.Service == cloud.Compute && img.FolderID == "b1g-b" {
			back = append(back, img)
		}
	}
	ch, err := s.ReplaceFolderImages(ctx, cloud.Compute, "b1g-b", back, parkedAt.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if ch.Added != 2 {
		t.Errorf("changes of the comeback %+v, want 2 added", ch)
	}
	if got := listedIDs(t, s, cloud.Compute); !slices.Equal(got, before) {
		t.Errorf("listed %v after the comeback, want %v", got, before)
	}
	if _, err := s.ParkedImage(ctx, cloud.Compute, "fd8b02"); !errors.Is(err, ErrNotFound) {
		t.Errorf("parked row after the comeback: %v, want ErrNotFound", err)
	}
}

func TestParkFolderImagesRefusesUnknownReason(t *testing.T) {
	s := openTest(t)
	if _, err := s.ParkFolderImages(context.Background(), cloud.Compute, "b1g-a", "bored", day(1, 1)); !errors.Is(err, ErrInvalid) {
		t.Errorf("park with reason bored: %v, want ErrInvalid", err)
	}
}

// TestFolderPrunerRetention: parked rows go after the retention, not
// before, and a restart between the removal and the prune keeps both the
// rows and their age.
func TestFolderPrunerRetention(t *testing.T) {
	ctx := context.Background()
	db, err := migratedFile()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "imagedash.db")
	if err := os.WriteFile(path, db, 0o600); err != nil {
		t.Fatal(err)
	}
	first, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	seed(t, first, fixtureImages())
	parkedAt := day(8, 1)
	if n, err := first.ParkFolderImages(ctx, cloud.Compute, "b1g-b", ParkUnwatched, parkedAt); err != nil || n != 2 {
		t.Fatalf("park: %d, %v", n, err)
	}
	if err := first.Close(); err != nil { // the restart
		t.Fatal(err)
	}
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	const retention = 7 * 24 * time.Hour
	now := parkedAt.Add(retention - time.Millisecond)
	// Run calls After once a prune is over: each call hands the test the
	// channel Run then waits on, so the test moves the clock only while
	// Run waits.
	waits := make(chan chan time.Time)
	p, err := NewFolderPruner(s, FolderPrunerConfig{Retention: retention,
		Now: func() time.Time { return now },
		After: func(time.Duration) <-chan time.Time {
			c := make(chan time.Time, 1)
			waits <- c
			return c
		}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := p.Prune(ctx); err != nil || n != 0 {
		t.Errorf("prune a millisecond before the retention: %d, %v; want 0", n, err)
	}
	if _, err := s.ParkedImage(ctx, cloud.Compute, "fd8b01"); err != nil {
		t.Errorf("parked row before the retention: %v", err)
	}
	if got := listedIDs(t, s, cloud.Compute); slices.Contains(got, "fd8b01") {
		t.Errorf("listed %v after a restart, want the parked fd8b01 still out", got)
	}

	// Run: a first prune at start (still within the retention), then one
	// a tick later, past it.
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- p.Run(runCtx) }()
	tick := <-waits // the first prune is over
	if _, err := s.ParkedImage(ctx, cloud.Compute, "fd8b01"); err != nil {
		t.Errorf("parked row after Run's first prune: %v", err)
	}
	now = parkedAt.Add(retention + time.Millisecond)
	tick <- time.Time{}
	<-waits // the second prune is over
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	for _, id := range []string{"fd8b01", "fd8b02"} {
		if _, err := s.ParkedImage(ctx, cloud.Compute, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("parked %s past the retention: %v, want ErrNotFound", id, err)
		}
	}
	if got := listedIDs(t, s, cloud.Compute); len(got) != 6 {
		t.Errorf("listed %v after the prune, want folder b1g-a's 6 images untouched", got)
	}
}

func TestNewFolderPruner(t *testing.T) {
	s := openTest(t)
	if _, err := NewFolderPruner(s, FolderPrunerConfig{Retention: -time.Hour}); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative retention: %v, want ErrInvalid", err)
	}
	p, err := NewFolderPruner(s, FolderPrunerConfig{})
	if err != nil || p.Retention() != DefaultFolderRetention {
		t.Errorf("default: %v, %v; want %v", p.Retention(), err, DefaultFolderRetention)
	}
}

// TestImageFoldersSeeks: the syncer asks ImageFolders every pass, so it
// must seek an index, never scan the images.
func TestImageFoldersSeeks(t *testing.T) {
	s := fixtureStore(t)
	rows, err := s.r.Query("EXPLAIN QUERY PLAN "+nextImageFolderSQL, "compute", "")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if len(plan) != 1 || !strings.HasPrefix(plan[0], "SEARCH images USING COVERING INDEX") || !strings.Contains(plan[0], "folder_id>?") {
		t.Errorf("plan %q, want one covering index search on (service, folder_id)", plan)
	}
	if got, err := s.ImageFolders(context.Background(), cloud.Compute); err != nil || !slices.Equal(got, []string{"b1g-a", "b1g-b"}) {
		t.Errorf("ImageFolders = %v, %v; want [b1g-a b1g-b]", got, err)
	}
}
