package sim

import (
	"context"
	"slices"
	"testing"

	"github.com/yandex-cloud/go-genproto/yandex/cloud/compute/v1"
)

func TestUpdateMask(t *testing.T) {
	e := startCompute(t, Options{})
	img := e.ready(t)[0]
	op, err := e.images.Update(context.Background(), &compute.UpdateImageRequest{
		ImageId: img.GetId(), UpdateMask: computeMask("labels", "name", "labels"),
		Name: "renamed-by-mask", Labels: map[string]string{"a": "b"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := e.s.UpdateMask(op.GetId()); !ok || !slices.Equal(got, []string{"labels", "name"}) {
		t.Errorf("UpdateMask = %q, %v; want [labels name], true", got, ok)
	}
	del, err := e.images.Delete(context.Background(), &compute.DeleteImageRequest{ImageId: e.ready(t)[1].GetId()})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{del.GetId(), "nosuchoperation"} {
		if got, ok := e.s.UpdateMask(id); ok || got != nil {
			t.Errorf("UpdateMask(%s) = %q, %v; want nothing", id, got, ok)
		}
	}
}
