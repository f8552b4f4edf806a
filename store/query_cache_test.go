package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// fresh is what Images' Total and Facets say of q computed without the cache.
func fresh(t *testing.T, s *Store, q ImageQuery) (int, Facets) {
	t.Helper()
	ctx := context.Background()
	var (
		n int
		f Facets
	)
	err := s.read(ctx, func(tx *sql.Tx) error {
		query, args := q.countSQL()
		if err := tx.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
			return err
		}
		var err error
		f, err = facets(ctx, tx, q)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, f
}

// checkFresh fails when the cached Total or Facets of q differ from fresh ones.
func checkFresh(t *testing.T, s *Store, q ImageQuery, when string) {
	t.Helper()
	ctx := context.Background()
	p, err := s.Images(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	f, err := s.Facets(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	n, wantF := fresh(t, s, q)
	if p.Total != n {
		t.Errorf("%s: Total = %d, want %d", when, p.Total, n)
	}
	if !reflect.DeepEqual(f, wantF) {
		t.Errorf("%s: Facets = %+v, want %+v", when, f, wantF)
	}
}

func TestCacheInvalidatedByWrites(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	imgs := genImages(cloud.Compute, []string{"f1", "f2"}, 300)
	seed(t, s, imgs)
	queries := []ImageQuery{
		{Service: cloud.Compute},
		{Service: cloud.Compute, Statuses: []string{"READY"}, Sort: "created_at", Desc: true},
		{Service: cloud.Compute, Families: []string{"debian-12", "debian-11"}},
		{Service: cloud.Compute, Text: "debian", Statuses: []string{"READY"}},
		{Service: cloud.Compute, Labels: []LabelFilter{{Key: "env", Value: "prod"}}},
	}
	check := func(when string) {
		t.Helper()
		for _, q := range queries {
			checkFresh(t, s, q, when)
		}
	}
	check("seeded")
	check("seeded, cached")

	img := imgs[0]
	img.Status, img.Family, img.Labels = "ERROR", "debian-12", map[string]string{"env": "prod"}
	if err := s.UpsertImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	check("after UpsertImage (update)")
	img.ID = "fd8new"
	if err := s.UpsertImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	check("after UpsertImage (insert)")
	if err := s.DeleteImage(ctx, cloud.Compute, imgs[1].ID); err != nil {
		t.Fatal(err)
	}
	check("after DeleteImage")
	if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, "f1", imgs[100:150], time.Now()); err != nil {
		// imgs[100:150] alternate folders: keep the f1 ones.
		var f1 []cloud.Image
		for _, im := range imgs[100:150] {
			if im.FolderID == "f1" {
				f1 = append(f1, im)
			}
		}
		if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, "f1", f1, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	check("after ReplaceFolderImages")
	if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, "f2", nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	check("after ReplaceFolderImages (empty)")
}

func TestCacheKeptByUnchangedSync(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	imgs := genImages(cloud.Compute, []string{"f1"}, 50)
	seed(t, s, imgs)
	gen := s.cache.gen.Load()
	ch, err := s.ReplaceFolderImages(ctx, cloud.Compute, "f1", imgs, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if ch.Unchanged != len(imgs) {
		t.Fatalf("changes %+v, want all unchanged", ch)
	}
	if got := s.cache.gen.Load(); got != gen {
		t.Errorf("an unchanged sync bumped the generation %d → %d", gen, got)
	}
}

func TestCacheReturnsCopies(t *testing.T) {
	s := openTest(t)
	seed(t, s, genImages(cloud.Compute, []string{"f1"}, 50))
	q := ImageQuery{Service: cloud.Compute}
	f, err := s.Facets(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	f.Statuses[0].Count = -1
	f.Families[0].Value = "mutated"
	checkFresh(t, s, q, "after the caller mutated its Facets")
}

func TestFilterKey(t *testing.T) {
	base := ImageQuery{Service: cloud.Compute, FolderIDs: []string{"a", "b"}, Text: "ubuntu  lts",
		Statuses: []string{"READY", "ERROR"}, Families: []string{"x"}, OS: "LINUX",
		Labels: []LabelFilter{{Key: "env", Value: "prod"}, {Key: "gpu", AnyValue: true}}}
	same := base
	same.FolderIDs = []string{"b", "a", "b"}
	same.Statuses = []string{"ERROR", "READY"}
	same.Labels = []LabelFilter{{Key: "gpu", AnyValue: true}, {Key: "env", Value: "prod"}}
	same.Text = "ubuntu lts"
	same.Sort, same.Desc, same.Limit, same.After = "created_at", true, 10, "cursor"
	if base.filterKey() != same.filterKey() {
		t.Errorf("equivalent queries have different keys")
	}
	for i, other := range []func(*ImageQuery){
		func(q *ImageQuery) { q.Service = cloud.Desktop },
		func(q *ImageQuery) { q.FolderIDs = []string{"a"} },
		func(q *ImageQuery) { q.FolderIDs = []string{"a\x00b"} },
		func(q *ImageQuery) { q.Text = "ubuntu lts " },
		func(q *ImageQuery) { q.Statuses = nil },
		func(q *ImageQuery) { q.Families = []string{"x", "y"} },
		func(q *ImageQuery) { q.Families, q.Statuses = q.Statuses, q.Families },
		func(q *ImageQuery) { q.OS = "" },
		func(q *ImageQuery) { q.Labels = q.Labels[:1] },
		func(q *ImageQuery) { q.Labels = []LabelFilter{{Key: "env", AnyValue: true}, q.Labels[1]} },
		func(q *ImageQuery) { q.Labels = []LabelFilter{{Key: "env", Value: ""}, q.Labels[1]} },
	} {
		q := base
		other(&q)
		if q.filterKey() == base.filterKey() {
			t.Errorf("change %d: same key as the base query", i)
		}
	}
}

func TestQueryCacheLRUAndErrors(t *testing.T) {
	c := newQueryCache(3)
	calls := 0
	get := func(key string) any {
		v, err := c.get(key, func() (any, error) { calls++; return key, nil })
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, k := range []string{"a", "b", "c", "a", "d"} { // d evicts b
		get(k)
	}
	if c.len() != 3 || calls != 4 {
		t.Fatalf("len %d, calls %d; want 3 and 4", c.len(), calls)
	}
	get("a")
	get("b")
	if calls != 5 {
		t.Errorf("calls = %d, want 5 (a cached, b evicted)", calls)
	}
	c.invalidate()
	get("a")
	if calls != 6 {
		t.Errorf("calls = %d, want 6 (a stale after invalidate)", calls)
	}
	boom := errors.New("boom")
	if _, err := c.get("e", func() (any, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
	if v := get("e"); v != "e" {
		t.Errorf("after an error: %v, want a recomputed value", v)
	}
}

func TestQueryCacheOneComputationPerKey(t *testing.T) {
	c := newQueryCache(10)
	var (
		mu    sync.Mutex
		calls int
		wg    sync.WaitGroup
	)
	release := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			v, err := c.get("k", func() (any, error) {
				mu.Lock()
				calls++
				mu.Unlock()
				<-release
				return 42, nil
			})
			if err != nil || v != 42 {
				t.Errorf("got %v, %v", v, err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if calls != 1 {
		t.Errorf("computed %d times, want 1", calls)
	}
}

// TestCacheConcurrentReadsAndWrites reads totals and facets while writers
// change the images; once the writers stop, every answer is fresh.
func TestCacheConcurrentReadsAndWrites(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	imgs := genImages(cloud.Compute, []string{"f1", "f2"}, 200)
	seed(t, s, imgs)
	queries := []ImageQuery{
		{Service: cloud.Compute},
		{Service: cloud.Compute, Statuses: []string{"READY"}},
		{Service: cloud.Compute, Families: []string{"debian-12"}, Sort: "created_at"},
		{Service: cloud.Compute, Labels: []LabelFilter{{Key: "env", Value: "prod"}}},
		{Service: cloud.Compute, Text: "ubuntu", Sort: "created_at", Desc: true, Limit: 7}, // from match lists
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := range 4 {
		readers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				q := queries[(r+i)%len(queries)]
				p, err := s.Images(ctx, q)
				if err != nil {
					t.Error(err)
					return
				}
				if p.Next != "" { // and the next page, by a cursor of another generation maybe
					q.After = p.Next
					if _, err := s.Images(ctx, q); err != nil {
						t.Error(err)
						return
					}
					q.After = ""
				}
				if _, err := s.Facets(ctx, q); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range 60 {
		img := imgs[i%len(imgs)]
		img.Status = []string{"READY", "ERROR", "CREATING"}[i%3]
		img.Family = genFamilies[i%len(genFamilies)]
		switch i % 4 {
		case 3:
			if err := s.DeleteImage(ctx, cloud.Compute, img.ID); err != nil {
				t.Fatal(err)
			}
		case 2:
			var f2 []cloud.Image
			for _, im := range imgs[i:] {
				if im.FolderID == "f2" {
					f2 = append(f2, im)
				}
			}
			if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, "f2", f2, time.Now()); err != nil {
				t.Fatal(err)
			}
		default:
			img.ID = fmt.Sprintf("%s-%d", img.ID, i%2)
			if err := s.UpsertImage(ctx, img); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	readers.Wait()
	for _, q := range queries {
		checkFresh(t, s, q, "after concurrent writes")
		got := walkPages(t, s, q)
		s.cache.matchListMax, s.cache.maxPages = 0, 0
		if want := walkPages(t, s, q); !reflect.DeepEqual(got, want) {
			t.Errorf("pages of %+v after concurrent writes:\n%+v\nwant\n%+v", q, got, want)
		}
		s.cache.matchListMax, s.cache.maxPages = defaultMatchListMax, defaultPages
	}
}
