package readmodel

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/imagedash/imagedash/cloud"
)

// Row is one cached image and its document number: the store's stable
// key of the row (the images table's doc), which every index of the
// snapshot holds.
type Row struct {
	Doc   uint32
	Image cloud.Image
}

// Change is what one committed write did to the images: rows written
// (new, changed or moved) and documents removed.
type Change struct {
	Upserts []Row
	Removes []uint32
}

// Empty reports whether ch changes nothing.
func (ch Change) Empty() bool { return len(ch.Upserts) == 0 && len(ch.Removes) == 0 }

// Snapshot is the cached images at one moment, with their indexes. It is
// immutable: Apply makes a new one that shares every part the change did
// not touch, so any number of readers use a snapshot without locks while
// the writer makes the next.
type Snapshot struct {
	version uint64
	ready   bool
	count   int
	rows    rowTable
	parts   map[cloud.Service]*part
	tune    tuning
}

// tuning is where a snapshot switches between two ways to the same
// answer; tests move it to check both ways against each other.
type tuning struct {
	sortMax   int // most matches a page sorts rather than walks an order
	scanMax   int // most documents a facet counts by reading their rows
	budgetMin int // fewest steps a walk may take before it sorts instead
}

// defaultTuning: sorting a few thousand rows costs less than stepping
// over an order's other rows to find them; counting a few thousand rows
// less than an intersection per value.
var defaultTuning = tuning{sortMax: 2048, scanMax: 4096, budgetMin: 4096}

// Version counts the changes applied since Build (0 for a snapshot not
// built yet).
func (s *Snapshot) Version() uint64 { return s.version }

// Ready is false for the empty snapshot a Model has before the first
// Publish (the store is still loading its images).
func (s *Snapshot) Ready() bool { return s.ready }

// Len is the number of images.
func (s *Snapshot) Len() int { return s.count }

// DocOf is the document of image id of svc.
func (s *Snapshot) DocOf(svc cloud.Service, id string) (uint32, bool) {
	p := s.parts[svc]
	if p == nil {
		return 0, false
	}
	k := key{id: id}
	ci, i := p.orders[colID].search(s, colID, k)
	if ci >= len(p.orders[colID].chunks) {
		return 0, false
	}
	doc := p.orders[colID].chunks[ci].docs[i]
	if s.rows.get(doc).img.ID != id {
		return 0, false
	}
	return doc, true
}

// Image is the image of doc.
func (s *Snapshot) Image(doc uint32) (cloud.Image, bool) {
	e := s.rows.get(doc)
	if e == nil {
		return cloud.Image{}, false
	}
	return e.img, true
}

// part is the indexes of one service's images: queries are always of one
// service, so each service's orders hold only its own rows.
type part struct {
	owner uint64
	all   *roaring.Bitmap
	// The images per value of a field ("" included), and per label key
	// and per key=value pair (labelPairKey).
	folders, statuses, families, oses, labelKeys, labelPairs index
	terms                                                    termDict
	orders                                                   [numColumns]order
}

// labelPairKey is the key of label k=v in part.labelPairs.
func labelPairKey(k, v string) string { return k + "\x00" + v }

// entry is one row as the snapshot keeps it.
type entry struct {
	img     cloud.Image
	created int64 // img.CreatedAt in ms, as the store sorts it (0 for the zero time)
}

func newEntry(img cloud.Image) *entry {
	e := &entry{img: img}
	if !img.CreatedAt.IsZero() {
		e.created = img.CreatedAt.UnixMilli()
	}
	return e
}

// rowTable maps a document to its entry, in chunks copied on write.
type rowTable struct {
	chunks []*rowChunk
}

const rowChunkBits = 10

type rowChunk struct {
	owner uint64
	e     [1 << rowChunkBits]*entry
}

func (t *rowTable) get(doc uint32) *entry {
	c := int(doc >> rowChunkBits)
	if c >= len(t.chunks) || t.chunks[c] == nil {
		return nil
	}
	return t.chunks[c].e[doc&(1<<rowChunkBits-1)]
}

// set stores e (nil: removes) under doc, copying the chunk unless owner
// made it.
func (t *rowTable) set(owner uint64, doc uint32, e *entry) {
	c := int(doc >> rowChunkBits)
	for c >= len(t.chunks) {
		t.chunks = append(t.chunks, nil)
	}
	ch := t.chunks[c]
	switch {
	case ch == nil:
		ch = &rowChunk{owner: owner}
		t.chunks[c] = ch
	case ch.owner != owner:
		cp := *ch
		cp.owner = owner
		ch = &cp
		t.chunks[c] = ch
	}
	ch.e[doc&(1<<rowChunkBits-1)] = e
}

// key is a row's place in a column's order: its value there (s for text
// columns, n for numbers, neither for id) and its id, the tie-break.
type key struct {
	s  string
	n  int64
	id string
}

// keyOf is e's key in column c.
func keyOf(e *entry, c column) key {
	k := key{id: e.img.ID}
	switch c {
	case colName:
		k.s = e.img.Name
	case colFolder:
		k.s = e.img.FolderID
	case colFamily:
		k.s = e.img.Family
	case colStatus:
		k.s = e.img.Status
	case colOS:
		k.s = e.img.OS
	case colChecksum:
		k.s = e.img.Checksum
	case colSize:
		k.n = e.img.Size
	case colStorage:
		k.n = e.img.StorageSize
	case colMinDisk:
		k.n = e.img.MinDiskSize
	case colCreated:
		k.n = e.created
	}
	return k
}

// cmpKey orders e against k in column c, ascending: by value (text
// bytewise, as SQLite's BINARY collation), then id.
func cmpKey(e *entry, c column, k key) int {
	var r int
	switch c {
	case colName:
		r = strings.Compare(e.img.Name, k.s)
	case colFolder:
		r = strings.Compare(e.img.FolderID, k.s)
	case colFamily:
		r = strings.Compare(e.img.Family, k.s)
	case colStatus:
		r = strings.Compare(e.img.Status, k.s)
	case colOS:
		r = strings.Compare(e.img.OS, k.s)
	case colChecksum:
		r = strings.Compare(e.img.Checksum, k.s)
	case colSize:
		r = cmp.Compare(e.img.Size, k.n)
	case colStorage:
		r = cmp.Compare(e.img.StorageSize, k.n)
	case colMinDisk:
		r = cmp.Compare(e.img.MinDiskSize, k.n)
	case colCreated:
		r = cmp.Compare(e.created, k.n)
	}
	if r != 0 {
		return r
	}
	return strings.Compare(e.img.ID, k.id)
}

// cmpEntries orders a and b in column c, ascending.
func cmpEntries(a, b *entry, c column) int { return cmpKey(a, c, keyOf(b, c)) }

// sameImage reports whether a and b are equal in every field.
func sameImage(a, b cloud.Image) bool {
	return a.Service == b.Service && a.ID == b.ID && a.FolderID == b.FolderID && a.Name == b.Name &&
		a.Description == b.Description && a.Family == b.Family && a.Status == b.Status && a.OS == b.OS &&
		a.Size == b.Size && a.StorageSize == b.StorageSize && a.MinDiskSize == b.MinDiskSize &&
		a.Pooled == b.Pooled && a.HardwareGeneration == b.HardwareGeneration && a.Checksum == b.Checksum &&
		a.CreatedAt.Equal(b.CreatedAt) && maps.Equal(a.Labels, b.Labels) && slices.Equal(a.ProductIDs, b.ProductIDs)
}
