package sim

import (
	"context"
	"testing"
	"time"

	"github.com/yandex-cloud/go-genproto/yandex/cloud/compute/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/operation"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// startCreate puts a CREATING compute image in the default folder and starts
// its create operation directly on the engine, without the Compute service.
func startCreate(t *testing.T, s *Sim, name string, delay time.Duration) *operation.Operation {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	img := &computeImage{
		Id: newID(s.rng, prefixCompute), FolderId: s.folders[0].Id, Name: name,
		Status: compute.Image_CREATING, Size: 1 << 30, CreatedAt: timestamppb.New(s.clock.Now()),
	}
	s.compute.put(img)
	return s.startOpLocked(opStart{
		service: svcCompute, kind: opCreate, image: img, description: "Create image",
		metadata: &compute.CreateImageMetadata{ImageId: img.Id}, delay: delay, createdBy: "test",
	})
}

func TestOperationLifecycle(t *testing.T) {
	s, conn, clk := startSim(t, Options{TimeScale: 1})
	ops := operation.NewOperationServiceClient(conn)
	ctx := context.Background()
	op := startCreate(t, s, "lifecycle-1", 5*time.Second)

	got, err := ops.Get(ctx, &operation.GetOperationRequest{OperationId: op.Id})
	if err != nil {
		t.Fatal(err)
	}
	if got.Done {
		t.Fatalf("done before its time: %v", got)
	}
	clk.Advance(5 * time.Second)
	got, err = ops.Get(ctx, &operation.GetOperationRequest{OperationId: op.Id})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Done || got.GetResponse() == nil {
		t.Fatalf("after the delay: done=%v response=%v, want done with a response", got.Done, got.GetResponse())
	}
	img := &compute.Image{}
	if err := got.GetResponse().UnmarshalTo(img); err != nil {
		t.Fatal(err)
	}
	if img.Status != compute.Image_READY {
		t.Errorf("response status %v, want READY", img.Status)
	}
	if !got.ModifiedAt.AsTime().Equal(testEpoch.Add(5 * time.Second)) {
		t.Errorf("modified_at %v, want the instant it was due", got.ModifiedAt.AsTime())
	}
}

func TestOperationGetErrors(t *testing.T) {
	_, conn, _ := startSim(t, Options{})
	ops := operation.NewOperationServiceClient(conn)
	tests := []struct {
		id   string
		want codes.Code
	}{
		{"", codes.InvalidArgument},
		{"op1doesnotexist00000", codes.NotFound},
		{string(make([]byte, 51)), codes.InvalidArgument},
	}
	for _, tt := range tests {
		_, err := ops.Get(context.Background(), &operation.GetOperationRequest{OperationId: tt.id})
		if got := status.Code(err); got != tt.want {
			t.Errorf("Get(%q): %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestOperationCancel(t *testing.T) {
	s, conn, clk := startSim(t, Options{TimeScale: 1})
	ops := operation.NewOperationServiceClient(conn)
	ctx := context.Background()

	op := startCreate(t, s, "cancel-me", 10*time.Second)
	got, err := ops.Cancel(ctx, &operation.CancelOperationRequest{OperationId: op.Id})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Done || status.FromProto(got.GetError()).Code() != codes.Canceled {
		t.Errorf("cancelled op: done=%v error=%v, want done with Canceled", got.Done, got.GetError())
	}
	s.mu.Lock()
	_, still := s.compute.nameTaken(s.folders[0].Id, "cancel-me")
	s.mu.Unlock()
	if still {
		t.Error("the cancelled image is still there")
	}
	if _, err := ops.Cancel(ctx, &operation.CancelOperationRequest{OperationId: op.Id}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("cancel a done op: %v, want FailedPrecondition", err)
	}

	done := startCreate(t, s, "finished", time.Second)
	clk.Advance(time.Second)
	if _, err := ops.Cancel(ctx, &operation.CancelOperationRequest{OperationId: done.Id}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("cancel a finished op: %v, want FailedPrecondition", err)
	}
	if _, err := ops.Cancel(ctx, &operation.CancelOperationRequest{OperationId: "op1nothere0000000000"}); status.Code(err) != codes.NotFound {
		t.Errorf("cancel unknown: %v, want NotFound", err)
	}
}

func TestOperationErrorFault(t *testing.T) {
	s, conn, clk := startSim(t, Options{TimeScale: 1, Faults: Faults{OpErrorRate: 1}})
	op := startCreate(t, s, "doomed", time.Second)
	clk.Advance(time.Second)
	got, err := operation.NewOperationServiceClient(conn).Get(context.Background(), &operation.GetOperationRequest{OperationId: op.Id})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Done || got.GetError() == nil {
		t.Fatalf("done=%v error=%v, want done with an error", got.Done, got.GetError())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var md compute.CreateImageMetadata
	if err := op.Metadata.UnmarshalTo(&md); err != nil {
		t.Fatal(err)
	}
	stored, ok := s.compute.get(md.ImageId)
	if !ok || stored.Status != compute.Image_ERROR {
		t.Errorf("image after failed create: %v, want status ERROR", stored)
	}
}

func TestPendingOperationSurvivesRestart(t *testing.T) {
	path := t.TempDir() + "/sim.state"
	clk := NewFakeClock(testEpoch)
	a, err := New(Options{Images: 10, StatePath: path, Clock: clk, TimeScale: 1})
	if err != nil {
		t.Fatal(err)
	}
	op := startCreate(t, a, "survivor", 30*time.Second)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{StatePath: path, Clock: clk, TimeScale: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	check := func(wantDone bool) {
		t.Helper()
		b.mu.Lock()
		defer b.mu.Unlock()
		b.advanceLocked()
		st, ok := b.ops[op.Id]
		if !ok {
			t.Fatal("operation lost in the restart")
		}
		if st.op.Done != wantDone {
			t.Errorf("done=%v, want %v", st.op.Done, wantDone)
		}
	}
	check(false)
	clk.Advance(30 * time.Second)
	check(true)
}
