package tracker

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/imagedash/imagedash/cloud"
)

// fakeCloud is a fast in-memory cloud for the tracker's machine tests. It
// honours idempotency keys, finishes an operation at its Nth poll, and
// can be told to fail calls, block sends, or restart (forgetting its
// operations and reusing their ids, as a restarted emulator does).
type fakeCloud struct {
	mu      sync.Mutex
	nextOp  int
	nextImg int
	ops     map[string]*fakeOp // by cloud id
	byKey   map[string]string  // idempotency key → cloud id
	images  map[string]cloud.Image
	sends   map[string]int // idempotency key → send calls
	created map[string]int // image id → creations (one per key, by design)
	// pollsToDone: an operation is done at its Nth poll (default 1); 0:
	// done at once, in the answer to the send.
	pollsToDone int
	// fault, when set, is asked before every call ("send", "poll",
	// "cancel"); a non-nil answer is returned as the call's error.
	fault func(call, key string) error
	// opError, when set, tells whether an operation ends with an error.
	opError func(key string) bool
	// gate, when set, is waited on by every send before it is answered.
	gate chan struct{}
	// sent is told the key of every send as it starts (when set).
	sent chan string
}

type fakeOp struct {
	id, key, meta, image string
	polls                int
	done, cancelled      bool
	failed               bool
	deletes              bool
}

func newFakeCloud() *fakeCloud {
	return &fakeCloud{ops: map[string]*fakeOp{}, byKey: map[string]string{}, images: map[string]cloud.Image{},
		sends: map[string]int{}, created: map[string]int{}, pollsToDone: 1}
}

func fakeErr(c codes.Code, msg string) error { return cloud.FromStatus("fake", status.Error(c, msg)) }

// seed adds a READY image and returns it.
func (f *fakeCloud) seed(folder, name string) cloud.Image {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextImg++
	img := cloud.Image{Service: cloud.Compute, ID: fmt.Sprintf("img%05d", f.nextImg), FolderID: folder, Name: name, Status: "READY"}
	f.images[img.ID] = img
	return img
}

// restart forgets every operation and starts numbering them again.
func (f *fakeCloud) restart() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops, f.byKey, f.nextOp = map[string]*fakeOp{}, map[string]string{}, 0
}

// restartFromSeed is restart from the seed it started with, on a fresh
// state: the last image made is forgotten, and its id is handed out again
// to the next one (an emulator started again from the same seed does that).
func (f *fakeCloud) restartFromSeed() {
	f.restart()
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.images, fmt.Sprintf("img%05d", f.nextImg))
	f.nextImg--
}

func (f *fakeCloud) sendsOf(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sends[key]
}

func (f *fakeCloud) check(call, key string) error {
	f.mu.Lock()
	fault := f.fault
	f.mu.Unlock()
	if fault != nil {
		return fault(call, key)
	}
	return nil
}

// start is every mutating call: the same key answers the same operation.
func (f *fakeCloud) start(key, meta string, mk func() (image string, deletes bool, err error)) (cloud.Operation, error) {
	f.mu.Lock()
	f.sends[key]++
	gate, sent := f.gate, f.sent
	f.mu.Unlock()
	if sent != nil {
		sent <- key
	}
	if gate != nil {
		<-gate
	}
	if err := f.check("send", key); err != nil {
		return cloud.Operation{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, ok := f.byKey[key]; ok {
		if f.pollsToDone == 0 {
			f.ops[id].done = true
		}
		return f.ops[id].view(f), nil
	}
	image, deletes, err := mk()
	if err != nil {
		return cloud.Operation{}, err
	}
	f.nextOp++
	op := &fakeOp{id: fmt.Sprintf("op%d", f.nextOp), key: key, meta: meta, image: image, deletes: deletes}
	f.ops[op.id], f.byKey[key] = op, op.id
	if f.pollsToDone == 0 {
		op.done = true
		if img, ok := f.images[image]; ok && !deletes {
			img.Status = "READY"
			f.images[image] = img
		}
	}
	return op.view(f), nil
}

func (op *fakeOp) view(f *fakeCloud) cloud.Operation {
	out := cloud.Operation{ID: op.id, Done: op.done, ImageID: op.image, MetadataType: "yandex.cloud.compute.v1." + op.meta,
		ModifiedAt: time.Unix(int64(op.polls), 0)}
	switch {
	case op.cancelled:
		out.Error = &cloud.OperationError{Code: "Canceled", Message: "the operation was cancelled"}
	case op.failed:
		out.Error = &cloud.OperationError{Code: "Internal", Message: "the disk broke"}
	}
	return out
}

func (f *fakeCloud) CreateImage(_ context.Context, key string, spec cloud.CreateImageSpec) (cloud.Operation, error) {
	return f.start(key, "CreateImageMetadata", func() (string, bool, error) {
		if spec.Name == "" || spec.Name[0] < 'a' || spec.Name[0] > 'z' {
			return "", false, fakeErr(codes.InvalidArgument, "bad name")
		}
		f.nextImg++
		img := cloud.Image{Service: cloud.Compute, ID: fmt.Sprintf("img%05d", f.nextImg), FolderID: spec.FolderID,
			Name: spec.Name, Status: "CREATING"}
		f.images[img.ID] = img
		f.created[img.ID]++
		return img.ID, false, nil
	})
}

func (f *fakeCloud) CopyToDesktop(context.Context, string, string, string, string, map[string]string, string) (cloud.Operation, error) {
	return cloud.Operation{}, fakeErr(codes.Unimplemented, "no desktops here")
}

func (f *fakeCloud) CopyFromDesktop(context.Context, string, string, string, string, map[string]string, string) (cloud.Operation, error) {
	return cloud.Operation{}, fakeErr(codes.Unimplemented, "no desktops here")
}

func (f *fakeCloud) UpdateImage(_ context.Context, key string, _ cloud.Service, id string, u cloud.ImageUpdate) (cloud.Operation, error) {
	return f.start(key, "UpdateImageMetadata", func() (string, bool, error) {
		img, ok := f.images[id]
		if !ok {
			return "", false, fakeErr(codes.NotFound, "no such image")
		}
		img.Description = u.Description
		f.images[id] = img
		return id, false, nil
	})
}

func (f *fakeCloud) DeleteImage(_ context.Context, key string, _ cloud.Service, id string) (cloud.Operation, error) {
	return f.start(key, "DeleteImageMetadata", func() (string, bool, error) {
		if _, ok := f.images[id]; !ok {
			return "", false, fakeErr(codes.NotFound, "no such image")
		}
		return id, true, nil
	})
}

// checkOp is the fault injected, if any, into call what on operation id.
func (f *fakeCloud) checkOp(what, id string) error {
	f.mu.Lock()
	key := ""
	if op, ok := f.ops[id]; ok {
		key = op.key
	}
	f.mu.Unlock()
	return f.check(what, key)
}

func (f *fakeCloud) GetOperation(_ context.Context, id string) (cloud.Operation, error) {
	if err := f.checkOp("poll", id); err != nil {
		return cloud.Operation{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	op, ok := f.ops[id]
	if !ok {
		return cloud.Operation{}, fakeErr(codes.NotFound, "operation "+id+" not found")
	}
	op.polls++
	if !op.done && op.polls >= f.pollsToDone {
		op.done = true
		if f.opError != nil && f.opError(op.key) {
			op.failed = true
		}
		img, exists := f.images[op.image]
		switch {
		case !exists:
		case op.failed:
			img.Status = "ERROR"
			f.images[op.image] = img
		case op.deletes:
			delete(f.images, op.image)
		case op.image != "":
			img.Status = "READY"
			f.images[op.image] = img
		}
	}
	return op.view(f), nil
}

func (f *fakeCloud) CancelOperation(_ context.Context, id string) (cloud.Operation, error) {
	if err := f.checkOp("cancel", id); err != nil {
		return cloud.Operation{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	op, ok := f.ops[id]
	if !ok {
		return cloud.Operation{}, fakeErr(codes.NotFound, "operation "+id+" not found")
	}
	if !op.done {
		op.done, op.cancelled = true, true
	}
	return op.view(f), nil
}

func (f *fakeCloud) GetImage(_ context.Context, _ cloud.Service, id string) (cloud.Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, ok := f.images[id]
	if !ok {
		return cloud.Image{}, fakeErr(codes.NotFound, "no such image")
	}
	return img, nil
}

var _ Cloud = (*fakeCloud)(nil)
