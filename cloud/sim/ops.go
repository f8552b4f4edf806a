package sim

import (
	"context"
	"crypto/sha256"
	"sort"
	"time"

	"github.com/yandex-cloud/go-genproto/yandex/cloud/operation"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Service names, as kept on operations and in the state file.
const (
	svcCompute   = "compute"
	svcDesktop   = "desktop"
	svcBareMetal = "baremetal"
)

type opKind string

const (
	opCreate opKind = "create"
	opUpdate opKind = "update"
	opDelete opKind = "delete"
)

// opState is an operation and what happens to its image when it is due.
// It holds data, not closures, so it can be written to the state file and
// a restarted emulator finishes what it had started.
type opState struct {
	op      *operation.Operation
	service string
	kind    opKind
	imageID string
	doneAt  time.Time
	// failCode/failMsg are set when the operation will end in an error
	// (decided when it starts, by the OpErrorRate fault).
	failCode codes.Code
	failMsg  string
	// after holds the new field values of an update and mask the fields to take.
	after resource
	mask  []string
	// prevStatus is the image's status to return to after an update, or
	// after a failed delete.
	prevStatus string
}

// opStart describes a new operation.
type opStart struct {
	service     string
	kind        opKind
	image       resource // the image as it is now (already in its table)
	description string
	metadata    proto.Message
	delay       time.Duration
	after       resource
	mask        []string
	prevStatus  string
	createdBy   string
}

type idemEntry struct {
	Method string
	Hash   [32]byte
	OpID   string
}

// mutate runs one mutating call: under the lock, after due operations are
// applied, and with the Idempotency-Key honoured — the same key with the
// same request returns the operation the first call started.
func (s *Sim) mutate(ctx context.Context, req proto.Message, fn func(by string) (*operation.Operation, error)) (*operation.Operation, error) {
	method, _ := grpc.Method(ctx)
	key := idempotencyKey(ctx)
	var h [32]byte
	if key != "" {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
		if err != nil {
			return nil, grpcstatus.Errorf(codes.Internal, "marshal request: %v", err)
		}
		h = sha256.Sum256(b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	if key != "" {
		if e, ok := s.idem[key]; ok {
			if e.Method != method || e.Hash != h {
				return nil, grpcstatus.Errorf(codes.InvalidArgument, "Idempotency-Key %q was already used with a different request", key)
			}
			if st, ok := s.ops[e.OpID]; ok {
				return cloneMsg(st.op), nil
			}
		}
	}
	op, err := fn(subject(ctx))
	if err != nil {
		return nil, err
	}
	if key != "" {
		s.idem[key] = idemEntry{Method: method, Hash: h, OpID: op.Id}
	}
	s.dirty = true
	return cloneMsg(op), nil
}

// read runs a read-only call under the lock, after due operations are applied.
func (s *Sim) read(fn func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	return fn()
}

func idempotencyKey(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("idempotency-key"); len(v) > 0 {
		return v[0]
	}
	return ""
}

// startOpLocked registers a new operation. With a zero delay it is done
// before the call returns, as a fast real operation would be by the first Get.
func (s *Sim) startOpLocked(o opStart) *operation.Operation {
	now := s.clock.Now()
	md, err := anypb.New(o.metadata)
	if err != nil {
		panic("sim: metadata is not a proto message: " + err.Error())
	}
	op := &operation.Operation{
		Id:          newID(s.rng, prefixOperation),
		Description: o.description,
		CreatedAt:   timestamppb.New(now),
		CreatedBy:   o.createdBy,
		ModifiedAt:  timestamppb.New(now),
		Metadata:    md,
	}
	st := &opState{
		op: op, service: o.service, kind: o.kind, imageID: o.image.GetId(),
		doneAt: now.Add(o.delay), after: o.after, mask: o.mask, prevStatus: o.prevStatus,
	}
	if s.rng.Float64() < s.faults.OpErrorRate {
		st.failCode, st.failMsg = codes.Internal, "injected fault: the operation failed"
	}
	s.ops[op.Id] = st
	s.pending[op.Id] = st
	s.imageOps[st.imageID] = append(s.imageOps[st.imageID], op.Id)
	if o.kind == opCreate {
		s.created++
	}
	if o.delay <= 0 {
		s.finishLocked(st, now)
	}
	return op
}

// advanceLocked finishes every operation that is due by now, oldest first.
func (s *Sim) advanceLocked() {
	if len(s.pending) == 0 {
		return
	}
	now := s.clock.Now()
	var due []*opState
	for _, st := range s.pending {
		if !st.doneAt.After(now) {
			due = append(due, st)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].doneAt.Equal(due[j].doneAt) {
			return due[i].doneAt.Before(due[j].doneAt)
		}
		return due[i].op.Id < due[j].op.Id
	})
	for _, st := range due {
		s.finishLocked(st, st.doneAt)
	}
}

// finishLocked applies an operation's effect on its image and marks it done.
func (s *Sim) finishLocked(st *opState, at time.Time) {
	delete(s.pending, st.op.Id)
	s.dirty = true
	img := s.imageLocked(st.service, st.imageID)
	st.op.Done = true
	st.op.ModifiedAt = timestamppb.New(at)
	if st.failCode != codes.OK {
		st.op.Result = &operation.Operation_Error{Error: &status.Status{Code: int32(st.failCode), Message: st.failMsg}}
		if img == nil {
			return
		}
		switch st.kind {
		case opCreate:
			if st.service == svcDesktop || st.failCode == codes.Canceled {
				// Desktop images have no ERROR status; a cancelled one is gone.
				s.removeImageLocked(st.service, st.imageID)
				return
			}
			setStatus(img, "ERROR")
		default:
			setStatus(img, st.prevStatus)
		}
		s.putImageLocked(st.service, img)
		return
	}
	if img == nil {
		st.op.Result = &operation.Operation_Error{Error: &status.Status{Code: int32(codes.NotFound), Message: "the image is gone"}}
		return
	}
	switch st.kind {
	case opCreate:
		if st.service == svcDesktop {
			setStatus(img, "ACTIVE")
		} else {
			setStatus(img, "READY")
		}
	case opUpdate:
		applyMask(img, st.after, st.mask)
		setStatus(img, st.prevStatus)
	case opDelete:
		s.removeImageLocked(st.service, st.imageID)
		resp, _ := anypb.New(&emptypb.Empty{})
		st.op.Result = &operation.Operation_Response{Response: resp}
		return
	}
	s.putImageLocked(st.service, img)
	resp, _ := anypb.New(img)
	st.op.Result = &operation.Operation_Response{Response: resp}
}

// imageLocked returns a copy of an image of any service, or nil. Callers
// change the copy and put it back, so a stored message is never mutated
// while a response built from it may still be marshalling.
func (s *Sim) imageLocked(service, id string) resource {
	switch service {
	case svcCompute:
		if v, ok := s.compute.get(id); ok {
			return cloneMsg(v)
		}
	case svcDesktop:
		if v, ok := s.desktop.get(id); ok {
			return cloneMsg(v)
		}
	case svcBareMetal:
		if v, ok := s.baremetal.get(id); ok {
			return cloneMsg(v)
		}
	}
	return nil
}

func (s *Sim) putImageLocked(service string, img resource) {
	s.dirty = true
	switch service {
	case svcCompute:
		s.compute.put(img.(*computeImage))
	case svcDesktop:
		s.desktop.put(img.(*desktopImage))
	case svcBareMetal:
		s.baremetal.put(img.(*baremetalImage))
	}
}

func (s *Sim) removeImageLocked(service, id string) {
	s.dirty = true
	switch service {
	case svcCompute:
		s.compute.remove(id)
	case svcDesktop:
		s.desktop.remove(id)
	case svcBareMetal:
		s.baremetal.remove(id)
	}
}

// imageOpsLocked lists the operations of an image, newest first, from `after` on.
func (s *Sim) imageOpsLocked(imageID string) []*operation.Operation {
	ids := s.imageOps[imageID]
	out := make([]*operation.Operation, 0, len(ids))
	for i := len(ids) - 1; i >= 0; i-- {
		out = append(out, cloneMsg(s.ops[ids[i]].op))
	}
	return out
}

// setStatus sets the `status` enum of any image message by value name.
func setStatus(m proto.Message, name string) {
	r := m.ProtoReflect()
	fd := r.Descriptor().Fields().ByName("status")
	if fd == nil || fd.Enum() == nil {
		return
	}
	if v := fd.Enum().Values().ByName(protoreflect.Name(name)); v != nil {
		r.Set(fd, protoreflect.ValueOfEnum(v.Number()))
	}
}

// applyMask copies the fields named in mask from src to dst (same type).
// Labels are replaced as a whole, as the API documents.
func applyMask(dst, src proto.Message, mask []string) {
	if src == nil {
		return
	}
	src = proto.Clone(src)
	d, sr := dst.ProtoReflect(), src.ProtoReflect()
	for _, path := range mask {
		fd := d.Descriptor().Fields().ByName(protoreflect.Name(path))
		if fd == nil {
			continue
		}
		if sr.Has(fd) {
			d.Set(fd, sr.Get(fd))
		} else {
			d.Clear(fd)
		}
	}
}

func cloneMsg[T proto.Message](m T) T { return proto.Clone(m).(T) }

// operations implements yandex.cloud.operation.OperationService.
type operations struct {
	operation.UnimplementedOperationServiceServer
	s *Sim
}

func (o *operations) Get(ctx context.Context, req *operation.GetOperationRequest) (*operation.Operation, error) {
	if err := check(idRule("operation_id", req.GetOperationId())); err != nil {
		return nil, err
	}
	var out *operation.Operation
	err := o.s.read(func() error {
		st, ok := o.s.ops[req.GetOperationId()]
		if !ok {
			return notFound("Operation", req.GetOperationId())
		}
		out = cloneMsg(st.op)
		return nil
	})
	return out, err
}

// Cancel stops an unfinished Create (the only kind the image APIs let go):
// the operation ends with Cancelled and the half-made image is removed.
func (o *operations) Cancel(ctx context.Context, req *operation.CancelOperationRequest) (*operation.Operation, error) {
	if err := check(idRule("operation_id", req.GetOperationId())); err != nil {
		return nil, err
	}
	s := o.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	st, ok := s.ops[req.GetOperationId()]
	if !ok {
		return nil, notFound("Operation", req.GetOperationId())
	}
	if st.op.Done {
		return nil, failedPrecondition("operation %s is already done", st.op.Id)
	}
	if st.kind != opCreate {
		return nil, failedPrecondition("operation %s (%s) cannot be cancelled", st.op.Id, st.op.Description)
	}
	st.failCode, st.failMsg = codes.Canceled, "the operation was cancelled"
	s.finishLocked(st, s.clock.Now())
	return cloneMsg(st.op), nil
}

// delays. A Create takes longer the bigger the image, so a demo shows
// several CREATING badges turning READY at different times.
func (s *Sim) createDelay(size int64) time.Duration {
	d := 2*time.Second + time.Duration(float64(size)/float64(1<<30)*float64(300*time.Millisecond))
	if d > 20*time.Second {
		d = 20 * time.Second
	}
	return s.scale(d)
}

func (s *Sim) updateDelay() time.Duration { return s.scale(time.Second) }
func (s *Sim) deleteDelay() time.Duration { return s.scale(1500 * time.Millisecond) }

func (s *Sim) scale(d time.Duration) time.Duration {
	return time.Duration(float64(d) * s.opts.TimeScale)
}
