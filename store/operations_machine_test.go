package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// TestLatePollCannotOverwrite: two writers read the same operation; the
// second to write (a poll that came back late, a second watcher) changes
// nothing and is told ErrStale — for every kind of write, open or final.
func TestLatePollCannotOverwrite(t *testing.T) {
	type write func(s *Store, o Operation) error
	open := func(st OpState) write {
		return func(s *Store, o Operation) error {
			o.State, o.Polls = st, o.Polls+1
			_, err := s.Transition(context.Background(), o)
			return err
		}
	}
	finish := func(st OpState) write {
		return func(s *Store, o Operation) error {
			o.State = st
			return s.FinishOperation(context.Background(), o, nil, cloud.Image{})
		}
	}
	batch := func(s *Store, o Operation) error {
		o.Polls++
		stale, err := s.SaveOperations(context.Background(), []Operation{o})
		if err == nil && len(stale) == 1 {
			return ErrStale
		}
		return err
	}
	tests := []struct {
		name          string
		first, second write
		want          OpState
	}{
		{"a late poll after the end", finish(OpDone), open(OpRunning), OpDone},
		{"a late batch of polls after the end", finish(OpCancelled), batch, OpCancelled},
		{"a late poll after a newer poll", open(OpRunning), open(OpRunning), OpRunning},
		{"a second finish", finish(OpDone), finish(OpFailed), OpDone},
		{"a late end after a newer poll", open(OpRunning), finish(OpLost), OpRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t)
			ctx := context.Background()
			o := newOp(t, s, "k", "image.copy", "amir", "f1", "")
			o.State, o.CloudID = OpRunning, "op1"
			o, err := s.Transition(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			late := o // read by the late writer at the same version
			if err := tt.first(s, o); err != nil {
				t.Fatal(err)
			}
			before, _ := s.Operation(ctx, o.ID)
			if err := tt.second(s, late); !errors.Is(err, ErrStale) {
				t.Fatalf("the late write: %v, want ErrStale", err)
			}
			after, _ := s.Operation(ctx, o.ID)
			if after.State != tt.want || after.Version != before.Version || after.Polls != before.Polls {
				t.Errorf("after the late write: %s v%d polls %d; before it %s v%d polls %d",
					after.State, after.Version, after.Polls, before.State, before.Version, before.Polls)
			}
			es, _ := s.AuditLog(ctx, AuditQuery{Action: "image.copy"})
			want := 0
			if !tt.want.Open() {
				want = 1
			}
			if len(es) != want {
				t.Errorf("%d outcome rows, want %d", len(es), want)
			}
		})
	}
}

// TestFinishedIsTerminal: the trigger refuses any statement that moves an
// operation out of a final state, whoever writes it.
func TestFinishedIsTerminal(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for _, st := range []OpState{OpDone, OpFailed, OpCancelled, OpLost} {
		o := newOp(t, s, "k-"+string(st), "image.update", "amir", "f1", "img")
		o.State = st
		if err := s.FinishOperation(ctx, o, nil, cloud.Image{}); err != nil {
			t.Fatal(err)
		}
		for _, to := range []OpState{OpPending, OpSending, OpRunning, OpDone} {
			if to == st {
				continue
			}
			if _, err := s.w.ExecContext(ctx, `UPDATE operations SET state = ? WHERE id = ?`, string(to), o.ID); err == nil {
				t.Errorf("a raw UPDATE moved a %s operation to %s", st, to)
			}
		}
		if got, _ := s.Operation(ctx, o.ID); got.State != st {
			t.Errorf("%s became %s", st, got.State)
		}
		if _, err := s.RequestCancel(ctx, o.ID, time.Now()); !errors.Is(err, ErrFinished) {
			t.Errorf("cancel of a %s operation: %v, want ErrFinished", st, err)
		}
	}
}

// TestLeases: a claimed operation is another watcher's only once the
// lease expired; renewing keeps it; claiming makes the former holder's
// copy stale; releasing (the write that ends the work) frees it.
func TestLeases(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	o := newOp(t, s, "k", "image.copy", "amir", "f1", "")
	o.NextPollAt = at
	o, err := s.Transition(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	const lease = 30 * time.Second
	a, err := s.ClaimDue(ctx, "a", at, lease, 10, nil)
	if err != nil || len(a) != 1 || a[0].ClaimedBy != "a" || !a[0].ClaimedUntil.Equal(at.Add(lease)) {
		t.Fatalf("a's claim = %+v, %v", a, err)
	}
	if b, _ := s.ClaimDue(ctx, "b", at.Add(lease-time.Millisecond), lease, 10, nil); len(b) != 0 {
		t.Fatalf("b claimed a held operation: %+v", b)
	}
	if b, _ := s.ClaimOperations(ctx, "b", []int64{o.ID}, at.Add(time.Second), lease); len(b) != 0 {
		t.Fatalf("b claimed a held operation by id: %+v", b)
	}
	if err := s.RenewClaims(ctx, "a", []int64{o.ID}, at.Add(20*time.Second), lease); err != nil {
		t.Fatal(err)
	}
	if b, _ := s.ClaimDue(ctx, "b", at.Add(lease+time.Second), lease, 10, nil); len(b) != 0 {
		t.Fatalf("b claimed a renewed lease: %+v", b)
	}
	// a's write keeps its renewed lease (a write never shortens it).
	held := a[0]
	held.State, held.Attempts = OpSending, 1
	if held, err = s.Transition(ctx, held); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Operation(ctx, o.ID); !got.ClaimedUntil.Equal(at.Add(50 * time.Second)) {
		t.Errorf("lease after a's write ends %v, want the renewed %v", got.ClaimedUntil, at.Add(50*time.Second))
	}
	// a dies: after the lease b takes it, and a's copy is stale.
	b, err := s.ClaimDue(ctx, "b", at.Add(50*time.Second), lease, 10, nil)
	if err != nil || len(b) != 1 || b[0].State != OpSending {
		t.Fatalf("b's claim after the lease = %+v, %v", b, err)
	}
	held.State, held.CloudID = OpRunning, "op-late"
	if _, err := s.Transition(ctx, held); !errors.Is(err, ErrStale) {
		t.Errorf("the dead holder's late answer: %v, want ErrStale", err)
	}
	// b releases it: due again, free for anyone.
	rel := b[0]
	rel.State, rel.CloudID, rel.ClaimedBy, rel.ClaimedUntil = OpRunning, "op1", "", time.Time{}
	rel.NextPollAt = at.Add(51 * time.Second)
	if _, err := s.Transition(ctx, rel); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.ClaimDue(ctx, "c", at.Add(51*time.Second), lease, 10, nil); len(c) != 1 || c[0].CloudID != "op1" {
		t.Errorf("c's claim after the release = %+v", c)
	}
	// A cancel asked makes it due at once, for whoever holds no lease.
	o2 := newOp(t, s, "k2", "image.copy", "amir", "f1", "")
	o2.NextPollAt = at.Add(time.Hour)
	if _, err := s.Transition(ctx, o2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RequestCancel(ctx, o2.ID, at.Add(52*time.Second)); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.ClaimDue(ctx, "d", at.Add(52*time.Second), lease, 10, nil); len(d) != 1 || d[0].ID != o2.ID || d[0].Cancel != CancelRequested {
		t.Errorf("a cancel asked: claimed %+v", d)
	}
}

// TestMigration011KeepsOperations: a database of migration 010 keeps its
// operations through the rebuild of 011, each readable as before, with
// the new columns at their defaults, the indexes of 005-007 made again
// and the terminal trigger in place.
func TestMigration011KeepsOperations(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	migs, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	byVersion := map[int]string{}
	for _, m := range migs {
		byVersion[m.version] = m.sql
	}
	// Back to 010: the operations table as 005-007 made it.
	for _, q := range []string{`DROP TABLE operations`, `DELETE FROM schema_migrations WHERE version = 11`,
		byVersion[5], byVersion[6], byVersion[7]} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for i, st := range []string{"pending", "running", "done", "failed", "lost"} {
		if _, err := s.w.ExecContext(ctx, `INSERT INTO operations (idempotency_key, action, service, folder_id, request,
	username, state, cloud_id, created_at, updated_at, next_poll_at) VALUES (?, 'image.copy', 'compute', 'f1', x'7b7d', 'amir', ?, ?, ?, ?, ?)`,
			"k"+st, st, "op"+st, ms(at), ms(at), ms(at.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.applyMigrations(ctx, migs); err != nil {
		t.Fatal(err)
	}
	ops, err := s.Operations(ctx, OperationQuery{Limit: 10})
	if err != nil || len(ops) != 5 {
		t.Fatalf("after 011: %d operations, %v", len(ops), err)
	}
	for _, o := range ops {
		if o.CloudID != "op"+string(o.State) || o.Version != 0 || o.ClaimedBy != "" || o.Cancel != CancelNone {
			t.Errorf("migrated %+v", o)
		}
	}
	if due, err := s.ClaimDue(ctx, "w", at.Add(time.Minute), time.Second, 10, nil); err != nil || len(due) != 2 {
		t.Errorf("the open ones claimable after 011: %d, %v", len(due), err)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE tbl_name = 'operations' AND name IN
	('operations_open', 'operations_image', 'operations_state', 'operations_user', 'operations_folder', 'operations_batch',
	 'operations_open_id', 'operations_user_open', 'operations_cancel', 'operations_terminal')`).Scan(&n); err != nil || n != 10 {
		t.Errorf("indexes and trigger after 011: %d of 10, %v", n, err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE operations SET state = 'running' WHERE idempotency_key = 'kdone'`); err == nil {
		t.Error("a migrated finished operation was reopened")
	}
}
