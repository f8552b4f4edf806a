package sim

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yandex-cloud/go-genproto/yandex/cloud/compute/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/operation"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// computeEnv is an emulator with clients for the Compute image API.
type computeEnv struct {
	s      *Sim
	images compute.ImageServiceClient
	ops    operation.OperationServiceClient
	clock  *FakeClock
	folder string // the default folder
}

func startCompute(t *testing.T, opts Options) computeEnv {
	t.Helper()
	s, conn, clk := startSim(t, opts)
	return computeEnv{
		s: s, images: compute.NewImageServiceClient(conn), ops: operation.NewOperationServiceClient(conn),
		clock: clk, folder: s.DefaultFolderID(),
	}
}

// tinyDisk adds a 1 MiB disk to the default folder, small enough that
// min_disk_size can be tested at the bottom of its range.
func (e computeEnv) tinyDisk(t *testing.T) string {
	t.Helper()
	const id = "epdtinydisk000000001"
	e.s.mu.Lock()
	defer e.s.mu.Unlock()
	e.s.disks[id] = Source{ID: id, FolderID: e.folder, Name: "tiny", Size: 1 << 20, OS: "LINUX"}
	return id
}

// bigDisk is the largest disk of the default folder.
func (e computeEnv) bigDisk(t *testing.T) Source {
	t.Helper()
	disks, _, _ := e.s.Sources(e.folder)
	if len(disks) == 0 {
		t.Fatal("no disks in the default folder")
	}
	return slices.MaxFunc(disks, func(a, b Source) int { return cmp.Compare(a.Size, b.Size) })
}

// computeViolationFields lists the fields of the BadRequest details of err.
func computeViolationFields(err error) []string {
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

// wantComputeErr asserts err has code want and, for InvalidArgument, names field.
func wantComputeErr(t *testing.T, err error, want codes.Code, field string) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("code %v (%v), want %v", got, err, want)
	}
	if field == "" {
		return
	}
	if got := computeViolationFields(err); !slices.Contains(got, field) {
		t.Errorf("violations on %q, want one on %q", got, field)
	}
}

// computeOpImage is the image in a done operation's response.
func computeOpImage(t *testing.T, op *operation.Operation) *compute.Image {
	t.Helper()
	if !op.GetDone() || op.GetResponse() == nil {
		t.Fatalf("operation %s: done %v, error %v; want done with a response", op.GetId(), op.GetDone(), op.GetError())
	}
	img := &compute.Image{}
	if err := op.GetResponse().UnmarshalTo(img); err != nil {
		t.Fatalf("response of %s: %v", op.GetId(), err)
	}
	return img
}

func (e computeEnv) getOp(t *testing.T, id string) *operation.Operation {
	t.Helper()
	op, err := e.ops.Get(context.Background(), &operation.GetOperationRequest{OperationId: id})
	if err != nil {
		t.Fatalf("Operation.Get %s: %v", id, err)
	}
	return op
}

func (e computeEnv) get(t *testing.T, id string) *compute.Image {
	t.Helper()
	img, err := e.images.Get(context.Background(), &compute.GetImageRequest{ImageId: id})
	if err != nil {
		t.Fatalf("Get %s: %v", id, err)
	}
	return img
}

func (e computeEnv) create(t *testing.T, req *compute.CreateImageRequest) (*operation.Operation, string) {
	t.Helper()
	op, err := e.images.Create(context.Background(), req)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	md := &compute.CreateImageMetadata{}
	if err := op.GetMetadata().UnmarshalTo(md); err != nil {
		t.Fatalf("metadata of %s: %v", op.GetId(), err)
	}
	return op, md.GetImageId()
}

// listAll pages through a folder with page size 1000.
func (e computeEnv) listAll(t *testing.T, folder, filter string) []*compute.Image {
	t.Helper()
	var out []*compute.Image
	tok := ""
	for {
		resp, err := e.images.List(context.Background(), &compute.ListImagesRequest{FolderId: folder, PageSize: 1000, PageToken: tok, Filter: filter})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		out = append(out, resp.GetImages()...)
		if tok = resp.GetNextPageToken(); tok == "" {
			return out
		}
	}
}

// ready lists the READY images of the default folder (the seed has some in ERROR).
func (e computeEnv) ready(t *testing.T) []*compute.Image {
	t.Helper()
	var out []*compute.Image
	for _, img := range e.listAll(t, e.folder, "") {
		if img.GetStatus() == compute.Image_READY {
			out = append(out, img)
		}
	}
	if len(out) < 3 {
		t.Fatalf("%d READY images in the default folder, want at least 3", len(out))
	}
	return out
}

func TestComputeGet(t *testing.T) {
	e := startCompute(t, Options{})
	first := e.listAll(t, e.folder, "")[0]
	got := e.get(t, first.GetId())
	if !proto.Equal(got, first) {
		t.Errorf("Get %v, want %v", got, first)
	}
	for _, field := range []string{"created_at", "storage_size", "min_disk_size", "os", "hardware_generation", "size"} {
		if !got.ProtoReflect().Has(got.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(field))) {
			t.Errorf("Get: %s is not set", field)
		}
	}
	tests := []struct {
		give  string
		code  codes.Code
		field string
	}{
		{"", codes.InvalidArgument, "image_id"},
		{strings.Repeat("a", 51), codes.InvalidArgument, "image_id"},
		{strings.Repeat("a", 50), codes.NotFound, ""},
		{"fd8nosuchimage000000", codes.NotFound, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.12s/%d", tt.give, len(tt.give)), func(t *testing.T) {
			_, err := e.images.Get(context.Background(), &compute.GetImageRequest{ImageId: tt.give})
			wantComputeErr(t, err, tt.code, tt.field)
		})
	}
}

func TestComputeGetLatestByFamily(t *testing.T) {
	e := startCompute(t, Options{TimeScale: 1})
	ctx := context.Background()
	const fam = "debian-12"
	var want *compute.Image
	for _, img := range e.listAll(t, e.folder, "") {
		if img.GetFamily() == fam && img.GetStatus() == compute.Image_READY && (want == nil || newerImage(img, want)) {
			want = img
		}
	}
	if want == nil {
		t.Fatalf("no seeded image of %s", fam)
	}
	req := &compute.GetImageLatestByFamilyRequest{FolderId: e.folder, Family: fam}
	got, err := e.images.GetLatestByFamily(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if got.GetId() != want.GetId() {
		t.Errorf("latest %s (%v), want %s (%v)", got.GetId(), got.GetCreatedAt().AsTime(), want.GetId(), want.GetCreatedAt().AsTime())
	}

	// A newerImage image of the family counts only once it is READY.
	op, id := e.create(t, &compute.CreateImageRequest{FolderId: e.folder, Name: "debian-newest", Family: fam, Source: &compute.CreateImageRequest_Uri{Uri: "https://storage.yandexcloud.net/b/debian.qcow2"}})
	if got, _ := e.images.GetLatestByFamily(ctx, req); got.GetId() != want.GetId() {
		t.Errorf("latest while creating %s, want %s", got.GetId(), want.GetId())
	}
	e.clock.Advance(time.Minute)
	if !e.getOp(t, op.GetId()).GetDone() {
		t.Fatal("create not done after a minute")
	}
	if got, _ := e.images.GetLatestByFamily(ctx, req); got.GetId() != id {
		t.Errorf("latest after create %s, want %s", got.GetId(), id)
	}

	tests := []struct {
		name   string
		folder string
		family string
		code   codes.Code
		field  string
	}{
		{"no folder", "", fam, codes.InvalidArgument, "folder_id"},
		{"long folder", strings.Repeat("b", 51), fam, codes.InvalidArgument, "folder_id"},
		{"no family", e.folder, "", codes.InvalidArgument, "family"},
		{"bad family", e.folder, "Debian", codes.InvalidArgument, "family"},
		{"short family", e.folder, "de", codes.InvalidArgument, "family"},
		{"unknown folder", "b1gnosuchfolder00000", fam, codes.NotFound, ""},
		{"unknown family", e.folder, "no-such-family", codes.NotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.images.GetLatestByFamily(ctx, &compute.GetImageLatestByFamilyRequest{FolderId: tt.folder, Family: tt.family})
			wantComputeErr(t, err, tt.code, tt.field)
		})
	}
}

func TestComputeListPagingWhileCreating(t *testing.T) {
	e := startCompute(t, Options{Images: 5000})
	before := map[string]bool{}
	for _, img := range e.s.compute.all(e.folder) {
		before[img.GetId()] = true
	}
	if got := len(before); got != 2500 {
		t.Fatalf("%d images in the default folder, want 2500", got)
	}
	for _, size := range []int64{1000, 7} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			seen := map[string]bool{}
			tok, pages := "", 0
			for {
				resp, err := e.images.List(context.Background(), &compute.ListImagesRequest{FolderId: e.folder, PageSize: size, PageToken: tok})
				if err != nil {
					t.Fatalf("List page %d: %v", pages, err)
				}
				pages++
				if got := int64(len(resp.GetImages())); got > size {
					t.Fatalf("page %d has %d images, want at most %d", pages, got, size)
				}
				for _, img := range resp.GetImages() {
					if seen[img.GetId()] {
						t.Fatalf("image %s listed twice", img.GetId())
					}
					seen[img.GetId()] = true
				}
				if tok = resp.GetNextPageToken(); tok == "" {
					break
				}
				// Someone creates an image between two pages.
				e.create(t, &compute.CreateImageRequest{FolderId: e.folder, Source: &compute.CreateImageRequest_Uri{Uri: fmt.Sprintf("https://s3/x/%d-%d.img", size, pages)}})
			}
			for id := range before {
				if !seen[id] {
					t.Errorf("image %s was never listed", id)
				}
			}
			if min := int(2500/size) + 1; pages < min {
				t.Errorf("%d pages, want at least %d", pages, min)
			}
		})
	}
}

func TestComputeListFilter(t *testing.T) {
	e := startCompute(t, Options{})
	all := e.listAll(t, e.folder, "")
	a, b := all[3].GetName(), all[7].GetName()
	tests := []struct {
		give  string
		want  []string // names; nil means all but the excluded
		count int
	}{
		{"", nil, len(all)},
		{fmt.Sprintf("name=%q", a), []string{a}, 1},
		{fmt.Sprintf("name = '%s'", a), []string{a}, 1},
		{fmt.Sprintf("name!=%q", a), nil, len(all) - 1},
		{fmt.Sprintf("name IN (%q, %q)", a, b), []string{a, b}, 2},
		{fmt.Sprintf("name in (%q)", b), []string{b}, 1},
		{fmt.Sprintf("name NOT IN (%q, %q)", a, b), nil, len(all) - 2},
		{`name="no-such-image"`, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			got := e.listAll(t, e.folder, tt.give)
			if len(got) != tt.count {
				t.Fatalf("%d images, want %d", len(got), tt.count)
			}
			for _, name := range tt.want {
				if !slices.ContainsFunc(got, func(img *compute.Image) bool { return img.GetName() == name }) {
					t.Errorf("%s not listed", name)
				}
			}
		})
	}
}

func TestComputeListErrors(t *testing.T) {
	e := startCompute(t, Options{})
	tests := []struct {
		name  string
		give  *compute.ListImagesRequest
		code  codes.Code
		field string
	}{
		{"ok", &compute.ListImagesRequest{FolderId: e.folder}, codes.OK, ""},
		{"order by id", &compute.ListImagesRequest{FolderId: e.folder, OrderBy: "id asc"}, codes.OK, ""},
		{"page size 1000", &compute.ListImagesRequest{FolderId: e.folder, PageSize: 1000}, codes.OK, ""},
		{"no folder", &compute.ListImagesRequest{}, codes.InvalidArgument, "folder_id"},
		{"long folder", &compute.ListImagesRequest{FolderId: strings.Repeat("f", 51)}, codes.InvalidArgument, "folder_id"},
		{"unknown folder", &compute.ListImagesRequest{FolderId: "b1gnosuchfolder00000"}, codes.NotFound, ""},
		{"page size -1", &compute.ListImagesRequest{FolderId: e.folder, PageSize: -1}, codes.InvalidArgument, "page_size"},
		{"page size 1001", &compute.ListImagesRequest{FolderId: e.folder, PageSize: 1001}, codes.InvalidArgument, "page_size"},
		{"foreign token", &compute.ListImagesRequest{FolderId: e.folder, PageToken: "abc"}, codes.InvalidArgument, "page_token"},
		{"long token", &compute.ListImagesRequest{FolderId: e.folder, PageToken: strings.Repeat("t", 101)}, codes.InvalidArgument, "page_token"},
		{"bad filter", &compute.ListImagesRequest{FolderId: e.folder, Filter: `name ~ "x"`}, codes.InvalidArgument, "filter"},
		{"unquoted filter", &compute.ListImagesRequest{FolderId: e.folder, Filter: `name = x`}, codes.InvalidArgument, "filter"},
		{"filter on family", &compute.ListImagesRequest{FolderId: e.folder, Filter: `family = "x"`}, codes.InvalidArgument, "filter"},
		{"unclosed IN", &compute.ListImagesRequest{FolderId: e.folder, Filter: `name IN ("a"`}, codes.InvalidArgument, "filter"},
		{"long filter", &compute.ListImagesRequest{FolderId: e.folder, Filter: `name="` + strings.Repeat("a", 1000) + `"`}, codes.InvalidArgument, "filter"},
		{"order by name", &compute.ListImagesRequest{FolderId: e.folder, OrderBy: "name"}, codes.InvalidArgument, "order_by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.images.List(context.Background(), tt.give)
			wantComputeErr(t, err, tt.code, tt.field)
		})
	}
}

// computeLabels makes n valid labels.
func computeLabels(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprintf("k%02d", i)] = "v"
	}
	return m
}

func TestComputeCreateValidation(t *testing.T) {
	e := startCompute(t, Options{})
	tiny := e.tinyDisk(t)
	big := e.bigDisk(t)
	long := func(n int) string { return "a" + strings.Repeat("b", n-1) }
	tests := []struct {
		name  string
		give  func(r *compute.CreateImageRequest)
		code  codes.Code
		field string
	}{
		{"minimal", func(r *compute.CreateImageRequest) {}, codes.OK, ""},
		{"name 2", func(r *compute.CreateImageRequest) { r.Name = "ab" }, codes.InvalidArgument, "name"},
		{"name 3", func(r *compute.CreateImageRequest) { r.Name = "abc" }, codes.OK, ""},
		{"name 63", func(r *compute.CreateImageRequest) { r.Name = long(63) }, codes.OK, ""},
		{"name 64", func(r *compute.CreateImageRequest) { r.Name = long(64) }, codes.InvalidArgument, "name"},
		{"name uppercase", func(r *compute.CreateImageRequest) { r.Name = "Ubuntu" }, codes.InvalidArgument, "name"},
		{"name trailing hyphen", func(r *compute.CreateImageRequest) { r.Name = "ubuntu-" }, codes.InvalidArgument, "name"},
		{"name leading digit", func(r *compute.CreateImageRequest) { r.Name = "1ubuntu" }, codes.InvalidArgument, "name"},
		{"name with hyphens and digits", func(r *compute.CreateImageRequest) { r.Name = "u-2-4" }, codes.OK, ""},
		{"description 256", func(r *compute.CreateImageRequest) { r.Description = strings.Repeat("d", 256) }, codes.OK, ""},
		{"description 256 runes", func(r *compute.CreateImageRequest) { r.Description = strings.Repeat("ж", 256) }, codes.OK, ""},
		{"description 257", func(r *compute.CreateImageRequest) { r.Description = strings.Repeat("d", 257) }, codes.InvalidArgument, "description"},
		{"labels 64", func(r *compute.CreateImageRequest) { r.Labels = computeLabels(64) }, codes.OK, ""},
		{"labels 65", func(r *compute.CreateImageRequest) { r.Labels = computeLabels(65) }, codes.InvalidArgument, "labels"},
		{"label key 63", func(r *compute.CreateImageRequest) { r.Labels = map[string]string{long(63): "v"} }, codes.OK, ""},
		{"label key 64", func(r *compute.CreateImageRequest) { r.Labels = map[string]string{long(64): "v"} }, codes.InvalidArgument, "labels." + long(64)},
		{"label key uppercase", func(r *compute.CreateImageRequest) { r.Labels = map[string]string{"Env": "v"} }, codes.InvalidArgument, "labels.Env"},
		{"label key leading digit", func(r *compute.CreateImageRequest) { r.Labels = map[string]string{"1env": "v"} }, codes.InvalidArgument, "labels.1env"},
		{"label key empty", func(r *compute.CreateImageRequest) { r.Labels = map[string]string{"": "v"} }, codes.InvalidArgument, "labels"},
		{"label key with _ and -", func(r *compute.CreateImageRequest) { r.Labels = map[string]string{"cost_center-2": "v"} }, codes.OK, ""},
		{"label value 63", func(r *compute.CreateImageRequest) { r.Labels = map[string]string{"env": long(63)} }, codes.OK, ""},
		{"label value 64", func(r *compute.CreateImageRequest) { r.Labels = map[string]string{"env": long(64)} }, codes.InvalidArgument, "labels.env"},
		{"label value empty", func(r *compute.CreateImageRequest) { r.Labels = map[string]string{"env": ""} }, codes.OK, ""},
		{"label value uppercase", func(r *compute.CreateImageRequest) { r.Labels = map[string]string{"env": "Prod"} }, codes.InvalidArgument, "labels.env"},
		{"label value space", func(r *compute.CreateImageRequest) { r.Labels = map[string]string{"env": "a b"} }, codes.InvalidArgument, "labels.env"},
		{"family", func(r *compute.CreateImageRequest) { r.Family = "my-family" }, codes.OK, ""},
		{"family 2", func(r *compute.CreateImageRequest) { r.Family = "ab" }, codes.InvalidArgument, "family"},
		{"family uppercase", func(r *compute.CreateImageRequest) { r.Family = "Ubuntu" }, codes.InvalidArgument, "family"},
		{"family trailing hyphen", func(r *compute.CreateImageRequest) { r.Family = "ubuntu-" }, codes.InvalidArgument, "family"},
		{"min disk 4194303", func(r *compute.CreateImageRequest) { r.MinDiskSize = 4194303 }, codes.InvalidArgument, "min_disk_size"},
		{"min disk 4194304", func(r *compute.CreateImageRequest) { r.MinDiskSize = 4194304 }, codes.OK, ""},
		{"min disk 4 TiB", func(r *compute.CreateImageRequest) { r.MinDiskSize = 4398046511104 }, codes.OK, ""},
		{"min disk 4 TiB + 1", func(r *compute.CreateImageRequest) { r.MinDiskSize = 4398046511105 }, codes.InvalidArgument, "min_disk_size"},
		{"min disk below size", func(r *compute.CreateImageRequest) {
			r.Source = &compute.CreateImageRequest_DiskId{DiskId: big.ID}
			r.MinDiskSize = big.Size - 1
		}, codes.InvalidArgument, "min_disk_size"},
		{"min disk equal to size", func(r *compute.CreateImageRequest) {
			r.Source = &compute.CreateImageRequest_DiskId{DiskId: big.ID}
			r.MinDiskSize = big.Size
		}, codes.OK, ""},
		{"no folder", func(r *compute.CreateImageRequest) { r.FolderId = "" }, codes.InvalidArgument, "folder_id"},
		{"folder 51", func(r *compute.CreateImageRequest) { r.FolderId = long(51) }, codes.InvalidArgument, "folder_id"},
		{"folder 50 unknown", func(r *compute.CreateImageRequest) { r.FolderId = long(50) }, codes.NotFound, ""},
		{"no source", func(r *compute.CreateImageRequest) { r.Source = nil }, codes.InvalidArgument, "source"},
		{"image id 51", func(r *compute.CreateImageRequest) { r.Source = &compute.CreateImageRequest_ImageId{ImageId: long(51)} }, codes.InvalidArgument, "image_id"},
		{"image id empty", func(r *compute.CreateImageRequest) { r.Source = &compute.CreateImageRequest_ImageId{} }, codes.InvalidArgument, "image_id"},
		{"disk id 51", func(r *compute.CreateImageRequest) { r.Source = &compute.CreateImageRequest_DiskId{DiskId: long(51)} }, codes.InvalidArgument, "disk_id"},
		{"snapshot id 51", func(r *compute.CreateImageRequest) {
			r.Source = &compute.CreateImageRequest_SnapshotId{SnapshotId: long(51)}
		}, codes.InvalidArgument, "snapshot_id"},
		{"uri ftp", func(r *compute.CreateImageRequest) {
			r.Source = &compute.CreateImageRequest_Uri{Uri: "ftp://host/a.qcow2"}
		}, codes.InvalidArgument, "uri"},
		{"uri relative", func(r *compute.CreateImageRequest) { r.Source = &compute.CreateImageRequest_Uri{Uri: "a.qcow2"} }, codes.InvalidArgument, "uri"},
		{"uri empty", func(r *compute.CreateImageRequest) { r.Source = &compute.CreateImageRequest_Uri{} }, codes.InvalidArgument, "uri"},
		{"product id 50", func(r *compute.CreateImageRequest) { r.ProductIds = []string{long(50)} }, codes.OK, ""},
		{"product id 51", func(r *compute.CreateImageRequest) { r.ProductIds = []string{"f2e", long(51)} }, codes.InvalidArgument, "product_ids[1]"},
		{"os type unknown", func(r *compute.CreateImageRequest) { r.Os = &compute.Os{Type: 9} }, codes.InvalidArgument, "os.type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &compute.CreateImageRequest{FolderId: e.folder, Source: &compute.CreateImageRequest_DiskId{DiskId: tiny}}
			tt.give(req)
			_, err := e.images.Create(context.Background(), req)
			wantComputeErr(t, err, tt.code, tt.field)
		})
	}
}

func TestComputeCreateSources(t *testing.T) {
	e := startCompute(t, Options{TimeScale: 1})
	ctx := context.Background()
	disks, snaps, _ := e.s.Sources(e.folder)
	var win *compute.Image
	for _, img := range e.listAll(t, e.folder, "") {
		if img.GetStatus() == compute.Image_READY && len(img.GetProductIds()) > 0 && img.GetOs().GetType() == compute.Os_WINDOWS {
			win = img
			break
		}
	}
	if win == nil {
		t.Fatal("no READY Windows image with product ids in the seed")
	}
	const uri = "https://storage.yandexcloud.net/bucket/ubuntu.qcow2"
	tests := []struct {
		name        string
		give        *compute.CreateImageRequest
		wantSize    int64
		wantOS      compute.Os_Type
		wantProduct []string
	}{
		{"image", &compute.CreateImageRequest{Name: "from-image", Source: &compute.CreateImageRequest_ImageId{ImageId: win.GetId()}}, win.GetSize(), compute.Os_WINDOWS, win.GetProductIds()},
		{"image with own os and products", &compute.CreateImageRequest{Name: "from-image-2", Source: &compute.CreateImageRequest_ImageId{ImageId: win.GetId()}, Os: &compute.Os{Type: compute.Os_LINUX}, ProductIds: []string{"f2eown"}}, win.GetSize(), compute.Os_LINUX, []string{"f2eown"}},
		{"disk", &compute.CreateImageRequest{Name: "from-disk", Source: &compute.CreateImageRequest_DiskId{DiskId: disks[0].ID}}, disks[0].Size, computeOS(disks[0].OS).GetType(), nil},
		{"snapshot", &compute.CreateImageRequest{Name: "from-snapshot", Source: &compute.CreateImageRequest_SnapshotId{SnapshotId: snaps[0].ID}}, snaps[0].Size, computeOS(snaps[0].OS).GetType(), nil},
		{"uri", &compute.CreateImageRequest{Name: "from-uri", Source: &compute.CreateImageRequest_Uri{Uri: uri}}, uriSize(uri), compute.Os_LINUX, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.give.FolderId = e.folder
			op, id := e.create(t, tt.give)
			if op.GetDone() {
				t.Error("create done at once with TimeScale 1")
			}
			img := e.get(t, id)
			if img.GetStatus() != compute.Image_CREATING {
				t.Errorf("status %v, want CREATING", img.GetStatus())
			}
			if got := img.GetSize(); got != tt.wantSize {
				t.Errorf("size %d, want %d", got, tt.wantSize)
			}
			if got := img.GetOs().GetType(); got != tt.wantOS {
				t.Errorf("os %v, want %v", got, tt.wantOS)
			}
			if got := img.GetProductIds(); !slices.Equal(got, tt.wantProduct) {
				t.Errorf("product ids %v, want %v", got, tt.wantProduct)
			}
			if got, want := img.GetMinDiskSize(), roundUpToGiB(tt.wantSize); got < want {
				t.Errorf("min disk size %d, want at least %d", got, want)
			}
			if img.GetStorageSize() <= 0 || img.GetStorageSize() > img.GetSize() {
				t.Errorf("storage size %d, want in (0, %d]", img.GetStorageSize(), img.GetSize())
			}
			if !img.GetCreatedAt().AsTime().Equal(testEpoch) || img.GetHardwareGeneration() == nil {
				t.Errorf("created_at %v, hardware_generation %v; want %v and set", img.GetCreatedAt().AsTime(), img.GetHardwareGeneration(), testEpoch)
			}
		})
	}
	if s := uriSize(uri); s < 1<<30 || s > 20<<30 || s != uriSize(uri) {
		t.Errorf("uri size %d, want a fixed size in 1..20 GiB", s)
	}

	// A CREATING image is not a source yet; unknown sources are NotFound.
	_, creating := e.create(t, &compute.CreateImageRequest{FolderId: e.folder, Source: &compute.CreateImageRequest_Uri{Uri: uri}})
	errs := []struct {
		name string
		give *compute.CreateImageRequest
		code codes.Code
	}{
		{"creating image", &compute.CreateImageRequest{Source: &compute.CreateImageRequest_ImageId{ImageId: creating}}, codes.FailedPrecondition},
		{"unknown image", &compute.CreateImageRequest{Source: &compute.CreateImageRequest_ImageId{ImageId: "fd8nosuchimage000000"}}, codes.NotFound},
		{"unknown disk", &compute.CreateImageRequest{Source: &compute.CreateImageRequest_DiskId{DiskId: "epdnosuchdisk0000000"}}, codes.NotFound},
		{"unknown snapshot", &compute.CreateImageRequest{Source: &compute.CreateImageRequest_SnapshotId{SnapshotId: "fd8nosuchsnap0000000"}}, codes.NotFound},
		{"unknown folder", &compute.CreateImageRequest{FolderId: "b1gnosuchfolder00000", Source: &compute.CreateImageRequest_Uri{Uri: uri}}, codes.NotFound},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			if tt.give.FolderId == "" {
				tt.give.FolderId = e.folder
			}
			_, err := e.images.Create(ctx, tt.give)
			wantComputeErr(t, err, tt.code, "")
		})
	}
}

func computeMask(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }

func TestComputeUpdateValidation(t *testing.T) {
	e := startCompute(t, Options{})
	img := e.ready(t)[0]
	long := func(n int) string { return "a" + strings.Repeat("b", n-1) }
	tests := []struct {
		name  string
		give  *compute.UpdateImageRequest
		code  codes.Code
		field string
	}{
		{"description", &compute.UpdateImageRequest{UpdateMask: computeMask("description"), Description: "new"}, codes.OK, ""},
		{"unmasked fields are not checked", &compute.UpdateImageRequest{UpdateMask: computeMask("description"), Name: "BAD", Labels: map[string]string{"X": "Y"}}, codes.OK, ""},
		{"no mask", &compute.UpdateImageRequest{Description: "x"}, codes.InvalidArgument, "update_mask"},
		{"empty mask", &compute.UpdateImageRequest{UpdateMask: computeMask()}, codes.InvalidArgument, "update_mask"},
		{"family in mask", &compute.UpdateImageRequest{UpdateMask: computeMask("family"), Name: "x"}, codes.InvalidArgument, "update_mask"},
		{"unknown path", &compute.UpdateImageRequest{UpdateMask: computeMask("name", "size")}, codes.InvalidArgument, "update_mask"},
		{"no image id", &compute.UpdateImageRequest{ImageId: "-", UpdateMask: computeMask("name")}, codes.NotFound, ""},
		{"image id 51", &compute.UpdateImageRequest{ImageId: long(51), UpdateMask: computeMask("name")}, codes.InvalidArgument, "image_id"},
		{"name 2", &compute.UpdateImageRequest{UpdateMask: computeMask("name"), Name: "ab"}, codes.InvalidArgument, "name"},
		{"name 3", &compute.UpdateImageRequest{UpdateMask: computeMask("name"), Name: "abc"}, codes.OK, ""},
		{"name 63", &compute.UpdateImageRequest{UpdateMask: computeMask("name"), Name: long(63)}, codes.OK, ""},
		{"name 64", &compute.UpdateImageRequest{UpdateMask: computeMask("name"), Name: long(64)}, codes.InvalidArgument, "name"},
		{"name uppercase", &compute.UpdateImageRequest{UpdateMask: computeMask("name"), Name: "aBc"}, codes.InvalidArgument, "name"},
		{"name trailing hyphen", &compute.UpdateImageRequest{UpdateMask: computeMask("name"), Name: "abc-"}, codes.InvalidArgument, "name"},
		{"name leading digit", &compute.UpdateImageRequest{UpdateMask: computeMask("name"), Name: "9abc"}, codes.InvalidArgument, "name"},
		{"description 256", &compute.UpdateImageRequest{UpdateMask: computeMask("description"), Description: strings.Repeat("d", 256)}, codes.OK, ""},
		{"description 257", &compute.UpdateImageRequest{UpdateMask: computeMask("description"), Description: strings.Repeat("d", 257)}, codes.InvalidArgument, "description"},
		{"labels 64", &compute.UpdateImageRequest{UpdateMask: computeMask("labels"), Labels: computeLabels(64)}, codes.OK, ""},
		{"labels 65", &compute.UpdateImageRequest{UpdateMask: computeMask("labels"), Labels: computeLabels(65)}, codes.InvalidArgument, "labels"},
		{"label key 64", &compute.UpdateImageRequest{UpdateMask: computeMask("labels"), Labels: map[string]string{long(64): ""}}, codes.InvalidArgument, "labels." + long(64)},
		{"label key uppercase", &compute.UpdateImageRequest{UpdateMask: computeMask("labels"), Labels: map[string]string{"Env": ""}}, codes.InvalidArgument, "labels.Env"},
		{"label value 64", &compute.UpdateImageRequest{UpdateMask: computeMask("labels"), Labels: map[string]string{"env": long(64)}}, codes.InvalidArgument, "labels.env"},
		{"label value bad", &compute.UpdateImageRequest{UpdateMask: computeMask("labels"), Labels: map[string]string{"env": "a.b"}}, codes.InvalidArgument, "labels.env"},
		{"min disk 4194303", &compute.UpdateImageRequest{UpdateMask: computeMask("min_disk_size"), MinDiskSize: 4194303}, codes.InvalidArgument, "min_disk_size"},
		{"min disk 0", &compute.UpdateImageRequest{UpdateMask: computeMask("min_disk_size")}, codes.InvalidArgument, "min_disk_size"},
		{"min disk below size", &compute.UpdateImageRequest{UpdateMask: computeMask("min_disk_size"), MinDiskSize: img.GetSize() - 1}, codes.InvalidArgument, "min_disk_size"},
		{"min disk 4 TiB", &compute.UpdateImageRequest{UpdateMask: computeMask("min_disk_size"), MinDiskSize: 4398046511104}, codes.OK, ""},
		{"min disk 4 TiB + 1", &compute.UpdateImageRequest{UpdateMask: computeMask("min_disk_size"), MinDiskSize: 4398046511105}, codes.InvalidArgument, "min_disk_size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.give.ImageId == "" {
				tt.give.ImageId = img.GetId()
			}
			_, err := e.images.Update(context.Background(), tt.give)
			wantComputeErr(t, err, tt.code, tt.field)
		})
	}
	// An empty image id is required, too.
	_, err := e.images.Update(context.Background(), &compute.UpdateImageRequest{UpdateMask: computeMask("name")})
	wantComputeErr(t, err, codes.InvalidArgument, "image_id")
}

func TestComputeUpdateApplies(t *testing.T) {
	e := startCompute(t, Options{})
	img := e.ready(t)[1]
	op, err := e.images.Update(context.Background(), &compute.UpdateImageRequest{
		ImageId: img.GetId(), UpdateMask: computeMask("name", "labels", "min_disk_size", "description"),
		Name: "renamed", Labels: map[string]string{"only": "this"}, MinDiskSize: roundUpToGiB(img.GetSize()) + 1<<30,
		Description: "", // cleared
	})
	if err != nil {
		t.Fatal(err)
	}
	got := computeOpImage(t, op)
	want := cloneMsg(img)
	want.Name, want.Labels, want.MinDiskSize, want.Description = "renamed", map[string]string{"only": "this"}, roundUpToGiB(img.GetSize())+1<<30, ""
	if !proto.Equal(got, want) {
		t.Errorf("updated image\n%v\nwant\n%v", got, want)
	}
	if got := e.get(t, img.GetId()); !proto.Equal(got, want) {
		t.Errorf("Get after update %v, want %v", got, want)
	}
	md := &compute.UpdateImageMetadata{}
	if err := op.GetMetadata().UnmarshalTo(md); err != nil || md.GetImageId() != img.GetId() || op.GetDescription() != "Update image" {
		t.Errorf("metadata %v (%v), description %q; want image %s, \"Update image\"", md, err, op.GetDescription(), img.GetId())
	}
}

func TestComputeAlreadyExists(t *testing.T) {
	e := startCompute(t, Options{TimeScale: 1})
	ctx := context.Background()
	all := e.ready(t)
	taken, other := all[0], all[1]
	src := &compute.CreateImageRequest_Uri{Uri: "https://s3/x.img"}
	folders := e.s.Folders()
	var team string
	for _, f := range folders {
		if f.GetId() != e.folder {
			team = f.GetId()
			break
		}
	}

	_, err := e.images.Create(ctx, &compute.CreateImageRequest{FolderId: e.folder, Name: taken.GetName(), Source: src})
	wantComputeErr(t, err, codes.AlreadyExists, "")
	_, err = e.images.Update(ctx, &compute.UpdateImageRequest{ImageId: other.GetId(), UpdateMask: computeMask("name"), Name: taken.GetName()})
	wantComputeErr(t, err, codes.AlreadyExists, "")
	// Renaming to its own name is no conflict; the same name in another folder neither.
	if _, err := e.images.Update(ctx, &compute.UpdateImageRequest{ImageId: taken.GetId(), UpdateMask: computeMask("name"), Name: taken.GetName()}); err != nil {
		t.Errorf("rename to own name: %v", err)
	}
	if _, err := e.images.Create(ctx, &compute.CreateImageRequest{FolderId: team, Name: taken.GetName(), Source: src}); err != nil {
		t.Errorf("same name in folder %s: %v", team, err)
	}
	// A CREATING image holds its name at once.
	e.create(t, &compute.CreateImageRequest{FolderId: e.folder, Name: "fresh", Source: src})
	_, err = e.images.Create(ctx, &compute.CreateImageRequest{FolderId: e.folder, Name: "fresh", Source: src})
	wantComputeErr(t, err, codes.AlreadyExists, "")
	// A pending rename holds the new name until it is applied.
	if _, err := e.images.Update(ctx, &compute.UpdateImageRequest{ImageId: other.GetId(), UpdateMask: computeMask("name"), Name: "pending-name"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.images.Create(ctx, &compute.CreateImageRequest{FolderId: e.folder, Name: "pending-name", Source: src})
	wantComputeErr(t, err, codes.AlreadyExists, "")
	// Empty names never clash.
	for range 2 {
		if _, err := e.images.Create(ctx, &compute.CreateImageRequest{FolderId: e.folder, Source: src}); err != nil {
			t.Errorf("unnamed create: %v", err)
		}
	}
}

func TestComputeLifecycle(t *testing.T) {
	e := startCompute(t, Options{TimeScale: 1})
	ctx := context.Background()
	disk := e.bigDisk(t)
	op, id := e.create(t, &compute.CreateImageRequest{
		FolderId: e.folder, Name: "lifecycle", Family: "lc-family", Labels: map[string]string{"env": "test"},
		Pooled: true, Source: &compute.CreateImageRequest_DiskId{DiskId: disk.ID},
	})
	if op.GetDone() || op.GetDescription() != "Create image" || op.GetCreatedBy() == "" || op.GetCreatedAt() == nil {
		t.Errorf("create op %v, want not done, \"Create image\", created_by and created_at set", op)
	}
	if got := e.get(t, id); got.GetStatus() != compute.Image_CREATING || !got.GetPooled() {
		t.Errorf("status %v, pooled %v; want CREATING, true", got.GetStatus(), got.GetPooled())
	}
	if got := e.listAll(t, e.folder, `name="lifecycle"`); len(got) != 1 {
		t.Errorf("List shows %d images named lifecycle, want 1", len(got))
	}

	_, err := e.images.Update(ctx, &compute.UpdateImageRequest{ImageId: id, UpdateMask: computeMask("description"), Description: "x"})
	wantComputeErr(t, err, codes.FailedPrecondition, "")
	if !strings.Contains(status.Convert(err).Message(), "CREATING") {
		t.Errorf("message %q, want it to name the status CREATING", status.Convert(err).Message())
	}
	_, err = e.images.Delete(ctx, &compute.DeleteImageRequest{ImageId: id})
	wantComputeErr(t, err, codes.FailedPrecondition, "")

	delay := e.s.createDelay(disk.Size)
	e.clock.Advance(delay - time.Nanosecond)
	if got := e.get(t, id).GetStatus(); got != compute.Image_CREATING {
		t.Errorf("status just before the delay %v, want CREATING", got)
	}
	e.clock.Advance(time.Nanosecond)
	ready := e.get(t, id)
	if ready.GetStatus() != compute.Image_READY {
		t.Fatalf("status after the delay %v, want READY", ready.GetStatus())
	}
	if got := computeOpImage(t, e.getOp(t, op.GetId())); !proto.Equal(got, ready) {
		t.Errorf("create response %v, want %v", got, ready)
	}

	upd, err := e.images.Update(ctx, &compute.UpdateImageRequest{ImageId: id, UpdateMask: computeMask("description"), Description: "edited"})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.get(t, id).GetDescription(); got != "" || upd.GetDone() {
		t.Errorf("description %q right after Update (done %v), want it unchanged until the op is done", got, upd.GetDone())
	}
	e.clock.Advance(e.s.updateDelay())
	if got := computeOpImage(t, e.getOp(t, upd.GetId())).GetDescription(); got != "edited" {
		t.Errorf("description after update %q, want edited", got)
	}

	del, err := e.images.Delete(ctx, &compute.DeleteImageRequest{ImageId: id})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.get(t, id).GetStatus(); got != compute.Image_DELETING {
		t.Errorf("status after Delete %v, want DELETING", got)
	}
	_, err = e.images.Delete(ctx, &compute.DeleteImageRequest{ImageId: id})
	wantComputeErr(t, err, codes.FailedPrecondition, "")
	_, err = e.images.Update(ctx, &compute.UpdateImageRequest{ImageId: id, UpdateMask: computeMask("description"), Description: "x"})
	wantComputeErr(t, err, codes.FailedPrecondition, "")
	e.clock.Advance(e.s.deleteDelay())
	_, err = e.images.Get(ctx, &compute.GetImageRequest{ImageId: id})
	wantComputeErr(t, err, codes.NotFound, "")
	done := e.getOp(t, del.GetId())
	if !done.GetDone() || done.GetResponse() == nil || !done.GetResponse().MessageIs(&emptypb.Empty{}) {
		t.Errorf("delete op %v, want done with Empty", done)
	}
	_, err = e.images.Delete(ctx, &compute.DeleteImageRequest{ImageId: id})
	wantComputeErr(t, err, codes.NotFound, "")

	// ListOperations: newest first, paged one by one, the same as in one page.
	resp, err := e.images.ListOperations(ctx, &compute.ListImageOperationsRequest{ImageId: id})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range resp.GetOperations() {
		got = append(got, o.GetId())
	}
	if want := []string{del.GetId(), upd.GetId(), op.GetId()}; !slices.Equal(got, want) {
		t.Errorf("operations %v, want %v", got, want)
	}
	var paged []string
	tok := ""
	for {
		resp, err := e.images.ListOperations(ctx, &compute.ListImageOperationsRequest{ImageId: id, PageSize: 1, PageToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range resp.GetOperations() {
			paged = append(paged, o.GetId())
		}
		if tok = resp.GetNextPageToken(); tok == "" {
			break
		}
	}
	if !slices.Equal(paged, got) {
		t.Errorf("paged operations %v, want %v", paged, got)
	}
}

func TestComputeDeleteDuringUpdate(t *testing.T) {
	e := startCompute(t, Options{TimeScale: 1})
	ctx := context.Background()
	img := e.ready(t)[2]
	if _, err := e.images.Update(ctx, &compute.UpdateImageRequest{ImageId: img.GetId(), UpdateMask: computeMask("description"), Description: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.images.Delete(ctx, &compute.DeleteImageRequest{ImageId: img.GetId()}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(e.s.updateDelay())
	if got := e.get(t, img.GetId()).GetStatus(); got != compute.Image_DELETING {
		t.Errorf("status after the update finished %v, want DELETING", got)
	}
}

func TestComputeListOperationsErrors(t *testing.T) {
	e := startCompute(t, Options{})
	img := e.listAll(t, e.folder, "")[0]
	tests := []struct {
		name  string
		give  *compute.ListImageOperationsRequest
		code  codes.Code
		field string
	}{
		{"seeded image has none", &compute.ListImageOperationsRequest{ImageId: img.GetId()}, codes.OK, ""},
		{"no id", &compute.ListImageOperationsRequest{}, codes.InvalidArgument, "image_id"},
		{"id 51", &compute.ListImageOperationsRequest{ImageId: strings.Repeat("i", 51)}, codes.InvalidArgument, "image_id"},
		{"unknown", &compute.ListImageOperationsRequest{ImageId: "fd8nosuchimage000000"}, codes.NotFound, ""},
		{"page size", &compute.ListImageOperationsRequest{ImageId: img.GetId(), PageSize: 1001}, codes.InvalidArgument, "page_size"},
		{"token", &compute.ListImageOperationsRequest{ImageId: img.GetId(), PageToken: "nope"}, codes.InvalidArgument, "page_token"},
		{"token of another image", &compute.ListImageOperationsRequest{ImageId: img.GetId(), PageToken: encodePageToken("op1somethingelse0000")}, codes.InvalidArgument, "page_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.images.ListOperations(context.Background(), tt.give)
			wantComputeErr(t, err, tt.code, tt.field)
		})
	}
}

func TestComputeIdempotency(t *testing.T) {
	e := startCompute(t, Options{TimeScale: 1})
	req := &compute.CreateImageRequest{FolderId: e.folder, Name: "idem", Source: &compute.CreateImageRequest_Uri{Uri: "https://s3/idem.img"}}
	ctx := withKey(context.Background(), "key-1")
	before := e.s.Created()
	first, err := e.images.Create(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.images.Create(ctx, req)
	if err != nil {
		t.Fatalf("retry with the same key: %v", err)
	}
	if second.GetId() != first.GetId() {
		t.Errorf("retry op %s, want %s", second.GetId(), first.GetId())
	}
	if got := e.s.Created() - before; got != 1 {
		t.Errorf("created %d images, want 1", got)
	}
	other := cloneMsg(req)
	other.Name = "idem-other"
	_, err = e.images.Create(ctx, other)
	wantComputeErr(t, err, codes.InvalidArgument, "")
	// Without a key the same request is a new call, and the name is taken.
	_, err = e.images.Create(context.Background(), req)
	wantComputeErr(t, err, codes.AlreadyExists, "")
	// Delete honours keys as well.
	img := e.ready(t)[0]
	dctx := withKey(context.Background(), "key-2")
	d1, err := e.images.Delete(dctx, &compute.DeleteImageRequest{ImageId: img.GetId()})
	if err != nil {
		t.Fatal(err)
	}
	d2, err := e.images.Delete(dctx, &compute.DeleteImageRequest{ImageId: img.GetId()})
	if err != nil || d2.GetId() != d1.GetId() {
		t.Errorf("delete retry %s (%v), want %s", d2.GetId(), err, d1.GetId())
	}
}

func TestComputeFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults Faults
		code   codes.Code
	}{
		{"unavailable", Faults{UnavailableRate: 1}, codes.Unavailable},
		{"exhausted", Faults{ExhaustedRate: 1}, codes.ResourceExhausted},
	}
	e := startCompute(t, Options{})
	ctx := context.Background()
	img := e.listAll(t, e.folder, "")[0]
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.s.SetFaults(tt.faults)
			defer e.s.SetFaults(Faults{})
			_, err := e.images.Get(ctx, &compute.GetImageRequest{ImageId: img.GetId()})
			wantComputeErr(t, err, tt.code, "")
			_, err = e.images.Create(ctx, &compute.CreateImageRequest{FolderId: e.folder, Source: &compute.CreateImageRequest_Uri{Uri: "https://s3/f.img"}})
			wantComputeErr(t, err, tt.code, "")
		})
	}
	t.Run("operation error", func(t *testing.T) {
		e.s.SetFaults(Faults{OpErrorRate: 1})
		defer e.s.SetFaults(Faults{})
		op, id := e.create(t, &compute.CreateImageRequest{FolderId: e.folder, Name: "doomed", Source: &compute.CreateImageRequest_Uri{Uri: "https://s3/d.img"}})
		if !op.GetDone() || op.GetError() == nil {
			t.Errorf("op %v, want done with an error", op)
		}
		if got := e.get(t, id).GetStatus(); got != compute.Image_ERROR {
			t.Errorf("status %v, want ERROR", got)
		}
	})
	t.Run("latency", func(t *testing.T) {
		e.s.SetFaults(Faults{Latency: 50 * time.Millisecond})
		defer e.s.SetFaults(Faults{})
		start := time.Now()
		if _, err := e.images.Get(ctx, &compute.GetImageRequest{ImageId: img.GetId()}); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got < 50*time.Millisecond {
			t.Errorf("call took %v, want at least 50ms", got)
		}
	})
}

func TestComputeCreateSurvivesRestart(t *testing.T) {
	path := t.TempDir() + "/sim.state"
	clk := NewFakeClock(testEpoch)
	a := startCompute(t, Options{StatePath: path, Clock: clk, TimeScale: 1, Images: 20})
	op, id := a.create(t, &compute.CreateImageRequest{FolderId: a.folder, Name: "in-flight", Source: &compute.CreateImageRequest_Uri{Uri: "https://s3/r.img"}})
	if err := a.s.Close(); err != nil {
		t.Fatal(err)
	}
	b := startCompute(t, Options{StatePath: path, Clock: clk, TimeScale: 1, Images: 20})
	if got := b.getOp(t, op.GetId()); got.GetDone() {
		t.Fatalf("op done right after restart: %v", got)
	}
	if got := b.get(t, id).GetStatus(); got != compute.Image_CREATING {
		t.Errorf("status after restart %v, want CREATING", got)
	}
	clk.Advance(b.s.createDelay(uriSize("https://s3/r.img")))
	if got := computeOpImage(t, b.getOp(t, op.GetId())); got.GetId() != id || got.GetStatus() != compute.Image_READY {
		t.Errorf("response %s %v, want %s READY", got.GetId(), got.GetStatus(), id)
	}
}

func TestComputeUnimplemented(t *testing.T) {
	e := startCompute(t, Options{})
	_, err := e.images.Export(context.Background(), &compute.ExportImageRequest{})
	wantComputeErr(t, err, codes.Unimplemented, "")
}

// TestSaveWhileCreating: the state is saved (encoded outside the lock)
// while calls change it; under -race, a snapshot that shared the sim's
// maps was caught being written by a Create as it was encoded.
func TestSaveWhileCreating(t *testing.T) {
	path := t.TempDir() + "/sim.state"
	e := startCompute(t, Options{StatePath: path, Clock: NewFakeClock(testEpoch), TimeScale: 1, Images: 5})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			e.create(t, &compute.CreateImageRequest{FolderId: e.folder, Name: fmt.Sprintf("saved-%d", i),
				Source: &compute.CreateImageRequest_Uri{Uri: "https://s3/r.img"}})
		}
	}()
	for {
		if err := e.s.save(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
			return
		default:
		}
	}
}
