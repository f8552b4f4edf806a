package sim

import (
	"context"
	"testing"

	"github.com/yandex-cloud/go-genproto/yandex/cloud/compute/v1"
)

// TestFaultsKeyedOperation: a key resent after an injected Unavailable
// starts one operation, which KeyedOperation names; a call without a key
// creates an image no key accounts for.
func TestFaultsKeyedOperation(t *testing.T) {
	const create = "/yandex.cloud.compute.v1.ImageService/Create"
	e := startCompute(t, Options{Faults: Faults{UnavailableRate: 1}})
	req := &compute.CreateImageRequest{FolderId: e.folder, Name: "keyed", Source: &compute.CreateImageRequest_Uri{Uri: "https://s3/keyed.img"}}
	ctx := withKey(context.Background(), "key-a")
	if _, err := e.images.Create(ctx, req); err == nil {
		t.Fatal("Create with every call Unavailable: got nil error")
	}
	if _, _, ok := e.s.KeyedOperation("key-a"); ok {
		t.Error("a call refused by an injected fault started an operation")
	}
	e.s.SetFaults(Faults{})
	var first string
	for range 2 {
		op, err := e.images.Create(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		first = op.GetId()
	}
	if m, id, ok := e.s.KeyedOperation("key-a"); !ok || id != first || m != create {
		t.Errorf("KeyedOperation(key-a) = %s, %s, %v; want %s, %s, true", m, id, ok, create, first)
	}
	other := &compute.CreateImageRequest{FolderId: e.folder, Name: "unkeyed", Source: &compute.CreateImageRequest_Uri{Uri: "https://s3/u.img"}}
	if _, err := e.images.Create(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if got, keyed := e.s.Created(), e.s.KeyedOperations(create); got != 2 || keyed != 1 {
		t.Errorf("Created = %d, KeyedOperations = %d; want 2 and 1", got, keyed)
	}
	if got := e.s.Calls(create); got != 4 {
		t.Errorf("Calls(Create) = %d, want 4 (one refused, two keyed, one bare)", got)
	}
}
