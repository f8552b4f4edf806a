package sim

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/yandex-cloud/go-genproto/yandex/cloud/baremetal/v1alpha"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/operation"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
)

// bareMetalEnv is an emulator with a client for the BareMetal image API.
type bareMetalEnv struct {
	s      *Sim
	conn   *grpc.ClientConn
	clock  *FakeClock
	images baremetal.ImageServiceClient
	folder string // the default folder
}

func startBareMetal(t *testing.T, opts Options) bareMetalEnv {
	t.Helper()
	s, conn, clk := startSim(t, opts)
	return bareMetalEnv{s: s, conn: conn, clock: clk, images: baremetal.NewImageServiceClient(conn), folder: s.DefaultFolderID()}
}

// seeded returns the seeded images of the default folder, in id order.
func (e bareMetalEnv) seeded(t *testing.T) []*baremetalImage {
	t.Helper()
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	out := e.s.baremetal.all(e.folder)
	if len(out) < 2 {
		t.Fatalf("%d seeded baremetal images in the default folder, want at least 2", len(out))
	}
	return out
}

func (e bareMetalEnv) get(t *testing.T, id string) *baremetalImage {
	t.Helper()
	img, err := e.images.Get(context.Background(), &baremetal.GetImageRequest{ImageId: id})
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	return img
}

func (e bareMetalEnv) create(t *testing.T, req *baremetal.CreateImageRequest) (*operation.Operation, string) {
	t.Helper()
	op, err := e.images.Create(context.Background(), req)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return op, unpackMetadata(t, op, &baremetal.CreateImageMetadata{}).GetImageId()
}

// listAll pages through the default folder.
func (e bareMetalEnv) listAll(t *testing.T, size int64, order, filter string) []*baremetalImage {
	t.Helper()
	var out []*baremetalImage
	tok := ""
	for range 100 {
		resp, err := e.images.List(context.Background(), &baremetal.ListImagesRequest{
			FolderId: e.folder, PageSize: size, PageToken: tok, OrderBy: order, Filter: filter,
		})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		out = append(out, resp.GetImages()...)
		if tok = resp.GetNextPageToken(); tok == "" {
			return out
		}
	}
	t.Fatal("List never ended")
	return nil
}

func bareMetalIDs(vs []*baremetalImage) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.GetId()
	}
	return out
}

func validBareMetalCreate(folder string) *baremetal.CreateImageRequest {
	return &baremetal.CreateImageRequest{
		FolderId: folder, Name: "bm-new-image", Description: "an ISO",
		Uri: "https://storage.yandexcloud.net/bucket/ubuntu.iso", Labels: map[string]string{"env": "dev"},
	}
}

func TestBareMetalImageGet(t *testing.T) {
	e := startBareMetal(t, Options{})
	want := e.seeded(t)[0]
	if got := e.get(t, want.GetId()); !proto.Equal(got, want) {
		t.Errorf("Get = %v, want %v", got, want)
	}
	tests := []struct {
		give string
		want codes.Code
	}{
		{"", codes.InvalidArgument},
		{strings.Repeat("l", 51), codes.InvalidArgument},
		{"ly5nosuchimage000000", codes.NotFound},
	}
	for _, tt := range tests {
		_, err := e.images.Get(context.Background(), &baremetal.GetImageRequest{ImageId: tt.give})
		expectCode(t, err, tt.want)
	}
}

func TestBareMetalImageList(t *testing.T) {
	e := startBareMetal(t, Options{})
	seeded := e.seeded(t)
	if got, want := bareMetalIDs(e.listAll(t, 0, "", "")), bareMetalIDs(seeded); !slices.Equal(got, want) {
		t.Errorf("List ids %v, want %v", got, want)
	}
	if got, want := bareMetalIDs(e.listAll(t, 1, "id asc", "")), bareMetalIDs(seeded); !slices.Equal(got, want) {
		t.Errorf("List by pages of 1: ids %v, want %v", got, want)
	}
	byName := slices.Clone(seeded)
	sort.Slice(byName, func(i, j int) bool { return byName[i].GetName() > byName[j].GetName() })
	if got, want := bareMetalIDs(e.listAll(t, 1, "name desc", "")), bareMetalIDs(byName); !slices.Equal(got, want) {
		t.Errorf("List by name desc: ids %v, want %v", got, want)
	}
	byCreated := slices.Clone(seeded)
	sort.Slice(byCreated, func(i, j int) bool {
		return byCreated[i].GetCreatedAt().AsTime().After(byCreated[j].GetCreatedAt().AsTime())
	})
	if got, want := bareMetalIDs(e.listAll(t, 2, "createdAt desc", "")), bareMetalIDs(byCreated); !slices.Equal(got, want) {
		t.Errorf("List by createdAt desc: ids %v, want %v", got, want)
	}

	one := seeded[1]
	filters := []struct {
		give string
		want int
	}{
		{fmt.Sprintf("name=%q", one.GetName()), 1},
		{fmt.Sprintf("id='%s'", one.GetId()), 1},
		{fmt.Sprintf("name:%q AND id=%q", one.GetName()[:4], one.GetId()), 1},
		{`name:"bm-"`, len(seeded)},
		{`name:"no-such-thing"`, 0},
	}
	for _, tt := range filters {
		if got := e.listAll(t, 0, "", tt.give); len(got) != tt.want {
			t.Errorf("List with filter %s: %d images, want %d", tt.give, len(got), tt.want)
		}
	}
}

func TestBareMetalImageListErrors(t *testing.T) {
	e := startBareMetal(t, Options{})
	tests := []struct {
		name  string
		give  *baremetal.ListImagesRequest
		field string
	}{
		{"no folder", &baremetal.ListImagesRequest{}, "folder_id"},
		{"page size", &baremetal.ListImagesRequest{FolderId: e.folder, PageSize: 1001}, "page_size"},
		{"page token", &baremetal.ListImagesRequest{FolderId: e.folder, PageToken: "nonsense"}, "page_token"},
		{"filter field", &baremetal.ListImagesRequest{FolderId: e.folder, Filter: `status="READY"`}, "filter"},
		{"filter operator", &baremetal.ListImagesRequest{FolderId: e.folder, Filter: `name!="x"`}, "filter"},
		{"filter joiner", &baremetal.ListImagesRequest{FolderId: e.folder, Filter: `name="x" OR id="y"`}, "filter"},
		{"filter unquoted", &baremetal.ListImagesRequest{FolderId: e.folder, Filter: `name=x`}, "filter"},
		{"order by", &baremetal.ListImagesRequest{FolderId: e.folder, OrderBy: "status"}, "order_by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.images.List(context.Background(), tt.give)
			expectViolation(t, err, tt.field)
		})
	}
	_, err := e.images.List(context.Background(), &baremetal.ListImagesRequest{FolderId: "b1gnosuchfolder00000"})
	expectCode(t, err, codes.NotFound)
}

func TestBareMetalImageCreateValidation(t *testing.T) {
	e := startBareMetal(t, Options{})
	tests := []struct {
		name  string
		give  func(*baremetal.CreateImageRequest)
		field string
	}{
		{"no folder", func(r *baremetal.CreateImageRequest) { r.FolderId = "" }, "folder_id"},
		{"no name", func(r *baremetal.CreateImageRequest) { r.Name = "" }, "name"},
		{"bad name", func(r *baremetal.CreateImageRequest) { r.Name = "bm_image" }, "name"},
		{"short name", func(r *baremetal.CreateImageRequest) { r.Name = "bm" }, "name"},
		{"long description", func(r *baremetal.CreateImageRequest) { r.Description = strings.Repeat("d", 257) }, "description"},
		{"no uri", func(r *baremetal.CreateImageRequest) { r.Uri = "" }, "uri"},
		{"ftp uri", func(r *baremetal.CreateImageRequest) { r.Uri = "ftp://example.com/a.iso" }, "uri"},
		{"relative uri", func(r *baremetal.CreateImageRequest) { r.Uri = "bucket/a.iso" }, "uri"},
		{"too many labels", func(r *baremetal.CreateImageRequest) { r.Labels = manyLabels(65) }, "labels"},
		{"bad label key", func(r *baremetal.CreateImageRequest) { r.Labels = map[string]string{"-env": "dev"} }, "labels.-env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := validBareMetalCreate(e.folder)
			tt.give(req)
			_, err := e.images.Create(context.Background(), req)
			expectViolation(t, err, tt.field)
		})
	}
	if got := e.s.Created(); got != 0 {
		t.Errorf("%d images created by invalid requests, want 0", got)
	}
}

func TestBareMetalImageCreate(t *testing.T) {
	e := startBareMetal(t, Options{TimeScale: 1})
	req := validBareMetalCreate(e.folder)
	op, id := e.create(t, req)
	if op.GetDone() {
		t.Fatalf("Create done at once at TimeScale 1: %v", op)
	}
	img := e.get(t, id)
	sum := md5.Sum([]byte(req.GetUri()))
	if img.GetStatus() != baremetal.Image_CREATING || img.GetChecksum() != hex.EncodeToString(sum[:]) {
		t.Errorf("new image status %v checksum %q, want CREATING and the MD5 of the URI", img.GetStatus(), img.GetChecksum())
	}
	if img.GetName() != req.GetName() || img.GetDescription() != req.GetDescription() || img.GetLabels()["env"] != "dev" || img.GetFolderId() != e.folder {
		t.Errorf("new image %v, want the requested fields", img)
	}
	// Creating, so it cannot change yet.
	_, err := e.images.Update(context.Background(), &baremetal.UpdateImageRequest{ImageId: id, UpdateMask: pathsMask("description"), Description: "x"})
	expectCode(t, err, codes.FailedPrecondition)

	// Names are unique in a folder, also while creating.
	_, err = e.images.Create(context.Background(), req)
	expectCode(t, err, codes.AlreadyExists)
	other := validBareMetalCreate("b1gnosuchfolder00000")
	_, err = e.images.Create(context.Background(), other)
	expectCode(t, err, codes.NotFound)

	e.clock.Advance(lifecycleWait)
	if got := unpackResponse(t, fetchOperation(t, e.conn, op.GetId()), &baremetalImage{}).GetStatus(); got != baremetal.Image_READY {
		t.Errorf("response status %v, want READY", got)
	}
	if got := e.get(t, id).GetStatus(); got != baremetal.Image_READY {
		t.Errorf("status %v after the delay, want READY", got)
	}
}

func TestBareMetalImageUpdateValidation(t *testing.T) {
	e := startBareMetal(t, Options{})
	id := e.seeded(t)[0].GetId()
	tests := []struct {
		name  string
		give  *baremetal.UpdateImageRequest
		field string
	}{
		{"no image", &baremetal.UpdateImageRequest{UpdateMask: pathsMask("name"), Name: "fine-name"}, "image_id"},
		{"no mask", &baremetal.UpdateImageRequest{ImageId: id, Name: "fine-name"}, "update_mask"},
		{"unknown path", &baremetal.UpdateImageRequest{ImageId: id, UpdateMask: pathsMask("checksum")}, "update_mask"},
		{"bad name", &baremetal.UpdateImageRequest{ImageId: id, UpdateMask: pathsMask("name"), Name: "Bad"}, "name"},
		{"long description", &baremetal.UpdateImageRequest{ImageId: id, UpdateMask: pathsMask("description"), Description: strings.Repeat("d", 257)}, "description"},
		{"bad label", &baremetal.UpdateImageRequest{ImageId: id, UpdateMask: pathsMask("labels"), Labels: map[string]string{"ok": "not ok"}}, "labels.ok"},
		{"too many labels", &baremetal.UpdateImageRequest{ImageId: id, UpdateMask: pathsMask("labels"), Labels: manyLabels(65)}, "labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.images.Update(context.Background(), tt.give)
			expectViolation(t, err, tt.field)
		})
	}
}

func TestBareMetalImageUpdatePassesUpdating(t *testing.T) {
	e := startBareMetal(t, Options{TimeScale: 1})
	ctx := context.Background()
	seeded := e.seeded(t)
	target := seeded[0]

	_, err := e.images.Update(ctx, &baremetal.UpdateImageRequest{ImageId: target.GetId(), UpdateMask: pathsMask("name"), Name: seeded[1].GetName()})
	expectCode(t, err, codes.AlreadyExists)
	_, err = e.images.Update(ctx, &baremetal.UpdateImageRequest{ImageId: "ly5nosuchimage000000", UpdateMask: pathsMask("name"), Name: "fine-name"})
	expectCode(t, err, codes.NotFound)

	op, err := e.images.Update(ctx, &baremetal.UpdateImageRequest{
		ImageId: target.GetId(), UpdateMask: pathsMask("name", "labels"), Name: "bm-renamed", Labels: map[string]string{"fresh": "set"},
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got := unpackMetadata(t, op, &baremetal.UpdateImageMetadata{}).GetImageId(); got != target.GetId() {
		t.Errorf("metadata image_id %q, want %q", got, target.GetId())
	}
	if got := e.get(t, target.GetId()); got.GetStatus() != baremetal.Image_UPDATING || got.GetName() != target.GetName() {
		t.Errorf("during the update: status %v name %q, want UPDATING and the old name", got.GetStatus(), got.GetName())
	}
	_, err = e.images.Update(ctx, &baremetal.UpdateImageRequest{ImageId: target.GetId(), UpdateMask: pathsMask("description"), Description: "x"})
	expectCode(t, err, codes.FailedPrecondition)
	_, err = e.images.Delete(ctx, &baremetal.DeleteImageRequest{ImageId: target.GetId()})
	expectCode(t, err, codes.FailedPrecondition)
	// The new name is spoken for until the update lands.
	_, err = e.images.Create(ctx, &baremetal.CreateImageRequest{FolderId: e.folder, Name: "bm-renamed", Uri: "https://example.com/a.iso"})
	expectCode(t, err, codes.AlreadyExists)

	e.clock.Advance(lifecycleWait)
	got := e.get(t, target.GetId())
	if got.GetStatus() != baremetal.Image_READY || got.GetName() != "bm-renamed" || len(got.GetLabels()) != 1 || got.GetLabels()["fresh"] != "set" || got.GetDescription() != target.GetDescription() {
		t.Errorf("after the update: %v, want READY with the new name, only the new labels and the old description", got)
	}
	if resp := unpackResponse(t, fetchOperation(t, e.conn, op.GetId()), &baremetalImage{}); resp.GetName() != "bm-renamed" {
		t.Errorf("response name %q, want bm-renamed", resp.GetName())
	}
}

func TestBareMetalImageDelete(t *testing.T) {
	e := startBareMetal(t, Options{TimeScale: 1})
	ctx := context.Background()
	seeded := e.seeded(t)

	// An image in ERROR can be deleted too.
	broken := seeded[1].GetId()
	e.s.mu.Lock()
	img := e.s.imageLocked(svcBareMetal, broken)
	setStatus(img, "ERROR")
	e.s.putImageLocked(svcBareMetal, img)
	e.s.mu.Unlock()

	for _, id := range []string{seeded[0].GetId(), broken} {
		op, err := e.images.Delete(ctx, &baremetal.DeleteImageRequest{ImageId: id})
		if err != nil {
			t.Fatalf("Delete %s: %v", id, err)
		}
		if got := unpackMetadata(t, op, &baremetal.DeleteImageMetadata{}).GetImageId(); got != id {
			t.Errorf("metadata image_id %q, want %q", got, id)
		}
		if got := e.get(t, id).GetStatus(); got != baremetal.Image_DELETING {
			t.Errorf("status %v right after Delete, want DELETING", got)
		}
		_, err = e.images.Delete(ctx, &baremetal.DeleteImageRequest{ImageId: id})
		expectCode(t, err, codes.FailedPrecondition)
		e.clock.Advance(lifecycleWait)
		_, err = e.images.Get(ctx, &baremetal.GetImageRequest{ImageId: id})
		expectCode(t, err, codes.NotFound)
		unpackResponse(t, fetchOperation(t, e.conn, op.GetId()), &emptypb.Empty{})
	}
	_, err := e.images.Delete(ctx, &baremetal.DeleteImageRequest{ImageId: "ly5nosuchimage000000"})
	expectCode(t, err, codes.NotFound)
}

func TestBareMetalImageListOperations(t *testing.T) {
	e := startBareMetal(t, Options{})
	ctx := context.Background()
	create, id := e.create(t, validBareMetalCreate(e.folder))
	update, err := e.images.Update(ctx, &baremetal.UpdateImageRequest{ImageId: id, UpdateMask: pathsMask("description"), Description: "changed"})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	var got []string
	tok := ""
	for range 10 {
		resp, err := e.images.ListOperations(ctx, &baremetal.ListImageOperationsRequest{ImageId: id, PageSize: 1, PageToken: tok})
		if err != nil {
			t.Fatalf("ListOperations: %v", err)
		}
		for _, op := range resp.GetOperations() {
			got = append(got, op.GetId())
		}
		if tok = resp.GetNextPageToken(); tok == "" {
			break
		}
	}
	if want := []string{update.GetId(), create.GetId()}; !slices.Equal(got, want) {
		t.Errorf("operations %v, want newest first %v", got, want)
	}

	_, err = e.images.ListOperations(ctx, &baremetal.ListImageOperationsRequest{ImageId: "ly5nosuchimage000000"})
	expectCode(t, err, codes.NotFound)
	_, err = e.images.ListOperations(ctx, &baremetal.ListImageOperationsRequest{})
	expectViolation(t, err, "image_id")
	_, err = e.images.ListOperations(ctx, &baremetal.ListImageOperationsRequest{ImageId: id, PageToken: encodePageToken("op1nosuchoperation00")})
	expectViolation(t, err, "page_token")
}
