package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/cloud/cloudtest"
	"github.com/imagedash/imagedash/cloud/sim"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/store/storetest"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// env is the emulator on a fake clock, a client of it, a store on a temp
// file and a tracker over both, on the same clock.
type env struct {
	t      *testing.T
	clock  *sim.FakeClock
	sim    *sim.Sim
	cloud  *cloud.Client
	path   string
	store  *store.Store
	tr     *Tracker
	src    cloud.Image // a READY Compute image of the golden folder
	target string      // a team folder to copy into
}

func newEnv(t *testing.T) *env { return newEnvScale(t, 1) }

// newEnvScale is newEnv with the emulator's operations scale times slower.
func newEnvScale(t *testing.T, scale float64) *env {
	t.Helper()
	clk := sim.NewFakeClock(t0)
	s, c := cloudtest.Start(t, sim.Options{Clock: clk, Images: 20, TimeScale: scale})
	e := &env{t: t, clock: clk, sim: s, cloud: c, path: storetest.Path(t)}
	e.open()
	ctx := context.Background()
	imgs, _, err := c.ListImages(ctx, cloud.Compute, s.DefaultFolderID(), cloud.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(imgs, func(img cloud.Image) bool { return img.Status == "READY" })
	if i < 0 {
		t.Fatal("no READY image in the golden folder")
	}
	e.src = imgs[i]
	for _, f := range s.Folders() {
		if f.GetName() == "team-alpha" {
			e.target = f.GetId()
		}
	}
	return e
}

// open opens the store and a tracker over it: at start, and again to
// stand for a restarted process.
func (e *env) open() {
	e.t.Helper()
	st, err := store.Open(context.Background(), e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { st.Close() })
	e.store = st
	e.tr = New(e.cloud, st, Config{Now: e.clock.Now})
}

func (e *env) copyIntent(name string) Intent {
	return Copy(e.src, cloud.CreateImageSpec{FolderID: e.target, Name: name, Labels: map[string]string{"copied": "yes"}})
}

// step advances the clock by d and runs one watcher step.
func (e *env) step(d time.Duration) {
	e.t.Helper()
	e.clock.Advance(d)
	if _, err := e.tr.Step(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// op reads operation id back.
func (e *env) op(id int64) store.Operation {
	e.t.Helper()
	o, err := e.store.Operation(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

// untilDone steps until operation id is final (at most 5 minutes of fake
// time, stepping by its own poll interval) and returns it.
func (e *env) untilDone(id int64) store.Operation {
	e.t.Helper()
	for deadline := e.clock.Now().Add(5 * time.Minute); e.clock.Now().Before(deadline); {
		o := e.op(id)
		if !o.State.Open() {
			return o
		}
		e.step(max(o.NextPollAt.Sub(e.clock.Now()), time.Millisecond))
	}
	e.t.Fatalf("operation %d not done after 5 minutes: %+v", id, e.op(id))
	return store.Operation{}
}

func TestCopySucceeds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o, err := e.tr.Start(ctx, Who{UserID: 7, Username: "amir"}, "", e.copyIntent("golden-copy"))
	if err != nil {
		t.Fatal(err)
	}
	if o.State != store.OpRunning || o.CloudID == "" || o.ImageID == "" || o.Attempts != 1 || o.Username != "amir" {
		t.Fatalf("started = %+v", o)
	}
	o = e.untilDone(o.ID)
	if o.State != store.OpDone || o.ErrorCode != "" || o.DoneAt.IsZero() {
		t.Fatalf("finished = %+v", o)
	}
	img, err := e.store.Image(ctx, cloud.Compute, o.ImageID)
	if err != nil || img.Status != "READY" || img.Name != "golden-copy" || img.FolderID != e.target || img.Labels["copied"] != "yes" {
		t.Errorf("cached image = %+v, %v", img, err)
	}
	if n := e.sim.Created(); n != 1 {
		t.Errorf("emulator created %d images, want 1", n)
	}
	audit, _ := e.store.AuditLog(ctx, store.AuditQuery{User: "amir"})
	if len(audit) != 1 || audit[0].Action != ActionCopy || audit[0].Outcome != store.OutcomeSuccess || audit[0].OperationID != strconv.FormatInt(o.ID, 10) ||
		!strings.Contains(audit[0].Detail, "cloud operation "+o.CloudID) || audit[0].TargetID != o.ImageID {
		t.Errorf("audit = %+v", audit)
	}
}

func TestUpdateAndDelete(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	created := e.untilDone(mustStart(t, e, e.copyIntent("to-edit")).ID)
	img, _ := e.store.Image(ctx, cloud.Compute, created.ImageID)

	up := e.untilDone(mustStart(t, e, Update(img, cloud.ImageUpdate{Mask: []string{"description"}, Description: "edited"})).ID)
	got, err := e.store.Image(ctx, cloud.Compute, img.ID)
	if up.State != store.OpDone || err != nil || got.Description != "edited" || got.Name != "to-edit" {
		t.Errorf("after update: %+v; image %+v, %v", up, got, err)
	}
	del := e.untilDone(mustStart(t, e, Delete(got)).ID)
	if _, err := e.store.Image(ctx, cloud.Compute, img.ID); del.State != store.OpDone || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after delete: %+v; cache lookup %v", del, err)
	}
}

func mustStart(t *testing.T, e *env, in Intent) store.Operation {
	t.Helper()
	o, err := e.tr.Start(context.Background(), Who{Username: "t"}, "", in)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestBackoffSchedule: 1 s, doubling to the 15 s cap while nothing changes.
func TestBackoffSchedule(t *testing.T) {
	e := newEnvScale(t, 100) // an operation of minutes
	o := mustStart(t, e, e.copyIntent("slow-copy"))
	var got []time.Duration
	for range 7 {
		o = e.op(o.ID)
		if !o.State.Open() {
			break
		}
		got = append(got, o.NextPollAt.Sub(e.clock.Now()))
		e.step(o.NextPollAt.Sub(e.clock.Now()))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 15 * time.Second, 15 * time.Second, 15 * time.Second}
	if !slices.Equal(got, want[:len(got)]) || len(got) < 4 {
		t.Errorf("poll intervals = %v, want the start of %v", got, want)
	}
	if tr := New(nil, nil, Config{}); tr.backoff(4*time.Second, true) != time.Second {
		t.Error("a change does not reset the backoff")
	}
}

func TestOperationFails(t *testing.T) {
	e := newEnv(t)
	e.sim.SetFaults(sim.Faults{OpErrorRate: 1})
	o := e.untilDone(mustStart(t, e, e.copyIntent("doomed")).ID)
	if o.State != store.OpFailed || o.ErrorCode != "Internal" || o.ErrorMessage == "" {
		t.Errorf("= %+v, want failed with the cloud's error", o)
	}
	audit, _ := e.store.AuditLog(context.Background(), store.AuditQuery{Outcome: store.OutcomeFailure})
	if len(audit) != 1 || audit[0].Action != ActionCopy {
		t.Errorf("audit = %+v", audit)
	}
	// The cache shows what the failure left, not the CREATING the copy
	// wrote while it ran.
	if img, err := e.store.Image(context.Background(), o.Service, o.ImageID); err != nil || img.Status != "ERROR" {
		t.Errorf("the failed copy's image in the cache: %+v, %v; want ERROR", img, err)
	}
}

func TestRefusedAtOnce(t *testing.T) {
	e := newEnv(t)
	o, err := e.tr.Start(context.Background(), Who{}, "", e.copyIntent("Bad_Name"))
	var ce *cloud.Error
	if !errors.As(err, &ce) || len(ce.Violations) == 0 || o.State != store.OpFailed || o.ErrorCode != "InvalidArgument" {
		t.Fatalf("= %+v, %v; want failed with field violations", o, err)
	}
	if e.sim.Created() != 0 {
		t.Error("a refused copy created an image")
	}
	// Its outcome row names it by the dashboard's id: a refused send has
	// no cloud id, and the cloud's ids repeat after a restart anyway.
	audit, _ := e.store.AuditLog(context.Background(), store.AuditQuery{Action: ActionCopy})
	if len(audit) != 1 || audit[0].Outcome != store.OutcomeFailure || audit[0].OperationID != strconv.FormatInt(o.ID, 10) {
		t.Errorf("audit of the refused send = %+v, want one failure naming operation %d", audit, o.ID)
	}
}

func TestUnavailableWhilePolling(t *testing.T) {
	e := newEnv(t)
	o := mustStart(t, e, e.copyIntent("patient"))
	e.sim.SetFaults(sim.Faults{UnavailableRate: 1})
	for range 4 {
		e.step(e.op(o.ID).NextPollAt.Sub(e.clock.Now()))
	}
	o = e.op(o.ID)
	if o.State != store.OpRunning || o.Polls != 4 || o.PollEvery != 15*time.Second {
		t.Fatalf("while unavailable = %+v; want still running, 4 polls, backed off", o)
	}
	e.sim.SetFaults(sim.Faults{})
	if o = e.untilDone(o.ID); o.State != store.OpDone {
		t.Errorf("= %+v", o)
	}
}

func TestSendRetriedWithTheSameKey(t *testing.T) {
	e := newEnv(t)
	e.sim.SetFaults(sim.Faults{UnavailableRate: 1})
	o, err := e.tr.Start(context.Background(), Who{}, "", e.copyIntent("retried"))
	if err != nil || o.State != store.OpPending || o.ErrorMessage == "" {
		t.Fatalf("= %+v, %v; want pending with the reason", o, err)
	}
	e.step(o.NextPollAt.Sub(e.clock.Now()))
	if o = e.op(o.ID); o.State != store.OpPending || o.Attempts != 2 {
		t.Fatalf("after a second failed send = %+v", o)
	}
	e.sim.SetFaults(sim.Faults{})
	if o = e.untilDone(o.ID); o.State != store.OpDone || o.Attempts != 3 {
		t.Errorf("= %+v", o)
	}
	if n := e.sim.Created(); n != 1 {
		t.Errorf("created %d, want 1", n)
	}
}

func TestLostOperation(t *testing.T) {
	e := newEnv(t)
	o := mustStart(t, e, e.copyIntent("forgotten"))
	if !e.sim.ForgetOperation(o.CloudID) {
		t.Fatal("the emulator did not know the operation")
	}
	o = e.untilDone(o.ID)
	if o.State != store.OpLost || o.ErrorMessage != LostMessage {
		t.Errorf("= %+v, want lost with an explanation", o)
	}
	// Written for a person: no cloud id, no gRPC code.
	for _, internal := range []string{o.CloudID, "NotFound", "operation op"} {
		if strings.Contains(o.ErrorMessage, internal) {
			t.Errorf("the reason %q shows %q", o.ErrorMessage, internal)
		}
	}
}

// TestCrashSafety stops the process at each point of an operation's life
// and restarts on the same database: each operation completes exactly once.
func TestCrashSafety(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	// 1. Between intent and call: the intent row is written, nothing sent.
	in := e.copyIntent("crash-before-call")
	req, _ := json.Marshal(in.req)
	o1 := in.op
	o1.Key, o1.Request, o1.NextPollAt = cloud.NewIdempotencyKey(), req, e.clock.Now()
	o1, err := e.store.CreateIntent(ctx, o1)
	if err != nil {
		t.Fatal(err)
	}

	// 2. The call reached the cloud, the answer was lost with the process.
	in = e.copyIntent("crash-after-call")
	req, _ = json.Marshal(in.req)
	o2 := in.op
	o2.Key, o2.Request, o2.NextPollAt = cloud.NewIdempotencyKey(), req, e.clock.Now()
	if o2, err = e.store.CreateIntent(ctx, o2); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cloud.CreateImage(ctx, o2.Key, *in.req.Create); err != nil {
		t.Fatal(err)
	}

	// 3. Between call and done: running, then the process stops.
	o3 := mustStart(t, e, e.copyIntent("crash-while-running"))

	// Restart: a new tracker on the same file; its first step is the
	// resume.
	e.store.Close()
	e.open()
	if n, err := e.tr.Step(ctx); err != nil || n != 2 {
		t.Fatalf("resumed %d, %v; want the 2 pending intents", n, err)
	}
	for _, id := range []int64{o1.ID, o2.ID, o3.ID} {
		if o := e.untilDone(id); o.State != store.OpDone {
			t.Errorf("operation %d = %+v", id, o)
		}
	}
	if n := e.sim.Created(); n != 3 {
		t.Errorf("the emulator created %d images, want exactly 3", n)
	}
	imgs, err := e.store.Images(ctx, store.ImageQuery{Service: cloud.Compute, FolderIDs: []string{e.target}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, img := range imgs.Images {
		names[img.Name]++
	}
	for _, n := range []string{"crash-before-call", "crash-after-call", "crash-while-running"} {
		if names[n] != 1 {
			t.Errorf("cached %d images named %s, want 1", names[n], n)
		}
	}
}

// TestRunLoop runs the real loop on the real clock with instant operations.
func TestRunLoop(t *testing.T) {
	s, c := cloudtest.Start(t, sim.Options{Images: 10, TimeScale: 0})
	st, err := store.Open(context.Background(), storetest.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tr := New(c, st, Config{MinPoll: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- tr.Run(ctx) }()

	imgs, _, err := c.ListImages(ctx, cloud.Compute, s.DefaultFolderID(), cloud.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o, err := tr.Start(ctx, Who{}, "", Delete(imgs[0]))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for o.State.Open() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		if o, err = st.Operation(ctx, o.ID); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if o.State != store.OpDone {
		t.Errorf("= %+v", o)
	}
}

func TestStartBatch(t *testing.T) {
	e := newEnv(t)
	ins := []Intent{e.copyIntent("batch-a"), e.copyIntent("batch-b"), e.copyIntent("Bad_Name")}
	ops, errs, err := e.tr.StartBatch(context.Background(), Who{Username: "amir"}, "b1", ins)
	if err != nil {
		t.Fatal(err)
	}
	if ops[0].State != store.OpRunning || ops[1].State != store.OpRunning || errs[0] != nil || errs[1] != nil {
		t.Errorf("started = %+v, %v", ops[:2], errs[:2])
	}
	if ops[2].State != store.OpFailed || errs[2] == nil {
		t.Errorf("the bad one = %+v, %v; want refused", ops[2], errs[2])
	}
	for _, o := range ops[:2] {
		if o = e.untilDone(o.ID); o.State != store.OpDone || o.Batch != "b1" {
			t.Errorf("= %+v", o)
		}
	}
	if n := e.sim.Created(); n != 2 {
		t.Errorf("created %d, want 2", n)
	}
	// A batch with a used key is written not at all.
	o := ops[0]
	o.ID = 0
	if _, err := e.store.CreateIntents(context.Background(), []store.Operation{{Key: "fresh", Action: ActionCopy,
		Service: cloud.Compute, FolderID: e.target, Request: []byte("{}")}, o}); err == nil {
		t.Fatal("a batch with a used key was accepted")
	}
	if got, _ := e.store.Operations(context.Background(), store.OperationQuery{}); len(got) != 3 {
		t.Errorf("%d operations after a refused batch, want the 3 from before", len(got))
	}
}

// TestOpenLimitPerUser: past MaxOpenPerUser a start is refused before
// anything is written or sent, a batch whole; ended operations free their
// places; another person is not held by the first one's count.
func TestOpenLimitPerUser(t *testing.T) {
	e := newEnv(t) // on a fake clock: operations stay open until it moves
	ctx := context.Background()
	e.tr = New(e.cloud, e.store, Config{Now: e.clock.Now, MaxOpenPerUser: 3})
	amir, err := e.store.CreateUser(ctx, store.NewUser{Username: "amir", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	bea, err := e.store.CreateUser(ctx, store.NewUser{Username: "bea", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	me := Who{UserID: amir.ID, Username: amir.Username}
	ops, _, err := e.tr.StartBatch(ctx, me, "b1", []Intent{e.copyIntent("lim-a"), e.copyIntent("lim-b")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.tr.StartBatch(ctx, me, "b2", []Intent{e.copyIntent("lim-c"), e.copyIntent("lim-d")}); !errors.Is(err, store.ErrTooMany) {
		t.Fatalf("a batch past the limit: %v, want ErrTooMany", err)
	}
	if _, err := e.tr.Start(ctx, me, "", e.copyIntent("lim-c")); err != nil {
		t.Fatalf("up to the limit: %v", err)
	}
	_, err = e.tr.Start(ctx, me, "", e.copyIntent("lim-e"))
	var le *store.OpenLimitError
	if !errors.As(err, &le) || le.Open != 3 || le.Limit != 3 {
		t.Fatalf("one past the limit: %v", err)
	}
	if n := e.sim.Created(); n != 3 {
		t.Errorf("the emulator was asked for %d creations, want 3", n)
	}
	if got, _ := e.store.Operations(ctx, store.OperationQuery{}); len(got) != 3 {
		t.Errorf("%d operations recorded, want 3 (nothing of the refused starts)", len(got))
	}
	if _, err := e.tr.Start(ctx, Who{UserID: bea.ID, Username: bea.Username}, "", e.copyIntent("lim-bea")); err != nil {
		t.Errorf("another person: %v", err)
	}
	e.untilDone(ops[0].ID)
	if _, err := e.tr.Start(ctx, me, "", e.copyIntent("lim-f")); err != nil {
		t.Errorf("after one ended: %v", err)
	}
}
