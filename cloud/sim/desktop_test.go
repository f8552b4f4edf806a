package sim

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	clouddesktop "github.com/yandex-cloud/go-genproto/yandex/cloud/clouddesktop/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/compute/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/operation"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// Helpers shared by the tests of desktop.go, baremetal.go,
// resourcemanager.go, endpoint.go and iam.go.

// violatedFieldNames lists the fields of the BadRequest details of err.
func violatedFieldNames(err error) []string {
	var out []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out = append(out, v.GetField())
			}
		}
	}
	return out
}

// expectCode asserts the gRPC code of err.
func expectCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("code %v (%v), want %v", got, err, want)
	}
}

// expectViolation asserts err is InvalidArgument with a violation on field.
func expectViolation(t *testing.T, err error, field string) {
	t.Helper()
	expectCode(t, err, codes.InvalidArgument)
	if got := violatedFieldNames(err); !slices.Contains(got, field) {
		t.Errorf("violations on %q, want one on %q", got, field)
	}
}

// fetchOperation gets an operation through OperationService.
func fetchOperation(t *testing.T, conn *grpc.ClientConn, id string) *operation.Operation {
	t.Helper()
	op, err := operation.NewOperationServiceClient(conn).Get(context.Background(), &operation.GetOperationRequest{OperationId: id})
	if err != nil {
		t.Fatalf("Operation.Get %s: %v", id, err)
	}
	return op
}

// unpackResponse unmarshals a done operation's response into into.
func unpackResponse[T proto.Message](t *testing.T, op *operation.Operation, into T) T {
	t.Helper()
	if !op.GetDone() || op.GetResponse() == nil {
		t.Fatalf("operation %s: done %v, error %v; want done with a response", op.GetId(), op.GetDone(), op.GetError())
	}
	if err := op.GetResponse().UnmarshalTo(into); err != nil {
		t.Fatalf("response of %s: %v", op.GetId(), err)
	}
	return into
}

// unpackMetadata unmarshals an operation's metadata into into.
func unpackMetadata[T proto.Message](t *testing.T, op *operation.Operation, into T) T {
	t.Helper()
	if err := op.GetMetadata().UnmarshalTo(into); err != nil {
		t.Fatalf("metadata of %s: %v", op.GetId(), err)
	}
	return into
}

func pathsMask(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }

// manyLabels makes n valid labels.
func manyLabels(n int) map[string]string {
	out := make(map[string]string, n)
	for i := range n {
		out[fmt.Sprintf("k%d", i)] = "v"
	}
	return out
}

// lifecycleWait is longer than any lifecycle delay at TimeScale 1.
const lifecycleWait = 30 * time.Second

// desktopEnv is an emulator with a client for the Desktop image API.
type desktopEnv struct {
	s      *Sim
	conn   *grpc.ClientConn
	clock  *FakeClock
	images clouddesktop.DesktopImageServiceClient
	folder string // the default folder
}

func startDesktop(t *testing.T, opts Options) desktopEnv {
	t.Helper()
	s, conn, clk := startSim(t, opts)
	return desktopEnv{s: s, conn: conn, clock: clk, images: clouddesktop.NewDesktopImageServiceClient(conn), folder: s.DefaultFolderID()}
}

// seeded returns the seeded desktop images of the default folder, in id order.
func (e desktopEnv) seeded(t *testing.T) []*desktopImage {
	t.Helper()
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	out := e.s.desktop.all(e.folder)
	if len(out) < 2 {
		t.Fatalf("%d seeded desktop images in the default folder, want at least 2", len(out))
	}
	return out
}

// readyCompute returns a READY Compute image of the default folder.
func (e desktopEnv) readyCompute(t *testing.T) *computeImage {
	t.Helper()
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	for _, img := range e.s.compute.all(e.folder) {
		if img.GetStatus() == compute.Image_READY {
			return img
		}
	}
	t.Fatal("no READY compute image in the default folder")
	return nil
}

func (e desktopEnv) get(t *testing.T, id string) *desktopImage {
	t.Helper()
	img, err := e.images.Get(context.Background(), &clouddesktop.GetDesktopImageRequest{ImageId: id})
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	return img
}

// listAll pages through a folder with the given page size and order.
func (e desktopEnv) listAll(t *testing.T, size int64, order, filter string) []*desktopImage {
	t.Helper()
	var out []*desktopImage
	tok := ""
	for range 100 {
		resp, err := e.images.List(context.Background(), &clouddesktop.ListDesktopImagesRequest{
			FolderId: e.folder, PageSize: size, PageToken: tok, OrderBy: order, Filter: filter,
		})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		out = append(out, resp.GetDesktopImages()...)
		if tok = resp.GetNextPageToken(); tok == "" {
			return out
		}
	}
	t.Fatal("List never ended")
	return nil
}

func desktopIDs(vs []*desktopImage) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.GetId()
	}
	return out
}

func TestDesktopImageGet(t *testing.T) {
	e := startDesktop(t, Options{})
	want := e.seeded(t)[0]
	got := e.get(t, want.GetId())
	if !proto.Equal(got, want) {
		t.Errorf("Get = %v, want %v", got, want)
	}
	tests := []struct {
		give string
		want codes.Code
	}{
		{"", codes.InvalidArgument},
		{strings.Repeat("a", 51), codes.InvalidArgument},
		{"dcinosuchimage000000", codes.NotFound},
	}
	for _, tt := range tests {
		_, err := e.images.Get(context.Background(), &clouddesktop.GetDesktopImageRequest{ImageId: tt.give})
		expectCode(t, err, tt.want)
	}
}

func TestDesktopImageList(t *testing.T) {
	e := startDesktop(t, Options{})
	seeded := e.seeded(t)

	if got, want := desktopIDs(e.listAll(t, 0, "", "")), desktopIDs(seeded); !slices.Equal(got, want) {
		t.Errorf("List ids %v, want %v", got, want)
	}
	if got, want := desktopIDs(e.listAll(t, 1, "", "")), desktopIDs(seeded); !slices.Equal(got, want) {
		t.Errorf("List by pages of 1: ids %v, want %v", got, want)
	}
	byName := slices.Clone(seeded)
	sort.Slice(byName, func(i, j int) bool { return byName[i].GetName() > byName[j].GetName() })
	if got, want := desktopIDs(e.listAll(t, 1, "name desc", "")), desktopIDs(byName); !slices.Equal(got, want) {
		t.Errorf("List by name desc in pages of 1: ids %v, want %v", got, want)
	}
	sort.Slice(byName, func(i, j int) bool { return byName[i].GetName() < byName[j].GetName() })
	if got, want := desktopIDs(e.listAll(t, 2, "name", "")), desktopIDs(byName); !slices.Equal(got, want) {
		t.Errorf("List by name in pages of 2: ids %v, want %v", got, want)
	}
	byCreated := slices.Clone(seeded)
	sort.Slice(byCreated, func(i, j int) bool {
		return byCreated[i].GetCreatedAt().AsTime().Before(byCreated[j].GetCreatedAt().AsTime())
	})
	if got, want := desktopIDs(e.listAll(t, 1, "createdAt asc", "")), desktopIDs(byCreated); !slices.Equal(got, want) {
		t.Errorf("List by createdAt in pages of 1: ids %v, want %v", got, want)
	}
	one := seeded[1]
	if got := e.listAll(t, 0, "", fmt.Sprintf("name=%q", one.GetName())); len(got) != 1 || got[0].GetId() != one.GetId() {
		t.Errorf("List filtered by name %q: %v, want just %s", one.GetName(), desktopIDs(got), one.GetId())
	}
	if got := e.listAll(t, 0, "name", fmt.Sprintf("name!=%q", one.GetName())); len(got) != len(seeded)-1 {
		t.Errorf("List with name != %q: %d images, want %d", one.GetName(), len(got), len(seeded)-1)
	}
}

func TestDesktopImageListSortedPagingSurvivesDeletion(t *testing.T) {
	e := startDesktop(t, Options{})
	ctx := context.Background()
	first, err := e.images.List(ctx, &clouddesktop.ListDesktopImagesRequest{FolderId: e.folder, PageSize: 1, OrderBy: "name"})
	if err != nil {
		t.Fatal(err)
	}
	// Delete the image the token continues after: the next page still follows it.
	if _, err := e.images.Delete(ctx, &clouddesktop.DeleteDesktopImageRequest{ImageId: first.GetDesktopImages()[0].GetId()}); err != nil {
		t.Fatal(err)
	}
	next, err := e.images.List(ctx, &clouddesktop.ListDesktopImagesRequest{FolderId: e.folder, PageSize: 1, OrderBy: "name", PageToken: first.GetNextPageToken()})
	if err != nil {
		t.Fatal(err)
	}
	if got, prev := next.GetDesktopImages()[0].GetName(), first.GetDesktopImages()[0].GetName(); got <= prev {
		t.Errorf("second page starts at %q, want a name after %q", got, prev)
	}
	// A token is bound to its order.
	_, err = e.images.List(ctx, &clouddesktop.ListDesktopImagesRequest{FolderId: e.folder, PageSize: 1, OrderBy: "name desc", PageToken: first.GetNextPageToken()})
	expectViolation(t, err, "page_token")
}

func TestDesktopImageListErrors(t *testing.T) {
	e := startDesktop(t, Options{})
	tests := []struct {
		name  string
		give  *clouddesktop.ListDesktopImagesRequest
		code  codes.Code
		field string
	}{
		{"no folder", &clouddesktop.ListDesktopImagesRequest{}, codes.InvalidArgument, "folder_id"},
		{"page size", &clouddesktop.ListDesktopImagesRequest{FolderId: e.folder, PageSize: 1001}, codes.InvalidArgument, "page_size"},
		{"page token", &clouddesktop.ListDesktopImagesRequest{FolderId: e.folder, PageToken: "nonsense"}, codes.InvalidArgument, "page_token"},
		{"filter field", &clouddesktop.ListDesktopImagesRequest{FolderId: e.folder, Filter: `status="ACTIVE"`}, codes.InvalidArgument, "filter"},
		{"order by", &clouddesktop.ListDesktopImagesRequest{FolderId: e.folder, OrderBy: "size"}, codes.InvalidArgument, "order_by"},
		{"order direction", &clouddesktop.ListDesktopImagesRequest{FolderId: e.folder, OrderBy: "name sideways"}, codes.InvalidArgument, "order_by"},
		{"unknown folder", &clouddesktop.ListDesktopImagesRequest{FolderId: "b1gnosuchfolder00000"}, codes.NotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.images.List(context.Background(), tt.give)
			if tt.field != "" {
				expectViolation(t, err, tt.field)
				return
			}
			expectCode(t, err, tt.code)
		})
	}
}

func TestDesktopImageCopyValidation(t *testing.T) {
	e := startDesktop(t, Options{})
	src := e.readyCompute(t)
	valid := func() *clouddesktop.CopyDesktopImageRequest {
		return &clouddesktop.CopyDesktopImageRequest{
			FolderId: e.folder, Name: "copied-image", Description: "a copy",
			Labels: map[string]string{"env": "dev"}, ImageId: src.GetId(),
		}
	}
	tests := []struct {
		name  string
		give  func(*clouddesktop.CopyDesktopImageRequest)
		field string
	}{
		{"no folder", func(r *clouddesktop.CopyDesktopImageRequest) { r.FolderId = "" }, "folder_id"},
		{"long folder", func(r *clouddesktop.CopyDesktopImageRequest) { r.FolderId = strings.Repeat("b", 51) }, "folder_id"},
		{"no name", func(r *clouddesktop.CopyDesktopImageRequest) { r.Name = "" }, "name"},
		{"upper-case name", func(r *clouddesktop.CopyDesktopImageRequest) { r.Name = "Copied" }, "name"},
		{"name ends with hyphen", func(r *clouddesktop.CopyDesktopImageRequest) { r.Name = "copied-" }, "name"},
		{"long name", func(r *clouddesktop.CopyDesktopImageRequest) { r.Name = "a" + strings.Repeat("b", 63) }, "name"},
		{"long description", func(r *clouddesktop.CopyDesktopImageRequest) { r.Description = strings.Repeat("d", 257) }, "description"},
		{"too many labels", func(r *clouddesktop.CopyDesktopImageRequest) { r.Labels = manyLabels(65) }, "labels"},
		{"bad label key", func(r *clouddesktop.CopyDesktopImageRequest) { r.Labels = map[string]string{"Env": "dev"} }, "labels.Env"},
		{"bad label value", func(r *clouddesktop.CopyDesktopImageRequest) { r.Labels = map[string]string{"env": "Dev"} }, "labels.env"},
		{"no image", func(r *clouddesktop.CopyDesktopImageRequest) { r.ImageId = "" }, "image_id"},
		{"long image id", func(r *clouddesktop.CopyDesktopImageRequest) { r.ImageId = strings.Repeat("f", 51) }, "image_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := valid()
			tt.give(req)
			_, err := e.images.Copy(context.Background(), req)
			expectViolation(t, err, tt.field)
		})
	}
	if got := e.s.Created(); got != 0 {
		t.Errorf("%d images created by invalid requests, want 0", got)
	}
	if _, err := e.images.Copy(context.Background(), valid()); err != nil {
		t.Errorf("the valid request: %v", err)
	}
}

func TestDesktopImageCopyFromDesktopValidation(t *testing.T) {
	e := startDesktop(t, Options{})
	_, _, desktops := e.s.Sources(e.folder)
	valid := func() *clouddesktop.CopyFromDesktopRequest {
		return &clouddesktop.CopyFromDesktopRequest{
			FolderId: e.folder, Name: "from-desktop", Description: "from a desktop",
			Labels: map[string]string{"env": "dev"}, DesktopId: desktops[0].ID,
		}
	}
	tests := []struct {
		name  string
		give  func(*clouddesktop.CopyFromDesktopRequest)
		field string
	}{
		{"no folder", func(r *clouddesktop.CopyFromDesktopRequest) { r.FolderId = "" }, "folder_id"},
		{"no name", func(r *clouddesktop.CopyFromDesktopRequest) { r.Name = "" }, "name"},
		{"bad name", func(r *clouddesktop.CopyFromDesktopRequest) { r.Name = "9lives" }, "name"},
		{"long description", func(r *clouddesktop.CopyFromDesktopRequest) { r.Description = strings.Repeat("d", 257) }, "description"},
		{"too many labels", func(r *clouddesktop.CopyFromDesktopRequest) { r.Labels = manyLabels(65) }, "labels"},
		{"bad label key", func(r *clouddesktop.CopyFromDesktopRequest) { r.Labels = map[string]string{"1env": "dev"} }, "labels.1env"},
		{"long label value", func(r *clouddesktop.CopyFromDesktopRequest) {
			r.Labels = map[string]string{"env": strings.Repeat("v", 64)}
		}, "labels.env"},
		{"no desktop", func(r *clouddesktop.CopyFromDesktopRequest) { r.DesktopId = "" }, "desktop_id"},
		{"long desktop id", func(r *clouddesktop.CopyFromDesktopRequest) { r.DesktopId = strings.Repeat("e", 51) }, "desktop_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := valid()
			tt.give(req)
			_, err := e.images.CopyFromDesktop(context.Background(), req)
			expectViolation(t, err, tt.field)
		})
	}
	if _, err := e.images.CopyFromDesktop(context.Background(), valid()); err != nil {
		t.Errorf("the valid request: %v", err)
	}
}

func TestDesktopImageUpdateValidation(t *testing.T) {
	e := startDesktop(t, Options{})
	target := e.seeded(t)[0]
	tests := []struct {
		name  string
		give  *clouddesktop.UpdateDesktopImageRequest
		field string
	}{
		{"no image", &clouddesktop.UpdateDesktopImageRequest{UpdateMask: pathsMask("name"), Name: "fine-name"}, "image_id"},
		{"no mask", &clouddesktop.UpdateDesktopImageRequest{ImageId: target.GetId(), Name: "fine-name"}, "update_mask"},
		{"empty mask", &clouddesktop.UpdateDesktopImageRequest{ImageId: target.GetId(), UpdateMask: pathsMask()}, "update_mask"},
		{"unknown path", &clouddesktop.UpdateDesktopImageRequest{ImageId: target.GetId(), UpdateMask: pathsMask("status")}, "update_mask"},
		{"bad name", &clouddesktop.UpdateDesktopImageRequest{ImageId: target.GetId(), UpdateMask: pathsMask("name"), Name: "Bad Name"}, "name"},
		{"bad label", &clouddesktop.UpdateDesktopImageRequest{ImageId: target.GetId(), UpdateMask: pathsMask("labels"), Labels: map[string]string{"k": "V"}}, "labels.k"},
		{"too many labels", &clouddesktop.UpdateDesktopImageRequest{ImageId: target.GetId(), UpdateMask: pathsMask("labels"), Labels: manyLabels(65)}, "labels"},
		{"long description", &clouddesktop.UpdateDesktopImageRequest{ImageId: target.GetId(), UpdateMask: pathsMask("description"), Description: strings.Repeat("d", 257)}, "description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.images.Update(context.Background(), tt.give)
			expectViolation(t, err, tt.field)
		})
	}
	// Fields outside the mask are neither checked nor applied.
	op, err := e.images.Update(context.Background(), &clouddesktop.UpdateDesktopImageRequest{
		ImageId: target.GetId(), UpdateMask: pathsMask("description"), Description: "new words", Name: "Not A Valid Name",
	})
	if err != nil {
		t.Fatalf("Update outside the mask: %v", err)
	}
	got := unpackResponse(t, op, &desktopImage{})
	if got.GetName() != target.GetName() || got.GetDescription() != "new words" {
		t.Errorf("after Update: name %q description %q, want %q and %q", got.GetName(), got.GetDescription(), target.GetName(), "new words")
	}
}

func TestDesktopImageErrors(t *testing.T) {
	e := startDesktop(t, Options{})
	seeded := e.seeded(t)
	src := e.readyCompute(t)
	_, _, desktops := e.s.Sources(e.folder)
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"copy into an unknown folder", func() error {
			_, err := e.images.Copy(ctx, &clouddesktop.CopyDesktopImageRequest{FolderId: "b1gnosuchfolder00000", Name: "x-copy", ImageId: src.GetId()})
			return err
		}, codes.NotFound},
		{"copy an unknown compute image", func() error {
			_, err := e.images.Copy(ctx, &clouddesktop.CopyDesktopImageRequest{FolderId: e.folder, Name: "x-copy", ImageId: "fd8nosuchimage000000"})
			return err
		}, codes.NotFound},
		{"copy to a taken name", func() error {
			_, err := e.images.Copy(ctx, &clouddesktop.CopyDesktopImageRequest{FolderId: e.folder, Name: seeded[0].GetName(), ImageId: src.GetId()})
			return err
		}, codes.AlreadyExists},
		{"copy from an unknown desktop", func() error {
			_, err := e.images.CopyFromDesktop(ctx, &clouddesktop.CopyFromDesktopRequest{FolderId: e.folder, Name: "x-copy", DesktopId: "e3vnosuchdesktop0000"})
			return err
		}, codes.NotFound},
		{"copy from a desktop to a taken name", func() error {
			_, err := e.images.CopyFromDesktop(ctx, &clouddesktop.CopyFromDesktopRequest{FolderId: e.folder, Name: seeded[0].GetName(), DesktopId: desktops[0].ID})
			return err
		}, codes.AlreadyExists},
		{"rename to a taken name", func() error {
			_, err := e.images.Update(ctx, &clouddesktop.UpdateDesktopImageRequest{ImageId: seeded[0].GetId(), UpdateMask: pathsMask("name"), Name: seeded[1].GetName()})
			return err
		}, codes.AlreadyExists},
		{"update an unknown image", func() error {
			_, err := e.images.Update(ctx, &clouddesktop.UpdateDesktopImageRequest{ImageId: "dcinosuchimage000000", UpdateMask: pathsMask("name"), Name: "fine-name"})
			return err
		}, codes.NotFound},
		{"delete an unknown image", func() error {
			_, err := e.images.Delete(ctx, &clouddesktop.DeleteDesktopImageRequest{ImageId: "dcinosuchimage000000"})
			return err
		}, codes.NotFound},
		{"delete without an id", func() error {
			_, err := e.images.Delete(ctx, &clouddesktop.DeleteDesktopImageRequest{})
			return err
		}, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectCode(t, tt.call(), tt.want)
		})
	}
	// Renaming an image to its own name is no conflict.
	if _, err := e.images.Update(ctx, &clouddesktop.UpdateDesktopImageRequest{ImageId: seeded[0].GetId(), UpdateMask: pathsMask("name"), Name: seeded[0].GetName()}); err != nil {
		t.Errorf("rename to its own name: %v", err)
	}
}

func TestDesktopImageCopyNeedsReadyComputeImage(t *testing.T) {
	e := startDesktop(t, Options{TimeScale: 1})
	ctx := context.Background()
	disks, _, _ := e.s.Sources(e.folder)
	cop, err := compute.NewImageServiceClient(e.conn).Create(ctx, &compute.CreateImageRequest{
		FolderId: e.folder, Name: "fresh-compute-image", Source: &compute.CreateImageRequest_DiskId{DiskId: disks[0].ID},
	})
	if err != nil {
		t.Fatalf("compute Create: %v", err)
	}
	srcID := unpackMetadata(t, cop, &compute.CreateImageMetadata{}).GetImageId()
	req := &clouddesktop.CopyDesktopImageRequest{FolderId: e.folder, Name: "from-fresh", ImageId: srcID}

	_, err = e.images.Copy(ctx, req)
	expectCode(t, err, codes.FailedPrecondition)

	e.clock.Advance(lifecycleWait)
	op, err := e.images.Copy(ctx, req)
	if err != nil {
		t.Fatalf("Copy of the READY image: %v", err)
	}
	src := unpackResponse(t, fetchOperation(t, e.conn, cop.GetId()), &compute.Image{})
	e.clock.Advance(lifecycleWait)
	got := unpackResponse(t, fetchOperation(t, e.conn, op.GetId()), &desktopImage{})
	if got.GetStorageSize() != src.GetStorageSize() || got.GetMinDiskSize() != src.GetMinDiskSize() {
		t.Errorf("sizes %d/%d, want the compute image's %d/%d", got.GetStorageSize(), got.GetMinDiskSize(), src.GetStorageSize(), src.GetMinDiskSize())
	}
}

func TestDesktopImageCopyLifecycle(t *testing.T) {
	e := startDesktop(t, Options{TimeScale: 1})
	ctx := context.Background()
	src := e.readyCompute(t)
	op, err := e.images.Copy(ctx, &clouddesktop.CopyDesktopImageRequest{
		FolderId: e.folder, Name: "copied-image", Description: "a copy", Labels: map[string]string{"env": "dev"}, ImageId: src.GetId(),
	})
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if op.GetDone() {
		t.Fatalf("Copy done at once at TimeScale 1: %v", op)
	}
	if got, want := op.GetDescription(), "Copy image"; got != want {
		t.Errorf("operation description %q, want %q", got, want)
	}
	id := unpackMetadata(t, op, &clouddesktop.CopyDesktopImageMetadata{}).GetImageId()
	img := e.get(t, id)
	if img.GetStatus() != clouddesktop.DesktopImage_CREATING {
		t.Errorf("status %v right after Copy, want CREATING", img.GetStatus())
	}
	if img.GetStorageSize() != src.GetStorageSize() || img.GetMinDiskSize() != src.GetMinDiskSize() {
		t.Errorf("sizes %d/%d, want the compute image's %d/%d", img.GetStorageSize(), img.GetMinDiskSize(), src.GetStorageSize(), src.GetMinDiskSize())
	}
	if img.GetFolderId() != e.folder || img.GetName() != "copied-image" || img.GetDescription() != "a copy" || img.GetLabels()["env"] != "dev" {
		t.Errorf("copied image %v, want the requested folder, name, description and labels", img)
	}

	_, err = e.images.Update(ctx, &clouddesktop.UpdateDesktopImageRequest{ImageId: id, UpdateMask: pathsMask("name"), Name: "renamed"})
	expectCode(t, err, codes.FailedPrecondition)
	_, err = e.images.Delete(ctx, &clouddesktop.DeleteDesktopImageRequest{ImageId: id})
	expectCode(t, err, codes.FailedPrecondition)

	e.clock.Advance(lifecycleWait)
	done := fetchOperation(t, e.conn, op.GetId())
	if got := unpackResponse(t, done, &desktopImage{}).GetStatus(); got != clouddesktop.DesktopImage_ACTIVE {
		t.Errorf("response status %v, want ACTIVE", got)
	}
	if got := e.get(t, id).GetStatus(); got != clouddesktop.DesktopImage_ACTIVE {
		t.Errorf("status %v after the delay, want ACTIVE", got)
	}
	if got := e.s.Created(); got != 1 {
		t.Errorf("Created() = %d, want 1", got)
	}
}

func TestDesktopImageCopyFromDesktop(t *testing.T) {
	e := startDesktop(t, Options{TimeScale: 1})
	_, _, desktops := e.s.Sources(e.folder)
	op, err := e.images.CopyFromDesktop(context.Background(), &clouddesktop.CopyFromDesktopRequest{
		FolderId: e.folder, Name: "from-desktop", DesktopId: desktops[0].ID,
	})
	if err != nil {
		t.Fatalf("CopyFromDesktop: %v", err)
	}
	id := unpackMetadata(t, op, &clouddesktop.CopyFromDesktopMetadata{}).GetImageId()
	if got := e.get(t, id); got.GetStatus() != clouddesktop.DesktopImage_CREATING || got.GetMinDiskSize() != desktops[0].Size {
		t.Errorf("new image status %v min_disk_size %d, want CREATING and the desktop's %d", got.GetStatus(), got.GetMinDiskSize(), desktops[0].Size)
	}
	e.clock.Advance(lifecycleWait)
	if got := unpackResponse(t, fetchOperation(t, e.conn, op.GetId()), &desktopImage{}); got.GetStatus() != clouddesktop.DesktopImage_ACTIVE {
		t.Errorf("response status %v, want ACTIVE", got.GetStatus())
	}
}

func TestDesktopImageUpdateAndDelete(t *testing.T) {
	e := startDesktop(t, Options{TimeScale: 1})
	ctx := context.Background()
	target := e.seeded(t)[0]

	op, err := e.images.Update(ctx, &clouddesktop.UpdateDesktopImageRequest{
		ImageId: target.GetId(), UpdateMask: pathsMask("name", "labels"), Name: "renamed-desktop", Labels: map[string]string{"only": "this"},
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got := unpackMetadata(t, op, &clouddesktop.UpdateDesktopImageMetadata{}).GetImageId(); got != target.GetId() {
		t.Errorf("metadata image_id %q, want %q", got, target.GetId())
	}
	if got := e.get(t, target.GetId()); got.GetStatus() != clouddesktop.DesktopImage_ACTIVE || got.GetName() != target.GetName() {
		t.Errorf("during the update: status %v name %q, want ACTIVE and the old name", got.GetStatus(), got.GetName())
	}
	// One operation at a time.
	_, err = e.images.Update(ctx, &clouddesktop.UpdateDesktopImageRequest{ImageId: target.GetId(), UpdateMask: pathsMask("description"), Description: "x"})
	expectCode(t, err, codes.FailedPrecondition)

	e.clock.Advance(lifecycleWait)
	got := e.get(t, target.GetId())
	if got.GetName() != "renamed-desktop" || len(got.GetLabels()) != 1 || got.GetLabels()["only"] != "this" || got.GetDescription() != target.GetDescription() {
		t.Errorf("after the update: %v, want the new name, only the new labels and the old description", got)
	}

	del, err := e.images.Delete(ctx, &clouddesktop.DeleteDesktopImageRequest{ImageId: target.GetId()})
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got := unpackMetadata(t, del, &clouddesktop.DeleteDesktopImageMetadata{}).GetImageId(); got != target.GetId() {
		t.Errorf("metadata image_id %q, want %q", got, target.GetId())
	}
	if got := e.get(t, target.GetId()).GetStatus(); got != clouddesktop.DesktopImage_DELETING {
		t.Errorf("status %v right after Delete, want DELETING", got)
	}
	_, err = e.images.Delete(ctx, &clouddesktop.DeleteDesktopImageRequest{ImageId: target.GetId()})
	expectCode(t, err, codes.FailedPrecondition)

	e.clock.Advance(lifecycleWait)
	_, err = e.images.Get(ctx, &clouddesktop.GetDesktopImageRequest{ImageId: target.GetId()})
	expectCode(t, err, codes.NotFound)
	unpackResponse(t, fetchOperation(t, e.conn, del.GetId()), &emptypb.Empty{})
}

func TestDesktopImageCopyIdempotency(t *testing.T) {
	e := startDesktop(t, Options{TimeScale: 1})
	src := e.readyCompute(t)
	req := &clouddesktop.CopyDesktopImageRequest{FolderId: e.folder, Name: "idempotent-copy", ImageId: src.GetId()}
	ctx := withKey(context.Background(), "copy-key-1")

	first, err := e.images.Copy(ctx, req)
	if err != nil {
		t.Fatalf("first Copy: %v", err)
	}
	again, err := e.images.Copy(ctx, req)
	if err != nil {
		t.Fatalf("repeated Copy: %v", err)
	}
	if again.GetId() != first.GetId() {
		t.Errorf("repeated Copy started operation %s, want the first one %s", again.GetId(), first.GetId())
	}
	if got := e.s.Created(); got != 1 {
		t.Errorf("Created() = %d after a repeated Copy, want 1", got)
	}
	_, err = e.images.Copy(ctx, &clouddesktop.CopyDesktopImageRequest{FolderId: e.folder, Name: "other-copy", ImageId: src.GetId()})
	expectCode(t, err, codes.InvalidArgument)
	// Without the key the same request is a new call, and the name is taken.
	_, err = e.images.Copy(context.Background(), req)
	expectCode(t, err, codes.AlreadyExists)
}

func TestParseListOrder(t *testing.T) {
	allowed := []string{"id", "name", "created_at", "status"}
	tests := []struct {
		give    string
		want    listOrder
		wantBad bool
	}{
		{"", listOrder{field: "id"}, false},
		{"name", listOrder{field: "name"}, false},
		{"name desc", listOrder{field: "name", desc: true}, false},
		{"  createdAt   DESC ", listOrder{field: "created_at", desc: true}, false},
		{"created_at asc", listOrder{field: "created_at"}, false},
		{"status", listOrder{field: "status"}, false},
		{"size", listOrder{field: "id"}, true},
		{"name up", listOrder{field: "id"}, true},
		{"name asc extra", listOrder{field: "id"}, true},
	}
	for _, tt := range tests {
		got, vs := parseListOrder(tt.give, allowed)
		if (len(vs) > 0) != tt.wantBad {
			t.Errorf("parseListOrder(%q) violations %v, want bad=%v", tt.give, vs, tt.wantBad)
			continue
		}
		if !tt.wantBad && got != tt.want {
			t.Errorf("parseListOrder(%q) = %+v, want %+v", tt.give, got, tt.want)
		}
	}
}

func TestListOrderTokens(t *testing.T) {
	longName := "a" + strings.Repeat("b", 62)
	tests := []struct {
		name    string
		order   listOrder
		key, id string
		want    listCursor
	}{
		{"by id", listOrder{field: "id"}, "dci00000000000000001", "dci00000000000000001", listCursor{"dci00000000000000001", "dci00000000000000001"}},
		{"by name", listOrder{field: "name"}, "short-name", "dci00000000000000001", listCursor{"short-name", "dci00000000000000001"}},
		{"by the longest name, desc", listOrder{field: "name", desc: true}, longName, "dci00000000000000001", listCursor{longName, ""}},
		{"by created_at", listOrder{field: "created_at"}, "001795000000000000000", "dci00000000000000001", listCursor{"001795000000000000000", "dci00000000000000001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := tt.order.token(tt.key, tt.id)
			if len(tok) > 100 {
				t.Errorf("token of %d characters, want at most 100", len(tok))
			}
			got, vs := tt.order.cursor(tok)
			if vs != nil {
				t.Fatalf("cursor(%q): %v", tok, vs)
			}
			if *got != tt.want {
				t.Errorf("cursor = %+v, want %+v", *got, tt.want)
			}
		})
	}
}
