package sim

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// testEpoch is where fake clocks start in tests.
var testEpoch = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// startSim starts an emulator on a loopback port with a fake clock and
// returns it with a client connection. Unless opts says otherwise it seeds
// 60 Compute images and runs lifecycles at TimeScale 1 on the fake clock.
func startSim(t *testing.T, opts Options) (*Sim, *grpc.ClientConn, *FakeClock) {
	t.Helper()
	clk := NewFakeClock(testEpoch)
	if opts.Clock == nil {
		opts.Clock = clk
	}
	if opts.Images == 0 {
		opts.Images = 60
	}
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	addr, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() {
		conn.Close()
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, conn, clk
}

// withKey returns a context that sends an Idempotency-Key.
func withKey(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "idempotency-key", key)
}

func TestSeedIsDeterministic(t *testing.T) {
	a, err := New(Options{Seed: 7, Images: 50})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{Seed: 7, Images: 50})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.DefaultFolderID(), b.DefaultFolderID(); got != want {
		t.Errorf("default folder %q, want %q", got, want)
	}
	if got, want := a.compute.all(a.DefaultFolderID())[3].GetName(), b.compute.all(b.DefaultFolderID())[3].GetName(); got != want {
		t.Errorf("image name %q, want %q", got, want)
	}
	if got := a.compute.len(); got != 50 {
		t.Errorf("seeded %d compute images, want 50", got)
	}
	if a.desktop.len() == 0 || a.baremetal.len() == 0 {
		t.Errorf("seeded %d desktop and %d baremetal images, want some of each", a.desktop.len(), a.baremetal.len())
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	path := t.TempDir() + "/sim.state"
	clk := NewFakeClock(testEpoch)
	a, err := New(Options{Images: 40, StatePath: path, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	folder := a.DefaultFolderID()
	names := a.compute.len()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// A different seed must not matter: the file wins.
	b, err := New(Options{Images: 10, Seed: 99, StatePath: path, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got := b.DefaultFolderID(); got != folder {
		t.Errorf("folder after restart %q, want %q", got, folder)
	}
	if got := b.compute.len(); got != names {
		t.Errorf("%d images after restart, want %d", got, names)
	}
}

func BenchmarkSeed100k(b *testing.B) {
	for b.Loop() {
		if _, err := New(Options{Images: 100000}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOneEmulatorPerStateFile: a second emulator on a state file in use
// is refused with ErrStateInUse (two processes on one data directory each
// polled the operations the other's cloud started); once the first is
// closed, the file is free.
func TestOneEmulatorPerStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sim.state")
	a, err := New(Options{Images: 5, StatePath: path})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := New(Options{Images: 5, StatePath: path}); !errors.Is(err, ErrStateInUse) {
		if b != nil {
			b.Close()
		}
		t.Fatalf("a second emulator on the file: %v, want ErrStateInUse", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{Images: 5, StatePath: path})
	if err != nil {
		t.Fatalf("after the first closed: %v", err)
	}
	c.Close()
}
