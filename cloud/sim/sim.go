// Package sim is an emulator of the Yandex Cloud image APIs: real gRPC
// servers built from go-genproto's server interfaces, in-memory state that
// can persist to a file, an injectable clock for the lifecycle of images,
// idempotency keys and fault injection. The dashboard runs against it by
// default, its tests use it as the cloud, and cmd/ycsim serves it to other
// clients. It depends only on go-genproto, grpc and the rules package.
package sim

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/yandex-cloud/go-genproto/yandex/cloud/baremetal/v1alpha"
	clouddesktop "github.com/yandex-cloud/go-genproto/yandex/cloud/clouddesktop/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/compute/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/resourcemanager/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
)

// Options configure an emulator.
type Options struct {
	// Clock tells time; nil is the real clock.
	Clock Clock
	// Seed makes the demo data (and every id the emulator makes); 0 means 1.
	Seed int64
	// Images is the number of Compute images to seed (0 means 300; negative
	// means none). Desktop and BareMetal get about a twentieth each.
	Images int
	// StatePath is a file to keep state in across restarts; "" keeps it in memory.
	StatePath string
	// TimeScale multiplies lifecycle delays: 1 is a few seconds per image,
	// 0 makes every operation finish at once.
	TimeScale float64
	// Faults to inject from the start; see SetFaults.
	Faults Faults
	// RequireAuth makes every call but discovery and IamTokenService.Create
	// need an IAM token the emulator issued (or one of Tokens).
	RequireAuth bool
	// Tokens are IAM tokens accepted without an exchange.
	Tokens []string
	Logger *slog.Logger
}

// Faults are failures injected on demand.
type Faults struct {
	// Latency is added to every call (real time, whatever the Clock).
	Latency time.Duration
	// UnavailableRate and ExhaustedRate are the shares (0..1) of calls that
	// fail with Unavailable and ResourceExhausted before reaching the service.
	UnavailableRate float64
	ExhaustedRate   float64
	// OpErrorRate is the share of new operations that end in an error.
	OpErrorRate float64
}

// Sim is the emulator. All state is guarded by mu; every RPC takes it once.
type Sim struct {
	opts  Options
	clock Clock
	log   *slog.Logger

	mu        sync.Mutex
	pcg       *rand.PCG
	rng       *rand.Rand
	faultRng  *rand.Rand
	faults    Faults
	addr      string
	clouds    []*resourcemanager.Cloud
	folders   []*resourcemanager.Folder
	compute   *table[*compute.Image]
	desktop   *table[*clouddesktop.DesktopImage]
	baremetal *table[*baremetal.Image]
	// disks, snapshots and desktops are the sources Create and
	// CopyFromDesktop accept; the emulator has no service for them.
	disks     map[string]Source
	snapshots map[string]Source
	desktops  map[string]Source
	ops       map[string]*opState
	pending   map[string]*opState
	imageOps  map[string][]string
	idem      map[string]idemEntry
	tokens    map[string]time.Time // issued IAM token → expiry
	unlock    func() error         // lets go of the state file's lock
	saKeys    map[string]saKey
	calls     map[string]int
	created   int
	dirty     bool

	srv      *grpc.Server
	lis      net.Listener
	stopSave chan struct{}
	saveDone chan struct{}
	closed   bool
}

// Source is a disk, snapshot or desktop that an image can be made from.
type Source struct {
	ID       string
	FolderID string
	Name     string
	Size     int64
	OS       string // LINUX or WINDOWS
}

type saKey struct {
	serviceAccountID string
	pub              *rsa.PublicKey
}

// New makes an emulator: from the state file when it exists, otherwise
// from the seeded demo data.
func New(opts Options) (*Sim, error) {
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Images == 0 {
		opts.Images = 300
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sim{
		opts:      opts,
		clock:     opts.Clock,
		log:       opts.Logger,
		faults:    opts.Faults,
		faultRng:  rand.New(rand.NewPCG(uint64(opts.Seed), 0xfa17)),
		compute:   newTable[*compute.Image](),
		desktop:   newTable[*clouddesktop.DesktopImage](),
		baremetal: newTable[*baremetal.Image](),
		disks:     map[string]Source{},
		snapshots: map[string]Source{},
		desktops:  map[string]Source{},
		ops:       map[string]*opState{},
		pending:   map[string]*opState{},
		imageOps:  map[string][]string{},
		idem:      map[string]idemEntry{},
		tokens:    map[string]time.Time{},
		saKeys:    map[string]saKey{},
		calls:     map[string]int{},
	}
	s.pcg = rand.NewPCG(uint64(opts.Seed), 0x1a9e)
	s.rng = rand.New(s.pcg)
	s.unlock = func() error { return nil }
	if opts.StatePath != "" {
		unlock, err := lockState(opts.StatePath)
		if err != nil {
			return nil, err
		}
		s.unlock = unlock
	}
	loaded, err := s.load()
	if err != nil {
		return nil, errors.Join(err, s.unlock())
	}
	if !loaded {
		s.seed(opts.Images)
		s.dirty = true
	}
	if opts.StatePath != "" {
		s.stopSave = make(chan struct{})
		s.saveDone = make(chan struct{})
		go s.saveLoop()
	}
	return s, nil
}

// NewGRPCServer makes a gRPC server with every emulated service, the
// emulator's interceptors (call counting, auth, faults) and reflection.
func (s *Sim) NewGRPCServer(opts ...grpc.ServerOption) *grpc.Server {
	opts = append(opts, grpc.ChainUnaryInterceptor(s.countCalls, s.authenticate, s.injectFaults))
	g := grpc.NewServer(opts...)
	s.register(g)
	reflection.Register(g)
	return g
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves in the background.
// It returns the bound address, which discovery then answers with.
func (s *Sim) Start(addr string) (string, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("sim: listen on %s: %w", addr, err)
	}
	return s.Serve(lis), nil
}

// Serve serves on lis in the background and returns its address.
func (s *Sim) Serve(lis net.Listener) string {
	g := s.NewGRPCServer()
	s.mu.Lock()
	s.srv, s.lis, s.addr = g, lis, lis.Addr().String()
	s.mu.Unlock()
	go func() {
		if err := g.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.log.Error("sim: serve", "err", err)
		}
	}()
	return lis.Addr().String()
}

// Addr is the address the emulator serves on ("" before Start).
func (s *Sim) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// SetAddress sets the address discovery answers with, for a server started
// outside Start/Serve.
func (s *Sim) SetAddress(addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addr = addr
}

// Close stops serving and writes the state file. It is safe to call twice.
func (s *Sim) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv := s.srv
	s.mu.Unlock()
	if srv != nil {
		// Stop, not GracefulStop: clients may hold streams open forever.
		srv.Stop()
	}
	if s.stopSave != nil {
		close(s.stopSave)
		<-s.saveDone
	}
	return errors.Join(s.save(), s.unlock())
}

// ErrStateInUse: another emulator (another process on the same data
// directory) holds the state file.
var ErrStateInUse = errors.New("the emulator's state file is in use by another process: " +
	"run one process per data directory, or share its cloud with --sim-listen and --endpoint")

// SetFaults changes the injected faults at once.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Faults returns the injected faults.
func (s *Sim) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Calls is how many times a method (its full gRPC name, e.g.
// "/yandex.cloud.operation.OperationService/Get") was called.
func (s *Sim) Calls(fullMethod string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[fullMethod]
}

// Created is how many images all services have created through the API.
func (s *Sim) Created() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.created
}

// DefaultFolderID is the shared "golden-images" folder.
func (s *Sim) DefaultFolderID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.folders {
		if f.Name == goldenFolder {
			return f.Id
		}
	}
	if len(s.folders) > 0 {
		return s.folders[0].Id
	}
	return ""
}

// Folders lists the emulator's folders (a copy).
func (s *Sim) Folders() []*resourcemanager.Folder {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*resourcemanager.Folder, len(s.folders))
	for i, f := range s.folders {
		out[i] = cloneMsg(f)
	}
	return out
}

// Sources lists the disks, snapshots and desktops of a folder that images
// can be made from, so tests and demos can find ids to use.
func (s *Sim) Sources(folderID string) (disks, snapshots, desktops []Source) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pick := func(m map[string]Source) []Source {
		var out []Source
		for _, src := range m {
			if src.FolderID == folderID {
				out = append(out, src)
			}
		}
		return out
	}
	return pick(s.disks), pick(s.snapshots), pick(s.desktops)
}

// AddServiceAccountKey registers the public half of an authorized key, so
// IamTokenService.Create accepts JWTs signed with it.
func (s *Sim) AddServiceAccountKey(keyID, serviceAccountID string, pub *rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saKeys[keyID] = saKey{serviceAccountID: serviceAccountID, pub: pub}
}

func (s *Sim) countCalls(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	s.mu.Lock()
	s.calls[info.FullMethod]++
	s.mu.Unlock()
	return h(ctx, req)
}

// openMethods need no token: discovery, and the token exchange itself.
func openMethod(fullMethod string) bool {
	return strings.HasPrefix(fullMethod, "/yandex.cloud.endpoint.ApiEndpointService/") ||
		fullMethod == "/yandex.cloud.iam.v1.IamTokenService/Create" ||
		strings.HasPrefix(fullMethod, "/grpc.reflection.")
}

func (s *Sim) authenticate(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if !s.opts.RequireAuth || openMethod(info.FullMethod) {
		return h(ctx, req)
	}
	tok := bearer(ctx)
	if tok == "" {
		return nil, status.Error(codes.Unauthenticated, "the request has no IAM token: send 'authorization: Bearer <token>'")
	}
	for _, t := range s.opts.Tokens {
		if t == tok {
			return h(ctx, req)
		}
	}
	s.mu.Lock()
	exp, ok := s.tokens[tok]
	now := s.clock.Now()
	s.mu.Unlock()
	if !ok || !now.Before(exp) {
		return nil, status.Error(codes.Unauthenticated, "the IAM token is invalid or expired")
	}
	return h(ctx, req)
}

func (s *Sim) injectFaults(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if strings.HasPrefix(info.FullMethod, "/grpc.reflection.") {
		return h(ctx, req)
	}
	s.mu.Lock()
	f := s.faults
	roll := s.faultRng.Float64()
	s.mu.Unlock()
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, status.FromContextError(ctx.Err()).Err()
		case <-t.C:
		}
	}
	switch {
	case roll < f.UnavailableRate:
		return nil, status.Error(codes.Unavailable, "injected fault: service unavailable")
	case roll < f.UnavailableRate+f.ExhaustedRate:
		return nil, status.Error(codes.ResourceExhausted, "injected fault: quota exceeded, retry later")
	}
	return h(ctx, req)
}

func bearer(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if t, ok := strings.CutPrefix(v, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
	}
	return ""
}

// subject is who made a call, for Operation.created_by.
func subject(ctx context.Context) string {
	if tok := bearer(ctx); tok != "" {
		return "ajesim" + fmt.Sprintf("%014x", fnv32(tok))
	}
	return "ajesimanonymous00000"
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// folderLocked returns the folder with id, or nil.
func (s *Sim) folderLocked(id string) *resourcemanager.Folder {
	for _, f := range s.folders {
		if f.Id == id {
			return f
		}
	}
	return nil
}

// needFolderLocked answers NotFound for an unknown folder, as the real API does.
func (s *Sim) needFolderLocked(id string) error {
	if s.folderLocked(id) == nil {
		return notFound("Folder", id)
	}
	return nil
}

// ForgetOperation drops an operation, as the real API does with old ones,
// so tests can see how a client copes with an operation the cloud no
// longer knows. A pending operation never takes effect. It reports whether
// the emulator knew id.
func (s *Sim) ForgetOperation(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.ops[id]
	if !ok {
		return false
	}
	delete(s.ops, id)
	delete(s.pending, id)
	s.imageOps[st.imageID] = slices.DeleteFunc(s.imageOps[st.imageID], func(o string) bool { return o == id })
	s.dirty = true
	return true
}
