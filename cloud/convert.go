package cloud

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	baremetal "github.com/yandex-cloud/go-genproto/yandex/cloud/baremetal/v1alpha"
	desktop "github.com/yandex-cloud/go-genproto/yandex/cloud/clouddesktop/v1"
	compute "github.com/yandex-cloud/go-genproto/yandex/cloud/compute/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/operation"
	rm "github.com/yandex-cloud/go-genproto/yandex/cloud/resourcemanager/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Hardware generations as the app shows them.
const (
	HardwareLegacyV1    = "legacy:PCI_TOPOLOGY_V1"
	HardwareLegacyV2    = "legacy:PCI_TOPOLOGY_V2"
	HardwareGeneration2 = "generation2"
)

func imageFromCompute(m *compute.Image) Image {
	img := Image{
		Service:            Compute,
		ID:                 m.GetId(),
		FolderID:           m.GetFolderId(),
		Name:               m.GetName(),
		Description:        m.GetDescription(),
		Labels:             cloneLabels(m.GetLabels()),
		Family:             m.GetFamily(),
		Status:             m.GetStatus().String(),
		Size:               m.GetSize(),
		StorageSize:        m.GetStorageSize(),
		MinDiskSize:        m.GetMinDiskSize(),
		ProductIDs:         slices.Clone(m.GetProductIds()),
		Pooled:             m.GetPooled(),
		HardwareGeneration: hardwareGeneration(m.GetHardwareGeneration()),
		CreatedAt:          timeOf(m.GetCreatedAt()),
	}
	if t := m.GetOs().GetType(); t != compute.Os_TYPE_UNSPECIFIED {
		img.OS = t.String()
	}
	return img
}

// hardwareGeneration names the generation: "legacy:" and the PCI topology,
// or "generation2"; "" when the image does not say.
func hardwareGeneration(h *compute.HardwareGeneration) string {
	switch {
	case h.GetLegacyFeatures() != nil:
		return "legacy:" + h.GetLegacyFeatures().GetPciTopology().String()
	case h.GetGeneration2Features() != nil:
		return HardwareGeneration2
	}
	return ""
}

func imageFromDesktop(m *desktop.DesktopImage) Image {
	return Image{
		Service:     Desktop,
		ID:          m.GetId(),
		FolderID:    m.GetFolderId(),
		Name:        m.GetName(),
		Description: m.GetDescription(),
		Labels:      cloneLabels(m.GetLabels()),
		Status:      m.GetStatus().String(),
		StorageSize: m.GetStorageSize(),
		MinDiskSize: m.GetMinDiskSize(),
		CreatedAt:   timeOf(m.GetCreatedAt()),
	}
}

func imageFromBareMetal(m *baremetal.Image) Image {
	return Image{
		Service:     BareMetal,
		ID:          m.GetId(),
		FolderID:    m.GetFolderId(),
		Name:        m.GetName(),
		Description: m.GetDescription(),
		Labels:      cloneLabels(m.GetLabels()),
		Status:      m.GetStatus().String(),
		Checksum:    m.GetChecksum(),
		CreatedAt:   timeOf(m.GetCreatedAt()),
	}
}

func imagesFrom[T any](ms []T, conv func(T) Image) []Image {
	out := make([]Image, 0, len(ms))
	for _, m := range ms {
		out = append(out, conv(m))
	}
	return out
}

// operationFrom maps an operation of any service. The metadata's image_id
// names the target image; a response that is an image of one of the three
// services becomes Operation.Image. A metadata or response type this binary
// does not know is not an error: the operation is still returned, without
// what could not be read.
func operationFrom(op *operation.Operation) (Operation, error) {
	out := Operation{
		ID:          op.GetId(),
		Description: op.GetDescription(),
		CreatedBy:   op.GetCreatedBy(),
		CreatedAt:   timeOf(op.GetCreatedAt()),
		ModifiedAt:  timeOf(op.GetModifiedAt()),
		Done:        op.GetDone(),
	}
	if md := op.GetMetadata(); md != nil {
		out.MetadataType = string(md.MessageName())
		m, err := unpack(md)
		if err != nil {
			return Operation{}, fmt.Errorf("operation %s: metadata: %w", op.GetId(), err)
		}
		if m != nil {
			out.ImageID = imageIDOf(m.ProtoReflect())
		}
	}
	if e := op.GetError(); e != nil {
		out.Error = &OperationError{Code: codes.Code(e.GetCode()).String(), Message: e.GetMessage()}
	}
	if resp := op.GetResponse(); resp != nil {
		m, err := unpack(resp)
		if err != nil {
			return Operation{}, fmt.Errorf("operation %s: response: %w", op.GetId(), err)
		}
		var img Image
		switch r := m.(type) {
		case *compute.Image:
			img = imageFromCompute(r)
		case *desktop.DesktopImage:
			img = imageFromDesktop(r)
		case *baremetal.Image:
			img = imageFromBareMetal(r)
		}
		if img.Service != "" {
			out.Image = &img
			if out.ImageID == "" {
				out.ImageID = img.ID
			}
		}
	}
	return out, nil
}

// unpack opens an Any. A type not linked into this binary gives (nil, nil);
// a known type with a corrupt payload is an error.
func unpack(a *anypb.Any) (protoreflect.ProtoMessage, error) {
	m, err := a.UnmarshalNew()
	if errors.Is(err, protoregistry.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// imageIDOf reads the string field image_id that every image operation's
// metadata carries (compute Create/Update/DeleteImageMetadata, desktop
// CopyDesktopImageMetadata, CopyFromDesktopMetadata, Update/DeleteDesktopImageMetadata,
// baremetal Create/Update/DeleteImageMetadata, and others like ExportImageMetadata).
func imageIDOf(m protoreflect.Message) string {
	fd := m.Descriptor().Fields().ByName("image_id")
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() {
		return ""
	}
	return m.Get(fd).String()
}

func operationsFrom(ops []*operation.Operation) ([]Operation, error) {
	out := make([]Operation, 0, len(ops))
	for _, op := range ops {
		o, err := operationFrom(op)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

func folderFrom(f *rm.Folder) Folder {
	return Folder{
		ID:          f.GetId(),
		CloudID:     f.GetCloudId(),
		Name:        f.GetName(),
		Description: f.GetDescription(),
		Labels:      cloneLabels(f.GetLabels()),
	}
}

func cloudFrom(c *rm.Cloud) Cloud {
	return Cloud{ID: c.GetId(), Name: c.GetName()}
}

// osType parses the app's OS name into the Compute enum; "" is unspecified.
func osType(s string) (compute.Os_Type, bool) {
	if s == "" {
		return compute.Os_TYPE_UNSPECIFIED, true
	}
	v, ok := compute.Os_Type_value[strings.ToUpper(s)]
	if !ok || v == int32(compute.Os_TYPE_UNSPECIFIED) {
		return compute.Os_TYPE_UNSPECIFIED, false
	}
	return compute.Os_Type(v), true
}

// timeOf is the zero time for a missing timestamp, not 1970.
func timeOf(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

// cloneLabels copies a label map so the app never shares memory with a proto;
// an empty set stays nil.
func cloneLabels(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
