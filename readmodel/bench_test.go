package readmodel

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// benchRows is the size the issue asks the read model to carry.
const benchRows = 1_100_000

// synthRows are n images shaped like a large cloud's: ids of twenty
// random base32 runes, a few hundred folders and families, names of a
// family and a date, two or three labels, mostly READY.
func synthRows(n int) []Row {
	r := rand.New(rand.NewPCG(1, 1))
	const b32 = "abcdefghijklmnopqrstuv0123456789"
	oses := []string{"ubuntu", "debian", "centos", "almalinux", "windows", "fedora", "rocky", "opensuse"}
	statuses := []string{"READY", "READY", "READY", "READY", "READY", "READY", "READY", "CREATING", "ERROR", "DELETING"}
	rows := make([]Row, n)
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		id := make([]byte, 20)
		copy(id, "fd8")
		for j := 3; j < 20; j++ {
			id[j] = b32[r.IntN(len(b32))]
		}
		fam := fmt.Sprintf("%s-%d-%02d", oses[r.IntN(len(oses))], 10+r.IntN(10), r.IntN(5))
		img := cloud.Image{
			Service:     cloud.Compute,
			ID:          string(id),
			FolderID:    fmt.Sprintf("b1g%017d", r.IntN(300)),
			Name:        fmt.Sprintf("%s-v%d", fam, 20200101+r.IntN(50000)),
			Description: "image of " + fam + " built by ci for " + []string{"prod", "staging", "dev", "qa"}[r.IntN(4)],
			Family:      fam,
			Status:      statuses[r.IntN(len(statuses))],
			OS:          "LINUX",
			Size:        int64(2+r.IntN(30)) << 30,
			StorageSize: int64(r.IntN(1<<16)) << 20,
			MinDiskSize: int64(5+r.IntN(20)) << 30,
			Checksum:    fmt.Sprintf("sha256:%064x", r.Uint64()),
			CreatedAt:   base.Add(time.Duration(r.IntN(5*365*24*3600)) * time.Second),
			ProductIDs:  []string{"f2e" + string(id[3:10])},
			Labels: map[string]string{
				"env":  []string{"prod", "staging", "dev", "qa"}[r.IntN(4)],
				"team": fmt.Sprintf("team-%d", r.IntN(40)),
			},
		}
		if strings := oses[r.IntN(len(oses))]; strings == "windows" {
			img.OS = "WINDOWS"
		}
		if r.IntN(3) == 0 {
			img.Labels["tier"] = fmt.Sprintf("t%d", r.IntN(5))
		}
		if r.IntN(20) == 0 {
			img.Service = cloud.Desktop
			img.OS = ""
		}
		rows[i] = Row{Doc: uint32(i + 1), Image: img}
	}
	return rows
}

// bench is the rows and their snapshot, made once per process.
var bench struct {
	once sync.Once
	rows []Row
	snap *Snapshot
}

func benchSnapshot(b *testing.B) ([]Row, *Snapshot) {
	b.Helper()
	bench.once.Do(func() {
		bench.rows = synthRows(benchRows)
		bench.snap = Build(bench.rows)
	})
	return bench.rows, bench.snap
}

// BenchmarkBuild1M: the time to build 1.1 M images' snapshot, and the
// heap it holds beyond the rows themselves (bytes/image).
func BenchmarkBuild1M(b *testing.B) {
	rows := synthRows(benchRows)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var s *Snapshot
	b.ResetTimer()
	for b.Loop() {
		s = Build(rows)
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/benchRows, "heapB/image")
	runtime.KeepAlive(s)
}

// BenchmarkApplyOne: a change of one image at 1.1 M: a status, a
// rename, a move to another folder, in turn, each on the last snapshot.
func BenchmarkApplyOne(b *testing.B) {
	rows, s := benchSnapshot(b)
	r := rand.New(rand.NewPCG(2, 2))
	i := 0
	for b.Loop() {
		row := rows[r.IntN(len(rows))]
		img := row.Image
		switch i % 3 {
		case 0:
			img.Status = "UPDATING"
		case 1:
			img.Name = img.Name + "-renamed"
		case 2:
			img.FolderID = "b1g00000000000000999"
		}
		i++
		s = s.Apply(Change{Upserts: []Row{{Doc: row.Doc, Image: img}}})
	}
}

// BenchmarkPage: a 50-row page and the facets at 1.1 M, as the list asks
// them, per kind of query.
func BenchmarkPage(b *testing.B) {
	rows, s := benchSnapshot(b)
	folder := rows[10].Image.FolderID
	id := rows[77].Image.ID
	for _, tc := range []struct {
		name string
		q    Query
	}{
		{"all/name", Query{}},
		{"all/created-desc", Query{Sort: "created_at", Desc: true}},
		{"folder/name", Query{FolderIDs: []string{folder}}},
		{"folder/status", Query{FolderIDs: []string{folder}, Sort: "status"}},
		{"status-error/name", Query{Statuses: []string{"ERROR"}}},
		{"status-error/status", Query{Statuses: []string{"ERROR"}, Sort: "status"}},
		{"label-pair/size", Query{Labels: []LabelFilter{{Key: "team", Value: "team-7"}}, Sort: "size"}},
		{"family/name", Query{Families: []string{rows[5].Image.Family}}},
		{"search-word", Query{Text: "ubuntu "}},
		{"search-prefix-fd8", Query{Text: "fd8"}},
		{"search-prefix-ub", Query{Text: "ub"}},
		{"search-id", Query{Text: id + " "}},
		{"search-phrase", Query{Text: "ubuntu-20 "}},
		{"search-two-words-folder", Query{Text: "debian prod", FolderIDs: []string{folder}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			q := tc.q
			q.Service = cloud.Compute
			for b.Loop() {
				if _, err := s.Images(q); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Facets(q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNextPage: the tenth page of all images by name, by cursor.
func BenchmarkNextPage(b *testing.B) {
	_, s := benchSnapshot(b)
	q := Query{Service: cloud.Compute}
	for range 9 {
		p, err := s.Images(q)
		if err != nil {
			b.Fatal(err)
		}
		q.After = p.Next
	}
	for b.Loop() {
		if _, err := s.Images(q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFamilies: the families page of every folder at 1.1 M.
func BenchmarkFamilies(b *testing.B) {
	_, s := benchSnapshot(b)
	for b.Loop() {
		if _, err := s.Families(cloud.Compute, nil); err != nil {
			b.Fatal(err)
		}
	}
}
