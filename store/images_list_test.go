package store

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/imagedash/imagedash/cloud"
)

func TestImagesFilters(t *testing.T) {
	s := fixtureStore(t)
	tests := []struct {
		name string
		q    ImageQuery
		want []string
	}{
		{"all of a service", ImageQuery{}, []string{"fd8a01", "fd8a02", "fd8a03", "fd8a04", "fd8a05", "fd8a06", "fd8b01", "fd8b02"}},
		{"other service", ImageQuery{Service: cloud.Desktop}, []string{"d1"}},
		{"other service, text", ImageQuery{Service: cloud.BareMetal, Text: "ubuntu"}, []string{"bm1"}},
		{"folder", ImageQuery{FolderIDs: []string{"b1g-b"}}, []string{"fd8b01", "fd8b02"}},
		{"folders", ImageQuery{FolderIDs: []string{"b1g-b", "b1g-a"}}, []string{"fd8a01", "fd8a02", "fd8a03", "fd8a04", "fd8a05", "fd8a06", "fd8b01", "fd8b02"}},
		{"unknown folder", ImageQuery{FolderIDs: []string{"b1g-z"}}, nil},

		{"text word", ImageQuery{Text: "ubuntu"}, []string{"fd8a01", "fd8a02", "fd8b01"}},
		{"text prefix of the last word", ImageQuery{Text: "ubun"}, []string{"fd8a01", "fd8a02", "fd8b01"}},
		{"text case and accents", ImageQuery{Text: "CAFÉ"}, []string{"fd8a06"}},
		{"text folded accents", ImageQuery{Text: "cafe"}, []string{"fd8a06"}},
		{"text CJK", ImageQuery{Text: "日本語"}, []string{"fd8a06"}},
		{"text id prefix", ImageQuery{Text: "fd8b"}, []string{"fd8b01", "fd8b02"}},
		{"text family", ImageQuery{Text: "debian-12"}, []string{"fd8a03", "fd8b02"}},
		{"text label", ImageQuery{Text: "env=prod"}, []string{"fd8a01", "fd8a03", "fd8b01"}},
		{"text two words", ImageQuery{Text: "ubuntu refreshed"}, []string{"fd8a02"}},
		{"text with a star", ImageQuery{Text: "image-99*"}, []string{"fd8a05", "fd8a06"}},
		{"text word then space is exact", ImageQuery{Text: "image-99 "}, []string{"fd8a05"}},
		{"text lone double quote", ImageQuery{Text: `"`}, []string{"fd8a01", "fd8a02", "fd8a03", "fd8a04", "fd8a05", "fd8a06", "fd8b01", "fd8b02"}},
		{"text lone single quote", ImageQuery{Text: `'`}, []string{"fd8a01", "fd8a02", "fd8a03", "fd8a04", "fd8a05", "fd8a06", "fd8b01", "fd8b02"}},
		{"text quoted word", ImageQuery{Text: `"quoted"`}, []string{"fd8a05"}},
		{"text unbalanced quotes", ImageQuery{Text: `'single "quoted`}, []string{"fd8a05"}},
		{"text script tag", ImageQuery{Text: "<script>alert(1)</script>"}, []string{"fd8a04"}},
		{"text OR is a word", ImageQuery{Text: "a OR b"}, []string{"fd8b02"}},
		{"text NEAR(", ImageQuery{Text: "NEAR("}, []string{"fd8b02"}},
		{"text AND NOT", ImageQuery{Text: "ubuntu NOT refreshed"}, nil},
		{"text column filter", ImageQuery{Text: "name:ubuntu"}, nil},
		{"text caret and plus", ImageQuery{Text: "^ubuntu +lts"}, []string{"fd8a01", "fd8a02", "fd8b01"}},
		{"text parentheses", ImageQuery{Text: "(((ubuntu"}, []string{"fd8a01", "fd8a02", "fd8b01"}},
		{"text SQL", ImageQuery{Text: "'; DROP TABLE images; --"}, nil},
		{"text NUL and controls", ImageQuery{Text: "ubuntu\x00\x01\tlts"}, []string{"fd8a01", "fd8a02", "fd8b01"}},
		{"text only punctuation", ImageQuery{Text: "*** -- ()"}, []string{"fd8a01", "fd8a02", "fd8a03", "fd8a04", "fd8a05", "fd8a06", "fd8b01", "fd8b02"}},
		{"text the old index's attrs tokens are not text", ImageQuery{Text: "t5245414459"}, nil},
		{"text no match", ImageQuery{Text: "centos"}, nil},

		{"status", ImageQuery{Statuses: []string{"READY"}}, []string{"fd8a01", "fd8a02", "fd8a04", "fd8a06", "fd8b01"}},
		{"statuses", ImageQuery{Statuses: []string{"ERROR", "CREATING"}}, []string{"fd8a03", "fd8a05"}},
		{"status is exact", ImageQuery{Statuses: []string{"ready"}}, nil},
		{"family", ImageQuery{Families: []string{"debian-12"}}, []string{"fd8a03", "fd8b02"}},
		{"families", ImageQuery{Families: []string{"debian-12", "windows-2022-dc"}}, []string{"fd8a03", "fd8a04", "fd8b02"}},
		{"os", ImageQuery{OS: "WINDOWS"}, []string{"fd8a04"}},
		{"label key=value", ImageQuery{Labels: []LabelFilter{{Key: "env", Value: "prod"}}}, []string{"fd8a01", "fd8a03", "fd8b01"}},
		{"label key present", ImageQuery{Labels: []LabelFilter{{Key: "gpu", AnyValue: true}}}, []string{"fd8a03"}},
		{"label empty value", ImageQuery{Labels: []LabelFilter{{Key: "gpu", Value: ""}}}, []string{"fd8a03"}},
		{"label key present, many", ImageQuery{Labels: []LabelFilter{{Key: "env", AnyValue: true}}}, []string{"fd8a01", "fd8a02", "fd8a03", "fd8b01", "fd8b02"}},
		{"labels ANDed", ImageQuery{Labels: []LabelFilter{{Key: "env", Value: "prod"}, {Key: "team", Value: "core"}}}, []string{"fd8a01"}},

		{"text and status", ImageQuery{Text: "ubuntu", Statuses: []string{"READY"}}, []string{"fd8a01", "fd8a02", "fd8b01"}},
		{"text and label present", ImageQuery{Text: "debian", Labels: []LabelFilter{{Key: "gpu", AnyValue: true}}}, []string{"fd8a03"}},
		{"folder, text, label, status", ImageQuery{FolderIDs: []string{"b1g-a"}, Text: "ubuntu",
			Labels: []LabelFilter{{Key: "env", Value: "prod"}}, Statuses: []string{"READY"}}, []string{"fd8a01"}},
		{"text, family, os", ImageQuery{Text: "lts", Families: []string{"ubuntu-2204-lts"}, OS: "LINUX"}, []string{"fd8a01", "fd8a02", "fd8b01"}},
		{"everything, no match", ImageQuery{FolderIDs: []string{"b1g-b"}, Text: "ubuntu", Statuses: []string{"READY"},
			Families: []string{"ubuntu-2204-lts"}, OS: "WINDOWS"}, nil},
	}
	{
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				q := tt.q
				if q.Service == "" {
					q.Service = cloud.Compute
				}
				p, err := s.Snapshot().Images(q)
				if err != nil {
					t.Fatalf("Images: %v", err)
				}
				got := sorted(ids(p.Images))
				if len(got) == 0 {
					got = nil
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("ids = %v, want %v", got, tt.want)
				}
				if p.Total != len(tt.want) {
					t.Errorf("Total = %d, want %d", p.Total, len(tt.want))
				}
				if p.Next != "" || p.Prev != "" {
					t.Errorf("one page: Next %q, Prev %q; want none", p.Next, p.Prev)
				}
			})
		}
	}
	// The hostile text did not hurt the table.
	if imgs := countImages(t, s); imgs != len(fixtureImages()) {
		t.Errorf("images after the hostile queries: %d, want %d", imgs, len(fixtureImages()))
	}
}

// sortValue is img's value in a sort column, as compared by SQLite.
func sortValue(img cloud.Image, col string) any {
	switch col {
	case "", "name":
		return img.Name
	case "id":
		return img.ID
	case "folder":
		return img.FolderID
	case "family":
		return img.Family
	case "status":
		return img.Status
	case "os":
		return img.OS
	case "checksum":
		return img.Checksum
	case "size":
		return img.Size
	case "storage_size":
		return img.StorageSize
	case "min_disk_size":
		return img.MinDiskSize
	case "created_at":
		return ms(img.CreatedAt)
	}
	panic(col)
}

func compareBy(col string, desc bool) func(a, b cloud.Image) int {
	return func(a, b cloud.Image) int {
		var c int
		switch va := sortValue(a, col).(type) {
		case string:
			c = strings.Compare(va, sortValue(b, col).(string))
		case int64:
			c = cmp.Compare(va, sortValue(b, col).(int64))
		}
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		if desc {
			c = -c
		}
		return c
	}
}

var sortNames = []string{"name", "id", "folder", "family", "status", "os", "size", "storage_size", "min_disk_size", "checksum", "created_at"}

func TestImagesSorts(t *testing.T) {
	s := fixtureStore(t)
	var compute []cloud.Image
	for _, img := range fixtureImages() {
		if img.Service == cloud.Compute {
			compute = append(compute, img)
		}
	}
	for _, col := range append(sortNames, "") {
		for _, desc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/desc=%v", col, desc), func(t *testing.T) {
				p, err := s.Snapshot().Images(ImageQuery{Service: cloud.Compute, Sort: col, Desc: desc})
				if err != nil {
					t.Fatal(err)
				}
				byCol := col
				if byCol == "" {
					byCol = "name"
				}
				want := slices.Clone(compute)
				slices.SortStableFunc(want, compareBy(byCol, desc))
				if got := ids(p.Images); !slices.Equal(got, ids(want)) {
					t.Errorf("order = %v, want %v", got, ids(want))
				}
			})
		}
	}
}

// pagingImages are generated images with ten per created_at; labels and
// statuses as genImages makes them.
func pagingStore(t *testing.T) (*Store, []cloud.Image) {
	t.Helper()
	s := openTest(t)
	// Under the race detector (about twenty times slower) a third as many:
	// still many pages for every query, and the paging tests took 2 min.
	perFolder := 1500
	if raceOn {
		perFolder = 500
	}
	imgs := genImages(cloud.Compute, []string{"b1g-x", "b1g-y", "b1g-z"}, perFolder)
	seed(t, s, imgs)
	seed(t, s, genImages(cloud.Desktop, []string{"b1g-x"}, 30)) // never listed
	return s, imgs
}

// matches is what q selects of imgs, in q's order, computed in Go.
func matches(imgs []cloud.Image, q ImageQuery) []cloud.Image {
	var out []cloud.Image
	words := strings.Fields(strings.ToLower(q.Text))
	for _, img := range imgs {
		switch {
		case img.Service != q.Service,
			len(q.FolderIDs) > 0 && !slices.Contains(q.FolderIDs, img.FolderID),
			len(q.Statuses) > 0 && !slices.Contains(q.Statuses, img.Status),
			len(q.Families) > 0 && !slices.Contains(q.Families, img.Family),
			q.OS != "" && img.OS != q.OS:
			continue
		}
		ok := true
		for _, l := range q.Labels {
			v, has := img.Labels[l.Key]
			ok = ok && has && (l.AnyValue || v == l.Value)
		}
		// Generated text: the words are prefixes of tokens of the family
		// (the name and description only add the family and numbers).
		toks := strings.FieldsFunc(img.Family, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		for _, w := range words {
			ok = ok && slices.ContainsFunc(toks, func(tok string) bool { return strings.HasPrefix(tok, w) })
		}
		if ok {
			out = append(out, img)
		}
	}
	col := q.Sort
	if col == "" {
		col = "name"
	}
	slices.SortFunc(out, compareBy(col, q.Desc))
	return out
}

func TestImagesKeysetPaging(t *testing.T) {
	s, imgs := pagingStore(t)
	tests := []struct {
		name string
		q    ImageQuery
	}{
		{"newest first, ten per created_at", ImageQuery{Sort: "created_at", Desc: true, Limit: 25}},
		{"oldest first", ImageQuery{Sort: "created_at", Limit: 50}},
		{"by name, one folder", ImageQuery{FolderIDs: []string{"b1g-y"}, Limit: 33}},
		{"by family desc, many ties", ImageQuery{Sort: "family", Desc: true, Limit: 40}},
		{"by status, many ties", ImageQuery{Sort: "status", Limit: 100}},
		{"by folder, many ties", ImageQuery{Sort: "folder", Limit: 60}},
		{"by folder desc, two folders, a status", ImageQuery{Sort: "folder", Desc: true, FolderIDs: []string{"b1g-x", "b1g-z"},
			Statuses: []string{"READY"}, Limit: 45}},
		{"text, by folder", ImageQuery{Text: "ubuntu", Sort: "folder", Limit: 20}},
		{"by size with a label", ImageQuery{Sort: "size", Labels: []LabelFilter{{Key: "env", Value: "prod"}}, Limit: 25}},
		{"by id desc", ImageQuery{Sort: "id", Desc: true, Limit: 200}},
		{"text, status, newest first, fts-driven", ImageQuery{Text: "ubuntu", Statuses: []string{"READY"},
			Sort: "created_at", Desc: true, Limit: 10}},
		{"text, status, newest first, index-driven", ImageQuery{Text: "ubuntu", Statuses: []string{"READY"},
			Sort: "created_at", Desc: true, Limit: 10}},
		{"text two words, by min disk, two folders", ImageQuery{Text: "ubuntu lts", FolderIDs: []string{"b1g-x", "b1g-z"},
			Sort: "min_disk_size", Limit: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { keysetPaging(t, s, imgs, tt.q) })
	}
}

// keysetPaging pages q forwards, backwards and forwards again and checks
// every page against imgs.
func keysetPaging(t *testing.T, s *Store, imgs []cloud.Image, q ImageQuery) {
	t.Helper()
	q.Service = cloud.Compute
	want := matches(imgs, q)
	if len(want) <= q.Limit {
		t.Fatalf("the test needs more than one page: %d rows, limit %d", len(want), q.Limit)
	}

	// Forward, page by page.
	var pages []ImagePage
	for {
		p, err := s.Snapshot().Images(q)
		if err != nil {
			t.Fatalf("page %d: %v", len(pages), err)
		}
		if p.Total != len(want) {
			t.Fatalf("page %d: Total = %d, want %d", len(pages), p.Total, len(want))
		}
		if (len(pages) == 0) != (p.Prev == "") {
			t.Fatalf("page %d: Prev = %q", len(pages), p.Prev)
		}
		pages = append(pages, p)
		if p.Next == "" {
			break
		}
		if len(p.Images) != q.Limit {
			t.Fatalf("page %d: %d images, want %d", len(pages)-1, len(p.Images), q.Limit)
		}
		if len(pages) > len(want) {
			t.Fatal("paging does not end")
		}
		q.After = p.Next
	}
	var got []cloud.Image
	for _, p := range pages {
		got = append(got, p.Images...)
	}
	if !slices.Equal(ids(got), ids(want)) {
		t.Fatalf("forward: %d ids, want %d; first difference at %d", len(got), len(want), firstDiff(ids(got), ids(want)))
	}

	// Back from the last page, by Prev.
	back := pages[len(pages)-1].Images
	q.After, q.Before = "", pages[len(pages)-1].Prev
	for n := 0; q.Before != ""; n++ {
		p, err := s.Snapshot().Images(q)
		if err != nil {
			t.Fatalf("back page %d: %v", n, err)
		}
		if p.Next == "" {
			t.Fatalf("back page %d: no Next", n)
		}
		back = append(slices.Clone(p.Images), back...)
		q.Before = p.Prev
		if n > len(want) {
			t.Fatal("paging back does not end")
		}
	}
	if !slices.Equal(ids(back), ids(want)) {
		t.Fatalf("backward: %d ids, want %d; first difference at %d", len(back), len(want), firstDiff(ids(back), ids(want)))
	}

	// Next of a page reached backwards leads forward again.
	q.Before = ""
	q.After = pages[0].Next
	p, err := s.Snapshot().Images(q)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(p.Images), ids(pages[1].Images)) {
		t.Errorf("page 2 again: %v, want %v", ids(p.Images), ids(pages[1].Images))
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestImagesPagingSurvivesWrites(t *testing.T) {
	s, imgs := pagingStore(t)
	ctx := context.Background()
	q := ImageQuery{Service: cloud.Compute, FolderIDs: []string{"b1g-x"}, Sort: "created_at", Limit: 20}
	p1, err := s.Snapshot().Images(q)
	if err != nil {
		t.Fatal(err)
	}
	// The cursor row itself goes away; rows before it are added.
	last := p1.Images[len(p1.Images)-1]
	if err := s.DeleteImage(ctx, cloud.Compute, last.ID); err != nil {
		t.Fatal(err)
	}
	early := imgs[0]
	early.ID, early.FolderID = "fd7early", "b1g-x"
	if err := s.UpsertImage(ctx, early); err != nil {
		t.Fatal(err)
	}
	q.After = p1.Next
	p2, err := s.Snapshot().Images(q)
	if err != nil {
		t.Fatal(err)
	}
	want := matches(append(imgs, early), ImageQuery{Service: cloud.Compute, FolderIDs: []string{"b1g-x"}, Sort: "created_at"})
	want = slices.DeleteFunc(want, func(img cloud.Image) bool { return img.ID == last.ID })
	i := slices.IndexFunc(want, func(img cloud.Image) bool { return compareBy("created_at", false)(img, last) > 0 })
	if got := ids(p2.Images); !slices.Equal(got, ids(want[i:i+20])) {
		t.Errorf("page after a deleted cursor row: %v, want %v", got, ids(want[i:i+20]))
	}
	if p2.Prev == "" {
		t.Error("page 2 has no Prev")
	}
}

func TestImagesLimit(t *testing.T) {
	s, _ := pagingStore(t)
	tests := []struct{ give, want int }{
		{0, DefaultLimit}, {-5, DefaultLimit}, {1, 1}, {25, 25}, {200, 200}, {201, MaxLimit}, {1 << 20, MaxLimit},
	}
	for _, tt := range tests {
		p, err := s.Snapshot().Images(ImageQuery{Service: cloud.Compute, Limit: tt.give})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Images) != tt.want {
			t.Errorf("Limit %d: got %d images, want %d", tt.give, len(p.Images), tt.want)
		}
	}
}

// rawCursor is a cursor of the given JSON, as the list's are encoded.
func rawCursor(js string) string { return base64.RawURLEncoding.EncodeToString([]byte(js)) }

func TestImagesBadCursor(t *testing.T) {
	s := fixtureStore(t)
	q := ImageQuery{Service: cloud.Compute, Sort: "created_at", Desc: true, Limit: 2}
	p, err := s.Snapshot().Images(q)
	if err != nil || p.Next == "" {
		t.Fatalf("first page: %+v, %v", p, err)
	}
	tests := []struct {
		name          string
		q             ImageQuery
		after, before string
	}{
		{"garbage", q, "!!not a cursor!!", ""},
		{"not json", q, "bm90IGpzb24", ""},
		{"truncated", q, p.Next[:len(p.Next)-3], ""},
		{"other sort", ImageQuery{Service: cloud.Compute, Sort: "name", Desc: true}, p.Next, ""},
		{"other direction", ImageQuery{Service: cloud.Compute, Sort: "created_at"}, "", p.Next},
		{"string for a number", q, rawCursor(`{"s":"created_at","d":true,"v":"1","i":"x"}`), ""},
		{"number for a string", ImageQuery{Service: cloud.Compute, Sort: "name"}, rawCursor(`{"s":"name","v":1,"i":"x"}`), ""},
		{"null value", q, rawCursor(`{"s":"created_at","d":true,"v":null,"i":"x"}`), ""},
		{"fraction", q, rawCursor(`{"s":"created_at","d":true,"v":1.5,"i":"x"}`), ""},
		{"no id", q, rawCursor(`{"s":"created_at","d":true,"v":1,"i":""}`), ""},
		{"unknown field", q, "eyJzIjoiY3JlYXRlZF9hdCIsImQiOnRydWUsInYiOjEsImkiOiJ4IiwieCI6MX0", ""},
		{"both directions", q, p.Next, p.Next},
		{"huge", q, strings.Repeat("A", 10000), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.After, q.Before = tt.after, tt.before
			if _, err := s.Snapshot().Images(q); !errors.Is(err, ErrBadCursor) {
				t.Errorf("got %v, want ErrBadCursor", err)
			}
		})
	}
	// The unknown-field case above really is a well-formed cursor plus a field.
	q.After = "eyJzIjoiY3JlYXRlZF9hdCIsImQiOnRydWUsInYiOjEsImkiOiJ4In0"
	if _, err := s.Snapshot().Images(q); err != nil {
		t.Errorf("the same cursor without the extra field: %v", err)
	}
}

func TestImagesInvalidQuery(t *testing.T) {
	s := fixtureStore(t)
	tests := []struct {
		name string
		q    ImageQuery
	}{
		{"no service", ImageQuery{}},
		{"unknown service", ImageQuery{Service: "gcp"}},
		{"unknown sort", ImageQuery{Service: cloud.Compute, Sort: "description"}},
		{"sort injection", ImageQuery{Service: cloud.Compute, Sort: "name; DROP TABLE images"}},
		{"label without key", ImageQuery{Service: cloud.Compute, Labels: []LabelFilter{{Value: "x"}}}},
	}
	for _, tt := range tests {
		if _, err := s.Snapshot().Images(tt.q); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Images got %v, want ErrInvalid", tt.name, err)
		}
		if _, err := s.Snapshot().Facets(tt.q); tt.name != "unknown sort" && tt.name != "sort injection" && !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Facets got %v, want ErrInvalid", tt.name, err)
		}
	}
	for _, col := range sortNames {
		if !ValidSort(col) {
			t.Errorf("ValidSort(%q) = false", col)
		}
	}
	if ValidSort("labels") {
		t.Error(`ValidSort("labels") = true`)
	}
}

func TestFacets(t *testing.T) {
	s := fixtureStore(t)
	tests := []struct {
		name string
		q    ImageQuery
		want Facets
	}{
		{"all", ImageQuery{}, Facets{
			Statuses: []FacetCount{{Value: "READY", Count: 5}, {Value: "CREATING", Count: 1}, {Value: "DELETING", Count: 1}, {Value: "ERROR", Count: 1}},
			Families: []FacetCount{{Value: "ubuntu-2204-lts", Count: 3}, {Value: "debian-12", Count: 2}, {Value: "windows-2022-dc", Count: 1}},
		}},
		{"each facet ignores its own filter", ImageQuery{Statuses: []string{"READY"}, Families: []string{"ubuntu-2204-lts"}}, Facets{
			Statuses: []FacetCount{{Value: "READY", Count: 3}},
			Families: []FacetCount{{Value: "ubuntu-2204-lts", Count: 3}, {Value: "windows-2022-dc", Count: 1}},
		}},
		{"other filters apply", ImageQuery{FolderIDs: []string{"b1g-b"}, Labels: []LabelFilter{{Key: "env", AnyValue: true}}}, Facets{
			Statuses: []FacetCount{{Value: "DELETING", Count: 1}, {Value: "READY", Count: 1}},
			Families: []FacetCount{{Value: "debian-12", Count: 1}, {Value: "ubuntu-2204-lts", Count: 1}},
		}},
		{"text", ImageQuery{Text: "image"}, Facets{
			Statuses: []FacetCount{{Value: "ERROR", Count: 1}, {Value: "READY", Count: 1}},
		}},
		{"text and status", ImageQuery{Text: "lts", Statuses: []string{"ERROR"}}, Facets{
			Statuses: []FacetCount{{Value: "READY", Count: 3}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.Service = cloud.Compute
			got, err := s.Snapshot().Facets(q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Facets = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFacetsTopFamilies(t *testing.T) {
	s, imgs := pagingStore(t)
	got, err := s.Snapshot().Facets(ImageQuery{Service: cloud.Compute})
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, img := range imgs {
		n[img.Family]++
	}
	var want []FacetCount
	for f, c := range n {
		want = append(want, FacetCount{Value: f, Count: c})
	}
	slices.SortFunc(want, func(a, b FacetCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Value, b.Value))
	})
	if !reflect.DeepEqual(got.Families, want[:30]) {
		t.Errorf("Families facet = %v, want %v", got.Families, want[:30])
	}
}

func TestFamilies(t *testing.T) {
	s := fixtureStore(t)
	fx := fixtureImages()
	tests := []struct {
		name    string
		folders []string
		want    []FamilySummary
	}{
		{"all folders", nil, []FamilySummary{
			{Family: "debian-12", Count: 2, Latest: fx[2]},       // none ready: the newest
			{Family: "ubuntu-2204-lts", Count: 3, Latest: fx[6]}, // the newest ready
			{Family: "windows-2022-dc", Count: 1, Latest: fx[3]},
		}},
		{"one folder", []string{"b1g-a"}, []FamilySummary{
			{Family: "debian-12", Count: 1, Latest: fx[2]},
			{Family: "ubuntu-2204-lts", Count: 2, Latest: fx[1]},
			{Family: "windows-2022-dc", Count: 1, Latest: fx[3]},
		}},
		{"no families", []string{"b1g-none"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Snapshot().Families(cloud.Compute, tt.folders)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.want {
				if len(tt.want[i].Latest.Labels) == 0 {
					tt.want[i].Latest.Labels = nil
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Families =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
	if _, err := s.Snapshot().Families("gcp", nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown service: got %v, want ErrInvalid", err)
	}
}

// createdCursor is the cursor of a row created at ms with id, for the
// created_at sort ascending.
func createdCursor(ms int64, id string) string {
	return rawCursor(fmt.Sprintf(`{"s":"created_at","v":%d,"i":%q}`, ms, id))
}

func TestImagesCursorsAtTheEnds(t *testing.T) {
	s := fixtureStore(t)
	q := ImageQuery{Service: cloud.Compute, Sort: "created_at", Limit: 3}
	all := allImages(t, s, q)
	first, last := all[0], all[len(all)-1]
	tests := []struct {
		name          string
		after, before string
		want          []string
		prev, next    bool
	}{
		{"after a key before everything", createdCursor(int64(0), "a"), "", ids(all[:3]), false, true},
		{"before a key after everything", "", createdCursor(int64(1)<<60, "z"), ids(all[len(all)-3:]), true, false},
		{"after the last row", createdCursor(ms(last.CreatedAt), last.ID), "", nil, true, false},
		{"before the first row", "", createdCursor(ms(first.CreatedAt), first.ID), nil, false, true},
		{"after the first row", createdCursor(ms(first.CreatedAt), first.ID), "", ids(all[1:4]), true, true},
		{"before the last row", "", createdCursor(ms(last.CreatedAt), last.ID), ids(all[len(all)-4 : len(all)-1]), true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := q
			q.After, q.Before = tt.after, tt.before
			p, err := s.Snapshot().Images(q)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(p.Images); !slices.Equal(got, tt.want) && (len(got) != 0 || len(tt.want) != 0) {
				t.Errorf("ids = %v, want %v", got, tt.want)
			}
			if (p.Prev != "") != tt.prev || (p.Next != "") != tt.next {
				t.Errorf("Prev %q, Next %q; want prev %v, next %v", p.Prev, p.Next, tt.prev, tt.next)
			}
			if p.Total != len(all) {
				t.Errorf("Total = %d, want %d", p.Total, len(all))
			}
		})
	}
}
