package cloud

import (
	"context"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/yandex-cloud/go-genproto/yandex/cloud/endpoint"
	"google.golang.org/grpc"
)

func TestCheckAddress(t *testing.T) {
	tests := []struct {
		give      string
		plaintext bool
		wantErr   bool
	}{
		{"api.cloud.yandex.net:443", false, false},
		{"api.cloud.yandex.net:443", true, true},
		{"127.0.0.1:9000", true, false},
		{"127.1.2.3:9000", true, false},
		{"[::1]:9000", true, false},
		{"localhost:9000", true, false},
		{"LOCALHOST:9000", true, false},
		{"10.0.0.1:9000", true, true},
		{"[::2]:9000", true, true},
		{"0.0.0.0:9000", true, true},
		{"localhost.evil.com:9000", true, true},
		{"api.cloud.yandex.net", false, true},
		{":443", false, true},
		{"", false, true},
	}
	for _, tt := range tests {
		err := checkAddress(tt.give, tt.plaintext)
		if got := err != nil; got != tt.wantErr {
			t.Errorf("checkAddress(%q, plaintext=%v) = %v, want error: %v", tt.give, tt.plaintext, err, tt.wantErr)
		}
	}
}

func TestDialRefusesPlaintextToRemoteHost(t *testing.T) {
	tests := []string{"api.cloud.yandex.net:443", "192.168.1.10:9000", "example.com:80"}
	for _, endpoint := range tests {
		t.Run(endpoint, func(t *testing.T) {
			c, err := Dial(context.Background(), Config{Endpoint: endpoint, Insecure: true})
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded, want refusal")
			}
			if !strings.Contains(err.Error(), "plaintext") {
				t.Errorf("error = %q, want it to say plaintext is refused", err)
			}
		})
	}
}

func TestDialRejectsTwoAuthSources(t *testing.T) {
	_, err := Dial(context.Background(), Config{Endpoint: "127.0.0.1:1", Insecure: true, Auth: Auth{IAMToken: "a", Metadata: true}})
	if err == nil {
		t.Fatal("Dial succeeded, want an error")
	}
}

func TestFallbackAddress(t *testing.T) {
	tests := []struct {
		discovery, id, want string
	}{
		{"api.cloud.yandex.net:443", "clouddesktops", "clouddesktops.api.cloud.yandex.net:443"},
		{"api.cloud.yandex.net:443", "compute", "compute.api.cloud.yandex.net:443"},
		{"127.0.0.1:5555", "clouddesktops", "127.0.0.1:5555"},
	}
	for _, tt := range tests {
		if got := fallbackAddress(tt.discovery, tt.id); got != tt.want {
			t.Errorf("fallbackAddress(%q, %q) = %q, want %q", tt.discovery, tt.id, got, tt.want)
		}
	}
}

func TestNewIdempotencyKey(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 100 {
		k := NewIdempotencyKey()
		if !uuid.MatchString(k) {
			t.Fatalf("NewIdempotencyKey() = %q, want a version 4 UUID", k)
		}
		if seen[k] {
			t.Fatalf("NewIdempotencyKey() repeated %q", k)
		}
		seen[k] = true
	}
}

// fakeDiscovery answers ApiEndpointService.List with fixed endpoints, over
// two pages.
type fakeDiscovery struct {
	endpoint.UnimplementedApiEndpointServiceServer
	endpoints []*endpoint.ApiEndpoint
}

func (f *fakeDiscovery) List(_ context.Context, req *endpoint.ListApiEndpointsRequest) (*endpoint.ListApiEndpointsResponse, error) {
	half := len(f.endpoints) / 2
	if req.GetPageToken() == "" {
		return &endpoint.ListApiEndpointsResponse{Endpoints: f.endpoints[:half], NextPageToken: "p2"}, nil
	}
	return &endpoint.ListApiEndpointsResponse{Endpoints: f.endpoints[half:]}, nil
}

func serveDiscovery(t *testing.T, eps func(self string) []*endpoint.ApiEndpoint) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	g := grpc.NewServer()
	endpoint.RegisterApiEndpointServiceServer(g, &fakeDiscovery{endpoints: eps(addr)})
	go g.Serve(lis)
	t.Cleanup(g.Stop)
	return addr
}

func TestDialDiscovery(t *testing.T) {
	tests := []struct {
		name      string
		eps       func(self string) []*endpoint.ApiEndpoint
		wantAddrs func(self string) map[string]string
		wantConns int
		wantErr   string
	}{
		{
			name: "desktop under an alias, shared connections",
			eps: func(self string) []*endpoint.ApiEndpoint {
				return []*endpoint.ApiEndpoint{
					{Id: "compute", Address: self}, {Id: "operation", Address: self}, {Id: "baremetal", Address: "127.0.0.2:1"},
					{Id: "cloud-desktop", Address: "127.0.0.3:1"}, {Id: "resource-manager", Address: self}, {Id: "iam", Address: self},
					{Id: "kms", Address: "kms.example:443"},
				}
			},
			wantAddrs: func(self string) map[string]string {
				return map[string]string{
					"compute": self, "operation": self, "baremetal": "127.0.0.2:1",
					"clouddesktops": "127.0.0.3:1", "resource-manager": self, "iam": self,
				}
			},
			wantConns: 3,
		},
		{
			name: "missing services fall back to the emulator itself",
			eps: func(self string) []*endpoint.ApiEndpoint {
				return []*endpoint.ApiEndpoint{{Id: "compute", Address: self}, {Id: "iam", Address: self}}
			},
			wantAddrs: func(self string) map[string]string {
				return map[string]string{
					"compute": self, "operation": self, "baremetal": self,
					"clouddesktops": self, "resource-manager": self, "iam": self,
				}
			},
			wantConns: 1,
		},
		{
			name: "plaintext to a discovered remote address is refused",
			eps: func(self string) []*endpoint.ApiEndpoint {
				return []*endpoint.ApiEndpoint{{Id: "compute", Address: "compute.api.cloud.yandex.net:443"}}
			},
			wantErr: "plaintext",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			self := serveDiscovery(t, tt.eps)
			c, err := Dial(context.Background(), Config{Endpoint: self, Insecure: true, CallTimeout: 5 * time.Second})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Dial error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			want := tt.wantAddrs(self)
			for id, w := range want {
				if got := c.addrs[id]; got != w {
					t.Errorf("address of %s = %q, want %q", id, got, w)
				}
			}
			if got := len(c.conns); got != tt.wantConns {
				t.Errorf("connections = %d, want %d", got, tt.wantConns)
			}
		})
	}
}
