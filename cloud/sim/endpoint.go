package sim

import (
	"context"
	"slices"

	"github.com/yandex-cloud/go-genproto/yandex/cloud/endpoint"
)

// endpoints implements yandex.cloud.endpoint.ApiEndpointService: discovery,
// answering the emulator's own address for every service.
type endpoints struct {
	endpoint.UnimplementedApiEndpointServiceServer
	s *Sim
}

var _ endpoint.ApiEndpointServiceServer = (*endpoints)(nil)

// endpointIDs are the services discovery names, as SDKs look them up
// (resource manager under both spellings in use).
var endpointIDs = []string{
	"compute", "operation", "baremetal", "clouddesktops",
	"resource-manager", "resourcemanager", "iam", "endpoint",
}

// List answers every endpoint at once, as the real service does; paging
// fields are accepted and ignored.
func (e *endpoints) List(ctx context.Context, req *endpoint.ListApiEndpointsRequest) (*endpoint.ListApiEndpointsResponse, error) {
	addr := e.s.Addr()
	resp := &endpoint.ListApiEndpointsResponse{}
	for _, id := range endpointIDs {
		resp.Endpoints = append(resp.Endpoints, &endpoint.ApiEndpoint{Id: id, Address: addr})
	}
	return resp, nil
}

func (e *endpoints) Get(ctx context.Context, req *endpoint.GetApiEndpointRequest) (*endpoint.ApiEndpoint, error) {
	if err := check(idRule("api_endpoint_id", req.GetApiEndpointId())); err != nil {
		return nil, err
	}
	if !slices.Contains(endpointIDs, req.GetApiEndpointId()) {
		return nil, notFound("API endpoint", req.GetApiEndpointId())
	}
	return &endpoint.ApiEndpoint{Id: req.GetApiEndpointId(), Address: e.s.Addr()}, nil
}
