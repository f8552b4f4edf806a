package readmodel

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/imagedash/imagedash/cloud"
)

// tunings are the ways a snapshot may answer: its default, always walk
// the orders (with a tiny walk budget, so long walks give up and sort),
// and always sort and scan.
var tunings = map[string]tuning{
	"default": defaultTuning,
	"walk":    {sortMax: 0, scanMax: 0, budgetMin: 0},
	"sort":    {sortMax: 1 << 30, scanMax: 1 << 30, budgetMin: 1 << 30},
}

// pageIDs is a page in short, for messages and comparison.
func pageIDs(p Page) string {
	ids := make([]string, len(p.Images))
	for i, img := range p.Images {
		ids[i] = img.ID
	}
	return fmt.Sprintf("total %d %v prev %q next %q", p.Total, ids, p.Prev, p.Next)
}

// checkQuery compares s's answers to q with the reference over imgs: the
// first page, then every page forward by After and back by Before, the
// facets and the families.
func checkQuery(t *testing.T, s *Snapshot, r *ref, q Query) {
	t.Helper()
	list := r.list(q)
	compare := func(q Query) Page {
		t.Helper()
		got, gerr := s.Images(q)
		want, werr := naiveImages(list, q)
		if (gerr != nil) != (werr != nil) {
			t.Fatalf("%+v: error %v, want %v", q, gerr, werr)
		}
		if pageIDs(got) != pageIDs(want) {
			t.Fatalf("%+v:\n got %s\nwant %s", q, pageIDs(got), pageIDs(want))
		}
		if !reflect.DeepEqual(got.Images, want.Images) {
			t.Fatalf("%+v: the rows differ", q)
		}
		return got
	}
	p := compare(q)
	pages := 1
	for p.Next != "" && pages < 12 {
		q.After, q.Before = p.Next, ""
		p = compare(q)
		pages++
	}
	for p.Prev != "" && pages < 24 {
		q.After, q.Before = "", p.Prev
		p = compare(q)
		pages++
	}
	q.After, q.Before = "", ""
	f, err := s.Facets(q)
	if err != nil {
		t.Fatal(err)
	}
	if want := r.facets(q); !reflect.DeepEqual(f, want) {
		t.Fatalf("facets of %+v:\n got %+v\nwant %+v", q, f, want)
	}
}

func checkFamilies(t *testing.T, s *Snapshot, imgs []cloud.Image, svc cloud.Service, folders []string) {
	t.Helper()
	got, err := s.Families(svc, folders)
	if err != nil {
		t.Fatal(err)
	}
	if want := naiveFamilies(imgs, svc, folders); !reflect.DeepEqual(got, want) {
		t.Fatalf("families of %s %v:\n got %+v\nwant %+v", svc, folders, got, want)
	}
}

func rowsOf(imgs []cloud.Image) []Row {
	rows := make([]Row, len(imgs))
	for i, img := range imgs {
		rows[i] = Row{Doc: uint32(i*3 + 1), Image: img} // sparse documents
	}
	return rows
}

// TestSnapshotMatchesNaive: a built snapshot answers every query as the
// reference does, whichever way it takes to the answer.
func TestSnapshotMatchesNaive(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(18, 1))}
	imgs := make([]cloud.Image, 500)
	for i := range imgs {
		imgs[i] = g.image(i)
	}
	built := Build(rowsOf(imgs))
	if built.Len() != len(imgs) || !built.Ready() {
		t.Fatalf("Len %d Ready %v", built.Len(), built.Ready())
	}
	for name, tu := range tunings {
		t.Run(name, func(t *testing.T) {
			s := *built
			s.tune = tu
			r := newRef(imgs)
			for range 90 {
				checkQuery(t, &s, r, g.query(imgs))
			}
			for _, svc := range []cloud.Service{cloud.Compute, cloud.Desktop, cloud.BareMetal} {
				checkFamilies(t, &s, imgs, svc, nil)
				checkFamilies(t, &s, imgs, svc, g.subset(genFolders, 2))
			}
		})
	}
}

// TestApplyMatchesBuild: after random changes (new rows, edits, moves
// between folders, removals, no-ops), the snapshot answers as the
// reference over the final rows, and as a snapshot built from them.
func TestApplyMatchesBuild(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(18, 2))}
	byDoc := map[uint32]cloud.Image{}
	var rows []Row
	for i := range 400 {
		img := g.image(i)
		rows = append(rows, Row{Doc: uint32(i), Image: img})
		byDoc[uint32(i)] = img
	}
	s := Build(rows)
	next := uint32(400)
	for step := range 200 {
		var ch Change
		for range g.r.IntN(4) + 1 {
			docs := sortedDocs(byDoc)
			switch op := g.r.IntN(6); {
			case op == 0 || len(docs) == 0: // new
				img := g.image(int(next))
				ch.Upserts = append(ch.Upserts, Row{Doc: next, Image: img})
				byDoc[next] = img
				next++
			case op == 1: // removed
				d := docs[g.r.IntN(len(docs))]
				ch.Removes = append(ch.Removes, d)
				delete(byDoc, d)
			case op == 2: // moved to another folder
				d := docs[g.r.IntN(len(docs))]
				img := byDoc[d]
				img.FolderID = g.pick(genFolders)
				ch.Upserts = append(ch.Upserts, Row{Doc: d, Image: img})
				byDoc[d] = img
			case op == 3: // the same row again: no change
				d := docs[g.r.IntN(len(docs))]
				ch.Upserts = append(ch.Upserts, Row{Doc: d, Image: byDoc[d]})
			default: // edited: another row under the same id
				d := docs[g.r.IntN(len(docs))]
				img := g.image(int(d))
				img.ID, img.Service = byDoc[d].ID, byDoc[d].Service
				if img.Service != cloud.Compute {
					img.OS = ""
				}
				ch.Upserts = append(ch.Upserts, Row{Doc: d, Image: img})
				byDoc[d] = img
			}
		}
		before := s
		s = s.Apply(ch)
		if s.Version() < before.Version() {
			t.Fatalf("version went back")
		}
		if step%25 == 0 {
			imgs := imagesOf(byDoc)
			r := newRef(imgs)
			for range 10 {
				checkQuery(t, s, r, g.query(imgs))
			}
		}
	}
	imgs := imagesOf(byDoc)
	r := newRef(imgs)
	var final []Row
	for _, d := range sortedDocs(byDoc) {
		final = append(final, Row{Doc: d, Image: byDoc[d]})
	}
	rebuilt := Build(final)
	if s.Len() != rebuilt.Len() {
		t.Fatalf("Len %d, rebuilt %d", s.Len(), rebuilt.Len())
	}
	for _, snap := range []*Snapshot{s, rebuilt} {
		for _, tu := range tunings {
			c := *snap
			c.tune = tu
			for range 15 {
				checkQuery(t, &c, r, g.query(imgs))
			}
		}
		checkFamilies(t, snap, imgs, cloud.Compute, nil)
	}
	for d, img := range byDoc {
		if got, ok := s.DocOf(img.Service, img.ID); !ok || got != d {
			t.Fatalf("DocOf %s = %d %v, want %d", img.ID, got, ok, d)
		}
	}
	if _, ok := s.DocOf(cloud.Compute, "nope"); ok {
		t.Fatal("DocOf found an image that is not there")
	}
}

// TestApplyNoChange: a change that changes nothing is the same snapshot.
func TestApplyNoChange(t *testing.T) {
	img := cloud.Image{Service: cloud.Compute, ID: "fd8a", FolderID: "f", Name: "n", Labels: map[string]string{"a": "b"}}
	s := Build([]Row{{Doc: 1, Image: img}})
	for _, ch := range []Change{{}, {Upserts: []Row{{Doc: 1, Image: img}}}, {Removes: []uint32{7}}} {
		if got := s.Apply(ch); got != s {
			t.Errorf("Apply(%+v) made a new snapshot", ch)
		}
	}
	if got := s.Apply(Change{Removes: []uint32{1}}); got == s || got.Len() != 0 || s.Len() != 1 {
		t.Errorf("a removal: new %v, Len %d, old Len %d", got != s, got.Len(), s.Len())
	}
}

// TestQueryErrors: bad queries and cursors are refused with the error
// the handler maps.
func TestQueryErrors(t *testing.T) {
	s := Build(rowsOf([]cloud.Image{{Service: cloud.Compute, ID: "fd8a", FolderID: "f"}}))
	ok := Query{Service: cloud.Compute}
	p, err := s.Images(ok)
	if err != nil || p.Total != 1 {
		t.Fatal(p, err)
	}
	nameCursor := makeCursor(colName, false, key{s: "x", id: "fd8a"})
	for _, tc := range []struct {
		q    Query
		want error
	}{
		{Query{Service: "nope"}, ErrInvalid},
		{Query{Service: cloud.Compute, Sort: "secret"}, ErrInvalid},
		{Query{Service: cloud.Compute, Labels: []LabelFilter{{Value: "x"}}}, ErrInvalid},
		{Query{Service: cloud.Compute, After: "!!"}, ErrBadCursor},
		{Query{Service: cloud.Compute, After: nameCursor, Before: nameCursor}, ErrBadCursor},
		{Query{Service: cloud.Compute, Sort: "size", After: nameCursor}, ErrBadCursor},
		{Query{Service: cloud.Compute, Desc: true, After: nameCursor}, ErrBadCursor},
	} {
		if _, err := s.Images(tc.q); !errors.Is(err, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.q, err, tc.want)
		}
	}
	if _, err := s.Facets(Query{Service: "nope"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("facets: %v", err)
	}
	if _, err := s.Families("nope", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("families: %v", err)
	}
}

func sortedDocs(m map[uint32]cloud.Image) []uint32 {
	docs := make([]uint32, 0, len(m))
	for d := range m {
		docs = append(docs, d)
	}
	slices.Sort(docs)
	return docs
}

func imagesOf(m map[uint32]cloud.Image) []cloud.Image {
	var out []cloud.Image
	for _, d := range sortedDocs(m) {
		out = append(out, m[d])
	}
	return out
}
