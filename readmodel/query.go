package readmodel

import (
	"errors"
	"fmt"

	"github.com/imagedash/imagedash/cloud"
)

// The errors of a query. Match with errors.Is.
var (
	// ErrBadCursor: a paging cursor was not made for this sort order (a
	// 400 for the handler).
	ErrBadCursor = errors.New("bad paging cursor")
	// ErrInvalid: the query makes no sense (unknown sort column or
	// service, a label filter without a key).
	ErrInvalid = errors.New("invalid argument")
)

// Page sizes: DefaultLimit when Query.Limit is not set, never more than
// MaxLimit.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Query selects, orders and pages cached images. Filters of different
// fields are ANDed; the values of one list field are ORed.
type Query struct {
	Service cloud.Service
	// FolderIDs limits the images to these folders; empty means all.
	FolderIDs []string
	// Text is what the person typed in the search box (see package
	// search): every word must occur in the name, description, id, family
	// or labels ("key=value"), the last word as a prefix. Any text is safe.
	Text     string
	Statuses []string
	Families []string
	OS       string
	Labels   []LabelFilter
	// Sort is one of name, id, folder, family, status, os, size,
	// storage_size, min_disk_size, checksum, created_at ("" is name). Ties
	// are broken by id, in the same direction. Folder orders by the
	// folder's id, not its name.
	Sort string
	Desc bool
	// Limit is the page size, 1..MaxLimit; 0 or less means DefaultLimit,
	// more than MaxLimit means MaxLimit.
	Limit int
	// After is Page.Next of the previous page; Before is Page.Prev of the
	// next one. At most one is set; neither means the first page.
	After  string
	Before string
}

// LabelFilter keeps images with label Key equal to Value, or with label
// Key at all when AnyValue is set.
type LabelFilter struct {
	Key      string
	Value    string
	AnyValue bool
}

// Page is one page of a Query.
type Page struct {
	// Images are the page's rows; their Labels and ProductIDs are shared
	// with the snapshot and must not be modified.
	Images []cloud.Image
	// Total counts every image that matches the filters, on all pages.
	Total int
	// Next and Prev are the cursors of the pages after and before this one
	// (for Query.After and Before); "" when there is none.
	Next, Prev string
}

// FacetCount is how many images have one value of a field.
type FacetCount struct {
	Value string
	Count int
}

// Facets are the counts of images per status and per family (the 30
// largest families; images without a family are not counted) for a query,
// each computed without the query's own filter on that field, so the
// counts say what choosing another value would give.
type Facets struct {
	Statuses []FacetCount
	Families []FacetCount
}

// maxFamilyFacets is how many families Facets returns.
const maxFamilyFacets = 30

// FamilySummary is one image family.
type FamilySummary struct {
	Family string
	Count  int
	// Latest is the newest READY (or ACTIVE) image of the family, or the
	// newest image when none is ready.
	Latest cloud.Image
}

// column is a sortable column; its name is the one cursors carry (the
// store's SQL column names, so bookmarks made before the read model stay
// valid).
type column int

const (
	colName column = iota
	colID
	colFolder
	colFamily
	colStatus
	colOS
	colSize
	colStorage
	colMinDisk
	colChecksum
	colCreated
	numColumns
)

var columnNames = [numColumns]string{"name", "id", "folder_id", "family", "status", "os", "size", "storage_size", "min_disk_size", "checksum", "created_at"}

func (c column) name() string { return columnNames[c] }

func (c column) numeric() bool { return c >= colSize && c <= colMinDisk || c == colCreated }

// columnOf maps a Query.Sort to its column.
func columnOf(sort string) (column, bool) {
	switch sort {
	case "", "name":
		return colName, true
	case "id":
		return colID, true
	case "folder":
		return colFolder, true
	case "family":
		return colFamily, true
	case "status":
		return colStatus, true
	case "os":
		return colOS, true
	case "size":
		return colSize, true
	case "storage_size":
		return colStorage, true
	case "min_disk_size":
		return colMinDisk, true
	case "checksum":
		return colChecksum, true
	case "created_at":
		return colCreated, true
	}
	return 0, false
}

// ValidSort reports whether sort is a value Query.Sort accepts.
func ValidSort(sort string) bool {
	_, ok := columnOf(sort)
	return ok
}

// check validates q and returns its sort column and page size.
func (q Query) check() (column, int, error) {
	if !q.Service.Valid() {
		return 0, 0, fmt.Errorf("%w: unknown service %q", ErrInvalid, q.Service)
	}
	col, ok := columnOf(q.Sort)
	if !ok {
		return 0, 0, fmt.Errorf("%w: cannot sort by %q", ErrInvalid, q.Sort)
	}
	for _, l := range q.Labels {
		if l.Key == "" {
			return 0, 0, fmt.Errorf("%w: label filter without a key", ErrInvalid)
		}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	return col, min(limit, MaxLimit), nil
}
