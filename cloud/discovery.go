package cloud

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Rediscover is how a client whose first endpoint discovery failed keeps
// looking: a pause of Initial, doubling up to Max, between attempts, in
// the background until the cloud answers. Zero fields take the defaults.
type Rediscover struct {
	Initial time.Duration // default 1 s
	Max     time.Duration // default 1 min
	// After is the timer (default time.After); tests inject their own and
	// fire it when they choose.
	After func(time.Duration) <-chan time.Time
}

// serviceConn is the connection of one service as the stubs see it: empty
// until discovery says where the service is, and a call made meanwhile
// fails at once with Unavailable, as a call to an unreachable server does.
// It lets Dial hand out a working client while the cloud is unreachable.
type serviceConn struct {
	id string
	cc atomic.Pointer[grpc.ClientConn]
}

var _ grpc.ClientConnInterface = (*serviceConn)(nil)

func (s *serviceConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	cc := s.cc.Load()
	if cc == nil {
		return s.undiscovered()
	}
	return cc.Invoke(ctx, method, args, reply, opts...)
}

func (s *serviceConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	cc := s.cc.Load()
	if cc == nil {
		return nil, s.undiscovered()
	}
	return cc.NewStream(ctx, desc, method, opts...)
}

func (s *serviceConn) undiscovered() error {
	return status.Errorf(codes.Unavailable, "the cloud has not answered yet: the address of service %s is not known", s.id)
}

// discovery is the state of endpoint discovery: done once it has
// succeeded; until then, when the cloud was first found unreachable. The
// background loop (rediscover) is its only writer after Dial.
type discovery struct {
	mu    sync.Mutex
	since time.Time // first failed attempt; zero once discovered
	last  error     // the last attempt's error

	done chan struct{} // closed when discovered
	stop context.CancelFunc
	wg   sync.WaitGroup
}

// Reachable reports whether the cloud has answered: the client knows where
// its services are. A client whose cloud was unreachable at Dial answers
// false until a background discovery succeeds.
func (c *Client) Reachable() bool {
	if c.disc == nil {
		return true
	}
	select {
	case <-c.disc.done:
		return true
	default:
		return false
	}
}

// UnreachableSince is when the client first failed to reach the cloud, and
// false once it has reached it.
func (c *Client) UnreachableSince() (time.Time, bool) {
	if c.Reachable() {
		return time.Time{}, false
	}
	c.disc.mu.Lock()
	defer c.disc.mu.Unlock()
	return c.disc.since, true
}

// Discovered is closed once the client knows where the cloud's services are.
func (c *Client) Discovered() <-chan struct{} {
	if c.disc == nil {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	return c.disc.done
}

// rediscover retries discovery with backoff until it succeeds or ctx ends.
func (c *Client) rediscover(ctx context.Context, r Rediscover, attempt func(context.Context) error) {
	pause := r.Initial
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.After(pause):
		}
		err := attempt(ctx)
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errDiscoveryConfig) {
			// The cloud answered with an address the configuration refuses:
			// no retry mends that, so say it once, loudly, and stop.
			c.log.Error("cloud: discovery answered, but a service's address cannot be used; not retrying", "err", err)
			return
		}
		c.log.Warn("cloud: still unreachable; retrying", "err", err, "next", min(pause*2, r.Max))
		pause = min(pause*2, r.Max)
	}
}

// errDiscoveryConfig marks a discovery failure that no retry mends (an
// address the configuration refuses): Dial fails with it.
var errDiscoveryConfig = errors.New("cloud: discovery")

// configError wraps err as one no retry mends.
func configError(err error) error { return fmt.Errorf("%w: %w", errDiscoveryConfig, err) }
