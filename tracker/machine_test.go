package tracker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/cloud/sim"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/store/storetest"
)

// menv is the machine tests' world: a fast fake cloud, a database file
// that several store handles (processes) open, and a fake clock.
type menv struct {
	t     *testing.T
	clock *sim.FakeClock
	cloud *fakeCloud
	path  string
	src   cloud.Image
}

const target = "f-team"

func newMEnv(t *testing.T) *menv {
	t.Helper()
	m := &menv{t: t, clock: sim.NewFakeClock(t0), cloud: newFakeCloud(), path: storetest.Path(t)}
	m.src = m.cloud.seed("f-golden", "golden")
	return m
}

// open is a new handle on the database: a process.
func (m *menv) open() *store.Store {
	m.t.Helper()
	st, err := store.Open(context.Background(), m.path)
	if err != nil {
		m.t.Fatal(err)
	}
	m.t.Cleanup(func() { st.Close() })
	return st
}

func (m *menv) tracker(st Store, owner string) *Tracker {
	return New(m.cloud, st, Config{Now: m.clock.Now, Owner: owner, Lease: 30 * time.Second, MaxPoll: 4 * time.Second})
}

func (m *menv) copyIntent(name string) Intent {
	return Copy(m.src, cloud.CreateImageSpec{FolderID: target, Name: name})
}

// drain steps trs in turn, a second of fake time apart, until nothing is
// open (at most rounds rounds).
func (m *menv) drain(st *store.Store, rounds int, trs ...*Tracker) {
	m.t.Helper()
	ctx := context.Background()
	for range rounds {
		c, err := st.CountOperations(ctx, nil, time.Time{})
		if err != nil {
			m.t.Fatal(err)
		}
		if c.InFlight == 0 {
			return
		}
		m.clock.Advance(time.Second)
		for _, tr := range trs {
			if _, err := tr.Step(ctx); err != nil {
				m.t.Fatal(err)
			}
		}
	}
	open, _ := st.Operations(ctx, store.OperationQuery{Open: true, Limit: 5})
	m.t.Fatalf("operations still open after %d rounds: %+v", rounds, open)
}

// outcomes counts the outcome rows of the audit log by person.
func outcomes(t *testing.T, st *store.Store) (byUser map[string]int, total int) {
	t.Helper()
	byUser = map[string]int{}
	q := store.AuditQuery{TargetKind: "image", Limit: store.MaxAuditLimit}
	for {
		es, err := st.AuditLog(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if strings.HasPrefix(e.Action, "image.") {
				byUser[e.Username]++
				total++
			}
		}
		if len(es) < q.Limit {
			return byUser, total
		}
		q.Before = es[len(es)-1].ID
	}
}

// TestCancelAfterDone: a cancel of a finished operation changes nothing,
// says how it ended, and its outcome stays audited once — for every way
// an operation ends.
func TestCancelAfterDone(t *testing.T) {
	tests := []struct {
		name  string
		in    func(m *menv) Intent
		setup func(m *menv)
		want  store.OpState
		says  string
	}{
		{"succeeded", func(m *menv) Intent { return m.copyIntent("fine") }, nil, store.OpDone, "already finished: the copy succeeded"},
		{"failed", func(m *menv) Intent { return m.copyIntent("doomed") },
			func(m *menv) { m.cloud.opError = func(string) bool { return true } }, store.OpFailed, "already finished: the copy failed. The cloud could not finish the copy in its folder: it failed on its side. Try again; if it fails again, ask the operator (the dashboard's log has the details)"},
		{"refused", func(m *menv) Intent { return m.copyIntent("Bad") }, nil, store.OpFailed, "already finished: the copy failed. The cloud refused the copy in its folder: it does not accept some of what was asked (a name, a label or a size). Check the fields and try again"},
		{"deleted", func(m *menv) Intent { return Delete(m.cloud.seed(target, "victim")) }, nil, store.OpDone, "already finished: the delete succeeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMEnv(t)
			if tt.setup != nil {
				tt.setup(m)
			}
			st := m.open()
			tr := m.tracker(st, "a")
			ctx := context.Background()
			o, _ := tr.Start(ctx, Who{Username: "amir"}, "", tt.in(m))
			m.drain(st, 20, tr)
			for range 3 { // again and again: still nothing
				got, err := tr.Cancel(ctx, o.ID)
				var fe *FinishedError
				if !errors.As(err, &fe) || !errors.Is(err, ErrNotRunning) || err.Error() != tt.says {
					t.Fatalf("Cancel = %v, want %q", err, tt.says)
				}
				if got.State != tt.want {
					t.Errorf("Cancel returned %s, want %s", got.State, tt.want)
				}
				m.clock.Advance(time.Minute)
				if n, err := tr.Step(ctx); n != 0 || err != nil {
					t.Errorf("a step after the cancel took %d operations, %v", n, err)
				}
			}
			if got, _ := st.Operation(ctx, o.ID); got.State != tt.want || got.Cancel != store.CancelNone {
				t.Errorf("after the cancels: %s, cancel %d", got.State, got.Cancel)
			}
			if by, total := outcomes(t, st); total != 1 || by["amir"] != 1 {
				t.Errorf("%d outcome rows, want 1", total)
			}
		})
	}
}

// TestCancelRacingTheLastPoll: a cancel asked while the watcher is
// polling the operation's end. On the old code Cancel read it running,
// the poll finished it, and Cancel's save reopened it: finished and
// audited twice. Now the cancel is an intent the lease holder acts on.
func TestCancelRacingTheLastPoll(t *testing.T) {
	for _, first := range []string{"poll first", "cancel first"} {
		t.Run(first, func(t *testing.T) {
			m := newMEnv(t)
			m.cloud.pollsToDone = 2
			st := m.open()
			tr := m.tracker(st, "a")
			ctx := context.Background()
			o, err := tr.Start(ctx, Who{Username: "amir"}, "", m.copyIntent("raced"))
			if err != nil || o.State != store.OpRunning {
				t.Fatalf("start = %+v, %v", o, err)
			}
			m.clock.Advance(time.Second)
			if _, err := tr.Step(ctx); err != nil { // first poll: still running
				t.Fatal(err)
			}
			// The cloud holds the next call of either kind until released.
			inCall, release := make(chan string), make(chan struct{})
			m.cloud.setFault(func(call, _ string) error {
				if call == "poll" || call == "cancel" {
					inCall <- call
					<-release
				}
				return nil
			})
			m.clock.Advance(2 * time.Second)
			var wg sync.WaitGroup
			var cancelErr error
			if first == "poll first" {
				wg.Go(func() { _, _ = tr.Step(ctx) })
				<-inCall // the poll that ends it is in the cloud
				wg.Go(func() { _, cancelErr = tr.Cancel(ctx, o.ID) })
			} else {
				wg.Go(func() { _, cancelErr = tr.Cancel(ctx, o.ID) })
				<-inCall // the cancel is in the cloud
				wg.Go(func() { _, _ = tr.Step(ctx) })
			}
			close(release)
			go func() {
				for range inCall { // later calls pass
				}
			}()
			wg.Wait()
			m.cloud.setFault(nil)
			m.drain(st, 30, tr)
			close(inCall)
			got, _ := st.Operation(ctx, o.ID)
			if got.State != store.OpDone && got.State != store.OpCancelled {
				t.Errorf("ended %s (%v)", got.State, cancelErr)
			}
			if _, total := outcomes(t, st); total != 1 {
				t.Errorf("%d outcome rows, want 1", total)
			}
		})
	}
}

// TestSlowBatchSentOnce: a batch whose sending lasts longer than any send
// grace or lease, while the clock moves on and the watchers step. On the
// old code the watcher sent it again after the 60 s grace and both
// answers finished it (13 outcome rows for 8 copies on the emulator; 16
// with this fake cloud's "done at once").
func TestSlowBatchSentOnce(t *testing.T) {
	for _, variant := range []string{"one watcher", "two watchers", "done at once"} {
		t.Run(variant, func(t *testing.T) {
			m := newMEnv(t)
			if variant == "done at once" {
				m.cloud.pollsToDone = 0 // the send's answer is final: both senders would finish it
			}
			st := m.open()
			a := m.tracker(st, "a")
			trs := []*Tracker{a}
			if variant == "two watchers" {
				trs = append(trs, m.tracker(m.open(), "b"))
			}
			ctx := context.Background()
			m.cloud.gate, m.cloud.sent = make(chan struct{}), make(chan string, 64)
			var ins []Intent
			for i := range 8 {
				ins = append(ins, m.copyIntent(fmt.Sprintf("slow-%d", i)))
			}
			var (
				ops []store.Operation
				wg  sync.WaitGroup
			)
			wg.Go(func() { ops, _, _ = a.StartBatch(ctx, Who{Username: "amir"}, "b1", ins) })
			<-m.cloud.sent // sending has begun
			for range 6 {
				m.clock.Advance(30 * time.Second) // 3 minutes in all
				for _, tr := range trs {
					// a first: the live owner renews its leases as it steps
					// (and Run every Lease/3), so b finds them held.
					if n, err := tr.Step(ctx); n != 0 || err != nil {
						t.Errorf("a step took %d operations in the middle of their sending, %v", n, err)
					}
				}
			}
			close(m.cloud.gate)
			wg.Wait()
			m.cloud.sent = nil
			m.drain(st, 30, trs...)
			for _, o := range ops {
				if n := m.cloud.sendsOf(o.Key); n != 1 {
					t.Errorf("operation %d sent %d times, want 1", o.ID, n)
				}
				if got, _ := st.Operation(ctx, o.ID); got.State != store.OpDone {
					t.Errorf("operation %d ended %s", o.ID, got.State)
				}
			}
			if _, total := outcomes(t, st); total != 8 {
				t.Errorf("%d outcome rows for 8 copies", total)
			}
			if n := len(m.cloud.created); n != 8 {
				t.Errorf("the cloud created %d images, want 8", n)
			}
		})
	}
}
