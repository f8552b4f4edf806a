package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// listFolders hold the 100 000 Compute images of the list benchmarks.
var listFolders = []string{"b1g-golden", "b1g-team-a", "b1g-team-b", "b1g-team-c", "b1g-team-d", "b1g-team-e"}

// genListImages builds n deterministic images shaped like the production
// cache the list benchmarks reproduce: debian-12 ≈ 7 %, READY ≈ 99 %,
// "secops" in ≈ 30 % of the descriptions, env=prod ≈ 25 %.
func genListImages(n int) []cloud.Image {
	rng := rand.New(rand.NewPCG(7, uint64(n)))
	imgs := make([]cloud.Image, n)
	for i := range imgs {
		fam := genFamilies[rng.IntN(len(genFamilies))]
		if rng.IntN(100) < 5 {
			fam = "debian-12"
		}
		st := "READY"
		switch r := rng.IntN(1000); {
		case r < 4:
			st = "CREATING"
		case r < 7:
			st = "ERROR"
		case r < 10:
			st = "DELETING"
		}
		osName := "LINUX"
		if len(fam) > 7 && fam[:7] == "windows" {
			osName = "WINDOWS"
		}
		env := "dev"
		switch r := rng.IntN(100); {
		case r < 25:
			env = "prod"
		case r < 60:
			env = "stage"
		}
		owner := "platform"
		if rng.IntN(100) < 30 {
			owner = "secops"
		}
		labels := map[string]string{"env": env, "team": fmt.Sprintf("team-%d", rng.IntN(8)), "owner": owner}
		size := int64(rng.IntN(40)+1) << 30
		imgs[i] = cloud.Image{
			Service:     cloud.Compute,
			ID:          fmt.Sprintf("fd8%017d", i),
			FolderID:    listFolders[i%len(listFolders)],
			Name:        fmt.Sprintf("%s-v%d", fam, i),
			Description: fmt.Sprintf("%s image build %d by %s", fam, i, owner),
			Labels:      labels,
			Family:      fam,
			Status:      st,
			OS:          osName,
			Size:        size,
			MinDiskSize: size + 1<<30,
			ProductIDs:  []string{fmt.Sprintf("f2e%05d", rng.IntN(50))},
			CreatedAt:   genEpoch.Add(time.Duration(rng.IntN(n)) * time.Minute),
		}
	}
	return imgs
}

// listSeeded holds genListImages(100 000), built once per process.
var listSeeded benchDB

func listStore(tb testing.TB) *Store {
	return listSeeded.open(tb, func() []cloud.Image { return genListImages(100_000) })
}

// listBenchQueries are the first pages (50 rows) of the image browser's
// list partial from the issue, all folders of Compute.
var listBenchQueries = []struct {
	name string
	q    ImageQuery
}{
	{"family", ImageQuery{Families: []string{"debian-12"}}},
	{"ready-family-newest", ImageQuery{Statuses: []string{"READY"}, Families: []string{"debian-12"}, Sort: "created_at", Desc: true}},
	{"ready-newest", ImageQuery{Statuses: []string{"READY"}, Sort: "created_at", Desc: true}},
	{"text-ready-newest", ImageQuery{Text: "secops", Statuses: []string{"READY"}, Sort: "created_at", Desc: true}},
	{"text-ready-by-name", ImageQuery{Text: "secops", Statuses: []string{"READY"}}},
	{"label-by-name", ImageQuery{Labels: []LabelFilter{{Key: "env", Value: "prod"}}, Sort: "name"}},
	{"no-filter", ImageQuery{}},
	{"ready-by-folder", ImageQuery{Statuses: []string{"READY"}, Sort: "folder"}},
}

// BenchmarkListPartial measures the two store calls of the list partial,
// Images (50 rows and the exact total) and Facets, on 100 000 images:
// cold (the cache invalidated before each call, as after a write; cold-sql
// the same without the in-memory index), cached
// (totals, facets and match lists cached, the page itself read: a page
// asked for the first time between two syncs) and, for Images, page (the
// same page asked again between two syncs: the steady state).
//
//	go test ./store/ -run '^$' -bench 'BenchmarkListPartial' -benchtime 2s
func BenchmarkListPartial(b *testing.B) {
	s := listStore(b)
	ctx := context.Background()
	for _, bc := range listBenchQueries {
		q := bc.q
		q.Service, q.Limit = cloud.Compute, 50
		for _, mode := range []string{"cold", "cold-sql", "cached", "page"} {
			cached := mode != "cold" && mode != "cold-sql"
			b.Run("Images/"+mode+"/"+bc.name, func(b *testing.B) {
				if mode != "page" {
					s.cache.maxPages = 0
					defer func() { s.cache.maxPages = defaultPages }()
				}
				s.memOff = mode == "cold-sql" // without the in-memory index
				defer func() { s.memOff = false }()
				var p ImagePage
				for b.Loop() {
					if !cached {
						s.cache.invalidate() // as after a write: recount
					}
					var err error
					if p, err = s.Images(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
				if len(p.Images) != 50 {
					b.Fatalf("got %d images, want 50", len(p.Images))
				}
				b.ReportMetric(float64(p.Total), "matches")
			})
			if mode == "page" {
				continue // Facets have no pages
			}
			b.Run("Facets/"+mode+"/"+bc.name, func(b *testing.B) {
				s.memOff = mode == "cold-sql"
				defer func() { s.memOff = false }()
				for b.Loop() {
					if !cached {
						s.cache.invalidate()
					}
					if _, err := s.Facets(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkListNextPage reads the page after the first one (by its Next
// cursor) and the page before that (by Prev), with warm caches but not the
// page cache: paging a text search with many matches, each page read once.
//
//	go test ./store/ -run '^$' -bench 'BenchmarkListNextPage' -benchtime 1s
func BenchmarkListNextPage(b *testing.B) {
	s := listStore(b)
	s.cache.maxPages = 0
	defer func() { s.cache.maxPages = defaultPages }()
	ctx := context.Background()
	for _, bc := range listBenchQueries {
		if bc.q.Text == "" {
			continue
		}
		q := bc.q
		q.Service, q.Limit = cloud.Compute, 50
		p1, err := s.Images(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		next := q
		next.After = p1.Next
		p2, err := s.Images(ctx, next)
		if err != nil {
			b.Fatal(err)
		}
		prev := q
		prev.Before = p2.Prev
		for _, c := range []struct {
			name string
			q    ImageQuery
		}{{"next", next}, {"prev", prev}} {
			b.Run(c.name+"/"+bc.name, func(b *testing.B) {
				var p ImagePage
				for b.Loop() {
					if p, err = s.Images(ctx, c.q); err != nil {
						b.Fatal(err)
					}
				}
				if len(p.Images) != 50 {
					b.Fatalf("got %d images, want 50", len(p.Images))
				}
			})
		}
	}
}
