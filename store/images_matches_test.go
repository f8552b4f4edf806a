package store

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/imagedash/imagedash/cloud"
)

// pageRun is what a walk through every page of a query saw.
type pageRun struct {
	Forward, Backward [][]string // ids a page
	Totals            []int
}

// walkPages reads every page of q forwards by Next, then backwards by Prev
// from the last one.
func walkPages(t *testing.T, s *Store, q ImageQuery) pageRun {
	t.Helper()
	ctx := context.Background()
	var run pageRun
	var last ImagePage
	for n := 0; ; n++ {
		p, err := s.Images(ctx, q)
		if err != nil {
			t.Fatalf("page %d of %+v: %v", n, q, err)
		}
		if (n == 0) != (p.Prev == "") {
			t.Fatalf("page %d of %+v: Prev = %q", n, q, p.Prev)
		}
		run.Forward = append(run.Forward, ids(p.Images))
		run.Totals = append(run.Totals, p.Total)
		last = p
		if p.Next == "" || n > 1000 {
			break
		}
		q.After = p.Next
	}
	q.After, q.Before = "", last.Prev
	for n := 0; q.Before != "" && n < 1000; n++ {
		p, err := s.Images(ctx, q)
		if err != nil {
			t.Fatalf("back page %d of %+v: %v", n, q, err)
		}
		if p.Next == "" {
			t.Fatalf("back page %d of %+v: no Next", n, q)
		}
		run.Backward = append(run.Backward, ids(p.Images))
		q.Before = p.Prev
	}
	return run
}

// TestMatchListPagesEqualSQL pages text queries in every sort with the
// match lists and without: the pages, cursors and totals are the same.
func TestMatchListPagesEqualSQL(t *testing.T) {
	s, imgs := pagingStore(t)
	s.cache.maxPages = 0 // pages from SQL, then from the lists
	s.memOff = true      // the lists are the SQL path's; the index has tests of its own
	queries := []ImageQuery{
		{Text: "ubuntu", Limit: 37},
		{Text: "lts", Statuses: []string{"READY"}, Limit: 50},
		{Text: "debian", FolderIDs: []string{"b1g-x", "b1g-z"}, Labels: []LabelFilter{{Key: "env", Value: "prod"}}, Limit: 9},
		{Text: "ubuntu 22", Labels: []LabelFilter{{Key: "gpu", AnyValue: true}}, Limit: 3},
		{Text: "windows", OS: "WINDOWS", Families: []string{"windows-2022-dc"}, Limit: 20},
		{Text: "nomatchatall", Limit: 10},
	}
	for _, base := range queries {
		for _, sort := range sortNames {
			for _, desc := range []bool{false, true} {
				q := base
				q.Service, q.Sort, q.Desc = cloud.Compute, sort, desc
				t.Run(fmt.Sprintf("%s/%s/desc=%v", q.Text, sort, desc), func(t *testing.T) {
					s.cache.matchListMax = 0
					want := walkPages(t, s, q)
					s.cache.matchListMax = defaultMatchListMax
					if _, err := s.Images(context.Background(), q); err != nil { // counts: lists from now on
						t.Fatal(err)
					}
					got := walkPages(t, s, q)
					if !reflect.DeepEqual(got, want) {
						t.Errorf("with match lists:\n%+v\nwant\n%+v", got, want)
					}
					all := matches(imgs, q)
					if flat := slices.Concat(got.Forward...); !slices.Equal(flat, ids(all)) {
						t.Errorf("forward: %d ids, want %d", len(flat), len(all))
					}
					if len(all) > 0 && !s.cache.has("L"+mustCol(t, sort).name+"\x00"+q.filterKey()) {
						t.Error("no match list cached")
					}
				})
			}
		}
	}
}

func mustCol(t *testing.T, sort string) sortColumn {
	t.Helper()
	col, ok := sortColumnOf(sort)
	if !ok {
		t.Fatalf("sort %q", sort)
	}
	return col
}

// TestMatchListTooMany: a query with more matches than a list may hold
// pages by SQL.
func TestMatchListTooMany(t *testing.T) {
	s, imgs := pagingStore(t)
	q := ImageQuery{Service: cloud.Compute, Text: "ubuntu", Sort: "size", Desc: true, Limit: 25}
	want := ids(matches(imgs, q))
	s.cache.matchListMax = len(want) - 1
	s.memOff = true // the lists are the SQL path's
	if _, err := s.Images(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	got := walkPages(t, s, q)
	if flat := slices.Concat(got.Forward...); !slices.Equal(flat, want) {
		t.Errorf("forward: %d ids, want %d", len(flat), len(want))
	}
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	if s.cache.weighted != 0 {
		t.Errorf("%d lists kept, want none", s.cache.weighted)
	}
}

// TestMatchListStale: rows changed after a list was read, but before the
// cache learns of the write (the moment between a write's commit and its
// invalidate), are not served from the list.
func TestMatchListStale(t *testing.T) {
	s, _ := pagingStore(t)
	// The page cache would answer from before the writes behind its back
	// (see Images); here the pages come from the lists or SQL.
	s.cache.maxPages = 0
	s.memOff = true // the lists are the SQL path's
	ctx := context.Background()
	q := ImageQuery{Service: cloud.Compute, Text: "ubuntu", Statuses: []string{"READY"}, Sort: "created_at", Desc: true, Limit: 10}
	fromSQL := func(q ImageQuery) ImagePage {
		t.Helper()
		defer func(max int) { s.cache.matchListMax = max }(s.cache.matchListMax)
		s.cache.matchListMax = 0
		p, err := s.Images(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	images := func(q ImageQuery) ImagePage {
		t.Helper()
		p, err := s.Images(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	images(q)
	p1 := images(q) // from the list
	if !s.cache.has("L" + "created_at\x00" + q.filterKey()) {
		t.Fatal("no match list")
	}
	// Behind the cache's back: a row of the page stops being READY,
	// another one goes away.
	if _, err := s.w.ExecContext(ctx, `UPDATE images SET status = 'ERROR', fingerprint = fingerprint + 1 WHERE service = 'compute' AND id = ?`, p1.Images[3].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM images WHERE service = 'compute' AND id = ?`, p1.Images[6].ID); err != nil {
		t.Fatal(err)
	}
	got, want := images(q), fromSQL(q)
	if !slices.Equal(ids(got.Images), ids(want.Images)) || got.Next == "" {
		t.Errorf("after changes: %v, want %v", ids(got.Images), ids(want.Images))
	}
	if slices.Contains(ids(got.Images), p1.Images[3].ID) || slices.Contains(ids(got.Images), p1.Images[6].ID) {
		t.Errorf("changed rows served: %v", ids(got.Images))
	}
	s.cache.invalidate()

	// A cursor whose row moved (binary search), and one whose row is gone.
	q2 := q
	q2.After = p1.Next
	images(q)
	moved := p1.Images[len(p1.Images)-1].ID
	if _, err := s.w.ExecContext(ctx, `UPDATE images SET created_at = created_at + 1, fingerprint = fingerprint + 1 WHERE service = 'compute' AND id = ?`, moved); err != nil {
		t.Fatal(err)
	}
	s.cache.invalidate()
	images(q)
	for _, qq := range []ImageQuery{q2, {Service: q.Service, Text: q.Text, Statuses: q.Statuses, Sort: q.Sort, Desc: q.Desc, Limit: q.Limit, Before: p1.Next}} {
		got, want := images(qq), fromSQL(qq)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("cursor of a moved row: %v, want %v", ids(got.Images), ids(want.Images))
		}
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM images WHERE service = 'compute' AND id = ?`, moved); err != nil {
		t.Fatal(err)
	}
	s.cache.invalidate()
	images(q)
	got, want = images(q2), fromSQL(q2)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cursor of a deleted row: %v, want %v", ids(got.Images), ids(want.Images))
	}
}

func TestQueryCacheWeighted(t *testing.T) {
	c := newQueryCache(100)
	c.maxWeight, c.maxWeighted = 10, 3
	put := func(key string, w int) {
		if _, err := c.getWeighted(key, func() (any, int, error) { return key, w, nil }); err != nil {
			t.Fatal(err)
		}
	}
	put("u1", 0)
	put("a", 4)
	put("b", 4)
	put("u2", 0)
	put("c", 2) // 3 lists, weight 10
	if !c.has("a") || c.weight != 10 || c.weighted != 3 {
		t.Fatalf("weight %d in %d; want 10 in 3", c.weight, c.weighted)
	}
	put("d", 1) // a goes: too many lists
	put("e", 5) // b goes: too heavy
	for key, want := range map[string]bool{"u1": true, "u2": true, "a": false, "b": false, "c": true, "d": true, "e": true} {
		if c.has(key) != want {
			t.Errorf("has(%q) = %v, want %v", key, !want, want)
		}
	}
	put("huge", 11) // never kept
	if c.has("huge") || c.weight != 8 || c.weighted != 3 || c.len() != 5 {
		t.Errorf("after a value too heavy: weight %d in %d, %d entries", c.weight, c.weighted, c.len())
	}
	c.invalidate()
	put("c", 3) // replaced: its old weight goes
	if c.weight != 9 || c.weighted != 3 {
		t.Errorf("after a replace: weight %d in %d; want 9 in 3", c.weight, c.weighted)
	}
}
