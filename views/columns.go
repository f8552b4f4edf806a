package views

import "github.com/imagedash/imagedash/cloud"

// Column is one column of the image table.
type Column struct {
	// Key names the cell the row renders (see ImageCell).
	Key   string
	Title string
	// Sort is the sort key the store knows this column by; "" when the
	// column cannot be sorted (labels).
	Sort string
	// Numeric columns are right-aligned and sort largest first.
	Numeric bool
	// Hint, when set, says on the column's sort link what its order is.
	Hint string
}

// The columns of each service's table, in order.
var (
	colName      = Column{Key: "name", Title: "Name", Sort: "name"}
	colID        = Column{Key: "id", Title: "ID", Sort: "id"}
	colFamily    = Column{Key: "family", Title: "Family", Sort: "family"}
	colStatus    = Column{Key: "status", Title: "Status", Sort: "status"}
	colOS        = Column{Key: "os", Title: "OS", Sort: "os"}
	colSize      = Column{Key: "size", Title: "Size", Sort: "size", Numeric: true}
	colStorage   = Column{Key: "storage_size", Title: "Storage size", Sort: "storage_size", Numeric: true}
	colMinDisk   = Column{Key: "min_disk_size", Title: "Min disk", Sort: "min_disk_size", Numeric: true}
	colChecksum  = Column{Key: "checksum", Title: "Checksum", Sort: "checksum"}
	colLabels    = Column{Key: "labels", Title: "Labels"}
	colCreatedAt = Column{Key: "created_at", Title: "Created", Sort: "created_at", Numeric: true}

	// colFolder tells a golden image from a team's copy of it. Its sort
	// groups each folder's images together, in folder id order: the store
	// sorts by its (service, folder_id, id) index, not by the names, which
	// live in another table.
	colFolder = Column{Key: "folder", Title: "Folder", Sort: "folder", Hint: "Group each folder's images together"}
)

// ColumnsOf lists the columns of a service's table. The caller clears Sort
// on the columns its store cannot sort by.
func ColumnsOf(svc cloud.Service) []Column {
	switch svc {
	case cloud.Desktop:
		return []Column{colName, colFolder, colID, colStatus, colStorage, colMinDisk, colLabels, colCreatedAt}
	case cloud.BareMetal:
		return []Column{colName, colFolder, colID, colStatus, colChecksum, colLabels, colCreatedAt}
	}
	return []Column{colName, colFolder, colID, colFamily, colStatus, colOS, colSize, colMinDisk, colLabels, colCreatedAt}
}

// HasFamilies reports whether a service's images have families and an OS
// (only Compute's do), so the family and OS filters apply.
func HasFamilies(svc cloud.Service) bool { return svc == cloud.Compute }
