package tracker

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/store"
)

// TestPropertyExactlyOnce is a seeded randomized run of mixed operations
// (copies, some refused, updates, deletes, cancels) against a cloud that
// fails a share of calls (Unavailable, ResourceExhausted) and of
// operations, with the process killed at random writes and a new one
// started on the same database. Whatever happened: every intent has
// exactly one outcome row, and every image the cloud created belongs to
// exactly one operation.
func TestPropertyExactlyOnce(t *testing.T) {
	total := 10000           // about 45 s on the 2-core box
	crashSpan := int64(1000) // a process dies within 50 + [0, crashSpan) writes
	switch {
	case raceEnabled:
		// SQLite's pure-Go code runs ~20× slower under the race detector
		// (400 intents were 24 s of CPU): fewer intents, with crashes closer
		// together, so that as many processes die as in longer runs.
		total, crashSpan = 200, 300
	case testing.Short():
		total = 1000
	}
	rng := rand.New(rand.NewPCG(16, 11))
	m := newMEnv(t)
	m.cloud.pollsToDone = 3
	var pool []cloud.Image
	for i := range 2000 {
		pool = append(pool, m.cloud.seed(target, fmt.Sprintf("seed-%d", i)))
	}
	counts := map[string]int{}
	roll := func(parts ...string) uint64 { // deterministic per call
		h := fnv.New64a()
		for _, p := range parts {
			h.Write([]byte(p))
		}
		return h.Sum64() % 100
	}
	m.cloud.fault = func(call, key string) error {
		m.cloud.mu.Lock()
		counts[call+key]++
		n := counts[call+key]
		m.cloud.mu.Unlock()
		switch r := roll(call, key, fmt.Sprint(n)); {
		case r < 5:
			return fakeErr(codes.Unavailable, "down")
		case r < 8:
			return fakeErr(codes.ResourceExhausted, "slow down")
		}
		return nil
	}
	m.cloud.opError = func(key string) bool { return roll("op", key) < 5 }

	st := m.open()
	ctx := context.Background()
	gens := 0
	var cs *crashStore
	var tr *Tracker
	restart := func() {
		gens++
		cs = &crashStore{Store: st, crashAt: 50 + rng.Int64N(crashSpan)}
		tr = New(m.cloud, cs, Config{Now: m.clock.Now, Owner: fmt.Sprintf("gen-%d", gens), Lease: 30 * time.Second,
			MaxPoll: 4 * time.Second, Concurrency: 4, StartWait: time.Second})
	}
	restart()
	batches := map[string]int{} // person → intents written
	var ids []int64
	submitted := 0
	for round := 0; ; round++ {
		if round > 50*total {
			t.Fatalf("no end after %d rounds", round)
		}
		if submitted < total {
			n := min(1+rng.IntN(20), total-submitted)
			var (
				ins    []Intent
				chosen = map[int]bool{} // an image once a batch (one open change an image)
				dels   []int
			)
			for range n {
				r, i := rng.IntN(100), rng.IntN(len(pool))
				if r >= 60 && chosen[i] {
					r = 0
				}
				switch {
				case r < 57:
					ins = append(ins, m.copyIntent(fmt.Sprintf("c-%d", submitted+len(ins))))
				case r < 60:
					ins = append(ins, m.copyIntent(fmt.Sprintf("Bad-%d", submitted+len(ins))))
				case len(pool) == 0:
					// Refused batches used up the images to change: copy.
					ins = append(ins, m.copyIntent(fmt.Sprintf("c-%d", submitted+len(ins))))
				case r < 80:
					chosen[i] = true
					ins = append(ins, Update(pool[i], cloud.ImageUpdate{Mask: []string{"description"}, Description: "x"}))
				default:
					chosen[i] = true
					ins = append(ins, Delete(pool[i]))
					dels = append(dels, i)
				}
			}
			who := fmt.Sprintf("p%d", round)
			// A batch naming an image another open operation changes is
			// refused whole (store.ImageBusyError): nothing written.
			if ops, _, err := tr.StartBatch(ctx, Who{Username: who}, "", ins); err == nil {
				slices.Sort(dels)
				for _, i := range slices.Backward(dels) {
					pool[i] = pool[len(pool)-1]
					pool = pool[:len(pool)-1]
				}
				batches[who] = len(ops)
				submitted += len(ops)
				for _, o := range ops {
					ids = append(ids, o.ID)
				}
			}
		} else {
			cs.crashAt = 1 << 62 // the last process lives: the run ends
			c, err := st.CountOperations(ctx, nil, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if c.InFlight == 0 {
				break
			}

		}
		if len(ids) > 0 && rng.IntN(100) < 30 && !cs.crashed() {
			_, _ = tr.Cancel(ctx, ids[max(0, len(ids)-1-rng.IntN(40))]) // a recent one
		}
		m.clock.Advance(time.Second)
		if !cs.crashed() {
			_, _ = tr.Step(ctx)
		}
		if cs.crashed() {
			m.clock.Advance(31 * time.Second) // the dead process's leases expire
			restart()
		}
	}

	byUser, rows := outcomes(t, st)
	if rows != submitted {
		t.Errorf("%d outcome rows for %d intents", rows, submitted)
	}
	for who, n := range batches {
		if byUser[who] != n {
			t.Errorf("%s: %d outcome rows for %d intents", who, byUser[who], n)
		}
	}
	copies := map[string]int{} // image → copy operations that name it
	states := map[store.OpState]int{}
	all := 0
	for q := (store.OperationQuery{Limit: store.MaxOperationLimit}); ; {
		ops, err := st.Operations(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range ops {
			all++
			states[o.State]++
			if o.State.Open() {
				t.Errorf("operation %d still %s", o.ID, o.State)
			}
			if o.Action == ActionCopy && o.ImageID != "" {
				copies[o.ImageID]++
			}
		}
		if len(ops) < q.Limit {
			break
		}
		q.Before = ops[len(ops)-1].ID
	}
	if all != submitted {
		t.Errorf("%d operations recorded for %d intents", all, submitted)
	}
	created := m.cloud.createdCounts()
	for img, n := range created {
		if n != 1 || copies[img] != 1 {
			t.Errorf("image %s: created %d times, by %d operations", img, n, copies[img])
		}
	}
	for img := range copies {
		if created[img] == 0 {
			t.Errorf("an operation names image %s the cloud never created", img)
		}
	}
	t.Logf("%d intents, %d processes, %d images created, outcomes %v", submitted, gens, len(created), states)
	// A run too short to kill processes or fail operations has not tested
	// what it is for.
	if gens < 3 || states[store.OpFailed] == 0 {
		t.Errorf("%d processes, outcomes %v: want at least 3 processes (2 killed) and a failure", gens, states)
	}
}
