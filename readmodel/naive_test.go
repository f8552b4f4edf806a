package readmodel

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/readmodel/search"
)

// The reference the snapshot is checked against: a plain filter and sort
// over a slice of images, written from Query's documentation.

// naiveValue is img's value in column c: a string, or an int64.
func naiveValue(img cloud.Image, c column) any {
	switch c {
	case colName:
		return img.Name
	case colID:
		return ""
	case colFolder:
		return img.FolderID
	case colFamily:
		return img.Family
	case colStatus:
		return img.Status
	case colOS:
		return img.OS
	case colChecksum:
		return img.Checksum
	case colSize:
		return img.Size
	case colStorage:
		return img.StorageSize
	case colMinDisk:
		return img.MinDiskSize
	case colCreated:
		if img.CreatedAt.IsZero() {
			return int64(0)
		}
		return img.CreatedAt.UnixMilli()
	}
	panic(c)
}

func naiveCmp(a, b cloud.Image, c column) int {
	va, vb := naiveValue(a, c), naiveValue(b, c)
	r := 0
	switch va := va.(type) {
	case string:
		r = strings.Compare(va, vb.(string))
	case int64:
		r = cmp.Compare(va, vb.(int64))
	}
	if r != 0 {
		return r
	}
	return strings.Compare(a.ID, b.ID)
}

func naiveKey(img cloud.Image, c column) key {
	k := key{id: img.ID}
	switch v := naiveValue(img, c).(type) {
	case string:
		k.s = v
	case int64:
		k.n = v
	}
	return k
}

// ref is the reference's rows, with their text cut into tokens once.
type ref struct {
	imgs   []cloud.Image
	fields [][5][]string
}

func newRef(imgs []cloud.Image) *ref {
	r := &ref{imgs: imgs, fields: make([][5][]string, len(imgs))}
	for i, img := range imgs {
		r.fields[i] = textFields(img)
	}
	return r
}

// keep reports whether row i passes q's filters, skipping the status and
// family filters as asked.
func (r *ref) keep(i int, q Query, skipStatus, skipFamily bool) bool {
	img := r.imgs[i]
	if img.Service != q.Service {
		return false
	}
	if len(q.FolderIDs) > 0 && !slices.Contains(q.FolderIDs, img.FolderID) {
		return false
	}
	if !skipStatus && len(q.Statuses) > 0 && !slices.Contains(q.Statuses, img.Status) {
		return false
	}
	if !skipFamily && len(q.Families) > 0 && !slices.Contains(q.Families, img.Family) {
		return false
	}
	if q.OS != "" && img.OS != q.OS {
		return false
	}
	for _, l := range q.Labels {
		v, ok := img.Labels[l.Key]
		if !ok || (!l.AnyValue && v != l.Value) {
			return false
		}
	}
	return search.Parse(q.Text).Match(r.fields[i][:]...)
}

// list is the rows of q in q's order.
func (r *ref) list(q Query) []cloud.Image {
	col, _, err := q.check()
	if err != nil {
		return nil
	}
	var list []cloud.Image
	for i, img := range r.imgs {
		if r.keep(i, q, false, false) {
			list = append(list, img)
		}
	}
	dir := 1
	if q.Desc {
		dir = -1
	}
	slices.SortFunc(list, func(a, b cloud.Image) int { return dir * naiveCmp(a, b, col) })
	return list
}

// naiveImages is Images of q, whose rows in order are list.
func naiveImages(list []cloud.Image, q Query) (Page, error) {
	col, limit, err := q.check()
	if err != nil {
		return Page{}, err
	}
	dir := 1
	if q.Desc {
		dir = -1
	}
	page := Page{Total: len(list)}
	if len(list) == 0 {
		return page, nil
	}
	cur := func(img cloud.Image) string { return makeCursor(col, q.Desc, naiveKey(img, col)) }
	// vs orders img against the cursor's key in the shown order.
	vs := func(img cloud.Image, k key) int { return dir * cmpKey(newEntry(img), col, k) }
	switch {
	case q.After != "":
		k, err := parseCursor(q.After, col, q.Desc)
		if err != nil {
			return Page{}, err
		}
		i := 0
		for i < len(list) && vs(list[i], k) <= 0 {
			i++
		}
		rest := list[i:]
		page.Images = rest[:min(limit, len(rest))]
		if len(rest) > limit {
			page.Next = cur(page.Images[len(page.Images)-1])
		}
		if i > 0 {
			if len(page.Images) > 0 {
				page.Prev = cur(page.Images[0])
			} else {
				page.Prev = makeCursor(col, q.Desc, k)
			}
		}
	case q.Before != "":
		k, err := parseCursor(q.Before, col, q.Desc)
		if err != nil {
			return Page{}, err
		}
		i := 0
		for i < len(list) && vs(list[i], k) < 0 {
			i++
		}
		before := list[:i]
		page.Images = before[max(0, len(before)-limit):]
		if len(before) > limit {
			page.Prev = cur(page.Images[0])
		}
		if i < len(list) {
			if len(page.Images) > 0 {
				page.Next = cur(page.Images[len(page.Images)-1])
			} else {
				page.Next = makeCursor(col, q.Desc, k)
			}
		}
	default:
		page.Images = list[:min(limit, len(list))]
		if len(list) > limit {
			page.Next = cur(page.Images[len(page.Images)-1])
		}
	}
	if len(page.Images) == 0 {
		page.Images = nil
	}
	return page, nil
}

// facets is Facets of q.
func (r *ref) facets(q Query) Facets {
	statuses, families := map[string]int{}, map[string]int{}
	for i, img := range r.imgs {
		if r.keep(i, q, true, false) {
			statuses[img.Status]++
		}
		if r.keep(i, q, false, true) && img.Family != "" {
			families[img.Family]++
		}
	}
	return Facets{Statuses: sortedCounts(statuses, -1), Families: sortedCounts(families, maxFamilyFacets)}
}

// naiveFamilies is Families over imgs.
func naiveFamilies(imgs []cloud.Image, svc cloud.Service, folders []string) []FamilySummary {
	byFam := map[string][]cloud.Image{}
	for _, img := range imgs {
		if img.Service == svc && img.Family != "" && (len(folders) == 0 || slices.Contains(folders, img.FolderID)) {
			byFam[img.Family] = append(byFam[img.Family], img)
		}
	}
	var out []FamilySummary
	for f, list := range byFam {
		slices.SortFunc(list, func(a, b cloud.Image) int { return -naiveCmp(a, b, colCreated) })
		latest := list[0]
		for _, img := range list {
			if img.Status == "READY" || img.Status == "ACTIVE" {
				latest = img
				break
			}
		}
		out = append(out, FamilySummary{Family: f, Count: len(list), Latest: latest})
	}
	slices.SortFunc(out, func(a, b FamilySummary) int { return strings.Compare(a.Family, b.Family) })
	return out
}

// gen makes random images and queries over a small vocabulary, so that
// filters, ties and phrases meet often.
type gen struct {
	r *rand.Rand
}

var (
	genFolders  = []string{"b1g-a", "b1g-b", "b1g-c", "b1g-d", "b1g-e"}
	genStatuses = []string{"READY", "CREATING", "ERROR", "ACTIVE", "DELETING"}
	genFamilies = []string{"", "ubuntu-2204-lts", "debian-12", "centos-7", "Émile", "win-2019", "ubuntu-2404"}
	genWords    = []string{"ubuntu", "debian", "12", "22.04", "lts", "Émile", "émile", "Straße", "prod", "test-env", "web", "db", "Ωmega", "release", "build"}
	genLabels   = []string{"env", "team", "tier"}
	genValues   = []string{"prod", "dev", "alpha", "beta", ""}
)

func (g gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func (g gen) image(n int) cloud.Image {
	svc := cloud.Compute
	if g.r.IntN(6) == 0 {
		svc = cloud.Desktop
	}
	words := func(k int) string {
		var b []string
		for range g.r.IntN(k) + 1 {
			b = append(b, g.pick(genWords))
		}
		sep := []string{" ", "-", "_", "/"}[g.r.IntN(4)]
		return strings.Join(b, sep)
	}
	img := cloud.Image{
		Service:     svc,
		ID:          fmt.Sprintf("fd8%05d%c", n, 'a'+rune(g.r.IntN(26))),
		FolderID:    g.pick(genFolders),
		Name:        words(3),
		Description: words(4),
		Family:      g.pick(genFamilies),
		Status:      g.pick(genStatuses),
		Size:        int64(g.r.IntN(4)) << 30,
		StorageSize: int64(g.r.IntN(5)) << 20,
		MinDiskSize: int64(g.r.IntN(3)) << 30,
		Checksum:    fmt.Sprintf("sha256:%x", g.r.IntN(8)),
		CreatedAt:   time.Date(2024, 1, 1+g.r.IntN(10), 0, 0, 0, 0, time.UTC),
		ProductIDs:  []string{"p1"},
	}
	if g.r.IntN(10) == 0 {
		img.CreatedAt = time.Time{}
	}
	if svc == cloud.Compute {
		img.OS = []string{"LINUX", "WINDOWS"}[g.r.IntN(2)]
	}
	if k := g.r.IntN(3); k > 0 {
		img.Labels = map[string]string{}
		for range k {
			img.Labels[g.pick(genLabels)] = g.pick(genValues)
		}
	}
	return img
}

func (g gen) subset(xs []string, most int) []string {
	var out []string
	for range g.r.IntN(most + 1) {
		out = append(out, g.pick(xs))
	}
	return out
}

func (g gen) query(imgs []cloud.Image) Query {
	q := Query{Service: cloud.Compute, Limit: g.r.IntN(8)}
	if g.r.IntN(8) == 0 {
		q.Service = cloud.Desktop
	}
	if g.r.IntN(3) == 0 {
		q.FolderIDs = g.subset(append(genFolders, "nowhere"), 2)
	}
	if g.r.IntN(3) == 0 {
		q.Statuses = g.subset(genStatuses, 2)
	}
	if g.r.IntN(3) == 0 {
		q.Families = g.subset(genFamilies, 2)
	}
	if g.r.IntN(5) == 0 {
		q.OS = []string{"LINUX", "WINDOWS", "NONE"}[g.r.IntN(3)]
	}
	for range g.r.IntN(2) {
		l := LabelFilter{Key: g.pick(genLabels), Value: g.pick(genValues), AnyValue: g.r.IntN(2) == 0}
		q.Labels = append(q.Labels, l)
	}
	if g.r.IntN(2) == 0 {
		q.Text = g.text(imgs)
	}
	q.Sort = []string{"", "name", "id", "folder", "family", "status", "os", "size", "storage_size", "min_disk_size", "checksum", "created_at"}[g.r.IntN(12)]
	q.Desc = g.r.IntN(2) == 0
	return q
}

// text is a search: words of the vocabulary or cut from a row, typed
// whole or in part, with or without a trailing space or star.
func (g gen) text(imgs []cloud.Image) string {
	var words []string
	for range g.r.IntN(3) + 1 {
		var w string
		switch g.r.IntN(5) {
		case 0:
			if len(imgs) > 0 {
				w = imgs[g.r.IntN(len(imgs))].ID
			}
		case 1:
			w = g.pick(genLabels) + "=" + g.pick(genValues)
		case 2:
			w = g.pick(genFamilies)
		default:
			w = g.pick(genWords)
		}
		if r := []rune(w); len(r) > 1 && g.r.IntN(3) == 0 {
			w = string(r[:1+g.r.IntN(len(r)-1)])
		}
		if g.r.IntN(6) == 0 {
			w += "*"
		}
		if g.r.IntN(8) == 0 {
			w = strings.ToUpper(w)
		}
		words = append(words, w)
	}
	t := strings.Join(words, " ")
	if g.r.IntN(3) == 0 {
		t += " "
	}
	return t
}
