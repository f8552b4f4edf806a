package tracker

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/store"
)

// Cloud is what the tracker calls. *cloud.Client satisfies it.
type Cloud interface {
	CreateImage(ctx context.Context, key string, spec cloud.CreateImageSpec) (cloud.Operation, error)
	CopyToDesktop(ctx context.Context, key, folderID, name, description string, labels map[string]string, computeImageID string) (cloud.Operation, error)
	CopyFromDesktop(ctx context.Context, key, folderID, name, description string, labels map[string]string, desktopID string) (cloud.Operation, error)
	UpdateImage(ctx context.Context, key string, svc cloud.Service, id string, u cloud.ImageUpdate) (cloud.Operation, error)
	DeleteImage(ctx context.Context, key string, svc cloud.Service, id string) (cloud.Operation, error)
	GetOperation(ctx context.Context, id string) (cloud.Operation, error)
	CancelOperation(ctx context.Context, id string) (cloud.Operation, error)
	GetImage(ctx context.Context, svc cloud.Service, id string) (cloud.Image, error)
}

// Store is what the tracker keeps. *store.Store satisfies it.
type Store interface {
	CreateIntentsLimited(ctx context.Context, ops []store.Operation, limit int) ([]store.Operation, error)
	Transition(ctx context.Context, o store.Operation) (store.Operation, error)
	SaveOperations(ctx context.Context, ops []store.Operation) (stale []int64, err error)
	FinishOperation(ctx context.Context, o store.Operation, img *cloud.Image, removed cloud.Image) error
	UpsertImage(ctx context.Context, img cloud.Image) error
	Operation(ctx context.Context, id int64) (store.Operation, error)
	ClaimDue(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip []int64) ([]store.Operation, error)
	ClaimOperations(ctx context.Context, owner string, ids []int64, now time.Time, lease time.Duration) ([]store.Operation, error)
	RenewClaims(ctx context.Context, owner string, ids []int64, now time.Time, lease time.Duration) error
	RequestCancel(ctx context.Context, id int64, now time.Time) (store.Operation, error)
	NextWork(ctx context.Context) (time.Time, bool, error)
}

var (
	_ Cloud = (*cloud.Client)(nil)
	_ Store = (*store.Store)(nil)
)

// Config tunes the tracker. Zero values take the defaults.
type Config struct {
	// MinPoll is the first interval between two polls of an operation, and
	// the one it goes back to when the operation changes (default 1 s).
	MinPoll time.Duration
	// MaxPoll caps the backoff (default 15 s).
	MaxPoll time.Duration
	// Concurrency bounds the calls the watcher makes at once (default 8).
	Concurrency int
	// Batch is how many due operations one step takes (default 200).
	Batch int
	// MaxOpenPerUser is how many operations one person may have in flight
	// at once; a start past it is refused with store.ErrTooMany before
	// anything is written or sent (0 = no limit). It keeps one person's
	// bulk actions from filling the watcher's queue for everyone.
	MaxOpenPerUser int
	// Lease is how long a claim on an operation lasts unless renewed
	// (default 30 s); it is renewed every Lease/3 while the work lasts. A
	// watcher that dies leaves its operations to another after this long.
	Lease time.Duration
	// StartWait bounds how long Start waits for the watcher to have sent
	// the intents (default 5 s); past it the operation is returned pending.
	StartWait time.Duration
	// Owner names this watcher in the leases (default: host, pid and a
	// random suffix, different for every Tracker).
	Owner string
	// Logger (default: discard) and Now (default time.Now).
	Logger *slog.Logger
	Now    func() time.Time
}

// Tracker writes intents and its watcher (Run, or Step) carries them to
// their outcome: it is the one component that sends them and polls the
// cloud, and only for operations it holds the lease of.
//
// In memory it keeps which operations it is working on (inflight: never
// claimed twice by itself) and who waits for news of one (waiters: Start
// and Cancel, told by the worker when it is done with the operation).
// Both are owned by mu; the database is the record, these are hints.
type Tracker struct {
	cloud Cloud
	store Store
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	wake  chan struct{}
	owner string
	// running: Run is watching. Without it (tools, tests that step by
	// hand), Start and Cancel have their operations worked on through the
	// same leased path at once, in their own goroutine.
	running atomic.Int32

	mu       sync.Mutex
	inflight map[int64]bool
	waiters  map[int64][]chan news
}

// news is what the worker tells a waiter of an operation: how it stands
// after the work, and the cloud's refusal if there was one.
type news struct {
	op  store.Operation
	err error
}

// New is a tracker over c and st.
func New(c Cloud, st Store, cfg Config) *Tracker {
	if cfg.MinPoll <= 0 {
		cfg.MinPoll = time.Second
	}
	if cfg.MaxPoll < cfg.MinPoll {
		cfg.MaxPoll = max(15*time.Second, cfg.MinPoll)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 200
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.StartWait <= 0 {
		cfg.StartWait = 5 * time.Second
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		cfg.Owner = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), cloud.NewIdempotencyKey()[:8])
	}
	t := &Tracker{cloud: c, store: st, cfg: cfg, log: cfg.Logger, now: cfg.Now, wake: make(chan struct{}, 1),
		owner: cfg.Owner, inflight: map[int64]bool{}, waiters: map[int64][]chan news{}}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.now == nil {
		t.now = time.Now
	}
	return t
}

// Who is the person an operation is done for.
type Who struct {
	UserID   int64
	Username string
}

// Start writes the intent down, hands it to the watcher and waits (at most
// Config.StartWait, or until ctx ends) for the watcher to have sent it. It
// returns the operation as it then stands:
//   - running (or already done), with the cloud's operation id;
//   - pending, when the cloud did not answer (unavailable, timed out) or
//     the watcher has not got to it yet: it is sent (again, with the same
//     key, so it is done once) by the watcher;
//   - failed, with the cloud's refusal as the error (a *cloud.Error with
//     its field violations: the caller shows them next to the fields).
func (t *Tracker) Start(ctx context.Context, who Who, batch string, in Intent) (store.Operation, error) {
	ops, errs, err := t.StartBatch(ctx, who, batch, []Intent{in})
	if err != nil {
		return store.Operation{}, err
	}
	return ops[0], errs[0]
}

// write writes intents down as pending operations of who, in one
// transaction, within the per-person limit. They are due at once.
func (t *Tracker) write(ctx context.Context, who Who, batch string, ins []Intent) ([]store.Operation, error) {
	ops := make([]store.Operation, len(ins))
	now := t.now()
	for i, in := range ins {
		req, err := json.Marshal(in.req)
		if err != nil {
			return nil, fmt.Errorf("tracker: encode %s: %w", in.op.Action, err)
		}
		o := in.op
		o.Key, o.Batch, o.Request = cloud.NewIdempotencyKey(), batch, req
		o.UserID, o.Username = who.UserID, who.Username
		o.CreatedAt, o.NextPollAt = now, now
		ops[i] = o
	}
	ops, err := t.store.CreateIntentsLimited(ctx, ops, t.cfg.MaxOpenPerUser)
	if err != nil {
		return nil, fmt.Errorf("tracker: %w", err)
	}
	return ops, nil
}

// StartBatch is Start for many intents of one bulk action: all of them are
// written down in one transaction — so a crash while asking leaves either
// the whole batch to the watcher or nothing — then the watcher sends them.
// It returns each operation as it then stands and each one's error (nil,
// or the cloud's refusal as with Start); err is set only when nothing
// could be written.
func (t *Tracker) StartBatch(ctx context.Context, who Who, batch string, ins []Intent) (ops []store.Operation, errs []error, err error) {
	if ops, err = t.write(ctx, who, batch, ins); err != nil {
		return nil, nil, err
	}
	ops, errs = t.await(ctx, ops)
	return ops, errs, nil
}

// await hands ops to the watcher and waits for its news of each: until
// the worker has been through them once, or StartWait passed, or ctx
// ended. What has no news is returned as it stands in the store.
func (t *Tracker) await(ctx context.Context, ops []store.Operation) ([]store.Operation, []error) {
	ids := make([]int64, len(ops))
	chans := make([]chan news, len(ops))
	t.mu.Lock()
	for i, o := range ops {
		ids[i], chans[i] = o.ID, make(chan news, 1)
		t.waiters[o.ID] = append(t.waiters[o.ID], chans[i])
	}
	t.mu.Unlock()
	defer t.unwait(ids, chans)

	expect := make([]bool, len(ops))
	if t.running.Load() > 0 {
		t.poke()
		for i := range expect {
			expect[i] = true
		}
	} else {
		// No watcher runs in this process: work on them here, through the
		// same lease as the watcher (the person closing the tab does not
		// take back what they asked). What another process holds is not
		// waited for.
		mine := t.claimAndWork(context.WithoutCancel(ctx), ids)
		for i, id := range ids {
			expect[i] = mine[id]
		}
	}
	timer := time.NewTimer(t.cfg.StartWait)
	defer timer.Stop()
	errs := make([]error, len(ops))
	got := make([]bool, len(ops))
wait:
	for i, ch := range chans {
		if !expect[i] {
			continue
		}
		select {
		case n := <-ch:
			ops[i], errs[i], got[i] = n.op, n.err, true
		case <-timer.C:
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	for i := range ops {
		if got[i] {
			continue
		}
		select {
		case n := <-chans[i]:
			ops[i], errs[i] = n.op, n.err
			continue
		default:
		}
		if cur, err := t.store.Operation(context.WithoutCancel(ctx), ops[i].ID); err == nil {
			ops[i] = cur
		}
	}
	return ops, errs
}

func (t *Tracker) unwait(ids []int64, chans []chan news) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, id := range ids {
		ws := slices.DeleteFunc(t.waiters[id], func(c chan news) bool { return c == chans[i] })
		if len(ws) == 0 {
			delete(t.waiters, id)
		} else {
			t.waiters[id] = ws
		}
	}
}

// tell gives the waiters of o.ID the news.
func (t *Tracker) tell(o store.Operation, err error) {
	t.mu.Lock()
	ws := t.waiters[o.ID]
	delete(t.waiters, o.ID)
	t.mu.Unlock()
	for _, c := range ws {
		select {
		case c <- news{o, err}:
		default:
		}
	}
}

// claimAndWork claims ids (those not leased to anyone) and works on them.
// It returns those of ids this tracker works or worked on: their waiters
// hear from it.
func (t *Tracker) claimAndWork(ctx context.Context, ids []int64) map[int64]bool {
	mine := map[int64]bool{}
	t.mu.Lock()
	free := slices.DeleteFunc(slices.Clone(ids), func(id int64) bool {
		if t.inflight[id] {
			mine[id] = true
			return true
		}
		return false
	})
	t.mu.Unlock()
	ops, err := t.store.ClaimOperations(ctx, t.owner, free, t.now(), t.cfg.Lease)
	if err != nil {
		t.log.ErrorContext(ctx, "claim operations", "err", err)
		return mine
	}
	for _, o := range ops {
		mine[o.ID] = true
	}
	t.work(ctx, ops)
	return mine
}

// process does what o, claimed, needs now: a cancel asked, a send, or a
// poll. Still open after a poll, it is given to save (the worker batches
// those); every other write is a guarded transition of its own. It
// returns o as it then stands and the cloud's refusal, if any.
func (t *Tracker) process(ctx context.Context, o store.Operation, save saver) (store.Operation, error) {
	req, err := decodeRequest(o)
	if err != nil {
		o.State, o.ErrorCode, o.ErrorMessage = store.OpFailed, "Internal", err.Error()
		return o, errors.Join(err, t.finish(ctx, o, nil, cloud.Image{}))
	}
	if o.Cancel == store.CancelRequested {
		switch {
		case o.State == store.OpPending && o.Attempts == 0:
			// Never sent: nothing to cancel in the cloud.
			o.State, o.ErrorCode, o.ErrorMessage = store.OpCancelled, "", "Cancelled before it was sent to the cloud."
			return o, t.finish(ctx, o, nil, cloud.Image{})
		case o.State == store.OpPending && o.ErrorCode != UnansweredCode:
			// Sent, but every send was refused before the cloud took it
			// (rate limited, credentials refused): nothing in the cloud.
			o.State, o.ErrorCode, o.ErrorMessage = store.OpCancelled, "", "Cancelled before the cloud took it: it had refused every send, and it was not sent again."
			return o, t.finish(ctx, o, nil, cloud.Image{})
		case o.State == store.OpPending || o.State == store.OpSending:
			// A send got no answer (timed out, the connection dropped), or
			// its sender died in the call: the cloud may have it or not,
			// and there is no asking it by key without sending again —
			// which would start it if it had not. Sending again to cancel
			// can end as done: the person asked for the opposite. So it is
			// not sent again, and ends saying what is known.
			t.log.WarnContext(ctx, "cancel of an operation whose send got no answer: not sent again", "id", o.ID,
				"action", o.Action, "image", o.ImageID, "attempts", o.Attempts, "state", o.State)
			o.State, o.ErrorCode, o.ErrorMessage = store.OpLost, UnansweredCode, UnansweredCancelMessage
			return o, t.finish(ctx, o, nil, cloud.Image{})
		case o.State == store.OpRunning && o.CloudID != "":
			return t.cancel(ctx, o, req, save)
		}
	}
	if o.State == store.OpRunning {
		return t.poll(ctx, o, req, save)
	}
	return t.send(ctx, o, req)
}

// cancel sends a person's cancel of o to the cloud, then polls o.
func (t *Tracker) cancel(ctx context.Context, o store.Operation, req request, save saver) (store.Operation, error) {
	// First what is under the id now: a cloud started again hands ids out
	// again, and a cancel sent blind would stop someone else's change.
	op, err := t.cloud.GetOperation(ctx, o.CloudID)
	switch {
	case errors.Is(err, cloud.ErrNotFound):
		return t.poll(ctx, o, req, save) // it ends lost there
	case err != nil:
		t.log.WarnContext(ctx, "cancel operation: read it first: will retry", "id", o.ID, "err", err)
		o.PollEvery = t.backoff(o.PollEvery, false)
		o.NextPollAt = t.now().Add(o.PollEvery)
		return o, save(ctx, o)
	}
	if reason := t.identify(ctx, o, req, op); reason != "" {
		return t.lose(ctx, o, op, reason)
	}
	if op.Done {
		return t.observe(ctx, o, req, op, save) // nothing left to cancel
	}
	_, err = t.cloud.CancelOperation(ctx, o.CloudID)
	switch {
	case err != nil && retryable(err):
		t.log.WarnContext(ctx, "cancel operation: will retry", "id", o.ID, "err", err)
		o.PollEvery = t.backoff(o.PollEvery, false)
		o.NextPollAt = t.now().Add(o.PollEvery)
		return o, save(ctx, o)
	case err != nil:
		// Refused (an operation the cloud cannot cancel): said once, to
		// the person who asked; the operation goes on.
		t.log.InfoContext(ctx, "cancel refused", "id", o.ID, "err", err)
		o.Cancel = store.CancelSent
		o.NextPollAt = t.now()
		if _, serr := t.store.Transition(ctx, t.release(o)); serr != nil {
			return o, errors.Join(err, fmt.Errorf("tracker: %w", serr))
		}
		return o, err
	}
	o.Cancel = store.CancelSent
	return t.poll(ctx, o, req, save)
}

// send sends o's request (again, with the same key, when it is retried)
// and records the answer: pending → sending → running, or back to
// pending with backoff when the cloud did not answer, or failed.
func (t *Tracker) send(ctx context.Context, o store.Operation, req request) (store.Operation, error) {
	o.State = store.OpSending
	o.Attempts++
	o, err := t.store.Transition(ctx, o)
	if err != nil {
		return o, fmt.Errorf("tracker: %w", err)
	}
	var op cloud.Operation
	switch req.Action {
	case ActionCopy:
		op, err = t.cloud.CreateImage(ctx, o.Key, *req.Create)
	case ActionCopyToDesktop:
		d := req.Desktop
		op, err = t.cloud.CopyToDesktop(ctx, o.Key, d.FolderID, d.Name, d.Description, d.Labels, d.SourceImageID)
	case ActionCopyFromDesktop:
		d := req.Desktop
		op, err = t.cloud.CopyFromDesktop(ctx, o.Key, d.FolderID, d.Name, d.Description, d.Labels, d.DesktopID)
	case ActionUpdate:
		op, err = t.cloud.UpdateImage(ctx, o.Key, req.Service, req.ImageID, *req.Update)
	case ActionDelete:
		op, err = t.cloud.DeleteImage(ctx, o.Key, req.Service, req.ImageID)
	default:
		err = fmt.Errorf("unknown action %q", req.Action)
	}
	now := t.now()
	if err != nil {
		if retryable(err) {
			// No answer: the cloud may or may not have started it. The same
			// key makes the next send return the same operation if it did.
			o.State = store.OpPending
			if o.ErrorCode != UnansweredCode && reachedMaybe(err) {
				o.ErrorCode = UnansweredCode // and stays so: a later refusal does not undo this one
			}
			o.ErrorMessage = WaitingMessage
			o.PollEvery = t.backoff(o.PollEvery, false)
			o.NextPollAt = now.Add(o.PollEvery)
			t.log.WarnContext(ctx, "send operation: will retry", "id", o.ID, "action", o.Action, "err", err)
			o, serr := t.store.Transition(ctx, t.release(o))
			if serr != nil {
				return o, fmt.Errorf("tracker: %w", serr)
			}
			return o, nil
		}
		o.State, o.ErrorCode, o.ErrorMessage = store.OpFailed, errorCode(err), errorText(err)
		t.log.InfoContext(ctx, "send operation: refused", "id", o.ID, "action", o.Action, "err", err)
		return o, errors.Join(err, t.finish(ctx, o, nil, cloud.Image{}))
	}
	o.State, o.CloudID, o.ErrorCode, o.ErrorMessage = store.OpRunning, op.ID, "", ""
	if op.ImageID != "" && o.ImageID == "" {
		o.ImageID = op.ImageID
	}
	o.PollEvery, o.NextPollAt, o.CloudModifiedAt = t.cfg.MinPoll, now.Add(t.cfg.MinPoll), op.ModifiedAt
	if reason := mismatch(o, req, op); reason != "" {
		return t.lose(ctx, o, op, reason)
	}
	if op.Done || op.Error != nil {
		return t.observe(ctx, o, req, op, t.saveNow)
	}
	// Before the running state is saved: until then nobody polls it, so
	// its final image cannot be overwritten by this one.
	t.showInFlight(ctx, o)
	return o, t.saveNow(ctx, o)
}

// UnansweredCode marks a pending operation one of whose sends got no
// answer: the cloud may have it (a cancel then does not send it again).
const UnansweredCode = "Unanswered"

// UnansweredCancelMessage is the reason a person reads on an operation
// cancelled after a send that got no answer.
const UnansweredCancelMessage = "Cancelled without sending it again: an earlier send got no answer, so the cloud may or may not " +
	"have made the change, and the dashboard stopped following it. Check the image's status to see whether it was made."

// reachedMaybe tells whether a send that failed with err may have reached
// the cloud: anything but an answer that refused it (rate limited, the
// credentials refused).
func reachedMaybe(err error) bool {
	return !errors.Is(err, cloud.ErrExhausted) && !errors.Is(err, cloud.ErrUnauthenticated)
}

// WaitingMessage is what a person reads on an operation whose sending the
// cloud did not answer (unavailable, rate limited): it is sent again,
// with the same key, until it does.
const WaitingMessage = "Waiting for the cloud: it did not answer yet; the dashboard keeps trying (the change will be made once)."

// release is o with its lease given back, for the write that ends a piece
// of work.
func (t *Tracker) release(o store.Operation) store.Operation {
	o.ClaimedBy, o.ClaimedUntil = "", time.Time{}
	return o
}

// showInFlight puts the target image as the cloud has it now (a new copy
// CREATING, an image DELETING) into the cache, so that lists show it at
// once, with the operation's badge, rather than at the next sync. It is
// best-effort: on failure the image shows when the operation ends.
func (t *Tracker) showInFlight(ctx context.Context, o store.Operation) {
	if o.ImageID == "" {
		return
	}
	img, err := t.cloud.GetImage(ctx, o.Service, o.ImageID)
	if err == nil {
		if img.Service == "" {
			img.Service = o.Service
		}
		err = t.store.UpsertImage(ctx, img)
	}
	if err != nil {
		t.log.WarnContext(ctx, "show the image of an operation in flight", "id", o.ID, "image", o.ImageID, "err", err)
	}
}

// LostMessage is the reason a person reads for an operation the cloud no
// longer knows (it forgets operations after a while, or lost them in a
// restart): what happened, what to do, and that nobody follows it any more.
const LostMessage = "The cloud no longer knows this operation (it may have been restarted, or the operation expired), " +
	"so the dashboard stopped following it. Check the image's status to see whether the change was made."

// MismatchMessage is the reason a person reads for an operation whose id
// the cloud answered with another operation (a restarted cloud reuses
// ids): the dashboard cannot tell how the change it asked for went.
const MismatchMessage = "The cloud answered this operation's id with a different operation (it was probably restarted and reused the id), " +
	"so the dashboard stopped following it. Check the image's status to see whether the change was made."

// saver records an operation that is still open.
type saver func(context.Context, store.Operation) error

// saveNow writes o (still open) at once, releasing its lease.
func (t *Tracker) saveNow(ctx context.Context, o store.Operation) error {
	if _, err := t.store.Transition(ctx, t.release(o)); err != nil {
		return fmt.Errorf("tracker: %w", err)
	}
	return nil
}

// poll asks the cloud how o stands and records it: an end at once (with
// its effect on the cache), a still open state through save (which the
// watcher batches: one transaction for a step's polls, not one each).
func (t *Tracker) poll(ctx context.Context, o store.Operation, req request, save saver) (store.Operation, error) {
	o.Polls++
	op, err := t.cloud.GetOperation(ctx, o.CloudID)
	switch {
	case errors.Is(err, cloud.ErrNotFound):
		o.State, o.ErrorCode, o.ErrorMessage = store.OpLost, "NotFound", LostMessage
		// The person reads LostMessage; the log keeps which operation and why.
		t.log.WarnContext(ctx, "operation lost: the cloud answered NotFound", "id", o.ID, "cloud_id", o.CloudID,
			"action", o.Action, "image", o.ImageID, "polls", o.Polls, "err", err)
		return o, t.finish(ctx, o, nil, cloud.Image{})
	case err != nil:
		// Unavailable, rate limited, timed out: keep polling, more slowly.
		o.PollEvery = t.backoff(o.PollEvery, false)
		o.NextPollAt = t.now().Add(o.PollEvery)
		t.log.WarnContext(ctx, "poll operation", "id", o.ID, "cloud_id", o.CloudID, "err", err)
		return o, save(ctx, o)
	}
	if reason := mismatch(o, req, op); reason != "" {
		return t.lose(ctx, o, op, reason)
	}
	return t.observe(ctx, o, req, op, save)
}

// identify says why op is not the operation o asked for, or "" when it
// may be: mismatch, and for a copy the image op is making (read from the
// cloud) must have the name and folder the copy asked for. A read that
// fails tells nothing: "".
func (t *Tracker) identify(ctx context.Context, o store.Operation, req request, op cloud.Operation) string {
	if reason := mismatch(o, req, op); reason != "" {
		return reason
	}
	folder, name := req.copyTarget()
	id := cmp.Or(op.ImageID, o.ImageID)
	if name == "" || id == "" {
		return ""
	}
	img, err := t.cloud.GetImage(ctx, o.Service, id)
	if err != nil {
		return ""
	}
	return copyMismatch(img, folder, name)
}

// copyMismatch says why img is not the image a copy named name in folder
// makes, or "".
func copyMismatch(img cloud.Image, folder, name string) string {
	if img.Name != name || img.FolderID != "" && img.FolderID != folder {
		return "the image is " + img.Name + " in " + img.FolderID + ", not " + name + " in " + folder
	}
	return ""
}

// lose ends o as lost: the cloud answered for its id an operation that is
// not the one asked for.
func (t *Tracker) lose(ctx context.Context, o store.Operation, op cloud.Operation, reason string) (store.Operation, error) {
	t.log.WarnContext(ctx, "operation lost: the cloud answered another operation", "id", o.ID, "cloud_id", o.CloudID,
		"action", o.Action, "image", o.ImageID, "got_metadata", op.MetadataType, "got_image", op.ImageID, "why", reason)
	o.State, o.ErrorCode, o.ErrorMessage = store.OpLost, "Mismatch", MismatchMessage
	return o, t.finish(ctx, o, nil, cloud.Image{})
}

// mismatch says why op is not the operation o asked for, or "" when it
// may be: its metadata must be of the call's kind and name the image o
// targets (when both are known).
func mismatch(o store.Operation, req request, op cloud.Operation) string {
	if op.MetadataType != "" {
		name := op.MetadataType[strings.LastIndexByte(op.MetadataType, '.')+1:]
		var kinds []string
		switch req.Action {
		case ActionCopy:
			kinds = []string{"CreateImageMetadata"}
		case ActionCopyToDesktop:
			kinds = []string{"CopyDesktopImageMetadata", "CreateDesktopImageMetadata"}
		case ActionCopyFromDesktop:
			kinds = []string{"CopyFromDesktopMetadata", "CreateDesktopImageMetadata"}
		case ActionUpdate:
			kinds = []string{"UpdateImageMetadata", "UpdateDesktopImageMetadata"}
		case ActionDelete:
			kinds = []string{"DeleteImageMetadata", "DeleteDesktopImageMetadata"}
		}
		if len(kinds) > 0 && !slices.Contains(kinds, name) {
			return "metadata " + name + " is not of " + req.Action
		}
	}
	if o.ImageID != "" && op.ImageID != "" && o.ImageID != op.ImageID {
		return "image " + op.ImageID + " is not " + o.ImageID
	}
	return ""
}

// observe records what the cloud says of o: still running (with the
// backoff reset if it changed), failing, or finished.
func (t *Tracker) observe(ctx context.Context, o store.Operation, req request, op cloud.Operation, save saver) (store.Operation, error) {
	changed := !op.ModifiedAt.Equal(o.CloudModifiedAt)
	o.CloudModifiedAt = op.ModifiedAt
	if op.ImageID != "" && o.ImageID == "" {
		o.ImageID = op.ImageID
	}
	if op.Error != nil {
		o.ErrorCode, o.ErrorMessage = op.Error.Code, op.Error.Message
	}
	if !op.Done {
		o.PollEvery = t.backoff(o.PollEvery, changed)
		o.NextPollAt = t.now().Add(o.PollEvery)
		return o, save(ctx, o)
	}
	if op.Error != nil {
		o.State = store.OpFailed
		if op.Error.Code == "Canceled" && o.Cancel != store.CancelNone {
			o.State = store.OpCancelled
		}
		img, removed := t.afterFailure(ctx, o)
		// A failure is ours only if its image is: a cloud started again
		// reuses operation and image ids for other copies.
		if folder, name := req.copyTarget(); img != nil && name != "" {
			if reason := copyMismatch(*img, folder, name); reason != "" {
				return t.lose(ctx, o, op, reason)
			}
		}
		return o, t.finish(ctx, o, img, removed)
	}
	o.State = store.OpDone
	if req.Action == ActionDelete {
		return o, t.finish(ctx, o, nil, cloud.Image{Service: o.Service, ID: o.ImageID})
	}
	img := op.Image
	if img == nil && o.ImageID != "" {
		// Not every API returns the image in the response: read it.
		got, err := t.cloud.GetImage(ctx, o.Service, o.ImageID)
		if err != nil {
			// Done, but the cache cannot be refreshed now: the next sync will.
			t.log.WarnContext(ctx, "read finished image", "id", o.ID, "image", o.ImageID, "err", err)
		} else {
			img = &got
		}
	}
	if img != nil {
		// The last word on identity: a copy made the image it named in
		// the folder it named. A cloud started again from its seed hands
		// out the same operation and image ids to other copies.
		if folder, name := req.copyTarget(); name != "" {
			if reason := copyMismatch(*img, folder, name); reason != "" {
				return t.lose(ctx, o, op, "finished: "+reason)
			}
		}
		if img.Service == "" {
			img.Service = o.Service
		}
		if o.ImageID == "" {
			o.ImageID = img.ID
		}
		o.ImageName = img.Name
	}
	return o, t.finish(ctx, o, img, cloud.Image{})
}

// afterFailure reads the image a failed operation targeted, so that the
// cache shows what the failure left (a copy in ERROR, a Desktop image gone,
// an image a failed delete left READY) rather than the CREATING or
// DELETING the operation wrote, until the next sync. Not found: removed.
// A read that fails leaves it to the next sync.
func (t *Tracker) afterFailure(ctx context.Context, o store.Operation) (*cloud.Image, cloud.Image) {
	if o.ImageID == "" {
		return nil, cloud.Image{}
	}
	got, err := t.cloud.GetImage(ctx, o.Service, o.ImageID)
	switch {
	case errors.Is(err, cloud.ErrNotFound):
		return nil, cloud.Image{Service: o.Service, ID: o.ImageID}
	case err != nil:
		t.log.WarnContext(ctx, "read the image of a failed operation", "id", o.ID, "image", o.ImageID, "err", err)
		return nil, cloud.Image{}
	}
	if got.Service == "" {
		got.Service = o.Service
	}
	return &got, cloud.Image{}
}

// backoff is the next poll interval after cur: back to MinPoll when the
// operation changed, else doubled up to MaxPoll.
func (t *Tracker) backoff(cur time.Duration, changed bool) time.Duration {
	if changed || cur <= 0 {
		return t.cfg.MinPoll
	}
	return min(2*cur, t.cfg.MaxPoll)
}

// finish records o's end, its effect on the cache and its outcome in the
// audit log, in one guarded transaction (store.FinishOperation): should
// o have changed meanwhile, nothing is written, the error is
// store.ErrStale, and whoever changed it owns the outcome.
func (t *Tracker) finish(ctx context.Context, o store.Operation, img *cloud.Image, removed cloud.Image) error {
	err := t.store.FinishOperation(ctx, o, img, removed)
	if img != nil && errors.Is(err, store.ErrInvalid) {
		// An image the cache refuses must not keep the operation open for
		// ever: it ends without it, and the next sync shows the image.
		t.log.WarnContext(ctx, "finish operation without its image", "id", o.ID, "image", img.ID, "err", err)
		err = t.store.FinishOperation(ctx, o, nil, removed)
	}
	if err != nil {
		return fmt.Errorf("tracker: %w", err)
	}
	return nil
}

// Cancel asks for operation id to be cancelled. The request is recorded
// (an intent, like the operation itself) and the watcher acts on it while
// the operation is unfinished: an intent never sent ends cancelled at
// once, a running one has CancelOperation sent to the cloud and is polled
// to its end. Cancel waits for that as Start does, and returns the
// cloud's refusal if it refused. On an operation already finished it
// changes nothing and returns a *FinishedError.
func (t *Tracker) Cancel(ctx context.Context, id int64) (store.Operation, error) {
	o, err := t.store.RequestCancel(ctx, id, t.now())
	if errors.Is(err, store.ErrFinished) {
		return o, &FinishedError{Op: o}
	}
	if err != nil {
		return o, fmt.Errorf("tracker: %w", err)
	}
	ops, errs := t.await(ctx, []store.Operation{o})
	return ops[0], errs[0]
}

// ErrNotRunning: the operation has no cloud operation to act on (yet or
// any more). A cancel of a finished one is a *FinishedError, which is it.
var ErrNotRunning = errors.New("operation not running")

// FinishedError: a change asked of an operation that has already ended;
// nothing was done. Its message, for the person, starts "already
// finished: " and says the outcome in plain words.
type FinishedError struct{ Op store.Operation }

func (e *FinishedError) Error() string { return "already finished: " + Outcome(e.Op) }

func (e *FinishedError) Is(target error) bool {
	return target == ErrNotRunning || target == store.ErrFinished
}

// Outcome says how o ended, in plain words ("the copy succeeded").
func Outcome(o store.Operation) string {
	what := "the " + strings.ToLower(ActionTitle(o.Action))
	switch o.State {
	case store.OpDone:
		return what + " succeeded"
	case store.OpFailed:
		// The cloud's message names ids: said in plain words instead.
		if say := fault.Outcome(o.ErrorCode, o.ErrorMessage, fault.About{Action: strings.ToLower(ActionTitle(o.Action)), Image: o.ImageName}); say != "" {
			return what + " failed. " + strings.TrimSuffix(say, ".")
		}
		return what + " failed"
	case store.OpCancelled:
		return what + " was cancelled"
	case store.OpLost:
		return what + " was lost: the dashboard stopped following it"
	}
	return what + " is " + string(o.State)
}

// Step claims the operations due now, at most Config.Batch, and works on
// them with bounded concurrency: intents are sent, running ones polled,
// cancels sent. It first renews the leases of what it is still working
// on. It returns how many it claimed. Run calls it in a loop; tests call
// it on a fake clock.
func (t *Tracker) Step(ctx context.Context) (int, error) {
	skip := t.working()
	if err := t.store.RenewClaims(ctx, t.owner, skip, t.now(), t.cfg.Lease); err != nil {
		t.log.ErrorContext(ctx, "renew leases", "err", err)
	}
	due, err := t.store.ClaimDue(ctx, t.owner, t.now(), t.cfg.Lease, t.cfg.Batch, skip)
	if err != nil {
		return 0, fmt.Errorf("tracker: %w", err)
	}
	t.work(ctx, due)
	return len(due), nil
}

// working lists the operations this tracker is working on.
func (t *Tracker) working() []int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	ids := make([]int64, 0, len(t.inflight))
	for id := range t.inflight {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// work processes ops (claimed by this tracker), Concurrency at a time,
// renewing their leases while it lasts. The polls that leave an operation
// open are written together at the end, in one transaction: with a
// thousand operations in flight, one write each made the writer the
// bottleneck. Each operation's waiters hear of it once it is written.
func (t *Tracker) work(ctx context.Context, ops []store.Operation) {
	if len(ops) == 0 {
		return
	}
	t.mu.Lock()
	ops = slices.DeleteFunc(ops, func(o store.Operation) bool { return t.inflight[o.ID] })
	for _, o := range ops {
		t.inflight[o.ID] = true
	}
	t.mu.Unlock()
	done := make(chan struct{})
	go t.renew(ctx, done)
	defer close(done)

	sem := make(chan struct{}, t.cfg.Concurrency)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		pending []store.Operation
	)
	collect := func(_ context.Context, o store.Operation) error {
		mu.Lock()
		pending = append(pending, t.release(o))
		mu.Unlock()
		return nil
	}
	for _, o := range ops {
		if ctx.Err() != nil {
			t.forget(o, nil, false)
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			held := false
			got, err := t.process(ctx, o, func(ctx context.Context, o store.Operation) error {
				held = true
				return collect(ctx, o)
			})
			switch {
			case errors.Is(err, store.ErrStale):
				// Another watcher took it over (or it finished meanwhile):
				// what this one learnt is dropped, never written over.
				t.log.InfoContext(ctx, "operation changed meanwhile: work dropped", "id", o.ID)
				t.forget(got, nil, true)
				return
			case err != nil && !isCloudError(err):
				t.log.ErrorContext(ctx, "work on operation", "id", o.ID, "err", err)
			}
			if !held {
				t.forget(got, err, false)
			}
		})
	}
	wg.Wait()
	if len(pending) == 0 {
		return
	}
	// Even when ctx has ended: what was learnt is written.
	stale, err := t.store.SaveOperations(context.WithoutCancel(ctx), pending)
	if err != nil {
		t.log.ErrorContext(ctx, "save polled operations", "count", len(pending), "err", err)
	}
	for _, o := range pending {
		if slices.Contains(stale, o.ID) || err != nil {
			t.forget(o, nil, true)
			continue
		}
		o.Version++
		t.forget(o, nil, false)
	}
}

// forget ends this tracker's work on o and tells its waiters; reread: o
// is not what is stored (the write was refused), read it again for them.
func (t *Tracker) forget(o store.Operation, err error, reread bool) {
	t.mu.Lock()
	delete(t.inflight, o.ID)
	t.mu.Unlock()
	if reread {
		if cur, rerr := t.store.Operation(context.Background(), o.ID); rerr == nil {
			o = cur
		}
	}
	t.tell(o, err)
}

// renew renews the leases of what this tracker works on every Lease/3
// until done is closed.
func (t *Tracker) renew(ctx context.Context, done <-chan struct{}) {
	tick := time.NewTicker(t.cfg.Lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := t.store.RenewClaims(ctx, t.owner, t.working(), t.now(), t.cfg.Lease); err != nil {
				t.log.ErrorContext(ctx, "renew leases", "err", err)
			}
		}
	}
}

// idleWait bounds a sleep of the loop: it looks again at least this often
// (an operation written by another process, a clock change).
const idleWait = 5 * time.Second

// Run watches until ctx ends; it returns nil then. At start-up it is the
// same loop: what a previous process left (intents never sent, sends
// never answered, operations never finished) is claimed as soon as that
// process's leases have expired, and carried on with the same keys.
func (t *Tracker) Run(ctx context.Context) error {
	t.running.Add(1)
	defer t.running.Add(-1)
	for ctx.Err() == nil {
		n, err := t.Step(ctx)
		if err != nil && ctx.Err() == nil {
			t.log.ErrorContext(ctx, "watch operations", "err", err)
		}
		if n >= t.cfg.Batch {
			continue // more are due
		}
		wait := idleWait
		if next, ok, err := t.store.NextWork(ctx); err == nil && ok {
			wait = min(max(next.Sub(t.now()), 10*time.Millisecond), idleWait)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-timer.C:
		case <-t.wake:
		}
		timer.Stop()
	}
	return nil
}

// poke wakes the loop to look at the queue now.
func (t *Tracker) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// retryable tells whether a failed send may not have reached the cloud,
// so it must be sent again (with the same key) rather than given up.
func retryable(err error) bool {
	var ce *cloud.Error
	if errors.As(err, &ce) && (ce.Code == codes.DeadlineExceeded || ce.Code == codes.Aborted || ce.Code == codes.Canceled) {
		return true
	}
	return errors.Is(err, cloud.ErrUnavailable) || errors.Is(err, cloud.ErrExhausted) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, cloud.ErrUnauthenticated)
}

func isCloudError(err error) bool {
	var ce *cloud.Error
	return errors.As(err, &ce)
}

// errorCode is the gRPC code name of a cloud error ("Internal" otherwise).
func errorCode(err error) string {
	var ce *cloud.Error
	if errors.As(err, &ce) {
		return ce.Code.String()
	}
	return "Internal"
}

// errorText is the cloud's own message (written for people), or the error.
func errorText(err error) string {
	var ce *cloud.Error
	if errors.As(err, &ce) && ce.Message != "" {
		return ce.Message
	}
	return err.Error()
}
