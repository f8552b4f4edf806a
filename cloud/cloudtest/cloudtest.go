// Package cloudtest starts the emulator on a loopback port and a client of
// it, for the tests of packages that talk to the cloud: the same real gRPC
// path the app uses, nothing faked.
package cloudtest

import (
	"context"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/cloud/sim"
)

// Start runs an emulator with opts and dials it; both are closed when the
// test ends.
func Start(tb testing.TB, opts sim.Options) (*sim.Sim, *cloud.Client) {
	tb.Helper()
	s, err := sim.New(opts)
	if err != nil {
		tb.Fatalf("start emulator: %v", err)
	}
	addr, err := s.Start("127.0.0.1:0")
	if err != nil {
		s.Close()
		tb.Fatalf("start emulator: %v", err)
	}
	c, err := cloud.Dial(context.Background(), cloud.Config{Endpoint: addr, Insecure: true, CallTimeout: 5 * time.Second})
	if err != nil {
		s.Close()
		tb.Fatalf("dial emulator: %v", err)
	}
	tb.Cleanup(func() {
		c.Close()
		s.Close()
	})
	return s, c
}
