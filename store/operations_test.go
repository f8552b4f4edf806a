package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// newOp is an intent of action by user in folder, on image.
func newOp(t *testing.T, s *Store, key, action, user, folder, image string) Operation {
	t.Helper()
	o, err := s.CreateIntent(context.Background(), Operation{Key: key, Batch: "b-" + user, Action: action,
		Service: cloud.Compute, FolderID: folder, ImageID: image, ImageName: "n-" + key, Request: []byte(`{"k":"` + key + `"}`),
		UserID: 0, Username: user})
	if err != nil {
		t.Fatalf("CreateIntent(%s): %v", key, err)
	}
	return o
}

func TestCreateIntent(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return at }
	g := s.OpsGeneration()

	o := newOp(t, s, "k1", "image.copy", "amir", "f1", "")
	if o.ID == 0 || o.State != OpPending || !o.CreatedAt.Equal(at) || !o.NextPollAt.Equal(at) || string(o.Request) != `{"k":"k1"}` {
		t.Errorf("created = %+v", o)
	}
	if s.OpsGeneration() == g {
		t.Error("the generation did not move")
	}
	if _, err := s.CreateIntent(ctx, Operation{Key: "k1", Action: "image.copy", Service: cloud.Compute, FolderID: "f", Request: []byte("{}")}); !errors.Is(err, ErrExists) {
		t.Errorf("a used key: %v, want ErrExists", err)
	}
	for _, bad := range []Operation{
		{Action: "a", Service: cloud.Compute, FolderID: "f", Request: []byte("{}")},
		{Key: "k", Service: cloud.Compute, FolderID: "f", Request: []byte("{}")},
		{Key: "k", Action: "a", Service: "tape", FolderID: "f", Request: []byte("{}")},
		{Key: "k", Action: "a", Service: cloud.Compute, Request: []byte("{}")},
		{Key: "k", Action: "a", Service: cloud.Compute, FolderID: "f"},
	} {
		if _, err := s.CreateIntent(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("CreateIntent(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestSaveAndFinishOperation(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return at }

	o := newOp(t, s, "k1", "image.copy", "amir", "f1", "")
	o.State, o.CloudID, o.ImageID, o.Attempts, o.PollEvery, o.NextPollAt = OpRunning, "op1", "fd8new", 1, 2*time.Second, at.Add(2*time.Second)
	o.ErrorCode, o.ErrorMessage = "Internal", "trouble"
	o, err := s.Transition(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Operation(ctx, o.ID)
	if err != nil || got.State != OpRunning || got.CloudID != "op1" || got.ImageID != "fd8new" || got.PollEvery != 2*time.Second ||
		!got.NextPollAt.Equal(at.Add(2*time.Second)) || !got.Failing() {
		t.Errorf("saved = %+v, %v", got, err)
	}
	if err := s.SaveOperation(ctx, Operation{ID: 999, State: OpRunning}); !errors.Is(err, ErrNotFound) {
		t.Errorf("saving an unknown operation: %v", err)
	}

	// Finishing writes the image in the same transaction.
	if err := s.FinishOperation(ctx, o, nil, cloud.Image{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("finishing an open operation: %v, want ErrInvalid", err)
	}
	img := cloud.Image{Service: cloud.Compute, ID: "fd8new", FolderID: "f1", Name: "fresh", Status: "READY", CreatedAt: at}
	o.State, o.ErrorCode, o.ErrorMessage = OpDone, "", ""
	if err := s.FinishOperation(ctx, o, &img, cloud.Image{}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Image(ctx, cloud.Compute, "fd8new"); err != nil || got.Name != "fresh" {
		t.Errorf("cached image = %+v, %v", got, err)
	}
	if got, _ := s.Operation(ctx, o.ID); got.State != OpDone || !got.DoneAt.Equal(at) {
		t.Errorf("finished = %+v", got)
	}

	// A delete removes it.
	d := newOp(t, s, "k2", "image.delete", "alice", "f1", "fd8new")
	d.State = OpDone
	if err := s.FinishOperation(ctx, d, nil, cloud.Image{Service: cloud.Compute, ID: "fd8new"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Image(ctx, cloud.Compute, "fd8new"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted image still cached: %v", err)
	}
}

func TestDueAndOpenOperations(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return at }

	if _, ok, err := s.NextDue(ctx); ok || err != nil {
		t.Errorf("NextDue on nothing = %v, %v", ok, err)
	}
	var ops []Operation
	for i, due := range []time.Duration{3 * time.Second, time.Second, 2 * time.Second, 10 * time.Second} {
		o := newOp(t, s, fmt.Sprint("k", i), "image.update", "u", "f1", fmt.Sprint("img", i))
		o.State, o.NextPollAt = OpRunning, at.Add(due)
		o, err := s.Transition(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, o)
	}
	done := ops[3]
	done.State = OpDone
	if err := s.FinishOperation(ctx, done, nil, cloud.Image{}); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueOperations(ctx, at.Add(2500*time.Millisecond), 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, o := range due {
		ids = append(ids, o.ID)
	}
	if want := []int64{ops[1].ID, ops[2].ID}; !slices.Equal(ids, want) {
		t.Errorf("due = %v, want %v (most overdue first; not due and finished left out)", ids, want)
	}
	if next, ok, err := s.NextDue(ctx); !ok || err != nil || !next.Equal(at.Add(time.Second)) {
		t.Errorf("NextDue = %v, %v, %v", next, ok, err)
	}
	open, err := s.OpenImageOperations(ctx, cloud.Compute, []string{"img0", "img3", "nope"})
	if err != nil || len(open) != 1 || open["img0"].ID != ops[0].ID {
		t.Errorf("open image operations = %+v, %v", open, err)
	}
	// The answer is a snapshot per operations generation: every write
	// moves it, so a finished operation leaves the next answer at once.
	ops[0].State = OpDone
	if err := s.FinishOperation(ctx, ops[0], nil, cloud.Image{}); err != nil {
		t.Fatal(err)
	}
	if open, err := s.OpenImageOperations(ctx, cloud.Compute, []string{"img0", "img1"}); err != nil || len(open) != 1 || open["img1"].ID != ops[1].ID {
		t.Errorf("after img0's operation finished: open image operations = %+v, %v", open, err)
	}
	if open, err := s.OpenImageOperations(ctx, cloud.Desktop, []string{"img1"}); err != nil || len(open) != 0 {
		t.Errorf("another service's image of the same id: open image operations = %+v, %v", open, err)
	}
}

// The ids of a list page's open operations come from a snapshot that a
// poll's save keeps and every change of target renews.
func TestOpenImageOperationIDs(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	ask := func(when string, want map[string]int64) {
		t.Helper()
		got, err := s.OpenImageOperationIDs(ctx, cloud.Compute, []string{"img0", "img1", "new", "nope"})
		if err != nil || !maps.Equal(got, want) {
			t.Errorf("%s: open operation ids = %v, %v; want %v", when, got, err, want)
		}
	}
	ask("nothing in flight", map[string]int64{})
	a := newOp(t, s, "a", "image.update", "u", "f1", "img0")
	b := newOp(t, s, "b", "image.copy", "u", "f1", "")
	ask("created", map[string]int64{"img0": a.ID})

	gen := s.openGen.Load()
	a.State, a.Polls = OpRunning, 1
	b.State, b.Polls = OpRunning, 1
	if stale, err := s.SaveOperations(ctx, []Operation{a, b}); err != nil || len(stale) != 0 {
		t.Fatal(stale, err)
	}
	a, b = reread(t, s, a), reread(t, s, b)
	a.Polls = 2
	a, err := s.Transition(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if s.openGen.Load() != gen {
		t.Error("saves of polls that change no target renewed the snapshot")
	}
	ask("polled", map[string]int64{"img0": a.ID})

	b.ImageID = "new" // the copy learnt its image
	if stale, err := s.SaveOperations(ctx, []Operation{b}); err != nil || len(stale) != 0 {
		t.Fatal(stale, err)
	}
	b = reread(t, s, b)
	ask("a copy's image known", map[string]int64{"img0": a.ID, "new": b.ID})
	// Two open operations of one image: no longer written as intents
	// (ImageBusyError), but a copy can learn an id an open one targets
	// (a cloud started again from its seed), and older databases have them.
	c := newOp(t, s, "c", "image.copy", "u", "f1", "")
	c.ImageID = "img0"
	if stale, err := s.SaveOperations(ctx, []Operation{c}); err != nil || len(stale) != 0 {
		t.Fatal(stale, err)
	}
	c = reread(t, s, c)
	ask("a newer operation of img0", map[string]int64{"img0": c.ID, "new": b.ID})
	b.State = OpDone
	if err := s.FinishOperation(ctx, b, nil, cloud.Image{}); err != nil {
		t.Fatal(err)
	}
	c.State = OpFailed
	if err := s.FinishOperation(ctx, c, nil, cloud.Image{}); err != nil {
		t.Fatal(err)
	}
	ask("finished and failed", map[string]int64{"img0": a.ID})
}

func TestOperationsQuery(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	var ids = map[string]int64{}
	for i, spec := range []struct{ key, action, user, folder string }{
		{"a", "image.copy", "amir", "f1"},
		{"b", "image.copy", "amir", "f2"},
		{"c", "image.update", "alice", "f1"},
		{"d", "image.delete", "alice", "f1"},
		{"e", "image.copy", "bob", "f3"},
	} {
		s.now = func() time.Time { return base.Add(time.Duration(i) * time.Minute) }
		ids[spec.key] = newOp(t, s, spec.key, spec.action, spec.user, spec.folder, "img-"+spec.key).ID
	}
	s.now = func() time.Time { return base.Add(time.Hour) }
	for key, st := range map[string]OpState{"a": OpDone, "c": OpFailed, "e": OpRunning} {
		o, _ := s.Operation(ctx, ids[key])
		o.State = st
		var err error
		if st.Open() {
			err = s.SaveOperation(ctx, o)
		} else {
			err = s.FinishOperation(ctx, o, nil, cloud.Image{})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		q    OperationQuery
		want string
	}{
		{"all, newest first", OperationQuery{}, "edcba"},
		{"open", OperationQuery{Open: true}, "edb"},
		{"closed", OperationQuery{Closed: true}, "ca"},
		{"states", OperationQuery{States: []OpState{OpFailed, OpRunning}}, "ec"},
		{"user, any case", OperationQuery{User: "ALICE"}, "dc"},
		{"action", OperationQuery{Action: "image.copy"}, "eba"},
		{"folders", OperationQuery{Folders: []string{"f1", "f3"}}, "edca"},
		{"no folders", OperationQuery{Folders: []string{}}, ""},
		{"image", OperationQuery{Image: "img-b"}, "b"},
		{"batch", OperationQuery{Batch: "b-amir"}, "ba"},
		{"time", OperationQuery{From: base.Add(time.Minute), To: base.Add(3 * time.Minute)}, "cb"},
		{"page", OperationQuery{Before: ids["c"], Limit: 1}, "b"},
		{"open and a user", OperationQuery{Open: true, User: "amir"}, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, err := s.Operations(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, o := range ops {
				for k, id := range ids {
					if id == o.ID {
						got += k
					}
				}
				if len(o.Request) != 0 {
					t.Errorf("a list read the request of %d", o.ID)
				}
			}
			if got != tt.want {
				t.Errorf("= %q, want %q", got, tt.want)
			}
		})
	}
	withReq, err := s.Operations(ctx, OperationQuery{Image: "img-a", WithRequest: true})
	if err != nil || len(withReq) != 1 || string(withReq[0].Request) != `{"k":"a"}` {
		t.Errorf("WithRequest = %+v, %v", withReq, err)
	}
	if _, err := s.Operations(ctx, OperationQuery{Limit: MaxOperationLimit + 1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("limit over the max: %v", err)
	}
	c, err := s.CountOperations(ctx, nil, base)
	if err != nil || c.InFlight != 3 || c.Failed != 1 {
		t.Errorf("counts = %+v, %v", c, err)
	}
	if c, _ := s.CountOperations(ctx, []string{"f2"}, base); c.InFlight != 1 || c.Failed != 0 {
		t.Errorf("counts in f2 = %+v", c)
	}
}

func reread(t *testing.T, s *Store, o Operation) Operation {
	t.Helper()
	got, err := s.Operation(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
