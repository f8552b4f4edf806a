package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/imagedash/imagedash/cloud"
)

// TestCreateIntentsLimited: a person's open operations are held to the
// limit, whole batches refused with the numbers; ended operations, other
// people and "no limit" are not counted; concurrent starts never slip over.
func TestCreateIntentsLimited(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	amir, err := s.CreateUser(ctx, NewUser{Username: "amir", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	bea, err := s.CreateUser(ctx, NewUser{Username: "bea", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	intents := func(u User, count int) []Operation {
		var out []Operation
		for range count {
			n++
			out = append(out, Operation{Key: fmt.Sprintf("k%d", n), Action: "image.copy", Service: cloud.Compute,
				FolderID: "f1", Request: []byte("{}"), UserID: u.ID, Username: u.Username})
		}
		return out
	}
	const limit = 5
	first, err := s.CreateIntentsLimited(ctx, intents(amir, 3), limit)
	if err != nil {
		t.Fatal(err)
	}
	// 3 open + 3 asked > 5: the whole batch is refused, nothing written.
	_, err = s.CreateIntentsLimited(ctx, intents(amir, 3), limit)
	var le *OpenLimitError
	if !errors.Is(err, ErrTooMany) || !errors.As(err, &le) || le.Open != 3 || le.Asked != 3 || le.Limit != limit {
		t.Fatalf("over the limit: %v (%+v)", err, le)
	}
	if c, _ := s.CountOperations(ctx, nil, first[0].CreatedAt.Add(-1)); c.InFlight != 3 {
		t.Errorf("in flight after a refused batch = %d, want 3", c.InFlight)
	}
	if _, err := s.CreateIntentsLimited(ctx, intents(amir, 2), limit); err != nil {
		t.Errorf("up to the limit: %v", err)
	}
	if _, err := s.CreateIntentsLimited(ctx, intents(amir, 1), limit); !errors.Is(err, ErrTooMany) {
		t.Errorf("one past the limit: %v", err)
	}
	if !errors.As(err, &le) || le.Message() == "" {
		t.Errorf("no message: %v", err)
	}
	// Another person, no limit, and no user are not held by amir's count.
	if _, err := s.CreateIntentsLimited(ctx, intents(bea, limit), limit); err != nil {
		t.Errorf("bea: %v", err)
	}
	if _, err := s.CreateIntents(ctx, intents(amir, 2)); err != nil {
		t.Errorf("no limit: %v", err)
	}
	// An ended operation frees its place.
	done := first[0]
	done.State = OpFailed
	if err := s.FinishOperation(ctx, done, nil, cloud.Image{}); err != nil {
		t.Fatal(err)
	}
	if err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE operations SET state = 'done' WHERE user_id = ? AND state = 'pending'`, amir.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Concurrent starts: at most limit written, each refusal an ErrTooMany.
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 12 {
		ins := intents(amir, 1)
		wg.Go(func() {
			_, err := s.CreateIntentsLimited(ctx, ins, limit)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, ErrTooMany):
				t.Errorf("concurrent start: %v", err)
			}
		})
	}
	wg.Wait()
	if ok != limit {
		t.Errorf("%d concurrent starts written, want %d", ok, limit)
	}
}

// TestCreateIntentsNameInFlight: two plans made at the same moment both
// passed the planner's look-up (the same bulk copy sent twice); the second
// write finds the first's names in flight, in its own transaction, and is
// refused whole. A name in another folder, or one whose copy has ended,
// is free.
func TestCreateIntentsNameInFlight(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	batch := func(key, folder string, names ...string) []Operation {
		var ops []Operation
		for i, n := range names {
			ops = append(ops, Operation{Key: fmt.Sprint(key, i), Action: "image.copy", Service: cloud.Compute, FolderID: folder,
				ImageName: n, Request: []byte("{}"), UserID: 0})
		}
		return ops
	}
	first, err := s.CreateIntentsLimited(ctx, batch("a", "f1", "x-copy", "y-copy"), 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateIntentsLimited(ctx, batch("b", "f1", "z-copy", "y-copy"), 0)
	var nf *NameInFlightError
	if !errors.As(err, &nf) || nf.Name != "y-copy" || !errors.Is(err, ErrExists) {
		t.Fatalf("the second batch = %v, want NameInFlightError for y-copy", err)
	}
	if got, _ := s.Operations(ctx, OperationQuery{Limit: 10}); len(got) != 2 {
		t.Errorf("%d operations, want the first batch's 2 only (the second refused whole)", len(got))
	}
	if _, err := s.CreateIntentsLimited(ctx, batch("c", "f2", "y-copy"), 0); err != nil {
		t.Errorf("the same name in another folder: %v", err)
	}
	done := first[1]
	done.State = OpDone
	if err := s.FinishOperation(ctx, done, nil, cloud.Image{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateIntentsLimited(ctx, batch("d", "f1", "y-copy"), 0); err != nil {
		t.Errorf("the name once its copy ended: %v", err)
	}
}
