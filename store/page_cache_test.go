package store

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// uncached is the page of q read without the page cache.
func uncached(t *testing.T, s *Store, q ImageQuery) ImagePage {
	t.Helper()
	s.cache.mu.Lock()
	pages := s.cache.maxPages
	s.cache.maxPages = 0
	s.cache.mu.Unlock()
	defer func() {
		s.cache.mu.Lock()
		s.cache.maxPages = pages
		s.cache.mu.Unlock()
	}()
	p, err := s.Images(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pageCached reports whether q's page is in the cache, of this generation.
func pageCached(t *testing.T, s *Store, q ImageQuery) bool {
	t.Helper()
	col, limit, err := q.check()
	if err != nil {
		t.Fatal(err)
	}
	return s.cache.has(q.pageKey(col, limit))
}

// TestPageCacheInvalidatedByWrites: a cached page is served until a write
// to the images, then read again; a sync that changes nothing keeps it.
func TestPageCacheInvalidatedByWrites(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	imgs := genImages(cloud.Compute, []string{"f1", "f2"}, 300)
	seed(t, s, imgs)
	queries := []ImageQuery{
		{Service: cloud.Compute, Limit: 20},
		{Service: cloud.Compute, Statuses: []string{"READY"}, Sort: "created_at", Desc: true, Limit: 20},
		{Service: cloud.Compute, Text: "debian", Statuses: []string{"READY"}, Limit: 20},
		{Service: cloud.Compute, Labels: []LabelFilter{{Key: "env", Value: "prod"}}, Sort: "size", Limit: 20},
		{Service: cloud.Compute, FolderIDs: []string{"f1"}, Sort: "created_at", Desc: true, Limit: 20},
	}
	check := func(when string) {
		t.Helper()
		for _, q := range queries {
			got, err := s.Images(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if !pageCached(t, s, q) {
				t.Errorf("%s: %+v: page not cached", when, q)
			}
			if want := uncached(t, s, q); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %+v: page %v (total %d), want %v (total %d)", when, q, ids(got.Images), got.Total, ids(want.Images), want.Total)
			}
			next := q
			next.After = got.Next
			if got, want := uncached(t, s, next), mustImages(t, s, next); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %+v: next page %v, want %v", when, q, ids(got.Images), ids(want.Images))
			}
		}
	}
	check("seeded")
	check("seeded, cached")

	// The newest image, READY, labelled env=prod, in f1, named to come first.
	img := imgs[0]
	img.ID, img.Name, img.Status, img.Family = "fd8aaa-new", "aaa-first", "READY", "debian-12"
	img.FolderID, img.Labels, img.Size = "f1", map[string]string{"env": "prod"}, 1
	img.CreatedAt = time.Now()
	if err := s.UpsertImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		if pageCached(t, s, q) {
			t.Errorf("after UpsertImage: %+v: a page of the old generation is fresh", q)
		}
		if p := mustImages(t, s, q); len(p.Images) == 0 || p.Images[0].ID != img.ID {
			t.Errorf("after UpsertImage: %+v: first row %v, want the new image", q, ids(p.Images))
		}
	}
	check("after UpsertImage")
	if err := s.DeleteImage(ctx, cloud.Compute, img.ID); err != nil {
		t.Fatal(err)
	}
	check("after DeleteImage")
	var f2 []cloud.Image
	for _, im := range imgs {
		if im.FolderID == "f2" {
			f2 = append(f2, im)
		}
	}
	if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, "f2", f2[:len(f2)/2], time.Now()); err != nil {
		t.Fatal(err)
	}
	check("after ReplaceFolderImages")

	// Nothing changed: the pages stay.
	if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, "f2", f2[:len(f2)/2], time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, q := range queries {
		if !pageCached(t, s, q) {
			t.Errorf("after an unchanged sync: %+v: page dropped", q)
		}
	}
}

func mustImages(t *testing.T, s *Store, q ImageQuery) ImagePage {
	t.Helper()
	p, err := s.Images(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPageCacheKeys: queries that select or order other rows never share a
// cached page (other folders above all); equivalent ones do.
func TestPageCacheKeys(t *testing.T) {
	s, imgs := pagingStore(t)
	base := ImageQuery{Service: cloud.Compute, FolderIDs: []string{"b1g-x"}, Sort: "created_at", Desc: true, Limit: 25}
	first := mustImages(t, s, base)
	others := []ImageQuery{
		{Service: cloud.Compute, FolderIDs: []string{"b1g-y"}, Sort: "created_at", Desc: true, Limit: 25},
		{Service: cloud.Compute, FolderIDs: []string{"b1g-x", "b1g-y"}, Sort: "created_at", Desc: true, Limit: 25},
		{Service: cloud.Compute, Sort: "created_at", Desc: true, Limit: 25},
		{Service: cloud.Compute, FolderIDs: []string{"b1g-x"}, Sort: "created_at", Limit: 25},
		{Service: cloud.Compute, FolderIDs: []string{"b1g-x"}, Sort: "size", Desc: true, Limit: 25},
		{Service: cloud.Compute, FolderIDs: []string{"b1g-x"}, Sort: "created_at", Desc: true, Limit: 10},
		{Service: cloud.Compute, FolderIDs: []string{"b1g-x"}, Sort: "created_at", Desc: true, Limit: 25, After: first.Next},
		{Service: cloud.Compute, FolderIDs: []string{"b1g-x"}, Sort: "created_at", Desc: true, Limit: 25, Statuses: []string{"READY"}},
		{Service: cloud.Desktop, FolderIDs: []string{"b1g-x"}, Sort: "created_at", Desc: true, Limit: 25},
	}
	keys := map[string]int{}
	for i, q := range append([]ImageQuery{base}, others...) {
		col, limit, err := q.check()
		if err != nil {
			t.Fatal(err)
		}
		k := q.pageKey(col, limit)
		if j, ok := keys[k]; ok {
			t.Errorf("queries %d and %d share a page key", j, i)
		}
		keys[k] = i
		mustImages(t, s, q)
		got := mustImages(t, s, q) // from the cache
		if q.Service != cloud.Compute {
			for _, img := range got.Images {
				if img.Service != q.Service {
					t.Errorf("query %d (%+v): a %s image", i, q, img.Service)
				}
			}
			continue
		}
		want := matches(imgs, q)
		if q.After == "" {
			want = want[:min(len(want), q.Limit)]
		} else {
			want = want[q.Limit:min(len(want), 2*q.Limit)]
		}
		if !slices.Equal(ids(got.Images), ids(want)) {
			t.Errorf("query %d (%+v): %v, want %v", i, q, ids(got.Images), ids(want))
		}
	}

	// The same folders in another order, duplicated; the default sort
	// named or not; page sizes the store clamps alike.
	same := [][2]ImageQuery{
		{{Service: cloud.Compute, FolderIDs: []string{"b1g-x", "b1g-y"}}, {Service: cloud.Compute, FolderIDs: []string{"b1g-y", "b1g-x", "b1g-y"}}},
		{{Service: cloud.Compute, Sort: ""}, {Service: cloud.Compute, Sort: "name"}},
		{{Service: cloud.Compute, Limit: 0}, {Service: cloud.Compute, Limit: DefaultLimit}},
		{{Service: cloud.Compute, Limit: MaxLimit}, {Service: cloud.Compute, Limit: MaxLimit + 1}},
	}
	for i, pair := range same {
		a, b := pair[0], pair[1]
		colA, limitA, _ := a.check()
		colB, limitB, _ := b.check()
		if a.pageKey(colA, limitA) != b.pageKey(colB, limitB) {
			t.Errorf("pair %d: equivalent queries have different page keys", i)
		}
	}
}

// TestPageCacheReturnsCopies: what a caller does to its page's slice does
// not reach the cache.
func TestPageCacheReturnsCopies(t *testing.T) {
	s, _ := pagingStore(t)
	q := ImageQuery{Service: cloud.Compute, Sort: "created_at", Desc: true, Limit: 10}
	p := mustImages(t, s, q)
	want := ids(p.Images)
	p.Images[0].ID, p.Images[0].Name = "mutated", "mutated"
	slices.Reverse(p.Images)
	if got := ids(mustImages(t, s, q).Images); !slices.Equal(got, want) {
		t.Errorf("after the caller changed its page: %v, want %v", got, want)
	}
}

// TestPageCacheErrorsNotCached: a cancelled request's error is its own.
func TestPageCacheErrorsNotCached(t *testing.T) {
	s, _ := pagingStore(t)
	q := ImageQuery{Service: cloud.Compute, Statuses: []string{"READY"}, Limit: 10}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Images(ctx, q); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err = %v, want context.Canceled", err)
	}
	if pageCached(t, s, q) {
		t.Error("a failed page was cached")
	}
	if p := mustImages(t, s, q); len(p.Images) != 10 {
		t.Errorf("after a cancelled request: %d rows, want 10", len(p.Images))
	}
}

// TestQueryCachePages: pages are bounded by count and by rows, apart from
// the match lists and the small entries, and can be turned off.
func TestQueryCachePages(t *testing.T) {
	c := newQueryCache(100)
	c.maxPages, c.maxPageRows = 3, 10
	page := func(key string, rows int) {
		t.Helper()
		if _, err := c.getPage(key, func() (any, int, error) { return key, rows, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.get("total", func() (any, error) { return 1, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := c.getWeighted("list", func() (any, int, error) { return "l", 5, nil }); err != nil {
		t.Fatal(err)
	}
	page("a", 2)
	page("b", 0) // an empty page weighs a row
	page("c", 3)
	page("d", 1) // a fourth page: a goes
	if c.has("a") || !c.has("b") || !c.has("d") || c.pages != 3 || c.pageRows != 5 {
		t.Fatalf("after 4 pages: %d pages of %d rows, a kept %v", c.pages, c.pageRows, c.has("a"))
	}
	page("e", 8) // 13 rows: b and c go
	if c.has("b") || c.has("c") || !c.has("d") || !c.has("e") || c.pageRows != 9 {
		t.Errorf("after a heavy page: %d pages of %d rows", c.pages, c.pageRows)
	}
	page("huge", 11) // heavier than all pages may be: not kept
	if c.has("huge") || c.pages != 2 {
		t.Errorf("a page over the bound was kept")
	}
	if !c.has("total") || !c.has("list") || c.weighted != 1 {
		t.Errorf("pages evicted other entries")
	}
	small := newQueryCache(2)
	small.maxPages, small.maxPageRows = 3, 10
	for _, k := range []string{"p1", "p2", "p3"} {
		if _, err := small.getPage(k, func() (any, int, error) { return k, 1, nil }); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"t1", "t2"} {
		if _, err := small.get(k, func() (any, error) { return k, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if !small.has("p1") || !small.has("t1") || small.len() != 5 {
		t.Errorf("pages counted against the bound of the other entries: %d entries", small.len())
	}
	c.invalidate()
	calls := 0
	if _, err := c.getPage("d", func() (any, int, error) { calls++; return "d", 1, nil }); err != nil || calls != 1 {
		t.Errorf("a page of an old generation was served (calls %d, err %v)", calls, err)
	}

	c.maxPages = 0
	for range 2 {
		if _, err := c.getPage("off", func() (any, int, error) { calls++; return "off", 1, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 3 || c.has("off") {
		t.Errorf("with pages off: %d calls, kept %v; want 3 calls, nothing kept", calls, c.has("off"))
	}
}

// TestFoldersAndSyncStatesCached: the folders and sync states are read once
// per write to them, and each caller gets its own copy.
func TestFoldersAndSyncStatesCached(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	folders := []cloud.Folder{{ID: "b1g-a", Name: "a", Labels: map[string]string{"k": "v"}}, {ID: "b1g-b", Name: "b"}}
	if err := s.SaveFolders(ctx, folders); err != nil {
		t.Fatal(err)
	}
	got, err := s.Folders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, folders) {
		t.Fatalf("Folders = %+v, want %+v", got, folders)
	}
	if !s.meta.has("folders") {
		t.Error("folders not cached")
	}
	got[0].Name, got[0].Labels["k"] = "mutated", "mutated"
	if again, _ := s.Folders(ctx); !reflect.DeepEqual(again, folders) {
		t.Errorf("after the caller changed its folders: %+v", again)
	}
	folders = folders[1:]
	if err := s.SaveFolders(ctx, folders); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Folders(ctx); !reflect.DeepEqual(again, folders) {
		t.Errorf("after SaveFolders: %+v, want %+v", again, folders)
	}

	at := time.UnixMilli(time.Now().UnixMilli()).UTC()
	if err := s.RecordSync(ctx, cloud.Compute, "b1g-b", SyncRecord{At: at, Count: 3}); err != nil {
		t.Fatal(err)
	}
	want := []SyncState{{Service: cloud.Compute, FolderID: "b1g-b", LastAttemptAt: at, LastSuccessAt: at, ImageCount: 3}}
	for range 2 {
		if st, err := s.SyncStates(ctx, cloud.Compute); err != nil || !reflect.DeepEqual(st, want) {
			t.Fatalf("SyncStates = %+v, %v; want %+v", st, err, want)
		}
	}
	if st, err := s.SyncStates(ctx, cloud.Desktop); err != nil || st != nil {
		t.Errorf("SyncStates of Desktop = %+v, %v; want none", st, err)
	}
	later := at.Add(time.Minute)
	if err := s.RecordSync(ctx, cloud.Compute, "b1g-b", SyncRecord{At: later, Err: errors.New("unavailable")}); err != nil {
		t.Fatal(err)
	}
	want[0].LastAttemptAt, want[0].LastError = later, "unavailable"
	if st, err := s.SyncStates(ctx, cloud.Compute); err != nil || !reflect.DeepEqual(st, want) {
		t.Errorf("after RecordSync: %+v, %v; want %+v", st, err, want)
	}
	// Images are written without touching the folders' cache.
	if _, err := s.Folders(ctx); err != nil {
		t.Fatal(err)
	}
	seed(t, s, genImages(cloud.Compute, []string{"b1g-b"}, 5))
	if !s.meta.has("folders") {
		t.Error("an image write dropped the cached folders")
	}
}
