package cloud_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/cloud/sim"
)

// The client against the emulator, over a real loopback gRPC connection.

const (
	methodComputeGet    = "/yandex.cloud.compute.v1.ImageService/Get"
	methodComputeList   = "/yandex.cloud.compute.v1.ImageService/List"
	methodComputeCreate = "/yandex.cloud.compute.v1.ImageService/Create"
	methodIAMCreate     = "/yandex.cloud.iam.v1.IamTokenService/Create"
)

var epoch = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

type env struct {
	sim    *sim.Sim
	addr   string
	clock  *sim.FakeClock
	folder string
}

// startSim starts an emulator on 127.0.0.1:0 with a fake clock. Operations
// finish at once unless the test sets a TimeScale.
func startSim(t *testing.T, opts sim.Options) env {
	t.Helper()
	clock := sim.NewFakeClock(epoch)
	if opts.Clock == nil {
		opts.Clock = clock
	}
	if opts.Images == 0 {
		opts.Images = 40
	}
	s, err := sim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return env{sim: s, addr: addr, clock: clock, folder: s.DefaultFolderID()}
}

func (e env) dial(t *testing.T, auth cloud.Auth) *cloud.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := cloud.Dial(ctx, cloud.Config{
		Endpoint:    e.addr,
		Insecure:    true,
		Auth:        auth,
		CallTimeout: 5 * time.Second,
		Now:         e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestClientFolders(t *testing.T) {
	e := startSim(t, sim.Options{})
	c := e.dial(t, cloud.Auth{})
	ctx := testCtx(t)

	clouds, err := c.Clouds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(clouds) == 0 {
		t.Fatal("Clouds: none")
	}
	all, err := c.AllFolders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, cl := range clouds {
		fs, err := c.Folders(ctx, cl.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if f.CloudID != cl.ID {
				t.Errorf("folder %s: CloudID = %q, want %q", f.ID, f.CloudID, cl.ID)
			}
		}
		n += len(fs)
	}
	if len(all) != n {
		t.Errorf("AllFolders = %d folders, want %d", len(all), n)
	}
	if !slices.ContainsFunc(all, func(f cloud.Folder) bool { return f.ID == e.folder }) {
		t.Errorf("AllFolders lacks the default folder %s", e.folder)
	}
}

func TestClientListAndGet(t *testing.T) {
	e := startSim(t, sim.Options{Images: 200})
	c := e.dial(t, cloud.Auth{})
	ctx := testCtx(t)

	for _, svc := range cloud.Services {
		t.Run(string(svc), func(t *testing.T) {
			var all []cloud.Image
			token := ""
			pages := 0
			for {
				imgs, next, err := c.ListImages(ctx, svc, e.folder, cloud.ListOptions{PageSize: 3, PageToken: token})
				if err != nil {
					t.Fatal(err)
				}
				if len(imgs) > 3 {
					t.Fatalf("page of %d images, want at most 3", len(imgs))
				}
				all = append(all, imgs...)
				pages++
				if next == "" {
					break
				}
				token = next
			}
			if len(all) == 0 {
				t.Fatalf("no %s images in the default folder", svc)
			}
			for _, img := range all {
				if img.Service != svc || img.FolderID != e.folder || img.ID == "" || img.Status == "" || img.CreatedAt.IsZero() {
					t.Errorf("listed image looks wrong: %+v", img)
				}
			}
			got, err := c.GetImage(ctx, svc, all[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != all[0].ID || got.Name != all[0].Name || got.Service != svc {
				t.Errorf("GetImage = %+v, want the listed %+v", got, all[0])
			}
		})
	}
}

func TestClientLatestByFamily(t *testing.T) {
	e := startSim(t, sim.Options{Images: 200})
	c := e.dial(t, cloud.Auth{})
	ctx := testCtx(t)

	imgs, _, err := c.ListImages(ctx, cloud.Compute, e.folder, cloud.ListOptions{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var family string
	var newest time.Time
	for _, img := range imgs {
		if img.Family != "" && img.Status == "READY" {
			family = img.Family
			break
		}
	}
	if family == "" {
		t.Fatal("no READY image with a family in the default folder")
	}
	for _, img := range imgs {
		if img.Family == family && img.Status == "READY" && img.CreatedAt.After(newest) {
			newest = img.CreatedAt
		}
	}
	got, err := c.LatestByFamily(ctx, e.folder, family)
	if err != nil {
		t.Fatal(err)
	}
	if got.Family != family || !got.CreatedAt.Equal(newest) {
		t.Errorf("LatestByFamily(%q) = %s created %v, want the newest, created %v", family, got.ID, got.CreatedAt, newest)
	}
}

// someImage is a READY image of svc in the default folder.
func someImage(t *testing.T, c *cloud.Client, svc cloud.Service, folder string) cloud.Image {
	t.Helper()
	imgs, _, err := c.ListImages(testCtx(t), svc, folder, cloud.ListOptions{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range imgs {
		if img.Status == "READY" || img.Status == "ACTIVE" {
			return img
		}
	}
	t.Fatalf("no ready %s image in folder %s", svc, folder)
	return cloud.Image{}
}

func TestClientTypedErrors(t *testing.T) {
	e := startSim(t, sim.Options{})
	c := e.dial(t, cloud.Auth{})
	ctx := testCtx(t)
	src := someImage(t, c, cloud.Compute, e.folder)

	if _, err := c.CreateImage(ctx, "", cloud.CreateImageSpec{FolderID: e.folder, Name: "taken-name", SourceImageID: src.ID}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		call      func() error
		wantKind  error
		wantField string // a field violation expected, if any
	}{
		{
			name:     "get unknown compute image",
			call:     func() error { _, err := c.GetImage(ctx, cloud.Compute, "fd8nosuchimage000000"); return err },
			wantKind: cloud.ErrNotFound,
		},
		{
			name:     "get unknown desktop image",
			call:     func() error { _, err := c.GetImage(ctx, cloud.Desktop, "dcinosuchimage000000"); return err },
			wantKind: cloud.ErrNotFound,
		},
		{
			name:     "get unknown operation",
			call:     func() error { _, err := c.GetOperation(ctx, "op1nosuchoperation00"); return err },
			wantKind: cloud.ErrNotFound,
		},
		{
			name: "invalid name",
			call: func() error {
				_, err := c.CreateImage(ctx, "", cloud.CreateImageSpec{FolderID: e.folder, Name: "Bad_Name", SourceImageID: src.ID})
				return err
			},
			wantKind:  cloud.ErrInvalid,
			wantField: "name",
		},
		{
			name: "invalid label key on update",
			call: func() error {
				_, err := c.UpdateImage(ctx, "", cloud.Compute, src.ID, cloud.ImageUpdate{Mask: []string{"labels"}, Labels: map[string]string{"Bad Key": "v"}})
				return err
			},
			wantKind:  cloud.ErrInvalid,
			wantField: "labels",
		},
		{
			name: "duplicate name",
			call: func() error {
				_, err := c.CreateImage(ctx, "", cloud.CreateImageSpec{FolderID: e.folder, Name: "taken-name", SourceImageID: src.ID})
				return err
			},
			wantKind: cloud.ErrAlreadyExists,
		},
		{
			name: "two sources, refused before sending",
			call: func() error {
				_, err := c.CreateImage(ctx, "", cloud.CreateImageSpec{FolderID: e.folder, Name: "two-sources", SourceImageID: src.ID, SourceURI: "https://storage.yandexcloud.net/b/x.qcow2"})
				return err
			},
			wantKind:  cloud.ErrInvalid,
			wantField: "source",
		},
		{
			name: "desktop operations unsupported",
			call: func() error {
				_, _, err := c.ListImageOperations(ctx, cloud.Desktop, "dci", cloud.ListOptions{})
				return err
			},
			wantKind: cloud.ErrUnsupported,
		},
		{
			name: "desktop min_disk_size unsupported",
			call: func() error {
				_, err := c.UpdateImage(ctx, "", cloud.Desktop, "dci", cloud.ImageUpdate{Mask: []string{"min_disk_size"}, MinDiskSize: 1 << 30})
				return err
			},
			wantKind: cloud.ErrUnsupported,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.wantKind) {
				t.Fatalf("error = %v, want kind %v", err, tt.wantKind)
			}
			if tt.wantField == "" {
				return
			}
			var ce *cloud.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *cloud.Error", err)
			}
			var fields []string
			for _, v := range ce.Violations {
				fields = append(fields, v.Field)
			}
			if !slices.ContainsFunc(fields, func(f string) bool { return f == tt.wantField || strings.HasPrefix(f, tt.wantField+".") }) {
				t.Errorf("violations on %v, want one on %q", fields, tt.wantField)
			}
		})
	}
}

func TestClientLifecycle(t *testing.T) {
	e := startSim(t, sim.Options{TimeScale: 1})
	c := e.dial(t, cloud.Auth{})
	ctx := testCtx(t)
	src := someImage(t, c, cloud.Compute, e.folder)

	// waitDone moves the emulator's clock until the operation is done.
	waitDone := func(t *testing.T, id string) cloud.Operation {
		t.Helper()
		for range 100 {
			op, err := c.GetOperation(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if op.Done {
				return op
			}
			e.clock.Advance(10 * time.Second)
		}
		t.Fatalf("operation %s never finished", id)
		return cloud.Operation{}
	}

	op, err := c.CreateImage(ctx, "", cloud.CreateImageSpec{
		FolderID: e.folder, Name: "lifecycle", Description: "made by a test", Labels: map[string]string{"team": "qa"},
		Family: "qa-family", OS: "LINUX", SourceImageID: src.ID,
	})
	if err != nil {
		t.Fatal(err)
	}
	if op.ID == "" || op.ImageID == "" || op.MetadataType != "yandex.cloud.compute.v1.CreateImageMetadata" {
		t.Fatalf("Create: %+v, want an id, the new image id and the metadata type", op)
	}
	if op.Done {
		t.Errorf("Create: done at once, want it running while the clock stands")
	}
	img, err := c.GetImage(ctx, cloud.Compute, op.ImageID)
	if err != nil {
		t.Fatal(err)
	}
	if img.Status != "CREATING" {
		t.Errorf("new image status = %q, want CREATING", img.Status)
	}
	done := waitDone(t, op.ID)
	if done.Error != nil || done.Image == nil || done.Image.Status != "READY" || done.Image.ID != op.ImageID || done.Image.OS != "LINUX" {
		t.Fatalf("finished Create: %+v (image %+v), want a READY image", done, done.Image)
	}

	ops, _, err := c.ListImageOperations(ctx, cloud.Compute, op.ImageID, cloud.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(ops, func(o cloud.Operation) bool { return o.ID == op.ID }) {
		t.Errorf("ListImageOperations = %v, want it to hold %s", ops, op.ID)
	}

	up, err := c.UpdateImage(ctx, "", cloud.Compute, op.ImageID, cloud.ImageUpdate{
		Mask: []string{"description", "labels"}, Name: "not-sent", Description: "changed", Labels: map[string]string{"team": "dev"},
	})
	if err != nil {
		t.Fatal(err)
	}
	up = waitDone(t, up.ID)
	if up.Image == nil {
		t.Fatalf("finished Update without an image: %+v", up)
	}
	if got := *up.Image; got.Name != "lifecycle" || got.Description != "changed" || got.Labels["team"] != "dev" {
		t.Errorf("updated image = %+v, want name kept (not in the mask), description and labels changed", got)
	}

	del, err := c.DeleteImage(ctx, "", cloud.Compute, op.ImageID)
	if err != nil {
		t.Fatal(err)
	}
	if del.ImageID != op.ImageID {
		t.Errorf("Delete ImageID = %q, want %q", del.ImageID, op.ImageID)
	}
	del = waitDone(t, del.ID)
	if del.Image != nil || del.Error != nil {
		t.Errorf("finished Delete = %+v, want no image and no error", del)
	}
	if _, err := c.GetImage(ctx, cloud.Compute, op.ImageID); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("GetImage after delete: %v, want ErrNotFound", err)
	}
}

func TestClientOtherMutations(t *testing.T) {
	e := startSim(t, sim.Options{Images: 200})
	c := e.dial(t, cloud.Auth{})
	ctx := testCtx(t)
	src := someImage(t, c, cloud.Compute, e.folder)
	_, _, desktops := e.sim.Sources(e.folder)

	tests := []struct {
		name     string
		call     func() (cloud.Operation, error)
		wantSvc  cloud.Service
		wantType string
	}{
		{
			name: "copy to desktop",
			call: func() (cloud.Operation, error) {
				return c.CopyToDesktop(ctx, "", e.folder, "desk-copy", "d", map[string]string{"a": "b"}, src.ID)
			},
			wantSvc:  cloud.Desktop,
			wantType: "yandex.cloud.clouddesktop.v1.api.CopyDesktopImageMetadata",
		},
		{
			name: "baremetal create",
			call: func() (cloud.Operation, error) {
				return c.CreateBareMetalImage(ctx, "", e.folder, "bm-new", "d", "https://storage.yandexcloud.net/bucket/bm.img", nil)
			},
			wantSvc:  cloud.BareMetal,
			wantType: "yandex.cloud.baremetal.v1alpha.CreateImageMetadata",
		},
	}
	if len(desktops) > 0 {
		tests = append(tests, struct {
			name     string
			call     func() (cloud.Operation, error)
			wantSvc  cloud.Service
			wantType string
		}{
			name: "copy from desktop",
			call: func() (cloud.Operation, error) {
				return c.CopyFromDesktop(ctx, "", e.folder, "from-desk", "d", nil, desktops[0].ID)
			},
			wantSvc:  cloud.Desktop,
			wantType: "yandex.cloud.clouddesktop.v1.api.CopyFromDesktopMetadata",
		})
	} else {
		t.Errorf("the emulator has no desktops in folder %s to copy from", e.folder)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, err := tt.call()
			if err != nil {
				t.Fatal(err)
			}
			if op.MetadataType != tt.wantType || op.ImageID == "" {
				t.Fatalf("operation = %+v, want metadata %s with an image id", op, tt.wantType)
			}
			got, err := c.GetOperation(ctx, op.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Done || got.Image == nil || got.Image.Service != tt.wantSvc || got.Image.ID != op.ImageID {
				t.Errorf("GetOperation = %+v (image %+v), want done with a %s image %s", got, got.Image, tt.wantSvc, op.ImageID)
			}
		})
	}
}

func TestClientCancelOperation(t *testing.T) {
	e := startSim(t, sim.Options{TimeScale: 1})
	c := e.dial(t, cloud.Auth{})
	ctx := testCtx(t)
	src := someImage(t, c, cloud.Compute, e.folder)
	op, err := c.CreateImage(ctx, "", cloud.CreateImageSpec{FolderID: e.folder, Name: "to-cancel", SourceImageID: src.ID})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.CancelOperation(ctx, op.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != op.ID || !got.Done || got.Error == nil || got.Error.Code != "Canceled" {
		t.Errorf("CancelOperation = %+v (error %v), want %s done with a Canceled error", got, got.Error, op.ID)
	}
	if _, err := c.CancelOperation(ctx, op.ID); !errors.Is(err, cloud.ErrFailedPrecondition) {
		t.Errorf("cancelling a done operation: %v, want ErrFailedPrecondition", err)
	}
	if _, err := c.CancelOperation(ctx, "op1nosuchoperation00"); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("cancelling an unknown operation: %v, want ErrNotFound", err)
	}
}

func TestClientReadRetries(t *testing.T) {
	e := startSim(t, sim.Options{})
	c := e.dial(t, cloud.Auth{})
	ctx := testCtx(t)
	cloud.FastRetries(c)
	img := someImage(t, c, cloud.Compute, e.folder)

	e.sim.SetFaults(sim.Faults{UnavailableRate: 0.5})
	t.Cleanup(func() { e.sim.SetFaults(sim.Faults{}) })
	const reads = 30
	ok, retried := 0, 0
	for range reads {
		before := e.sim.Calls(methodComputeGet)
		_, err := c.GetImage(ctx, cloud.Compute, img.ID)
		calls := e.sim.Calls(methodComputeGet) - before
		switch {
		case err == nil:
			ok++
			if calls < 1 || calls > 4 {
				t.Errorf("a read took %d calls, want 1..4", calls)
			}
			if calls > 1 {
				retried++
			}
		case errors.Is(err, cloud.ErrUnavailable):
			if calls != 4 {
				t.Errorf("a read gave up after %d calls, want 4", calls)
			}
		default:
			t.Fatalf("GetImage: %v, want success or ErrUnavailable", err)
		}
	}
	// With half the calls failing and four tries, about 94% of reads succeed.
	if ok < reads*3/4 {
		t.Errorf("%d of %d reads succeeded, want most", ok, reads)
	}
	if retried == 0 {
		t.Error("no read succeeded on a retry")
	}

	e.sim.SetFaults(sim.Faults{ExhaustedRate: 0.5})
	for range 5 {
		if _, _, err := c.ListImages(ctx, cloud.Compute, e.folder, cloud.ListOptions{PageSize: 5}); err != nil && !errors.Is(err, cloud.ErrExhausted) {
			t.Fatalf("ListImages: %v, want success or ErrExhausted", err)
		}
	}
}

func TestClientMutationsNotRetried(t *testing.T) {
	e := startSim(t, sim.Options{})
	c := e.dial(t, cloud.Auth{})
	ctx := testCtx(t)
	src := someImage(t, c, cloud.Compute, e.folder)
	e.sim.SetFaults(sim.Faults{UnavailableRate: 1})

	tests := []struct {
		method string
		call   func() error
	}{
		{methodComputeCreate, func() error {
			_, err := c.CreateImage(ctx, "", cloud.CreateImageSpec{FolderID: e.folder, Name: "never", SourceImageID: src.ID})
			return err
		}},
		{"/yandex.cloud.compute.v1.ImageService/Update", func() error {
			_, err := c.UpdateImage(ctx, "", cloud.Compute, src.ID, cloud.ImageUpdate{Mask: []string{"description"}, Description: "x"})
			return err
		}},
		{"/yandex.cloud.compute.v1.ImageService/Delete", func() error {
			_, err := c.DeleteImage(ctx, "", cloud.Compute, src.ID)
			return err
		}},
		{"/yandex.cloud.clouddesktop.v1.api.DesktopImageService/Copy", func() error {
			_, err := c.CopyToDesktop(ctx, "", e.folder, "never", "", nil, src.ID)
			return err
		}},
		{"/yandex.cloud.baremetal.v1alpha.ImageService/Create", func() error {
			_, err := c.CreateBareMetalImage(ctx, "", e.folder, "never", "", "https://storage.yandexcloud.net/b/x.img", nil)
			return err
		}},
		{"/yandex.cloud.operation.OperationService/Cancel", func() error {
			_, err := c.CancelOperation(ctx, "op1whatever000000000")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			before := e.sim.Calls(tt.method)
			err := tt.call()
			if !errors.Is(err, cloud.ErrUnavailable) {
				t.Errorf("error = %v, want ErrUnavailable", err)
			}
			if got := e.sim.Calls(tt.method) - before; got != 1 {
				t.Errorf("calls = %d, want exactly 1", got)
			}
		})
	}
}

func TestClientIdempotencyKey(t *testing.T) {
	e := startSim(t, sim.Options{TimeScale: 1})
	c := e.dial(t, cloud.Auth{})
	ctx := testCtx(t)
	src := someImage(t, c, cloud.Compute, e.folder)

	key := cloud.NewIdempotencyKey()
	spec := cloud.CreateImageSpec{FolderID: e.folder, Name: "once-only", SourceImageID: src.ID}
	first, err := c.CreateImage(ctx, key, spec)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.CreateImage(ctx, key, spec)
	if err != nil {
		t.Fatalf("second send with the same key: %v", err)
	}
	if second.ID != first.ID || second.ImageID != first.ImageID {
		t.Errorf("second send = op %s image %s, want the first's op %s image %s", second.ID, second.ImageID, first.ID, first.ImageID)
	}
	if got := e.sim.Calls(methodComputeCreate); got != 2 {
		t.Errorf("Create calls = %d, want 2 (both reached the emulator)", got)
	}

	// An empty key gets a fresh one: a second send is a new request.
	a, err := c.CreateImage(ctx, "", cloud.CreateImageSpec{FolderID: e.folder, Name: "fresh-a", SourceImageID: src.ID})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.CreateImage(ctx, "", cloud.CreateImageSpec{FolderID: e.folder, Name: "fresh-b", SourceImageID: src.ID})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == b.ID {
		t.Errorf("two sends without a key got the same operation %s", a.ID)
	}
}

func TestClientAuth(t *testing.T) {
	key := generateKey(t)
	tests := []struct {
		name string
		auth func(t *testing.T, e env) cloud.Auth
	}{
		{"oauth", func(t *testing.T, e env) cloud.Auth { return cloud.Auth{OAuthToken: "y0_AgAAAAtest"} }},
		{"service account key", func(t *testing.T, e env) cloud.Auth {
			e.sim.AddServiceAccountKey("ajekey0000000000001", "ajesa00000000000001", &key.PublicKey)
			return cloud.Auth{ServiceAccountKeyFile: writeKey(t, "ajekey0000000000001", "ajesa00000000000001", key)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := startSim(t, sim.Options{RequireAuth: true})
			c := e.dial(t, tt.auth(t, e))
			ctx := testCtx(t)

			// Ten calls at once before any token exists share one exchange.
			var wg sync.WaitGroup
			errs := make([]error, 10)
			for i := range errs {
				wg.Go(func() {
					_, _, errs[i] = c.ListImages(ctx, cloud.Compute, e.folder, cloud.ListOptions{PageSize: 5})
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			for range 5 {
				if _, err := c.Clouds(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if got := e.sim.Calls(methodIAMCreate); got != 1 {
				t.Errorf("token exchanges for 15 calls = %d, want 1", got)
			}

			// Past the hourly refresh: one more exchange.
			e.clock.Advance(61 * time.Minute)
			for range 3 {
				if _, err := c.Clouds(ctx); err != nil {
					t.Fatalf("after an hour: %v", err)
				}
			}
			if got := e.sim.Calls(methodIAMCreate); got != 2 {
				t.Errorf("token exchanges after an hour = %d, want 2", got)
			}

			// Past the token's expiry in the emulator: it still works.
			e.clock.Advance(13 * time.Hour)
			if _, err := c.Clouds(ctx); err != nil {
				t.Fatalf("after expiry: %v", err)
			}
			if got := e.sim.Calls(methodIAMCreate); got != 3 {
				t.Errorf("token exchanges after expiry = %d, want 3", got)
			}
		})
	}
}

func TestClientAuthRefused(t *testing.T) {
	e := startSim(t, sim.Options{RequireAuth: true, Tokens: []string{"t1.static"}})
	ctx := testCtx(t)
	metadata := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Metadata-Flavor") != "Google" {
			http.Error(w, "no flavor", http.StatusForbidden)
			return
		}
		fmt.Fprint(w, `{"access_token":"t1.static","expires_in":43200,"token_type":"Bearer"}`)
	}))
	t.Cleanup(metadata.Close)

	tests := []struct {
		name     string
		auth     cloud.Auth
		wantKind error // nil: success
	}{
		{"no credentials", cloud.Auth{}, cloud.ErrUnauthenticated},
		{"unknown IAM token", cloud.Auth{IAMToken: "t1.forged"}, cloud.ErrUnauthenticated},
		{"given IAM token", cloud.Auth{IAMToken: "t1.static"}, nil},
		{"metadata service", cloud.Auth{Metadata: true, MetadataURL: metadata.URL, HTTPClient: metadata.Client()}, nil},
		{"unregistered service-account key", cloud.Auth{ServiceAccountKeyFile: writeKey(t, "ajeunknownkey0000001", "ajesa00000000000001", generateKey(t))}, cloud.ErrUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.dial(t, tt.auth)
			_, err := c.GetImage(ctx, cloud.Compute, "fd8whatever000000000")
			if tt.wantKind == nil {
				if !errors.Is(err, cloud.ErrNotFound) {
					t.Errorf("GetImage: %v, want ErrNotFound (authenticated)", err)
				}
				return
			}
			if !errors.Is(err, tt.wantKind) {
				t.Errorf("GetImage: %v, want %v", err, tt.wantKind)
			}
		})
	}
}

func TestClientDeadline(t *testing.T) {
	e := startSim(t, sim.Options{})
	ctx := testCtx(t)
	c, err := cloud.Dial(ctx, cloud.Config{Endpoint: e.addr, Insecure: true, CallTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	e.sim.SetFaults(sim.Faults{Latency: time.Second})
	t.Cleanup(func() { e.sim.SetFaults(sim.Faults{}) })

	start := time.Now()
	_, err = c.GetOperation(ctx, "op1whatever000000000")
	if !errors.Is(err, cloud.ErrUnavailable) {
		t.Errorf("GetOperation with a slow server: %v, want ErrUnavailable (deadline exceeded)", err)
	}
	if took := time.Since(start); took > 900*time.Millisecond {
		t.Errorf("the call took %v, want it cut at the 50ms call timeout", took)
	}
}

func generateKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// writeKey writes an authorized key file as `yc iam key create` does.
func writeKey(t *testing.T, keyID, saID string, key *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]string{
		"id":                 keyID,
		"service_account_id": saID,
		"key_algorithm":      "RSA_2048",
		"private_key": "PLEASE DO NOT REMOVE THIS LINE! Yandex.Cloud SA Key ID <" + keyID + ">\n" +
			string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
