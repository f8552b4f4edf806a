package sim

import (
	"encoding/base64"
	"strings"

	"github.com/imagedash/imagedash/rules"
	"slices"
	"sort"

	"google.golang.org/protobuf/proto"
)

// resource is what the three image types (and folders) have in common.
type resource interface {
	proto.Message
	GetId() string
	GetFolderId() string
	GetName() string
}

// table keeps one kind of resource: by id, by folder in id order (for stable
// keyset paging), and by (folder, name) for the uniqueness of names.
// It is not safe for concurrent use; Sim.mu guards it.
type table[T resource] struct {
	byID     map[string]T
	byFolder map[string][]string // sorted ids
	byName   map[folderName]string
}

type folderName struct{ folder, name string }

func newTable[T resource]() *table[T] {
	return &table[T]{byID: map[string]T{}, byFolder: map[string][]string{}, byName: map[folderName]string{}}
}

func (t *table[T]) get(id string) (T, bool) {
	v, ok := t.byID[id]
	return v, ok
}

func (t *table[T]) len() int { return len(t.byID) }

// nameTaken reports the id holding name in folder, if any. An empty name is never taken.
func (t *table[T]) nameTaken(folder, name string) (string, bool) {
	if name == "" {
		return "", false
	}
	id, ok := t.byName[folderName{folder, name}]
	return id, ok
}

// put inserts or replaces v. Callers check name uniqueness first.
func (t *table[T]) put(v T) {
	id := v.GetId()
	if old, ok := t.byID[id]; ok {
		if old.GetName() != "" {
			delete(t.byName, folderName{old.GetFolderId(), old.GetName()})
		}
	} else {
		ids := t.byFolder[v.GetFolderId()]
		i := sort.SearchStrings(ids, id)
		t.byFolder[v.GetFolderId()] = slices.Insert(ids, i, id)
	}
	t.byID[id] = v
	if v.GetName() != "" {
		t.byName[folderName{v.GetFolderId(), v.GetName()}] = id
	}
}

// appendSorted adds many new values at once; used by seeding, where sorting
// once beats inserting one by one.
func (t *table[T]) appendSorted(vs []T) {
	touched := map[string]bool{}
	for _, v := range vs {
		t.byID[v.GetId()] = v
		t.byFolder[v.GetFolderId()] = append(t.byFolder[v.GetFolderId()], v.GetId())
		touched[v.GetFolderId()] = true
		if v.GetName() != "" {
			t.byName[folderName{v.GetFolderId(), v.GetName()}] = v.GetId()
		}
	}
	for f := range touched {
		sort.Strings(t.byFolder[f])
	}
}

func (t *table[T]) remove(id string) {
	v, ok := t.byID[id]
	if !ok {
		return
	}
	delete(t.byID, id)
	if v.GetName() != "" && t.byName[folderName{v.GetFolderId(), v.GetName()}] == id {
		delete(t.byName, folderName{v.GetFolderId(), v.GetName()})
	}
	ids := t.byFolder[v.GetFolderId()]
	if i, found := sort.Find(len(ids), func(i int) int { return compareStrings(id, ids[i]) }); found {
		t.byFolder[v.GetFolderId()] = slices.Delete(ids, i, i+1)
	}
}

// page returns up to n values of folder with ids after `after`, in id order,
// that pass keep, and the id to continue after ("" when there are no more).
// Paging by id keeps a listing free of duplicates and gaps while other
// images are created or deleted between pages.
func (t *table[T]) page(folder, after string, n int, keep func(T) bool) ([]T, string) {
	ids := t.byFolder[folder]
	i := 0
	if after != "" {
		i = sort.Search(len(ids), func(i int) bool { return ids[i] > after })
	}
	var out []T
	for ; i < len(ids); i++ {
		v := t.byID[ids[i]]
		if keep != nil && !keep(v) {
			continue
		}
		if len(out) == n {
			return out, out[n-1].GetId()
		}
		out = append(out, v)
	}
	return out, ""
}

// all returns every value in folder, in id order.
func (t *table[T]) all(folder string) []T {
	ids := t.byFolder[folder]
	out := make([]T, 0, len(ids))
	for _, id := range ids {
		out = append(out, t.byID[id])
	}
	return out
}

// each calls fn for every value, in no particular order.
func (t *table[T]) each(fn func(T)) {
	for _, v := range t.byID {
		fn(v)
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// pageTokenPrefix versions the opaque page token.
const pageTokenPrefix = "p1."

// encodePageToken makes the opaque next_page_token that continues after id.
func encodePageToken(afterID string) string {
	if afterID == "" {
		return ""
	}
	return pageTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(afterID))
}

// decodePageToken reads a page token; a token the emulator did not make is
// a violation of the field "page_token".
func decodePageToken(tok string) (string, []rules.Violation) {
	if tok == "" {
		return "", nil
	}
	bad := []rules.Violation{{Field: "page_token", Message: "invalid page token"}}
	rest, ok := strings.CutPrefix(tok, pageTokenPrefix)
	if !ok {
		return "", bad
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(b) == 0 || len(b) > rules.MaxIDLength {
		return "", bad
	}
	return string(b), nil
}

// pageSize turns a request's page_size into a count: 0 means the API's
// default of 100.
func pageSize(n int64) int {
	if n <= 0 {
		return 100
	}
	return int(n)
}
