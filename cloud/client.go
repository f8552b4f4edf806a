package cloud

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	baremetal "github.com/yandex-cloud/go-genproto/yandex/cloud/baremetal/v1alpha"
	desktop "github.com/yandex-cloud/go-genproto/yandex/cloud/clouddesktop/v1"
	compute "github.com/yandex-cloud/go-genproto/yandex/cloud/compute/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/endpoint"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/operation"
	rm "github.com/yandex-cloud/go-genproto/yandex/cloud/resourcemanager/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// ErrUnsupported is a call the service does not have, such as the
// operations of a Desktop image.
var ErrUnsupported = errors.New("not supported by this service")

// DefaultEndpoint is Yandex Cloud's discovery endpoint.
const DefaultEndpoint = "api.cloud.yandex.net:443"

// DefaultCallTimeout bounds one call when Config.CallTimeout is zero.
const DefaultCallTimeout = 30 * time.Second

// idempotencyHeader is the request metadata that makes a mutation safe to
// send twice.
const idempotencyHeader = "idempotency-key"

// listPageSize is the page size of the listings the client pages through
// by itself (clouds, folders, endpoints).
const listPageSize = 1000

// Config says where and how the client connects.
type Config struct {
	Endpoint    string        // discovery endpoint "host:port": "api.cloud.yandex.net:443" or the emulator's "127.0.0.1:NNNN"
	Insecure    bool          // plaintext gRPC; Dial refuses it unless Endpoint's host is a loopback address
	Auth        Auth          // zero value = no credentials (emulator)
	CallTimeout time.Duration // per-call deadline, default 30s
	Logger      *slog.Logger
	// Now is the clock of token expiry and JWT claims; nil means time.Now.
	Now func() time.Time
	// Rediscover paces the background discovery after a failed first one.
	Rediscover Rediscover
}

// Client talks to the image services, OperationService and the resource
// manager. It is safe for concurrent use; Close it when done.
type Client struct {
	log     *slog.Logger
	timeout time.Duration
	retry   retryPolicy
	creds   *tokenCreds        // nil without credentials
	conns   []*grpc.ClientConn // distinct connections, closed by Close
	addrs   map[string]string  // service id → address it was reached at

	compute   compute.ImageServiceClient
	desktop   desktop.DesktopImageServiceClient
	desktops  desktop.DesktopServiceClient
	baremetal baremetal.ImageServiceClient
	ops       operation.OperationServiceClient
	folders   rm.FolderServiceClient
	clouds    rm.CloudServiceClient

	disc *discovery // see Reachable
}

// Discovery ids of the services the client needs. Cloud Desktop has been
// published under several ids; the first found wins.
const (
	svcCompute         = "compute"
	svcOperation       = "operation"
	svcBareMetal       = "baremetal"
	svcDesktop         = "clouddesktops"
	svcResourceManager = "resource-manager"
	svcIAM             = "iam"
)

var neededServices = []struct {
	id      string
	aliases []string
}{
	{id: svcCompute},
	{id: svcOperation},
	{id: svcBareMetal},
	{id: svcDesktop, aliases: []string{"cloud-desktop", "clouddesktop"}},
	{id: svcResourceManager},
	{id: svcIAM},
}

// Dial discovers the service endpoints at cfg.Endpoint and connects to
// them, one connection per distinct address. It makes one call (the
// discovery) within ctx. When the cloud does not answer it, Dial still
// returns a client, so a restart during a cloud outage serves the cache
// rather than failing: the client's calls fail with Unavailable, Reachable
// says false, and discovery is retried in the background (cfg.Rediscover)
// until it succeeds or the client is closed. Only a configuration no retry
// mends is an error.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := cfg.Rediscover
	if r.Initial <= 0 {
		r.Initial = time.Second
	}
	if r.Max <= 0 {
		r.Max = time.Minute
	}
	if r.After == nil {
		r.After = time.After
	}
	if err := checkAddress(cfg.Endpoint, cfg.Insecure); err != nil {
		return nil, err
	}
	if cfg.Auth.sources() > 1 {
		return nil, errors.New("cloud: auth: set only one of IAM token, OAuth token, service-account key file, metadata")
	}

	var transport credentials.TransportCredentials
	if cfg.Insecure {
		transport = insecure.NewCredentials()
	} else {
		transport = credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})
	}

	c := &Client{
		log:     cfg.Logger,
		timeout: cfg.CallTimeout,
		retry:   defaultRetry(),
		addrs:   map[string]string{},
		disc:    &discovery{done: make(chan struct{})},
	}
	byAddr := map[string]*grpc.ClientConn{}
	connect := func(addr string) (*grpc.ClientConn, error) {
		if cc, ok := byAddr[addr]; ok {
			return cc, nil
		}
		if err := checkAddress(addr, cfg.Insecure); err != nil {
			return nil, err
		}
		cc, err := grpc.NewClient(addr,
			grpc.WithTransportCredentials(transport),
			grpc.WithUserAgent("imagedash"),
		)
		if err != nil {
			return nil, fmt.Errorf("cloud: connect %s: %w", addr, err)
		}
		byAddr[addr] = cc
		c.conns = append(c.conns, cc)
		return cc, nil
	}
	fail := func(err error) (*Client, error) {
		c.Close()
		return nil, err
	}

	disc, err := connect(cfg.Endpoint)
	if err != nil {
		return fail(err)
	}
	// The stubs are made now, over connections that discovery fills in.
	lanes := map[string]*serviceConn{}
	for _, s := range neededServices {
		lanes[s.id] = &serviceConn{id: s.id}
	}
	c.compute = compute.NewImageServiceClient(lanes[svcCompute])
	c.desktop = desktop.NewDesktopImageServiceClient(lanes[svcDesktop])
	c.desktops = desktop.NewDesktopServiceClient(lanes[svcDesktop])
	c.baremetal = baremetal.NewImageServiceClient(lanes[svcBareMetal])
	c.ops = operation.NewOperationServiceClient(lanes[svcOperation])
	c.folders = rm.NewFolderServiceClient(lanes[svcResourceManager])
	c.clouds = rm.NewCloudServiceClient(lanes[svcResourceManager])
	if !cfg.Auth.isZero() {
		src, err := newTokenSource(cfg.Auth, lanes[svcIAM], cfg.Now)
		if err != nil {
			return fail(err)
		}
		c.creds = newTokenCreds(src, cfg.Now, cfg.Insecure, cfg.CallTimeout)
	}

	// attempt discovers the endpoints and connects the stubs; Dial's call
	// and then the background loop's, never two at once.
	attempt := func(ctx context.Context) error {
		found, err := c.discover(ctx, endpoint.NewApiEndpointServiceClient(disc))
		var ce *Error
		if errors.As(err, &ce) && ce.Code == codes.Unimplemented {
			// A server without discovery (a bare emulator) serves everything
			// itself; fallbackAddress says so.
			c.log.Warn("cloud: endpoint has no discovery service, using fallbacks", "endpoint", cfg.Endpoint)
			found, err = map[string]string{}, nil
		}
		if err != nil {
			c.disc.mu.Lock()
			if c.disc.since.IsZero() {
				c.disc.since = cfg.Now()
			}
			c.disc.last = err
			c.disc.mu.Unlock()
			return err
		}
		conns := map[string]*grpc.ClientConn{}
		for _, s := range neededServices {
			addr := ""
			for _, id := range append([]string{s.id}, s.aliases...) {
				if addr = found[id]; addr != "" {
					break
				}
			}
			if addr == "" {
				addr = fallbackAddress(cfg.Endpoint, s.id)
				c.log.Warn("cloud: service not in discovery, using fallback", "service", s.id, "address", addr)
			}
			cc, err := connect(addr)
			if err != nil {
				return configError(fmt.Errorf("cloud: service %s: %w", s.id, err))
			}
			conns[s.id] = cc
			c.addrs[s.id] = addr
		}
		for id, cc := range conns {
			lanes[id].cc.Store(cc)
		}
		c.disc.mu.Lock()
		c.disc.since, c.disc.last = time.Time{}, nil
		c.disc.mu.Unlock()
		close(c.disc.done)
		c.log.Debug("cloud: endpoints", "addresses", c.addrs)
		c.log.Info("cloud: connected", "endpoint", cfg.Endpoint, "connections", len(c.conns), "auth", cfg.Auth.kind())
		return nil
	}
	err = attempt(ctx)
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, errDiscoveryConfig):
		return fail(err)
	}
	c.log.Warn("cloud: unreachable; serving the cache and retrying in the background", "endpoint", cfg.Endpoint, "err", err)
	loop, stop := context.WithCancel(context.Background())
	c.disc.stop = stop
	c.disc.wg.Go(func() {
		c.rediscover(loop, r, func(ctx context.Context) error {
			// gRPC's own reconnect backoff would delay the next try beyond ours.
			disc.ResetConnectBackoff()
			return attempt(ctx)
		})
	})
	return c, nil
}

// discover lists the API endpoints, all pages, as id → address.
func (c *Client) discover(ctx context.Context, api endpoint.ApiEndpointServiceClient) (map[string]string, error) {
	eps, err := listAll(ctx, c, "endpoint.ApiEndpointService.List",
		func(ctx context.Context, token string, _ ...grpc.CallOption) (*endpoint.ListApiEndpointsResponse, error) {
			// Discovery needs no credentials (the call options carry them):
			// they may depend on its answer.
			return api.List(ctx, &endpoint.ListApiEndpointsRequest{PageSize: listPageSize, PageToken: token})
		},
		(*endpoint.ListApiEndpointsResponse).GetEndpoints)
	if err != nil {
		return nil, err
	}
	found := map[string]string{}
	for _, e := range eps {
		if e.GetId() != "" && e.GetAddress() != "" {
			found[e.GetId()] = e.GetAddress()
		}
	}
	return found, nil
}

// fallbackAddress is where a service missing from discovery is looked for:
// <id>.api.cloud.yandex.net:443 in Yandex Cloud, else the discovery
// endpoint itself (an emulator serving everything on one port).
func fallbackAddress(discovery, id string) string {
	host, _, _ := net.SplitHostPort(discovery)
	if host == "api.cloud.yandex.net" || strings.HasSuffix(host, ".api.cloud.yandex.net") {
		return id + ".api.cloud.yandex.net:443"
	}
	return discovery
}

// checkAddress accepts "host:port", and plaintext only to a loopback host.
func checkAddress(addr string, plaintext bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || port == "" {
		return fmt.Errorf("cloud: endpoint %q is not host:port", addr)
	}
	if plaintext && !isLoopback(host) {
		return fmt.Errorf("cloud: refusing plaintext gRPC to %s: insecure connections are allowed only to a loopback address (127.0.0.0/8, ::1, localhost)", addr)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (a Auth) kind() string {
	switch {
	case a.IAMToken != "":
		return "iam-token"
	case a.OAuthToken != "":
		return "oauth"
	case a.ServiceAccountKeyFile != "":
		return "service-account-key"
	case a.Metadata:
		return "metadata"
	}
	return "none"
}

// Close closes every connection.
func (c *Client) Close() error {
	if c.disc != nil && c.disc.stop != nil {
		c.disc.stop()
		c.disc.wg.Wait()
	}
	var errs []error
	for _, cc := range c.conns {
		if err := cc.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	c.conns = nil
	return errors.Join(errs...)
}

// callOpts are the options of every service call: the IAM token, when the
// client has credentials.
func (c *Client) callOpts() []grpc.CallOption {
	if c.creds == nil {
		return nil
	}
	return []grpc.CallOption{grpc.PerRPCCredentials(c.creds)}
}

// refused forgets the cached IAM token when the server said it is not
// valid (revoked, or expired earlier than it said): the call still fails,
// the next one fetches a new token.
func (c *Client) refused(err error) {
	if c.creds != nil && status.Code(err) == codes.Unauthenticated {
		c.creds.invalidate()
	}
}

// read makes a read call: each try gets the per-call deadline, and a try
// that failed with Unavailable or ResourceExhausted is repeated with backoff.
// The error is translated once, with op as the call's name.
func read[Resp any](ctx context.Context, c *Client, op string, call func(context.Context, ...grpc.CallOption) (Resp, error)) (Resp, error) {
	var resp Resp
	try := 0
	err := c.retry.do(ctx, func(ctx context.Context) error {
		if try++; try > 1 {
			c.log.Debug("cloud: retrying read", "op", op, "try", try)
		}
		cctx, cancel := context.WithTimeout(ctx, c.timeout)
		defer cancel()
		var err error
		resp, err = call(cctx, c.callOpts()...)
		c.refused(err)
		return err
	})
	if err != nil {
		var zero Resp
		return zero, FromStatus(op, err)
	}
	return resp, nil
}

// listAll pages through a List call to its end: page asks for the page
// after token, items maps one answer's resources. A server that hands back
// the token it was given would loop forever: that is an error.
func listAll[Resp interface{ GetNextPageToken() string }, T any](ctx context.Context, c *Client, op string,
	page func(ctx context.Context, token string, o ...grpc.CallOption) (Resp, error), items func(Resp) []T) ([]T, error) {
	var out []T
	token := ""
	for {
		resp, err := read(ctx, c, op, func(ctx context.Context, o ...grpc.CallOption) (Resp, error) {
			return page(ctx, token, o...)
		})
		if err != nil {
			return nil, err
		}
		out = append(out, items(resp)...)
		next := resp.GetNextPageToken()
		if next == "" {
			return out, nil
		}
		if next == token {
			return nil, fmt.Errorf("%s: the server repeated page token %q", op, next)
		}
		token = next
	}
}

// mapAll is conv of each of in.
func mapAll[In, Out any](in []In, conv func(In) Out) []Out {
	out := make([]Out, len(in))
	for i, v := range in {
		out[i] = conv(v)
	}
	return out
}

// mutate sends a mutation once, with the idempotency key (a fresh one when
// key is empty), and maps the operation it starts.
func (c *Client) mutate(ctx context.Context, op, key string, call func(context.Context, ...grpc.CallOption) (*operation.Operation, error)) (Operation, error) {
	if key == "" {
		key = NewIdempotencyKey()
	}
	ctx = metadata.AppendToOutgoingContext(ctx, idempotencyHeader, key)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := call(ctx, c.callOpts()...)
	if err != nil {
		c.refused(err)
		return Operation{}, FromStatus(op, err)
	}
	o, err := operationFrom(resp)
	if err != nil {
		return Operation{}, fmt.Errorf("%s: %w", op, err)
	}
	return o, nil
}

// unsupported is the error of a call the service does not have.
func unsupported(op, what string) error {
	return fmt.Errorf("%s: %s: %w", op, what, ErrUnsupported)
}

// invalid is an argument refused before it is sent, shaped like the API's
// own InvalidArgument so callers handle both the same way.
func invalid(op, field, msg string) error {
	st := status.New(codes.InvalidArgument, field+": "+msg)
	if d, err := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: msg}}}); err == nil {
		st = d
	}
	return FromStatus(op, st.Err())
}

// serviceOp names a call of svc's image service, e.g. "compute.ImageService.Get".
func serviceOp(svc Service, method string) string {
	switch svc {
	case Compute:
		return "compute.ImageService." + method
	case Desktop:
		return "clouddesktop.DesktopImageService." + method
	case BareMetal:
		return "baremetal.ImageService." + method
	}
	return string(svc) + "." + method
}

func unknownService(svc Service, method string) error {
	return unsupported(serviceOp(svc, method), fmt.Sprintf("unknown service %q", svc))
}

// Clouds lists every cloud the credentials can see.
func (c *Client) Clouds(ctx context.Context) ([]Cloud, error) {
	return listAll(ctx, c, "resourcemanager.CloudService.List",
		func(ctx context.Context, token string, o ...grpc.CallOption) (*rm.ListCloudsResponse, error) {
			return c.clouds.List(ctx, &rm.ListCloudsRequest{PageSize: listPageSize, PageToken: token}, o...)
		},
		func(resp *rm.ListCloudsResponse) []Cloud { return mapAll(resp.GetClouds(), cloudFrom) })
}

// Folders lists every folder of a cloud, paging through all of them.
func (c *Client) Folders(ctx context.Context, cloudID string) ([]Folder, error) {
	return listAll(ctx, c, "resourcemanager.FolderService.List",
		func(ctx context.Context, token string, o ...grpc.CallOption) (*rm.ListFoldersResponse, error) {
			return c.folders.List(ctx, &rm.ListFoldersRequest{CloudId: cloudID, PageSize: listPageSize, PageToken: token}, o...)
		},
		func(resp *rm.ListFoldersResponse) []Folder { return mapAll(resp.GetFolders(), folderFrom) })
}

// AllFolders lists every folder of every cloud.
func (c *Client) AllFolders(ctx context.Context) ([]Folder, error) {
	clouds, err := c.Clouds(ctx)
	if err != nil {
		return nil, err
	}
	var out []Folder
	for _, cl := range clouds {
		fs, err := c.Folders(ctx, cl.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	return out, nil
}

// ListImages returns one page of a folder's images and the token of the
// next page ("" after the last).
func (c *Client) ListImages(ctx context.Context, svc Service, folderID string, opt ListOptions) ([]Image, string, error) {
	op := serviceOp(svc, "List")
	switch svc {
	case Compute:
		resp, err := read(ctx, c, op, func(ctx context.Context, o ...grpc.CallOption) (*compute.ListImagesResponse, error) {
			return c.compute.List(ctx, &compute.ListImagesRequest{FolderId: folderID, PageSize: opt.PageSize, PageToken: opt.PageToken, Filter: opt.Filter}, o...)
		})
		if err != nil {
			return nil, "", err
		}
		return imagesFrom(resp.GetImages(), imageFromCompute), resp.GetNextPageToken(), nil
	case Desktop:
		resp, err := read(ctx, c, op, func(ctx context.Context, o ...grpc.CallOption) (*desktop.ListDesktopImagesResponse, error) {
			return c.desktop.List(ctx, &desktop.ListDesktopImagesRequest{FolderId: folderID, PageSize: opt.PageSize, PageToken: opt.PageToken, Filter: opt.Filter}, o...)
		})
		if err != nil {
			return nil, "", err
		}
		return imagesFrom(resp.GetDesktopImages(), imageFromDesktop), resp.GetNextPageToken(), nil
	case BareMetal:
		resp, err := read(ctx, c, op, func(ctx context.Context, o ...grpc.CallOption) (*baremetal.ListImagesResponse, error) {
			return c.baremetal.List(ctx, &baremetal.ListImagesRequest{FolderId: folderID, PageSize: opt.PageSize, PageToken: opt.PageToken, Filter: opt.Filter}, o...)
		})
		if err != nil {
			return nil, "", err
		}
		return imagesFrom(resp.GetImages(), imageFromBareMetal), resp.GetNextPageToken(), nil
	}
	return nil, "", unknownService(svc, "List")
}

// GetImage returns one image.
func (c *Client) GetImage(ctx context.Context, svc Service, id string) (Image, error) {
	op := serviceOp(svc, "Get")
	switch svc {
	case Compute:
		m, err := read(ctx, c, op, func(ctx context.Context, o ...grpc.CallOption) (*compute.Image, error) {
			return c.compute.Get(ctx, &compute.GetImageRequest{ImageId: id}, o...)
		})
		if err != nil {
			return Image{}, err
		}
		return imageFromCompute(m), nil
	case Desktop:
		m, err := read(ctx, c, op, func(ctx context.Context, o ...grpc.CallOption) (*desktop.DesktopImage, error) {
			return c.desktop.Get(ctx, &desktop.GetDesktopImageRequest{ImageId: id}, o...)
		})
		if err != nil {
			return Image{}, err
		}
		return imageFromDesktop(m), nil
	case BareMetal:
		m, err := read(ctx, c, op, func(ctx context.Context, o ...grpc.CallOption) (*baremetal.Image, error) {
			return c.baremetal.Get(ctx, &baremetal.GetImageRequest{ImageId: id}, o...)
		})
		if err != nil {
			return Image{}, err
		}
		return imageFromBareMetal(m), nil
	}
	return Image{}, unknownService(svc, "Get")
}

// LatestByFamily returns the newest READY Compute image of a family.
func (c *Client) LatestByFamily(ctx context.Context, folderID, family string) (Image, error) {
	m, err := read(ctx, c, "compute.ImageService.GetLatestByFamily", func(ctx context.Context, o ...grpc.CallOption) (*compute.Image, error) {
		return c.compute.GetLatestByFamily(ctx, &compute.GetImageLatestByFamilyRequest{FolderId: folderID, Family: family}, o...)
	})
	if err != nil {
		return Image{}, err
	}
	return imageFromCompute(m), nil
}

// ListImageOperations returns one page of an image's operations. Desktop
// images have no such call: ErrUnsupported.
func (c *Client) ListImageOperations(ctx context.Context, svc Service, imageID string, opt ListOptions) ([]Operation, string, error) {
	op := serviceOp(svc, "ListOperations")
	var ops []*operation.Operation
	var next string
	switch svc {
	case Compute:
		resp, err := read(ctx, c, op, func(ctx context.Context, o ...grpc.CallOption) (*compute.ListImageOperationsResponse, error) {
			return c.compute.ListOperations(ctx, &compute.ListImageOperationsRequest{ImageId: imageID, PageSize: opt.PageSize, PageToken: opt.PageToken}, o...)
		})
		if err != nil {
			return nil, "", err
		}
		ops, next = resp.GetOperations(), resp.GetNextPageToken()
	case BareMetal:
		resp, err := read(ctx, c, op, func(ctx context.Context, o ...grpc.CallOption) (*baremetal.ListImageOperationsResponse, error) {
			return c.baremetal.ListOperations(ctx, &baremetal.ListImageOperationsRequest{ImageId: imageID, PageSize: opt.PageSize, PageToken: opt.PageToken}, o...)
		})
		if err != nil {
			return nil, "", err
		}
		ops, next = resp.GetOperations(), resp.GetNextPageToken()
	case Desktop:
		return nil, "", unsupported(op, "desktop images have no operation listing")
	default:
		return nil, "", unknownService(svc, "ListOperations")
	}
	out, err := operationsFrom(ops)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	return out, next, nil
}

// CreateImage starts compute.ImageService.Create. Exactly one source of the
// spec must be set.
func (c *Client) CreateImage(ctx context.Context, key string, spec CreateImageSpec) (Operation, error) {
	const op = "compute.ImageService.Create"
	req := &compute.CreateImageRequest{
		FolderId:    spec.FolderID,
		Name:        spec.Name,
		Description: spec.Description,
		Labels:      spec.Labels,
		Family:      spec.Family,
		MinDiskSize: spec.MinDiskSize,
		ProductIds:  spec.ProductIDs,
	}
	var sources []string
	if spec.SourceImageID != "" {
		req.Source = &compute.CreateImageRequest_ImageId{ImageId: spec.SourceImageID}
		sources = append(sources, "image_id")
	}
	if spec.SourceDiskID != "" {
		req.Source = &compute.CreateImageRequest_DiskId{DiskId: spec.SourceDiskID}
		sources = append(sources, "disk_id")
	}
	if spec.SourceSnapshotID != "" {
		req.Source = &compute.CreateImageRequest_SnapshotId{SnapshotId: spec.SourceSnapshotID}
		sources = append(sources, "snapshot_id")
	}
	if spec.SourceURI != "" {
		req.Source = &compute.CreateImageRequest_Uri{Uri: spec.SourceURI}
		sources = append(sources, "uri")
	}
	if len(sources) > 1 {
		return Operation{}, invalid(op, "source", "set only one of "+strings.Join(sources, ", "))
	}
	t, ok := osType(spec.OS)
	if !ok {
		return Operation{}, invalid(op, "os.type", fmt.Sprintf("unknown OS %q, want LINUX or WINDOWS", spec.OS))
	}
	if t != compute.Os_TYPE_UNSPECIFIED {
		req.Os = &compute.Os{Type: t}
	}
	return c.mutate(ctx, op, key, func(ctx context.Context, o ...grpc.CallOption) (*operation.Operation, error) {
		return c.compute.Create(ctx, req, o...)
	})
}

// CreateBareMetalImage starts baremetal.ImageService.Create from an image
// at uri.
func (c *Client) CreateBareMetalImage(ctx context.Context, key, folderID, name, description, uri string, labels map[string]string) (Operation, error) {
	req := &baremetal.CreateImageRequest{FolderId: folderID, Name: name, Description: description, Uri: uri, Labels: labels}
	return c.mutate(ctx, "baremetal.ImageService.Create", key, func(ctx context.Context, o ...grpc.CallOption) (*operation.Operation, error) {
		return c.baremetal.Create(ctx, req, o...)
	})
}

// UpdateImage changes the fields u.Mask names, sending exactly that mask.
// Desktop and BareMetal images have no min_disk_size to update.
func (c *Client) UpdateImage(ctx context.Context, key string, svc Service, id string, u ImageUpdate) (Operation, error) {
	op := serviceOp(svc, "Update")
	mask := &fieldmaskpb.FieldMask{Paths: slices.Clone(u.Mask)}
	switch svc {
	case Compute:
		req := &compute.UpdateImageRequest{ImageId: id, UpdateMask: mask, Name: u.Name, Description: u.Description, Labels: u.Labels, MinDiskSize: u.MinDiskSize}
		return c.mutate(ctx, op, key, func(ctx context.Context, o ...grpc.CallOption) (*operation.Operation, error) {
			return c.compute.Update(ctx, req, o...)
		})
	case Desktop:
		if slices.Contains(u.Mask, "min_disk_size") {
			return Operation{}, unsupported(op, "min_disk_size cannot be updated")
		}
		req := &desktop.UpdateDesktopImageRequest{ImageId: id, UpdateMask: mask, Name: u.Name, Description: u.Description, Labels: u.Labels}
		return c.mutate(ctx, op, key, func(ctx context.Context, o ...grpc.CallOption) (*operation.Operation, error) {
			return c.desktop.Update(ctx, req, o...)
		})
	case BareMetal:
		if slices.Contains(u.Mask, "min_disk_size") {
			return Operation{}, unsupported(op, "min_disk_size cannot be updated")
		}
		req := &baremetal.UpdateImageRequest{ImageId: id, UpdateMask: mask, Name: u.Name, Description: u.Description, Labels: u.Labels}
		return c.mutate(ctx, op, key, func(ctx context.Context, o ...grpc.CallOption) (*operation.Operation, error) {
			return c.baremetal.Update(ctx, req, o...)
		})
	}
	return Operation{}, unknownService(svc, "Update")
}

// DeleteImage starts the deletion of an image.
func (c *Client) DeleteImage(ctx context.Context, key string, svc Service, id string) (Operation, error) {
	op := serviceOp(svc, "Delete")
	switch svc {
	case Compute:
		return c.mutate(ctx, op, key, func(ctx context.Context, o ...grpc.CallOption) (*operation.Operation, error) {
			return c.compute.Delete(ctx, &compute.DeleteImageRequest{ImageId: id}, o...)
		})
	case Desktop:
		return c.mutate(ctx, op, key, func(ctx context.Context, o ...grpc.CallOption) (*operation.Operation, error) {
			return c.desktop.Delete(ctx, &desktop.DeleteDesktopImageRequest{ImageId: id}, o...)
		})
	case BareMetal:
		return c.mutate(ctx, op, key, func(ctx context.Context, o ...grpc.CallOption) (*operation.Operation, error) {
			return c.baremetal.Delete(ctx, &baremetal.DeleteImageRequest{ImageId: id}, o...)
		})
	}
	return Operation{}, unknownService(svc, "Delete")
}

// CopyToDesktop makes a Desktop image from a Compute image
// (DesktopImageService.Copy).
func (c *Client) CopyToDesktop(ctx context.Context, key, folderID, name, description string, labels map[string]string, computeImageID string) (Operation, error) {
	req := &desktop.CopyDesktopImageRequest{FolderId: folderID, Name: name, Description: description, Labels: labels, ImageId: computeImageID}
	return c.mutate(ctx, "clouddesktop.DesktopImageService.Copy", key, func(ctx context.Context, o ...grpc.CallOption) (*operation.Operation, error) {
		return c.desktop.Copy(ctx, req, o...)
	})
}

// CopyFromDesktop makes a Desktop image from a desktop
// (DesktopImageService.CopyFromDesktop).
func (c *Client) CopyFromDesktop(ctx context.Context, key, folderID, name, description string, labels map[string]string, desktopID string) (Operation, error) {
	req := &desktop.CopyFromDesktopRequest{FolderId: folderID, Name: name, Description: description, Labels: labels, DesktopId: desktopID}
	return c.mutate(ctx, "clouddesktop.DesktopImageService.CopyFromDesktop", key, func(ctx context.Context, o ...grpc.CallOption) (*operation.Operation, error) {
		return c.desktop.CopyFromDesktop(ctx, req, o...)
	})
}

// GetOperation returns an operation of any service.
func (c *Client) GetOperation(ctx context.Context, id string) (Operation, error) {
	const op = "operation.OperationService.Get"
	m, err := read(ctx, c, op, func(ctx context.Context, o ...grpc.CallOption) (*operation.Operation, error) {
		return c.ops.Get(ctx, &operation.GetOperationRequest{OperationId: id}, o...)
	})
	if err != nil {
		return Operation{}, err
	}
	out, err := operationFrom(m)
	if err != nil {
		return Operation{}, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// CancelOperation asks to cancel an operation. It is sent once, like any
// mutation.
func (c *Client) CancelOperation(ctx context.Context, id string) (Operation, error) {
	const op = "operation.OperationService.Cancel"
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	m, err := c.ops.Cancel(ctx, &operation.CancelOperationRequest{OperationId: id}, c.callOpts()...)
	if err != nil {
		c.refused(err)
		return Operation{}, FromStatus(op, err)
	}
	out, err := operationFrom(m)
	if err != nil {
		return Operation{}, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// NewIdempotencyKey returns a random UUID (version 4).
func NewIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
