package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/store"
)

// errCrash is every write of a crashed process.
var errCrash = errors.New("the process died")

// crashStore is a store whose process dies at its crashAt-th write: from
// then on nothing it does reaches the database, as after a kill -9.
type crashStore struct {
	*store.Store
	crashAt int64
	writes  atomic.Int64
}

func (c *crashStore) dead() bool    { return c.writes.Add(1) >= c.crashAt }
func (c *crashStore) crashed() bool { return c.writes.Load() >= c.crashAt }

func (c *crashStore) CreateIntentsLimited(ctx context.Context, ops []store.Operation, limit int) ([]store.Operation, error) {
	if c.dead() {
		return nil, errCrash
	}
	return c.Store.CreateIntentsLimited(ctx, ops, limit)
}

func (c *crashStore) Transition(ctx context.Context, o store.Operation) (store.Operation, error) {
	if c.dead() {
		return o, errCrash
	}
	return c.Store.Transition(ctx, o)
}

func (c *crashStore) SaveOperations(ctx context.Context, ops []store.Operation) ([]int64, error) {
	if c.dead() {
		return nil, errCrash
	}
	return c.Store.SaveOperations(ctx, ops)
}

func (c *crashStore) FinishOperation(ctx context.Context, o store.Operation, img *cloud.Image, removed cloud.Image) error {
	if c.dead() {
		return errCrash
	}
	return c.Store.FinishOperation(ctx, o, img, removed)
}

func (c *crashStore) UpsertImage(ctx context.Context, img cloud.Image) error {
	if c.dead() {
		return errCrash
	}
	return c.Store.UpsertImage(ctx, img)
}

func (c *crashStore) ClaimDue(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip []int64) ([]store.Operation, error) {
	if c.dead() {
		return nil, errCrash
	}
	return c.Store.ClaimDue(ctx, owner, now, lease, limit, skip)
}

func (c *crashStore) ClaimOperations(ctx context.Context, owner string, ids []int64, now time.Time, lease time.Duration) ([]store.Operation, error) {
	if c.dead() {
		return nil, errCrash
	}
	return c.Store.ClaimOperations(ctx, owner, ids, now, lease)
}

func (c *crashStore) RenewClaims(ctx context.Context, owner string, ids []int64, now time.Time, lease time.Duration) error {
	if len(ids) == 0 {
		return nil
	}
	if c.dead() {
		return errCrash
	}
	return c.Store.RenewClaims(ctx, owner, ids, now, lease)
}

func (c *crashStore) RequestCancel(ctx context.Context, id int64, now time.Time) (store.Operation, error) {
	if c.dead() {
		return store.Operation{}, errCrash
	}
	return c.Store.RequestCancel(ctx, id, now)
}

// TestCrashAtEveryStep stops the process at each write of the state
// machine in turn — the intents, each claim, pending → sending, sending →
// running, each poll, each finish, a cancel — for a copy, an update, a
// delete and a cancelled copy together. A new process on the same
// database carries on once the dead one's leases expire: every operation
// ends exactly once, with one outcome row, and the cloud does each once.
func TestCrashAtEveryStep(t *testing.T) {
	for k := int64(1); ; k++ {
		m := newMEnv(t)
		m.cloud.pollsToDone = 2
		edit, victim := m.cloud.seed(target, "to-edit"), m.cloud.seed(target, "to-delete")
		cs := &crashStore{Store: m.open(), crashAt: k}
		dead := m.tracker(cs, "dead")
		ctx := context.Background()
		ops, _, err := dead.StartBatch(ctx, Who{Username: "amir"}, "b", []Intent{
			m.copyIntent("crash-copy"), m.copyIntent("crash-cancelled"),
			Update(edit, cloud.ImageUpdate{Mask: []string{"description"}, Description: "edited"}), Delete(victim)})
		if err == nil && !cs.crashed() {
			_, _ = dead.Cancel(ctx, ops[1].ID)
			for range 10 {
				if cs.crashed() {
					break
				}
				m.clock.Advance(time.Second)
				_, _ = dead.Step(ctx)
			}
		}
		if !cs.crashed() {
			if k < 8 {
				t.Fatalf("the run ended after %d writes: the crash points were not reached", k)
			}
			t.Logf("%d crash points", k-1)
			return // every write has been a crash point
		}
		// The new process: the dead one's leases hold it off at first.
		st := m.open()
		next := m.tracker(st, "next")
		sendsBefore := m.cloud.totalSends()
		if _, err := next.Step(ctx); err != nil {
			t.Fatal(err)
		}
		if held := claimedBy(t, st, "dead"); len(held) > 0 && m.cloud.totalSends() != sendsBefore {
			t.Errorf("crash at write %d: the new process sent while the dead one's leases held", k)
		}
		m.clock.Advance(31 * time.Second)
		m.drain(st, 60, next)
		all, err := st.Operations(ctx, store.OperationQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if _, total := outcomes(t, st); total != len(all) {
			t.Errorf("crash at write %d: %d outcome rows for %d operations", k, total, len(all))
		}
		for _, o := range all {
			if o.State.Open() || o.State == store.OpLost || o.State == store.OpFailed {
				t.Errorf("crash at write %d: operation %s ended %s (%s)", k, o.ImageName, o.State, o.ErrorMessage)
			}
		}
		for img, n := range m.cloud.createdCounts() {
			if n != 1 {
				t.Errorf("crash at write %d: image %s created %d times", k, img, n)
			}
		}
		if n := len(m.cloud.createdCounts()); n > 2 {
			t.Errorf("crash at write %d: %d images created for 2 copies", k, n)
		}
	}
}

func (f *fakeCloud) totalSends() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.sends {
		n += s
	}
	return n
}

func (f *fakeCloud) createdCounts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.created {
		out[k] = v
	}
	return out
}

func (f *fakeCloud) setFault(fn func(call, key string) error) {
	f.mu.Lock()
	f.fault = fn
	f.mu.Unlock()
}

// claimedBy lists the open operations owner holds a lease on.
func claimedBy(t *testing.T, st *store.Store, owner string) []int64 {
	t.Helper()
	ops, err := st.Operations(context.Background(), store.OperationQuery{Open: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, o := range ops {
		if o.ClaimedBy == owner {
			ids = append(ids, o.ID)
		}
	}
	return ids
}

// intents writes ins down as a handler would in a process whose watcher
// runs: the intents alone, for the watchers to take.
func (m *menv) intents(st *store.Store, who string, ins []Intent) []store.Operation {
	m.t.Helper()
	ops := make([]store.Operation, len(ins))
	for i, in := range ins {
		req, _ := json.Marshal(in.req)
		o := in.op
		o.Key, o.Request, o.Username = cloud.NewIdempotencyKey(), req, who
		o.CreatedAt, o.NextPollAt = m.clock.Now(), m.clock.Now()
		ops[i] = o
	}
	ops, err := st.CreateIntents(context.Background(), ops)
	if err != nil {
		m.t.Fatal(err)
	}
	return ops
}

// TestTwoWatchers: two processes watch one database at once; every
// operation is sent once and finished once, whoever took it.
func TestTwoWatchers(t *testing.T) {
	m := newMEnv(t)
	m.cloud.pollsToDone = 3
	sa, sb := m.open(), m.open()
	a, b := m.tracker(sa, "a"), m.tracker(sb, "b")
	var ins []Intent
	for i := range 120 {
		switch i % 3 {
		case 0, 1:
			ins = append(ins, m.copyIntent(fmt.Sprintf("both-%d", i)))
		case 2:
			ins = append(ins, Update(m.cloud.seed(target, fmt.Sprintf("e-%d", i)), cloud.ImageUpdate{Mask: []string{"description"}, Description: "x"}))
		}
	}
	ops := m.intents(sa, "amir", ins)
	ctx := context.Background()
	took := map[string]*atomic.Int64{"a": {}, "b": {}}
	for round := 0; round < 100; round++ {
		c, _ := sa.CountOperations(ctx, nil, time.Time{})
		if c.InFlight == 0 {
			break
		}
		m.clock.Advance(time.Second)
		var wg sync.WaitGroup
		for name, tr := range map[string]*Tracker{"a": a, "b": b} {
			wg.Go(func() {
				n, err := tr.Step(ctx)
				if err != nil {
					t.Error(err)
				}
				took[name].Add(int64(n))
			})
		}
		wg.Wait()
	}
	for _, o := range ops {
		if n := m.cloud.sendsOf(o.Key); n != 1 {
			t.Errorf("operation %d sent %d times", o.ID, n)
		}
		if got, _ := sa.Operation(ctx, o.ID); got.State != store.OpDone {
			t.Errorf("operation %d ended %s", o.ID, got.State)
		}
	}
	if _, total := outcomes(t, sa); total != len(ops) {
		t.Errorf("%d outcome rows for %d operations", total, len(ops))
	}
	t.Logf("a took %d, b took %d", took["a"].Load(), took["b"].Load())
}

// TestOpIDReuse: the cloud restarts, forgets its operations and numbers
// new ones from the start; a poll of an old id answers another operation
// (or none). The operation ends lost with a reason a person reads, and
// nothing of the other operation is taken for its outcome.
func TestOpIDReuse(t *testing.T) {
	tests := []struct {
		name  string
		reuse func(m *menv)
		want  string
	}{
		{"another kind under the id", func(m *menv) {
			_, _ = m.cloud.UpdateImage(context.Background(), "someone-else", cloud.Compute, m.src.ID, cloud.ImageUpdate{Description: "theirs"})
		}, MismatchMessage},
		{"the same kind for another image", func(m *menv) {
			_, _ = m.cloud.CreateImage(context.Background(), "someone-else", cloud.CreateImageSpec{FolderID: "f-other", Name: "theirs"})
		}, MismatchMessage},
		{"nothing under the id", func(*menv) {}, LostMessage},
		// A cloud started again from the same seed hands out the same
		// operation and image ids: only the image's name and folder tell.
		{"the same kind and image id for another copy", func(m *menv) {
			m.cloud.restartFromSeed()
			_, _ = m.cloud.CreateImage(context.Background(), "someone-else", cloud.CreateImageSpec{FolderID: "f-other", Name: "theirs"})
		}, MismatchMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMEnv(t)
			m.cloud.pollsToDone = 3
			st := m.open()
			tr := m.tracker(st, "a")
			ctx := context.Background()
			o, err := tr.Start(ctx, Who{Username: "amir"}, "", m.copyIntent("mine"))
			if err != nil || o.CloudID != "op1" {
				t.Fatalf("start = %+v, %v", o, err)
			}
			m.cloud.restart()
			tt.reuse(m)
			m.drain(st, 10, tr)
			got, _ := st.Operation(ctx, o.ID)
			if got.State != store.OpLost || got.ErrorMessage != tt.want {
				t.Errorf("= %s %q, want lost with %q", got.State, got.ErrorMessage, tt.want)
			}
			if got.ImageName != "mine" {
				t.Errorf("the other operation's image was taken: %q", got.ImageName)
			}
			if _, total := outcomes(t, st); total != 1 {
				t.Errorf("%d outcome rows", total)
			}
		})
	}
}

// TestSendFaultsRetried: Unavailable and ResourceExhausted while sending
// are retried by the lease holder with backoff and the same key; the
// person is told the dashboard is waiting for the cloud; the cloud does it
// once.
func TestSendFaultsRetried(t *testing.T) {
	for _, code := range []codes.Code{codes.Unavailable, codes.ResourceExhausted} {
		t.Run(code.String(), func(t *testing.T) {
			m := newMEnv(t)
			st := m.open()
			tr := m.tracker(st, "a")
			var failures atomic.Int64
			failures.Store(3)
			m.cloud.setFault(func(call, _ string) error {
				if call == "send" && failures.Add(-1) >= 0 {
					return fakeErr(code, "busy")
				}
				return nil
			})
			ctx := context.Background()
			o, err := tr.Start(ctx, Who{Username: "amir"}, "", m.copyIntent("patient"))
			if err != nil || o.State != store.OpPending || o.ErrorMessage != WaitingMessage {
				t.Fatalf("start = %s %q, %v; want pending, waiting for the cloud", o.State, o.ErrorMessage, err)
			}
			var waits []time.Duration
			for o.State == store.OpPending {
				d := o.NextPollAt.Sub(m.clock.Now())
				waits = append(waits, d)
				m.clock.Advance(d)
				if _, err := tr.Step(ctx); err != nil {
					t.Fatal(err)
				}
				o, _ = st.Operation(ctx, o.ID)
			}
			if want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}; fmt.Sprint(waits) != fmt.Sprint(want) {
				t.Errorf("waits between sends = %v, want %v", waits, want)
			}
			m.drain(st, 10, tr)
			if n := m.cloud.sendsOf(o.Key); n != 4 {
				t.Errorf("%d sends, want 4 (all with the key %s)", n, o.Key)
			}
			if n := len(m.cloud.createdCounts()); n != 1 {
				t.Errorf("%d images created, want 1", n)
			}
			if o, _ = st.Operation(ctx, o.ID); o.State != store.OpDone || o.Attempts != 4 {
				t.Errorf("= %s after %d attempts", o.State, o.Attempts)
			}
		})
	}
}

// TestCancelWhileTheCloudIsDown: a cancel asked of an intent whose sends
// get no answer waits its backoff like the sends do; steps taken in a loop
// (nothing due) try the cloud no more (a second attack saw 800 sends in
// 20 s).
func TestCancelWhileTheCloudIsDown(t *testing.T) {
	m := newMEnv(t)
	st := m.open()
	tr := m.tracker(st, "a")
	var sends atomic.Int64
	m.cloud.setFault(func(call, _ string) error {
		if call == "send" {
			sends.Add(1)
			return fakeErr(codes.Unavailable, "down")
		}
		return nil
	})
	ctx := context.Background()
	o, err := tr.Start(ctx, Who{Username: "amir"}, "", m.copyIntent("stuck"))
	if err != nil || o.State != store.OpPending {
		t.Fatalf("start = %s, %v; want pending", o.State, err)
	}
	if _, err := tr.Cancel(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	before := sends.Load()
	for range 50 {
		if _, err := tr.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := sends.Load() - before; n > 1 {
		t.Errorf("%d sends in 50 steps with the clock still, want at most 1 (then the backoff)", n)
	}
}
