package sim

import (
	"context"
	"testing"

	"github.com/yandex-cloud/go-genproto/yandex/cloud/endpoint"
	"google.golang.org/grpc/codes"
)

func TestEndpointsAnswerTheServingAddress(t *testing.T) {
	s, conn, _ := startSim(t, Options{RequireAuth: true})
	ec := endpoint.NewApiEndpointServiceClient(conn)
	ctx := context.Background()
	addr := s.Addr()
	wantIDs := []string{"compute", "operation", "baremetal", "clouddesktops", "resource-manager", "resourcemanager", "iam", "endpoint"}

	// Discovery needs no token, even when the emulator requires one.
	resp, err := ec.List(ctx, &endpoint.ListApiEndpointsRequest{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	listed := map[string]string{}
	for _, ep := range resp.GetEndpoints() {
		listed[ep.GetId()] = ep.GetAddress()
	}
	for _, id := range wantIDs {
		if got := listed[id]; got != addr {
			t.Errorf("List: %s at %q, want %q", id, got, addr)
		}
		ep, err := ec.Get(ctx, &endpoint.GetApiEndpointRequest{ApiEndpointId: id})
		if err != nil {
			t.Errorf("Get %s: %v", id, err)
			continue
		}
		if ep.GetId() != id || ep.GetAddress() != addr {
			t.Errorf("Get %s = %v, want %s at %q", id, ep, id, addr)
		}
	}

	tests := []struct {
		give string
		want codes.Code
	}{
		{"no-such-service", codes.NotFound},
		{"", codes.InvalidArgument},
	}
	for _, tt := range tests {
		_, err := ec.Get(ctx, &endpoint.GetApiEndpointRequest{ApiEndpointId: tt.give})
		expectCode(t, err, tt.want)
	}
}
