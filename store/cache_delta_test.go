package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// deltaQueries are the queries the delta test keeps cached: every kind of
// filter (folders, statuses, families, OS, labels, text with and without
// other filters), several sorts and a second page.
func deltaQueries() []ImageQuery {
	qs := []ImageQuery{
		{Service: cloud.Compute},
		{Service: cloud.Compute, FolderIDs: []string{"fa"}},
		{Service: cloud.Compute, FolderIDs: []string{"fb", "fc"}, Sort: "created_at", Desc: true},
		{Service: cloud.Compute, Statuses: []string{"READY"}},
		{Service: cloud.Compute, Statuses: []string{"CREATING", "ERROR"}, FolderIDs: []string{"fa"}},
		{Service: cloud.Compute, Families: []string{"debian-12", "ubuntu-2404-lts"}},
		{Service: cloud.Compute, OS: "WINDOWS", Sort: "size"},
		{Service: cloud.Compute, Labels: []LabelFilter{{Key: "env", Value: "prod"}}},
		{Service: cloud.Compute, Labels: []LabelFilter{{Key: "gpu", AnyValue: true}}},
		{Service: cloud.Compute, Text: "debian"},
		{Service: cloud.Compute, Text: "ubuntu lts", Statuses: []string{"READY"}, Sort: "status"},
		{Service: cloud.Compute, Text: "copy", FolderIDs: []string{"fa"}},
		{Service: cloud.Compute, Text: "team-3"},
		{Service: cloud.Compute, Statuses: []string{"READY"}, Sort: "folder", Desc: true},
		{Service: cloud.Desktop},
	}
	for _, i := range []int{0, 2, 3, 9, 10, 13} { // second pages, some of them text
		q := qs[i]
		q.Limit = 7
		qs = append(qs, q)
	}
	return qs
}

// TestSelectiveWritesKeepTheCacheRight: after each of many random writes
// of one or two images (insert, change of status, family, labels, name or
// folder, delete, and an operation's end), every cached query answers
// exactly what a store without a cache answers — totals, facets, the rows
// of a first and a second page — while entries the write could not touch
// stay cached.
func TestSelectiveWritesKeepTheCacheRight(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "imagedash.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ref, err := Open(ctx, path) // the same file, its cache made stale before every read
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ref.Close() })
	ref.memOff = true // answers by SQL alone, the in-memory index of s checked against it

	imgs := genImages(cloud.Compute, []string{"fa", "fb", "fc"}, 200)
	for i := range imgs {
		if i%5 == 0 {
			imgs[i].Name = "copy-of-" + imgs[i].Name
		}
	}
	seed(t, s, imgs)
	seed(t, s, []cloud.Image{{Service: cloud.Desktop, ID: "dsk1", FolderID: "fa", Name: "desk", Status: "READY", CreatedAt: genEpoch}})

	type answer struct {
		total         int
		first, second []cloud.Image
		next          string
		facets        Facets
	}
	ask := func(st *Store, q ImageQuery) answer {
		t.Helper()
		if st == ref {
			ref.cache.invalidate()
		}
		p, err := st.Images(ctx, q)
		if err != nil {
			t.Fatalf("Images(%+v): %v", q, err)
		}
		a := answer{total: p.Total, first: p.Images, next: p.Next}
		if p.Next != "" {
			q2 := q
			q2.After = p.Next
			p2, err := st.Images(ctx, q2)
			if err != nil {
				t.Fatalf("Images(%+v): %v", q2, err)
			}
			a.second = p2.Images
		}
		if a.facets, err = st.Facets(ctx, q); err != nil {
			t.Fatal(err)
		}
		return a
	}
	queries := deltaQueries()
	check := func(when string) {
		t.Helper()
		for _, q := range queries {
			got, want := ask(s, q), ask(ref, q)
			if got.total != want.total || !reflect.DeepEqual(got.facets, want.facets) || got.next != want.next ||
				!reflect.DeepEqual(ids(got.first), ids(want.first)) || !reflect.DeepEqual(ids(got.second), ids(want.second)) ||
				!reflect.DeepEqual(got.first, want.first) {
				t.Fatalf("%s: query %+v:\ncached total %d facets %+v first %v\nfresh  total %d facets %+v first %v",
					when, q, got.total, got.facets, ids(got.first), want.total, want.facets, ids(want.first))
			}
		}
	}
	check("seeded")

	// One clock for the writes and the syncs' listings, a second a step:
	// each listing begins after every earlier write, so a sync has the
	// last word over rows operations wrote (see ReplaceFolderImages).
	clock := genEpoch.Add(time.Hour)
	s.now = func() time.Time { return clock }
	rng := rand.New(rand.NewPCG(7, 7))
	live := slices.Clone(imgs)
	statuses := []string{"READY", "CREATING", "ERROR", "DELETING"}
	families := []string{"debian-12", "ubuntu-2404-lts", "windows-2022-dc", ""}
	n := 0
	steps := 120
	if raceOn {
		steps = 30
	}
	for step := range steps {
		clock = clock.Add(time.Second)
		var what string
		switch r := rng.IntN(10); {
		case r < 2: // a new image, as a copy shows up CREATING
			n++
			img := live[rng.IntN(len(live))]
			img.ID = fmt.Sprintf("fd9new%014d", n)
			img.Name = fmt.Sprintf("copy-%d-%s", n, img.Name)
			img.FolderID = []string{"fa", "fb", "fc", "fz"}[rng.IntN(4)]
			img.Status = "CREATING"
			img.CreatedAt = genEpoch.Add(time.Duration(rng.IntN(100)) * time.Minute)
			what = "insert " + img.ID
			if err := s.UpsertImage(ctx, img); err != nil {
				t.Fatal(err)
			}
			live = append(live, img)
		case r < 7: // a change of one field, or several
			i := rng.IntN(len(live))
			img := live[i]
			switch rng.IntN(5) {
			case 0:
				img.Status = statuses[rng.IntN(len(statuses))]
			case 1:
				img.Family = families[rng.IntN(len(families))]
			case 2:
				img.Labels = map[string]string{"env": []string{"prod", "dev"}[rng.IntN(2)]}
				if rng.IntN(2) == 0 {
					img.Labels["gpu"] = ""
				}
			case 3:
				img.Name = fmt.Sprintf("renamed-%d-debian", step)
			case 4:
				img.FolderID = []string{"fa", "fb", "fc"}[rng.IntN(3)]
				img.OS = []string{"LINUX", "WINDOWS"}[rng.IntN(2)]
			}
			what = "update " + img.ID
			if rng.IntN(3) == 0 {
				o := newOp(t, s, fmt.Sprintf("k%d", step), "image.update", "amir", img.FolderID, img.ID)
				o.State = OpDone
				if err := s.FinishOperation(ctx, o, &img, cloud.Image{}); err != nil {
					t.Fatal(err)
				}
				what = "finish (update) " + img.ID
			} else if err := s.UpsertImage(ctx, img); err != nil {
				t.Fatal(err)
			}
			live[i] = img
		case r == 9 && rng.IntN(2) == 0: // a sync of a folder: one changed, one gone, one new, one moved in
			folder := []string{"fa", "fb", "fc"}[rng.IntN(3)]
			var listing, rest []cloud.Image
			for _, img := range live {
				if img.FolderID == folder {
					listing = append(listing, img)
				} else {
					rest = append(rest, img)
				}
			}
			listing[rng.IntN(len(listing))].Status = statuses[rng.IntN(len(statuses))]
			gone := rng.IntN(len(listing))
			listing = slices.Delete(listing, gone, gone+1)
			n++
			fresh := listing[0]
			fresh.ID, fresh.Name = fmt.Sprintf("fd9syn%014d", n), fmt.Sprintf("synced-%d", n)
			listing = append(listing, fresh)
			if len(rest) > 0 {
				j := rng.IntN(len(rest))
				moved := rest[j]
				moved.FolderID = folder
				rest = slices.Delete(rest, j, j+1)
				listing = append(listing, moved)
			}
			what = "sync of " + folder
			ch, err := s.ReplaceFolderImages(ctx, cloud.Compute, folder, listing, clock)
			if err != nil {
				t.Fatal(err)
			}
			if ch.Newer != 0 {
				t.Fatalf("step %d: a sync listed after every write spared %d rows", step, ch.Newer)
			}
			live = append(rest, listing...)
		default: // a delete
			i := rng.IntN(len(live))
			img := live[i]
			what = "delete " + img.ID
			if rng.IntN(2) == 0 {
				o := newOp(t, s, fmt.Sprintf("k%d", step), "image.delete", "amir", img.FolderID, img.ID)
				o.State = OpDone
				if err := s.FinishOperation(ctx, o, nil, img); err != nil {
					t.Fatal(err)
				}
				what = "finish (delete) " + img.ID
			} else if err := s.DeleteImage(ctx, img.Service, img.ID); err != nil {
				t.Fatal(err)
			}
			live = slices.Delete(live, i, i+1)
		}
		check(fmt.Sprintf("step %d, %s", step, what))
	}

	// An image written in folder fz, which no folder filter names and no
	// text query matches, leaves those queries' entries cached.
	kept := ImageQuery{Service: cloud.Compute, FolderIDs: []string{"fa"}}
	ask(s, kept)
	img := cloud.Image{Service: cloud.Compute, ID: "fd9zzz", FolderID: "fz", Name: "zzz", Status: "READY", CreatedAt: genEpoch}
	if err := s.UpsertImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	col, limit, _ := kept.check()
	for _, key := range []string{"T" + kept.filterKey(), "G" + kept.filterKey(), kept.pageKey(col, limit)} {
		if !s.cache.has(key) {
			t.Errorf("%q was dropped by a write outside its folders", key)
		}
	}
	// While the whole-service list, whose first page it is on, is
	// recounted and its first page read again.
	all := ImageQuery{Service: cloud.Compute, Sort: "name", Desc: true}
	ask(s, all)
	img.Name = "zzzz"
	if err := s.UpsertImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	col, limit, _ = all.check()
	if !s.cache.has("T"+all.filterKey()) || s.cache.has(all.pageKey(col, limit)) {
		t.Errorf("whole-service list: total kept %v (want true), first page kept %v (want false)",
			s.cache.has("T"+all.filterKey()), s.cache.has(all.pageKey(col, limit)))
	}
	check("after the kept-entries checks")
}

// TestOverlappingWritesMakeEverythingStale: a write that overlaps another
// (or a plain invalidate) cannot vouch for the entries it saw, so none is
// kept; a reader that read across a write's start does not store.
func TestOverlappingWritesMakeEverythingStale(t *testing.T) {
	c := newQueryCache(16)
	tag := &cacheTag{kind: tagTotal, filter: "f", q: ImageQuery{Service: cloud.Compute}}
	put := func(key string, v int) {
		if _, err := c.getTagged(key, tag, func() (any, int, error) { return v, 0, nil }); err != nil {
			t.Fatal(err)
		}
	}
	put("T1", 1)
	empty := &cacheDelta{before: map[string][]docState{"f": nil}, after: map[string][]docState{"f": nil}}

	g1, _ := c.beginWrite(8, 8)
	g2, _ := c.beginWrite(8, 8) // a second write begins before the first ends
	c.endWrite(g1, empty)
	c.endWrite(g2, empty)
	if c.has("T1") {
		t.Error("an entry was kept across overlapping writes")
	}

	put("T2", 2)
	g, _ := c.beginWrite(8, 8)
	c.invalidate()
	c.endWrite(g, empty)
	if c.has("T2") {
		t.Error("an entry was kept across a write that overlapped an invalidate")
	}

	put("T3", 3)
	g, _ = c.beginWrite(8, 8)
	c.endWrite(g, empty)
	if !c.has("T3") {
		t.Error("a lone write that saw nothing change dropped an entry")
	}

	// A reader whose computation spans a write's start does not store.
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = c.getTagged("T4", tag, func() (any, int, error) {
			close(started)
			<-release
			return 4, 0, nil
		})
	}()
	<-started
	g, _ = c.beginWrite(8, 8)
	close(release)
	<-done
	c.endWrite(g, empty)
	if c.has("T4") {
		t.Error("a value read across a write's start was stored and kept")
	}
}

// Until a write of a few images commits, the entries of before it are
// exact and served; from its commit until it ends, none are; after it,
// those it vouched for. Overlapping writes serve none.
func TestEntriesServedUntilTheWriteCommits(t *testing.T) {
	c := newQueryCache(16)
	tag := &cacheTag{kind: tagTotal, filter: "f", q: ImageQuery{Service: cloud.Compute}}
	computed := 0
	ask := func(key string) int {
		t.Helper()
		v, err := c.getTagged(key, tag, func() (any, int, error) { computed++; return 100 + computed, 0, nil })
		if err != nil {
			t.Fatal(err)
		}
		return v.(int)
	}
	first := ask("T")
	g, _ := c.beginWrite(8, 8)
	if got := ask("T"); got != first || computed != 1 || !c.has("T") {
		t.Errorf("before the commit: got %d after %d computations, want the entry %d", got, computed, first)
	}
	c.committing()
	if c.has("T") {
		t.Error("after the commit the entry of before the write is still served")
	}
	empty := &cacheDelta{before: map[string][]docState{"f": nil}, after: map[string][]docState{"f": nil}}
	c.endWrite(g, empty)
	if got := ask("T"); got != first || computed != 1 {
		t.Errorf("after the write: got %d after %d computations, want the entry it kept, %d", got, computed, first)
	}

	g, _ = c.beginWrite(8, 8)
	c.committing()
	if ask("T"); computed != 2 {
		t.Errorf("between a commit and the end of its write: %d computations, want a second", computed)
	}
	c.endWrite(g, empty)

	g1, _ := c.beginWrite(8, 8)
	g2, _ := c.beginWrite(8, 8)
	if c.has("T") {
		t.Error("during overlapping writes an entry of before them is served")
	}
	c.endWrite(g1, empty)
	c.endWrite(g2, empty)
}

// TestFacetGridShared: the facet grid is kept under the filters other
// than status and family, so trying statuses and families one after
// another counts it once, and each answer is still exact.
func TestFacetGridShared(t *testing.T) {
	s := openTest(t)
	seed(t, s, genImages(cloud.Compute, []string{"fa", "fb"}, 300))
	base := ImageQuery{Service: cloud.Compute, FolderIDs: []string{"fa"}}
	for _, q := range []ImageQuery{
		{Service: cloud.Compute, FolderIDs: []string{"fa"}, Statuses: []string{"READY"}},
		{Service: cloud.Compute, FolderIDs: []string{"fa"}, Statuses: []string{"ERROR"}, Families: []string{"debian-12"}},
		{Service: cloud.Compute, FolderIDs: []string{"fa"}, Families: []string{"debian-12", "jenkins"}},
	} {
		checkFresh(t, s, q, fmt.Sprintf("%v %v", q.Statuses, q.Families))
		if !s.cache.has("G" + base.filterKey()) {
			t.Fatalf("no shared grid after %+v", q)
		}
	}
	if n := s.cache.len(); n > 10 {
		t.Errorf("%d cache entries for three filters of one folder", n)
	}
}

// A list asked while a write's transaction is open is answered from the
// cache, as it was before the write began (the soak's crowd of lists
// after each copy).
func TestListsAnsweredFromTheCacheDuringAWrite(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	imgs := genImages(cloud.Compute, []string{"f"}, 50)
	if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, "f", imgs, day(8, 1)); err != nil {
		t.Fatal(err)
	}
	q := ImageQuery{Service: cloud.Compute, Limit: 10}
	before, err := s.Images(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	renamed := imgs[0]
	renamed.Name = "renamed"
	var during ImagePage
	var hits uint64
	err = s.imageTx(ctx, []imageRef{{cloud.Compute, renamed.ID}}, func(tx *sql.Tx) error {
		hits = s.CacheStats().Hits
		var err error
		if during, err = s.Images(ctx, q); err != nil {
			return err
		}
		hits = s.CacheStats().Hits - hits
		w, err := newImageWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.Close()
		doc, ok, err := w.doc(renamed.Service, renamed.ID)
		if err != nil {
			return err
		}
		return w.put(newImageRow(renamed), s.now(), s.now(), doc, ok)
	})
	if err != nil {
		t.Fatal(err)
	}
	if hits != 1 || !reflect.DeepEqual(ids(during.Images), ids(before.Images)) {
		t.Errorf("during the write: %d hits, rows %v; want the cached page %v", hits, ids(during.Images), ids(before.Images))
	}
	if img, err := s.Image(ctx, cloud.Compute, renamed.ID); err != nil || img.Name != "renamed" {
		t.Errorf("after the write: %+v, %v", img, err)
	}
}
