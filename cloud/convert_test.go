package cloud

import (
	"reflect"
	"testing"
	"time"

	baremetal "github.com/yandex-cloud/go-genproto/yandex/cloud/baremetal/v1alpha"
	desktop "github.com/yandex-cloud/go-genproto/yandex/cloud/clouddesktop/v1"
	compute "github.com/yandex-cloud/go-genproto/yandex/cloud/compute/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/operation"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var created = time.Date(2026, 11, 3, 10, 4, 5, 0, time.UTC)

func TestImageFromCompute(t *testing.T) {
	tests := []struct {
		name string
		give *compute.Image
		want Image
	}{
		{
			name: "full legacy linux",
			give: &compute.Image{
				Id: "fd8abc", FolderId: "b1gf", Name: "ubuntu-22-04", Description: "d",
				Labels: map[string]string{"env": "prod"}, Family: "ubuntu-2204", Size: 8 << 30, StorageSize: 3 << 30,
				MinDiskSize: 10 << 30, ProductIds: []string{"p1"}, Status: compute.Image_READY,
				Os: &compute.Os{Type: compute.Os_LINUX}, Pooled: true, CreatedAt: timestamppb.New(created),
				HardwareGeneration: &compute.HardwareGeneration{Features: &compute.HardwareGeneration_LegacyFeatures{
					LegacyFeatures: &compute.LegacyHardwareFeatures{PciTopology: compute.PCITopology_PCI_TOPOLOGY_V1},
				}},
			},
			want: Image{
				Service: Compute, ID: "fd8abc", FolderID: "b1gf", Name: "ubuntu-22-04", Description: "d",
				Labels: map[string]string{"env": "prod"}, Family: "ubuntu-2204", Status: "READY", OS: "LINUX",
				Size: 8 << 30, StorageSize: 3 << 30, MinDiskSize: 10 << 30, ProductIDs: []string{"p1"}, Pooled: true,
				HardwareGeneration: HardwareLegacyV1, CreatedAt: created,
			},
		},
		{
			name: "generation2 windows creating",
			give: &compute.Image{
				Id: "fd8w", Status: compute.Image_CREATING, Os: &compute.Os{Type: compute.Os_WINDOWS},
				HardwareGeneration: &compute.HardwareGeneration{Features: &compute.HardwareGeneration_Generation2Features{
					Generation2Features: &compute.Generation2HardwareFeatures{},
				}},
			},
			want: Image{Service: Compute, ID: "fd8w", Status: "CREATING", OS: "WINDOWS", HardwareGeneration: HardwareGeneration2},
		},
		{
			name: "bare minimum",
			give: &compute.Image{Id: "fd8e"},
			want: Image{Service: Compute, ID: "fd8e", Status: "STATUS_UNSPECIFIED"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := imageFromCompute(tt.give)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("imageFromCompute:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestImageFromDesktopAndBareMetal(t *testing.T) {
	tests := []struct {
		name string
		got  Image
		want Image
	}{
		{
			name: "desktop",
			got: imageFromDesktop(&desktop.DesktopImage{
				Id: "dci1", FolderId: "b1gf", Name: "win", Description: "d", Labels: map[string]string{"a": "b"},
				Status: desktop.DesktopImage_ACTIVE, StorageSize: 5, MinDiskSize: 7, CreatedAt: timestamppb.New(created),
			}),
			want: Image{
				Service: Desktop, ID: "dci1", FolderID: "b1gf", Name: "win", Description: "d", Labels: map[string]string{"a": "b"},
				Status: "ACTIVE", StorageSize: 5, MinDiskSize: 7, CreatedAt: created,
			},
		},
		{
			name: "baremetal",
			got: imageFromBareMetal(&baremetal.Image{
				Id: "ly51", FolderId: "b1gf", Name: "bm", Checksum: "sha", Status: baremetal.Image_UPDATING,
				CreatedAt: timestamppb.New(created),
			}),
			want: Image{Service: BareMetal, ID: "ly51", FolderID: "b1gf", Name: "bm", Checksum: "sha", Status: "UPDATING", CreatedAt: created},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("\n got %+v\nwant %+v", tt.got, tt.want)
			}
		})
	}
}

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestOperationFromMetadataImageID(t *testing.T) {
	tests := []struct {
		give     proto.Message
		wantType string
	}{
		{&compute.CreateImageMetadata{ImageId: "x"}, "yandex.cloud.compute.v1.CreateImageMetadata"},
		{&compute.UpdateImageMetadata{ImageId: "x"}, "yandex.cloud.compute.v1.UpdateImageMetadata"},
		{&compute.DeleteImageMetadata{ImageId: "x"}, "yandex.cloud.compute.v1.DeleteImageMetadata"},
		{&desktop.CopyDesktopImageMetadata{ImageId: "x"}, "yandex.cloud.clouddesktop.v1.api.CopyDesktopImageMetadata"},
		{&desktop.CopyFromDesktopMetadata{ImageId: "x"}, "yandex.cloud.clouddesktop.v1.api.CopyFromDesktopMetadata"},
		{&desktop.UpdateDesktopImageMetadata{ImageId: "x"}, "yandex.cloud.clouddesktop.v1.api.UpdateDesktopImageMetadata"},
		{&desktop.DeleteDesktopImageMetadata{ImageId: "x"}, "yandex.cloud.clouddesktop.v1.api.DeleteDesktopImageMetadata"},
		{&baremetal.CreateImageMetadata{ImageId: "x"}, "yandex.cloud.baremetal.v1alpha.CreateImageMetadata"},
		{&baremetal.UpdateImageMetadata{ImageId: "x"}, "yandex.cloud.baremetal.v1alpha.UpdateImageMetadata"},
		{&baremetal.DeleteImageMetadata{ImageId: "x"}, "yandex.cloud.baremetal.v1alpha.DeleteImageMetadata"},
	}
	for _, tt := range tests {
		t.Run(tt.wantType, func(t *testing.T) {
			got, err := operationFrom(&operation.Operation{Id: "op1", Metadata: mustAny(t, tt.give)})
			if err != nil {
				t.Fatal(err)
			}
			if got.ImageID != "x" || got.MetadataType != tt.wantType {
				t.Errorf("ImageID, MetadataType = %q, %q; want %q, %q", got.ImageID, got.MetadataType, "x", tt.wantType)
			}
		})
	}
}

func TestOperationFrom(t *testing.T) {
	computeImg := &compute.Image{Id: "fd8new", FolderId: "f", Name: "n", Status: compute.Image_READY}
	tests := []struct {
		name string
		give *operation.Operation
		want Operation
	}{
		{
			name: "running",
			give: &operation.Operation{
				Id: "op1", Description: "Create image", CreatedBy: "aje1",
				CreatedAt: timestamppb.New(created), ModifiedAt: timestamppb.New(created.Add(time.Second)),
				Metadata: mustAny(t, &compute.CreateImageMetadata{ImageId: "fd8new"}),
			},
			want: Operation{
				ID: "op1", Description: "Create image", CreatedBy: "aje1", CreatedAt: created, ModifiedAt: created.Add(time.Second),
				ImageID: "fd8new", MetadataType: "yandex.cloud.compute.v1.CreateImageMetadata",
			},
		},
		{
			name: "done with compute image",
			give: &operation.Operation{
				Id: "op2", Done: true,
				Metadata: mustAny(t, &compute.CreateImageMetadata{ImageId: "fd8new"}),
				Result:   &operation.Operation_Response{Response: mustAny(t, computeImg)},
			},
			want: Operation{
				ID: "op2", Done: true, ImageID: "fd8new", MetadataType: "yandex.cloud.compute.v1.CreateImageMetadata",
				Image: &Image{Service: Compute, ID: "fd8new", FolderID: "f", Name: "n", Status: "READY"},
			},
		},
		{
			name: "done with desktop image",
			give: &operation.Operation{
				Id: "op3", Done: true,
				Metadata: mustAny(t, &desktop.CopyDesktopImageMetadata{ImageId: "dci1"}),
				Result:   &operation.Operation_Response{Response: mustAny(t, &desktop.DesktopImage{Id: "dci1", Status: desktop.DesktopImage_ACTIVE})},
			},
			want: Operation{
				ID: "op3", Done: true, ImageID: "dci1", MetadataType: "yandex.cloud.clouddesktop.v1.api.CopyDesktopImageMetadata",
				Image: &Image{Service: Desktop, ID: "dci1", Status: "ACTIVE"},
			},
		},
		{
			name: "done with baremetal image",
			give: &operation.Operation{
				Id: "op4", Done: true,
				Metadata: mustAny(t, &baremetal.UpdateImageMetadata{ImageId: "ly5"}),
				Result:   &operation.Operation_Response{Response: mustAny(t, &baremetal.Image{Id: "ly5", Status: baremetal.Image_READY})},
			},
			want: Operation{
				ID: "op4", Done: true, ImageID: "ly5", MetadataType: "yandex.cloud.baremetal.v1alpha.UpdateImageMetadata",
				Image: &Image{Service: BareMetal, ID: "ly5", Status: "READY"},
			},
		},
		{
			name: "delete answers Empty",
			give: &operation.Operation{
				Id: "op5", Done: true,
				Metadata: mustAny(t, &compute.DeleteImageMetadata{ImageId: "fd8old"}),
				Result:   &operation.Operation_Response{Response: mustAny(t, &emptypb.Empty{})},
			},
			want: Operation{ID: "op5", Done: true, ImageID: "fd8old", MetadataType: "yandex.cloud.compute.v1.DeleteImageMetadata"},
		},
		{
			name: "failed",
			give: &operation.Operation{
				Id: "op6", Done: true,
				Metadata: mustAny(t, &compute.CreateImageMetadata{ImageId: "fd8bad"}),
				Result:   &operation.Operation_Error{Error: &rpcstatus.Status{Code: int32(codes.InvalidArgument), Message: "bad uri"}},
			},
			want: Operation{
				ID: "op6", Done: true, ImageID: "fd8bad", MetadataType: "yandex.cloud.compute.v1.CreateImageMetadata",
				Error: &OperationError{Code: "InvalidArgument", Message: "bad uri"},
			},
		},
		{
			name: "unknown metadata type is kept by name",
			give: &operation.Operation{
				Id:       "op7",
				Metadata: &anypb.Any{TypeUrl: "type.googleapis.com/yandex.cloud.future.v9.Thing", Value: []byte{0x0a, 0x01, 'x'}},
			},
			want: Operation{ID: "op7", MetadataType: "yandex.cloud.future.v9.Thing"},
		},
		{
			name: "no metadata, no times",
			give: &operation.Operation{Id: "op8"},
			want: Operation{ID: "op8"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := operationFrom(tt.give)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("operationFrom:\n got %+v\nwant %+v", got, tt.want)
			}
			if got.Image != nil && tt.want.Image != nil && !reflect.DeepEqual(*got.Image, *tt.want.Image) {
				t.Errorf("Image:\n got %+v\nwant %+v", *got.Image, *tt.want.Image)
			}
		})
	}
}

func TestOperationFromCorruptMetadata(t *testing.T) {
	op := &operation.Operation{
		Id:       "op1",
		Metadata: &anypb.Any{TypeUrl: "type.googleapis.com/yandex.cloud.compute.v1.CreateImageMetadata", Value: []byte{0xff, 0xff}},
	}
	if _, err := operationFrom(op); err == nil {
		t.Error("operationFrom with a corrupt payload: got nil error, want one")
	}
}

func TestOSType(t *testing.T) {
	tests := []struct {
		give   string
		want   compute.Os_Type
		wantOK bool
	}{
		{"", compute.Os_TYPE_UNSPECIFIED, true},
		{"LINUX", compute.Os_LINUX, true},
		{"windows", compute.Os_WINDOWS, true},
		{"TYPE_UNSPECIFIED", compute.Os_TYPE_UNSPECIFIED, false},
		{"BEOS", compute.Os_TYPE_UNSPECIFIED, false},
	}
	for _, tt := range tests {
		got, ok := osType(tt.give)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("osType(%q) = %v, %v; want %v, %v", tt.give, got, ok, tt.want, tt.wantOK)
		}
	}
}
