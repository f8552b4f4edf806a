package tracker

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/store"
)

// requestKey marks the context of a person's request.
type requestKey struct{}

// senderCloud is the fake cloud telling, for every mutating call (the
// sends and the cancels), whether it came with a request's context: a
// call made on the request's goroutine carries its values (even through
// context.WithoutCancel); the watcher's own loop never has them.
type senderCloud struct {
	*fakeCloud
	calls chan string // "request" or "watcher", one a mutating call, as it starts
}

func (s *senderCloud) tell(ctx context.Context) {
	who := "watcher"
	if ctx.Value(requestKey{}) != nil {
		who = "request"
	}
	s.calls <- who
}

func (s *senderCloud) CreateImage(ctx context.Context, key string, spec cloud.CreateImageSpec) (cloud.Operation, error) {
	s.tell(ctx)
	return s.fakeCloud.CreateImage(ctx, key, spec)
}

func (s *senderCloud) UpdateImage(ctx context.Context, key string, svc cloud.Service, id string, u cloud.ImageUpdate) (cloud.Operation, error) {
	s.tell(ctx)
	return s.fakeCloud.UpdateImage(ctx, key, svc, id, u)
}

func (s *senderCloud) DeleteImage(ctx context.Context, key string, svc cloud.Service, id string) (cloud.Operation, error) {
	s.tell(ctx)
	return s.fakeCloud.DeleteImage(ctx, key, svc, id)
}

func (s *senderCloud) CancelOperation(ctx context.Context, id string) (cloud.Operation, error) {
	s.tell(ctx)
	return s.fakeCloud.CancelOperation(ctx, id)
}

// steppedStore tells when the watcher has taken its first look (Run is
// watching from then on).
type steppedStore struct {
	Store
	once    sync.Once
	stepped chan struct{}
}

func (s *steppedStore) ClaimDue(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip []int64) ([]store.Operation, error) {
	s.once.Do(func() { close(s.stepped) })
	return s.Store.ClaimDue(ctx, owner, now, lease, limit, skip)
}

// TestStartNeverSendsFromTheRequest: while the watcher runs, Start and
// Cancel only write intents and wake it: every call that changes the
// cloud is made by the watcher's loop, never on the request's goroutine.
// Held in the cloud (its send blocked), the watcher keeps the request
// waiting, not sending: the request ends (the person left) before the
// cloud has answered, and the operation is still the watcher's. Without
// a watcher (tools, tests stepping by hand) Start works through the same
// leased path itself: the recorder sees that, so it would see the same
// on the watched path.
func TestStartNeverSendsFromTheRequest(t *testing.T) {
	m := newMEnv(t)
	st := &steppedStore{Store: m.open(), stepped: make(chan struct{})}
	sc := &senderCloud{fakeCloud: m.cloud, calls: make(chan string, 16)}
	m.cloud.pollsToDone = 2
	tr := New(sc, st, Config{Now: m.clock.Now, Owner: "w", StartWait: time.Hour})
	gate := make(chan struct{})
	m.cloud.mu.Lock()
	m.cloud.gate = gate
	m.cloud.mu.Unlock()

	runCtx, stop := context.WithCancel(context.Background())
	ran := make(chan error)
	go func() { ran <- tr.Run(runCtx) }()
	<-st.stepped

	reqCtx, leave := context.WithCancel(context.WithValue(context.Background(), requestKey{}, "request"))
	started := make(chan store.Operation)
	go func() {
		o, _ := tr.Start(reqCtx, Who{Username: "amir"}, "", m.copyIntent("watched"))
		started <- o
	}()
	if who := <-sc.calls; who != "watcher" {
		t.Fatalf("the send was made by the %s", who)
	}
	// The watcher is held in the cloud; the person leaves: Start returns
	// with the operation as it stands, the cloud has not answered.
	leave()
	o := <-started
	if o.State != store.OpSending || o.CloudID != "" {
		t.Errorf("Start returned %s (cloud id %q), want sending, unanswered, while the watcher is held", o.State, o.CloudID)
	}
	close(gate)

	// A cancel asked on a request is sent by the watcher too.
	cctx := context.WithValue(context.Background(), requestKey{}, "request")
	if _, err := tr.Cancel(cctx, o.ID); err != nil {
		t.Fatal(err)
	}
	// Cancel may have heard the send's news (the cancel asked while it was
	// being answered): the cancel is then due at the next poll.
	m.clock.Advance(time.Minute)
	tr.poke()
	if who := <-sc.calls; who != "watcher" {
		t.Errorf("the cancel was sent by the %s", who)
	}
	stop()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}

	// The control: no watcher running, Start sends itself.
	alone := New(sc, st.Store, Config{Now: m.clock.Now, Owner: "tool"})
	if _, err := alone.Start(cctx, Who{Username: "amir"}, "", m.copyIntent("unwatched")); err != nil {
		t.Fatal(err)
	}
	if who := <-sc.calls; who != "request" {
		t.Errorf("without a watcher the send was made by the %s, want the request (the recorder sees it)", who)
	}
}
