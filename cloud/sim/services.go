package sim

import (
	"github.com/yandex-cloud/go-genproto/yandex/cloud/baremetal/v1alpha"
	clouddesktop "github.com/yandex-cloud/go-genproto/yandex/cloud/clouddesktop/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/compute/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/endpoint"
	iam "github.com/yandex-cloud/go-genproto/yandex/cloud/iam/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/operation"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/resourcemanager/v1"
	"google.golang.org/grpc"
)

// register adds every emulated service to g. Each service is its own type
// because method names (Get, List, ...) collide across services.
func (s *Sim) register(g *grpc.Server) {
	compute.RegisterImageServiceServer(g, &computeImages{s: s})
	clouddesktop.RegisterDesktopImageServiceServer(g, &desktopImages{s: s})
	clouddesktop.RegisterDesktopServiceServer(g, &desktopVMs{s: s})
	baremetal.RegisterImageServiceServer(g, &baremetalImages{s: s})
	operation.RegisterOperationServiceServer(g, &operations{s: s})
	resourcemanager.RegisterCloudServiceServer(g, &clouds{s: s})
	resourcemanager.RegisterFolderServiceServer(g, &folders{s: s})
	endpoint.RegisterApiEndpointServiceServer(g, &endpoints{s: s})
	iam.RegisterIamTokenServiceServer(g, &iamTokens{s: s})
}
