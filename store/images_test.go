package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

func TestImageRoundTrip(t *testing.T) {
	s := fixtureStore(t)
	ctx := context.Background()
	for _, want := range fixtureImages() {
		t.Run(string(want.Service)+"/"+want.ID, func(t *testing.T) {
			got, err := s.Image(ctx, want.Service, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(want.Labels) == 0 {
				want.Labels = nil
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Image(%s, %s) =\n%+v\nwant\n%+v", want.Service, want.ID, got, want)
			}
		})
	}
}

func TestImageNotFound(t *testing.T) {
	s := fixtureStore(t)
	tests := []struct {
		svc cloud.Service
		id  string
	}{
		{cloud.Compute, "nope"},
		{cloud.Desktop, "fd8a01"}, // a Compute id
		{cloud.Compute, ""},
	}
	for _, tt := range tests {
		got, err := s.Image(context.Background(), tt.svc, tt.id)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("Image(%s, %q) = %+v, %v; want ErrNotFound", tt.svc, tt.id, got, err)
		}
	}
}

// countImages is the number of rows of the images table.
func countImages(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.r.QueryRow(`SELECT count(*) FROM images`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestReplaceFolderImages(t *testing.T) {
	ctx := context.Background()
	s := fixtureStore(t)
	at := day(8, 1)
	base := genImages(cloud.Compute, []string{"b1g-c"}, 50)

	changed := func(imgs []cloud.Image, f func(i int, img *cloud.Image) bool) []cloud.Image {
		var out []cloud.Image
		for i, img := range imgs {
			if f(i, &img) {
				out = append(out, img)
			}
		}
		return out
	}
	steps := []struct {
		name string
		give []cloud.Image
		want Changes
	}{
		{"first sync adds all", base, Changes{Added: 50}},
		{"same listing writes nothing", base, Changes{Unchanged: 50}},
		{"status, labels and name changes update", changed(base, func(i int, img *cloud.Image) bool {
			switch i % 10 {
			case 1:
				img.Status = "DELETING"
			case 2:
				img.Labels = map[string]string{"env": "moved"}
			case 3:
				img.Name += "-renamed"
			}
			return true
		}), Changes{Updated: 15, Unchanged: 35}},
		{"missing ones are removed", changed(base, func(i int, img *cloud.Image) bool { return i >= 20 }),
			Changes{Updated: 9, Removed: 20, Unchanged: 21}},
		{"empty listing removes all", nil, Changes{Removed: 30}},
		{"and back", base, Changes{Added: 50}},
	}
	for _, st := range steps {
		got, err := s.ReplaceFolderImages(ctx, cloud.Compute, "b1g-c", st.give, at)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got != st.want {
			t.Errorf("%s: changes = %+v, want %+v", st.name, got, st.want)
		}
		p, err := s.Snapshot().Images(ImageQuery{Service: cloud.Compute, FolderIDs: []string{"b1g-c"}, Sort: "id", Limit: MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids(p.Images), ids(st.give)) {
			t.Errorf("%s: cached ids = %v, want %v", st.name, ids(p.Images), ids(st.give))
		}
	}

	// The other folders and services are as seeded.
	for _, want := range fixtureImages() {
		if _, err := s.Image(ctx, want.Service, want.ID); err != nil {
			t.Errorf("fixture image %s/%s: %v", want.Service, want.ID, err)
		}
	}
	// The read model follows the rows.
	if imgs, model := countImages(t, s), s.Snapshot().Len(); imgs != len(fixtureImages())+len(base) || model != imgs {
		t.Errorf("rows: images %d, read model %d; want %d", imgs, model, len(fixtureImages())+len(base))
	}
}

func TestReplaceFolderImagesKeepsIndexesInStep(t *testing.T) {
	ctx := context.Background()
	s := fixtureStore(t)
	img := fixtureImages()[0] // fd8a01 in b1g-a
	listing := func(mut func(*cloud.Image)) []cloud.Image {
		var out []cloud.Image
		for _, i := range fixtureImages() {
			if i.Service == cloud.Compute && i.FolderID == "b1g-a" {
				if i.ID == img.ID {
					mut(&i)
				}
				out = append(out, i)
			}
		}
		return out
	}
	if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, "b1g-a", listing(func(i *cloud.Image) {
		i.Name = "zesty-zebra"
		i.Labels = map[string]string{"tier": "gold"}
	}), day(8, 1)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    ImageQuery
		want []string
	}{
		{"new name found", ImageQuery{Text: "zesty"}, []string{"fd8a01"}},
		{"old name gone", ImageQuery{Text: "ubuntu-22-04-lts-v1"}, nil},
		{"new label found", ImageQuery{Labels: []LabelFilter{{Key: "tier", Value: "gold"}}}, []string{"fd8a01"}},
		{"new label by text", ImageQuery{Text: "tier=gold"}, []string{"fd8a01"}},
		{"old label gone", ImageQuery{Labels: []LabelFilter{{Key: "team", Value: "core"}}}, []string{"fd8a05"}},
	}
	for _, tt := range tests {
		tt.q.Service = cloud.Compute
		got := ids(allImages(t, s, tt.q))
		if !reflect.DeepEqual(sorted(got), sorted(tt.want)) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestReplaceFolderImagesMovesBetweenFolders(t *testing.T) {
	ctx := context.Background()
	s := fixtureStore(t)
	moved := fixtureImages()[6] // fd8b01 in b1g-b
	moved.FolderID = "b1g-a"
	var listingA []cloud.Image
	for _, img := range fixtureImages() {
		if img.Service == cloud.Compute && img.FolderID == "b1g-a" {
			listingA = append(listingA, img)
		}
	}
	listingA = append(listingA, moved)
	got, err := s.ReplaceFolderImages(ctx, cloud.Compute, "b1g-a", listingA, day(8, 1))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Changes{Added: 1, Unchanged: 6}); got != want {
		t.Errorf("changes = %+v, want %+v", got, want)
	}
	img, err := s.Image(ctx, cloud.Compute, moved.ID)
	if err != nil {
		t.Fatal(err)
	}
	if img.FolderID != "b1g-a" {
		t.Errorf("moved image folder = %q, want b1g-a", img.FolderID)
	}
	// b1g-b's next sync no longer sees it.
	got, err = s.ReplaceFolderImages(ctx, cloud.Compute, "b1g-b", []cloud.Image{fixtureImages()[7]}, day(8, 1))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Changes{Unchanged: 1}); got != want {
		t.Errorf("b1g-b changes = %+v, want %+v", got, want)
	}
	if _, err := s.Image(ctx, cloud.Compute, moved.ID); err != nil {
		t.Errorf("moved image lost: %v", err)
	}
	if p := allImages(t, s, ImageQuery{Service: cloud.Compute, Text: "v3"}); len(p) != 1 || p[0].FolderID != "b1g-a" {
		t.Errorf("search for the moved image: got %+v", p)
	}
}

func TestReplaceFolderImagesInput(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	img := fixtureImages()[0]

	// Empty service and folder are filled in; the last duplicate wins.
	bare, dup := img, img
	bare.Service, bare.FolderID = "", ""
	dup.Name = "the-last-one"
	got, err := s.ReplaceFolderImages(ctx, cloud.Compute, "b1g-a", []cloud.Image{bare, dup}, day(8, 1))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Changes{Added: 1}); got != want {
		t.Errorf("changes = %+v, want %+v", got, want)
	}
	if cached, err := s.Image(ctx, cloud.Compute, img.ID); err != nil || cached.Name != "the-last-one" {
		t.Errorf("Image = %+v, %v; want the last duplicate", cached, err)
	}

	bad := []struct {
		name   string
		svc    cloud.Service
		folder string
		img    func(*cloud.Image)
	}{
		{"other folder", cloud.Compute, "b1g-a", func(i *cloud.Image) { i.FolderID = "b1g-b" }},
		{"other service", cloud.Compute, "b1g-a", func(i *cloud.Image) { i.Service = cloud.Desktop }},
		{"no id", cloud.Compute, "b1g-a", func(i *cloud.Image) { i.ID = "" }},
		{"unknown service", "gcp", "b1g-a", func(i *cloud.Image) { i.Service = "" }},
		{"no folder", cloud.Compute, "", func(i *cloud.Image) {}},
	}
	for _, tt := range bad {
		i := img
		tt.img(&i)
		if _, err := s.ReplaceFolderImages(ctx, tt.svc, tt.folder, []cloud.Image{i}, day(8, 1)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", tt.name, err)
		}
	}
	// Nothing was written by the rejected calls.
	if cached, err := s.Image(ctx, cloud.Compute, img.ID); err != nil || cached.Name != "the-last-one" {
		t.Errorf("after rejected calls: Image = %+v, %v", cached, err)
	}
}

func TestReplaceFolderImagesCanceled(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, "f", genImages(cloud.Compute, []string{"f"}, 10), time.Now()); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: got %v, want context.Canceled", err)
	}
	if imgs := countImages(t, s); imgs != 0 {
		t.Errorf("a canceled replace wrote %d images", imgs)
	}
}

func TestUpsertAndDeleteImage(t *testing.T) {
	ctx := context.Background()
	s := fixtureStore(t)
	s.now = func() time.Time { return day(9, 1) }

	img := fixtureImages()[0]
	img.Status = "DELETING"
	img.Labels = map[string]string{"env": "gone"}
	if err := s.UpsertImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	fresh := cloud.Image{Service: cloud.Compute, ID: "fd8new", FolderID: "b1g-b", Name: "brand-new", Status: "CREATING", CreatedAt: day(9, 1)}
	if err := s.UpsertImage(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	for _, want := range []cloud.Image{img, fresh} {
		got, err := s.Image(ctx, want.Service, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("after upsert: got %+v, want %+v", got, want)
		}
	}
	if got := ids(allImages(t, s, ImageQuery{Service: cloud.Compute, Labels: []LabelFilter{{Key: "env", Value: "gone"}}})); !reflect.DeepEqual(got, []string{img.ID}) {
		t.Errorf("label filter after upsert: got %v", got)
	}
	if got := ids(allImages(t, s, ImageQuery{Service: cloud.Compute, Text: "brand"})); !reflect.DeepEqual(got, []string{"fd8new"}) {
		t.Errorf("search after upsert: got %v", got)
	}
	if err := s.UpsertImage(ctx, cloud.Image{Service: cloud.Compute, ID: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("upsert without a folder: got %v, want ErrInvalid", err)
	}

	for range 2 { // deleting twice is fine
		if err := s.DeleteImage(ctx, cloud.Compute, img.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Image(ctx, cloud.Compute, img.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: got %v, want ErrNotFound", err)
	}
	if got := allImages(t, s, ImageQuery{Service: cloud.Compute, Labels: []LabelFilter{{Key: "env", Value: "gone"}}}); len(got) != 0 {
		t.Errorf("label filter after delete: got %v", ids(got))
	}
	if imgs, model := countImages(t, s), s.Snapshot().Len(); imgs != len(fixtureImages()) || model != imgs {
		t.Errorf("rows: images %d, read model %d; want %d", imgs, model, len(fixtureImages()))
	}
}

func TestUpsertThenReplaceSeesNoChange(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	s.now = func() time.Time { return day(7, 1) } // before the listing
	imgs := genImages(cloud.Compute, []string{"f"}, 5)
	for _, img := range imgs {
		if err := s.UpsertImage(ctx, img); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ReplaceFolderImages(ctx, cloud.Compute, "f", imgs, day(8, 1))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Changes{Unchanged: 5}); got != want {
		t.Errorf("changes = %+v, want %+v", got, want)
	}
}

// A sync lists a folder, and meanwhile an operation the dashboard started
// reports its image (UpsertImage). The listing is older than that row: the
// sync must neither remove it (a copy would vanish until the next sync)
// nor put the listing's older state back over it, in this folder or when
// the listing has it in another.
func TestReplaceFolderImagesKeepsNewerRows(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	listedAt := day(8, 1)
	old := genImages(cloud.Compute, []string{"f"}, 3)
	if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, "f", old, day(7, 1)); err != nil {
		t.Fatal(err)
	}
	// Written after the listing began: a new copy, a copy that became
	// READY, and an image the tracker saw moved to another folder.
	s.now = func() time.Time { return listedAt.Add(time.Second) }
	copied := cloud.Image{Service: cloud.Compute, ID: "fd8copy", FolderID: "f", Name: "copy", Status: "CREATING", CreatedAt: listedAt}
	ready := old[1]
	ready.Status = "READY"
	ready.Name = "now-ready"
	moved := old[2]
	moved.FolderID = "g"
	for _, img := range []cloud.Image{copied, ready, moved} {
		if err := s.UpsertImage(ctx, img); err != nil {
			t.Fatal(err)
		}
	}
	// And one deleted by an operation, which the listing still has.
	deleted := cloud.Image{Service: cloud.Compute, ID: "fd8gone", FolderID: "f", Name: "gone", Status: "READY", CreatedAt: listedAt}
	if err := s.UpsertImage(ctx, deleted); err != nil {
		t.Fatal(err)
	}
	o := newOp(t, s, "del", "image.delete", "u", "f", deleted.ID)
	o.State = OpDone
	if err := s.FinishOperation(ctx, o, nil, deleted); err != nil {
		t.Fatal(err)
	}
	stale := old[1]
	stale.Status = "CREATING"
	got, err := s.ReplaceFolderImages(ctx, cloud.Compute, "f", []cloud.Image{old[0], stale, old[2], deleted}, listedAt)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Changes{Unchanged: 1, Newer: 4}); got != want {
		t.Errorf("changes = %+v, want %+v", got, want)
	}
	if _, err := s.Image(ctx, cloud.Compute, deleted.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("an image deleted after the listing began came back: %v", err)
	}
	for _, want := range []cloud.Image{copied, ready, moved} {
		img, err := s.Image(ctx, cloud.Compute, want.ID)
		if err != nil {
			t.Fatalf("%s after the sync: %v", want.ID, err)
		}
		if img.FolderID != want.FolderID || img.Status != want.Status || img.Name != want.Name {
			t.Errorf("%s after the sync: folder %s, status %s, name %s; want %s, %s, %s",
				want.ID, img.FolderID, img.Status, img.Name, want.FolderID, want.Status, want.Name)
		}
	}
	// The next sync lists after the writes and has the last word.
	got, err = s.ReplaceFolderImages(ctx, cloud.Compute, "f", old[:1], listedAt.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Changes{Unchanged: 1, Removed: 2}); got != want {
		t.Errorf("next sync: changes = %+v, want %+v", got, want)
	}
	// Rows a sync wrote are never spared, whatever their time: a sync
	// listed earlier (a clock stepped back) still has its say over them.
	got, err = s.ReplaceFolderImages(ctx, cloud.Compute, "f", nil, listedAt.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Changes{Removed: 1}); got != want {
		t.Errorf("an earlier listing: changes = %+v, want %+v", got, want)
	}
	if _, err := s.Image(ctx, cloud.Compute, copied.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("copy after the next sync: got %v, want ErrNotFound", err)
	}
}

func TestFingerprint(t *testing.T) {
	base := fixtureImages()[0]
	fp := fingerprint
	want := fp(base)
	same := base
	same.Labels = map[string]string{"team": "core", "env": "prod"} // another map, same content
	if got := fp(same); got != want {
		t.Errorf("fingerprint of an equal image = %d, want %d", got, want)
	}
	muts := map[string]func(*cloud.Image){
		"name":        func(i *cloud.Image) { i.Name += "x" },
		"description": func(i *cloud.Image) { i.Description = "" },
		"status":      func(i *cloud.Image) { i.Status = "ERROR" },
		"size":        func(i *cloud.Image) { i.Size++ },
		"pooled":      func(i *cloud.Image) { i.Pooled = false },
		"created":     func(i *cloud.Image) { i.CreatedAt = i.CreatedAt.Add(time.Millisecond) },
		"label value": func(i *cloud.Image) { i.Labels = map[string]string{"env": "prod", "team": "cor"} },
		"products":    func(i *cloud.Image) { i.ProductIDs = nil },
		"shifted":     func(i *cloud.Image) { i.Name, i.Description = i.Name+i.Description[:1], i.Description[1:] },
		"label moved": func(i *cloud.Image) { i.Labels = map[string]string{"env": "prodteam", "": "core"} },
		"product ids": func(i *cloud.Image) { i.ProductIDs = []string{"f2e1f2e2"} },
	}
	for name, mut := range muts {
		img := base
		mut(&img)
		if got := fp(img); got == want {
			t.Errorf("%s changed but the fingerprint did not", name)
		}
	}
}

// TestConcurrentReadsAndWrites lists from 16 readers while syncs write and
// publish: a reader never sees a half-written folder, and a snapshot's
// page, total and facets agree (run it with -race: the snapshots are
// shared without locks).
func TestConcurrentReadsAndWrites(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a := genImages(cloud.Compute, []string{"f"}, 300)
	b := a[:200]
	seed(t, s, a)

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	stop := make(chan struct{})
	for range 16 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Snapshot().Images(ImageQuery{Service: cloud.Compute, Text: "ubuntu", Limit: MaxLimit}); err != nil {
					errs <- err
					return
				}
				snap := s.Snapshot()
				all, err := snap.Images(ImageQuery{Service: cloud.Compute})
				if err != nil {
					errs <- err
					return
				}
				f, err := snap.Facets(ImageQuery{Service: cloud.Compute})
				if err != nil {
					errs <- err
					return
				}
				sum := 0
				for _, c := range f.Statuses {
					sum += c.Count
				}
				if sum != all.Total {
					errs <- fmt.Errorf("one snapshot: total %d, facets sum %d", all.Total, sum)
					return
				}
				if all.Total != len(a) && all.Total != len(b) {
					errs <- fmt.Errorf("a reader saw %d images, want %d or %d", all.Total, len(a), len(b))
					return
				}
			}
		})
	}
	for i := range 20 {
		list := a
		if i%2 == 0 {
			list = b
		}
		if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, "f", list, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordSync(ctx, cloud.Compute, "f", SyncRecord{At: time.Now(), Count: len(list)}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
