package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// benchFolders hold the 100 000 seeded Compute images.
var benchFolders = []string{"b1g-golden", "b1g-team-a", "b1g-team-b", "b1g-team-c"}

// seeded is a store with 100 000 Compute images, built once per run of
// the benchmarks that read it.
// benchDB is a store seeded once per test process, shared by the
// benchmarks that need a large data set; TestMain removes it.
type benchDB struct {
	once sync.Once
	s    *Store
	dir  string
	err  error
}

// open seeds the store with gen's images on first use.
func (d *benchDB) open(tb testing.TB, gen func() []cloud.Image) *Store {
	tb.Helper()
	d.once.Do(func() {
		d.dir, d.err = os.MkdirTemp("", "imagedash-bench-")
		if d.err != nil {
			return
		}
		ctx := context.Background()
		d.s, d.err = Open(ctx, filepath.Join(d.dir, "bench.db"))
		if d.err != nil {
			return
		}
		at := time.Now()
		for folder, imgs := range byFolder(gen()) {
			if _, d.err = d.s.ReplaceFolderImages(ctx, cloud.Compute, folder, imgs, at); d.err != nil {
				return
			}
		}
	})
	if d.err != nil {
		tb.Fatalf("seed: %v", d.err)
	}
	return d.s
}

func (d *benchDB) close() {
	if d.s != nil {
		d.s.Close()
	}
	if d.dir != "" {
		os.RemoveAll(d.dir)
	}
}

// seeded holds genImages(100 000) over benchFolders.
var seeded benchDB

func seededStore(b *testing.B) *Store {
	return seeded.open(b, func() []cloud.Image { return genImages(cloud.Compute, benchFolders, 100_000) })
}

func TestMain(m *testing.M) {
	code := m.Run()

	seeded.close()
	os.Exit(code)
}

// BenchmarkImagesFilteredSorted reads page 101 (50 rows, via the cursor of
// page 100) of a text + status query sorted newest first: the count of all
// matches, the page, and the probe for Prev, over 100 000 images.
func BenchmarkImagesFilteredSorted(b *testing.B) {
	s := seededStore(b)
	for _, bc := range []struct {
		name string
		q    ImageQuery
	}{
		{"all-folders", ImageQuery{Service: cloud.Compute, Text: "ubuntu", Statuses: []string{"READY"},
			Sort: "created_at", Desc: true, Limit: 50}},
		{"one-folder", ImageQuery{Service: cloud.Compute, FolderIDs: []string{"b1g-team-a"}, Text: "ubuntu",
			Statuses: []string{"READY"}, Sort: "created_at", Desc: true, Limit: 50}},
		// For comparison: no text, the same deep page of one folder.
		{"no-text-one-folder", ImageQuery{Service: cloud.Compute, FolderIDs: []string{"b1g-team-a"},
			Statuses: []string{"READY"}, Sort: "created_at", Desc: true, Limit: 50}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			q := bc.q
			for range 100 {
				p, err := s.Snapshot().Images(q)
				if err != nil {
					b.Fatal(err)
				}
				q.After = p.Next
			}
			var p ImagePage
			for b.Loop() {
				var err error
				if p, err = s.Snapshot().Images(q); err != nil {
					b.Fatal(err)
				}
			}
			if len(p.Images) != 50 || p.Prev == "" || p.Next == "" {
				b.Fatalf("page 101: got %d images, prev %q, next %q; want 50 and both cursors", len(p.Images), p.Prev, p.Next)
			}
			b.ReportMetric(float64(p.Total), "matches")
		})
	}
}

// BenchmarkReplaceFolder100k replaces a folder of 100 000 images: cold
// (into an empty folder), unchanged (nothing to write), and churn (1% of the
// images changed, 0.5% gone and 0.5% new, alternating two listings).
func BenchmarkReplaceFolder100k(b *testing.B) {
	ctx := context.Background()
	const folder = "b1g-big"
	base := genImages(cloud.Compute, []string{folder}, 100_000)
	at := time.Now()

	b.Run("cold", func(b *testing.B) {
		s := openTest(b)
		for b.Loop() {
			b.StopTimer()
			if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, folder, nil, at); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			ch, err := s.ReplaceFolderImages(ctx, cloud.Compute, folder, base, at)
			if err != nil {
				b.Fatal(err)
			}
			if ch.Added != len(base) {
				b.Fatalf("added %d, want %d", ch.Added, len(base))
			}
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		s := openTest(b)
		if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, folder, base, at); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			ch, err := s.ReplaceFolderImages(ctx, cloud.Compute, folder, base, at)
			if err != nil {
				b.Fatal(err)
			}
			if ch.Unchanged != len(base) {
				b.Fatalf("changes %+v, want all unchanged", ch)
			}
		}
	})
	b.Run("churn", func(b *testing.B) {
		s := openTest(b)
		// other: every 100th image changed status, every 200th gone, 500 new.
		other := make([]cloud.Image, 0, len(base))
		for i, img := range base {
			switch {
			case i%200 == 0:
				continue
			case i%100 == 1:
				img.Status = "DELETING"
				img.Labels = map[string]string{"churn": "yes"}
			}
			other = append(other, img)
		}
		for i := range 500 {
			img := base[i]
			img.ID = fmt.Sprintf("fd9new%014d", i)
			other = append(other, img)
		}
		if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, folder, base, at); err != nil {
			b.Fatal(err)
		}
		lists := [2][]cloud.Image{other, base}
		i := 0
		for b.Loop() {
			ch, err := s.ReplaceFolderImages(ctx, cloud.Compute, folder, lists[i%2], at)
			if err != nil {
				b.Fatal(err)
			}
			if ch.Updated != 1000 || ch.Added != 500 || ch.Removed != 500 {
				b.Fatalf("changes %+v, want 1000 updated, 500 added, 500 removed", ch)
			}
			i++
		}
	})
}
