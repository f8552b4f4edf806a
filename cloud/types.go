// Package cloud is the only package of imagedash that speaks gRPC. It wraps
// the go-genproto clients of the three image services, OperationService and
// the resource manager behind one Client, and maps their messages to the
// app's own Image and Operation types.
package cloud

import (
	"time"
)

// Service names one of the three image APIs.
type Service string

const (
	Compute   Service = "compute"   // yandex.cloud.compute.v1.ImageService
	Desktop   Service = "desktop"   // yandex.cloud.clouddesktop.v1.api.DesktopImageService
	BareMetal Service = "baremetal" // yandex.cloud.baremetal.v1alpha.ImageService
)

// Services lists every service, in the order the UI shows them.
var Services = []Service{Compute, Desktop, BareMetal}

// Title is the human name of a service.
func (s Service) Title() string {
	switch s {
	case Compute:
		return "Compute"
	case Desktop:
		return "Cloud Desktop"
	case BareMetal:
		return "BareMetal"
	}
	return string(s)
}

// Valid reports whether s is one of the known services.
func (s Service) Valid() bool { return s == Compute || s == Desktop || s == BareMetal }

// Image is an image of any of the three services. Fields a service does not
// have stay zero (Family, OS, Size, ProductIDs, Pooled and HardwareGeneration
// are Compute's; Checksum is BareMetal's; Desktop has StorageSize and MinDiskSize).
type Image struct {
	Service     Service
	ID          string
	FolderID    string
	Name        string
	Description string
	Labels      map[string]string
	Family      string
	// Status is the API's enum name: CREATING, READY, ACTIVE, ERROR, DELETING, UPDATING.
	Status string
	// OS is LINUX or WINDOWS for Compute images, empty otherwise.
	OS                 string
	Size               int64
	StorageSize        int64
	MinDiskSize        int64
	ProductIDs         []string
	Pooled             bool
	HardwareGeneration string // "legacy:PCI_TOPOLOGY_V1", "generation2", or ""
	Checksum           string
	CreatedAt          time.Time
}

// Operation is a long-running operation of any service.
type Operation struct {
	ID          string
	Description string
	CreatedBy   string
	CreatedAt   time.Time
	ModifiedAt  time.Time
	Done        bool
	// ImageID is the target image from the operation's metadata.
	ImageID string
	// MetadataType is the full proto name of the metadata message,
	// e.g. yandex.cloud.compute.v1.CreateImageMetadata.
	MetadataType string
	// Error is set when the operation failed (possibly before Done on some APIs).
	Error *OperationError
	// Image is the response when the operation produced an image.
	Image *Image
}

// OperationError is the google.rpc.Status an operation ended with.
type OperationError struct {
	Code    string // gRPC code name, e.g. "InvalidArgument"
	Message string
}

func (e *OperationError) Error() string { return e.Code + ": " + e.Message }

// Folder is a resource-manager folder.
type Folder struct {
	ID          string
	CloudID     string
	Name        string
	Description string
	Labels      map[string]string
}

// Cloud is a resource-manager cloud.
type Cloud struct {
	ID   string
	Name string
}

// ListOptions selects one page of a List call.
type ListOptions struct {
	PageSize  int64
	PageToken string
	// Filter is the API's filter expression, e.g. name="ubuntu-22-04".
	Filter string
}

// CreateImageSpec is a new Compute image (ImageService.Create). Exactly one
// of SourceImageID, SourceDiskID, SourceSnapshotID or SourceURI is set.
type CreateImageSpec struct {
	FolderID         string
	Name             string
	Description      string
	Labels           map[string]string
	Family           string
	MinDiskSize      int64
	ProductIDs       []string
	OS               string // LINUX, WINDOWS or ""
	SourceImageID    string
	SourceDiskID     string
	SourceSnapshotID string
	SourceURI        string
}

// ImageUpdate is an Update call. Mask names the fields to change, by their
// proto names: "name", "description", "labels", "min_disk_size". Labels, when
// masked, replace the whole set.
type ImageUpdate struct {
	Mask        []string
	Name        string
	Description string
	Labels      map[string]string
	MinDiskSize int64
}
