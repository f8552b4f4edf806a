package tracker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/imagedash/imagedash/cloud"
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
	SaveOperation(ctx context.Context, o store.Operation) error
	SaveOperations(ctx context.Context, ops []store.Operation) error
	FinishOperation(ctx context.Context, o store.Operation, img *cloud.Image, removed cloud.Image) error
	UpsertImage(ctx context.Context, img cloud.Image) error
	Operation(ctx context.Context, id int64) (store.Operation, error)
	DueOperations(ctx context.Context, now time.Time, limit int) ([]store.Operation, error)
	Operations(ctx context.Context, q store.OperationQuery) ([]store.Operation, error)
	NextDue(ctx context.Context) (time.Time, bool, error)
	AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error)
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
	// Logger (default: discard) and Now (default time.Now).
	Logger *slog.Logger
	Now    func() time.Time
}

// Tracker starts operations and watches them to their end. Run is its
// watcher loop; Start may be called from any goroutine.
type Tracker struct {
	cloud Cloud
	store Store
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	wake  chan struct{}
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
	t := &Tracker{cloud: c, store: st, cfg: cfg, log: cfg.Logger, now: cfg.Now, wake: make(chan struct{}, 1)}
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

// sendGrace is how long a freshly written intent is left to the caller
// that sends it, before the watcher would send it too (after a crash
// between the write and the call, for example). Longer than any call.
const sendGrace = time.Minute

// Start writes the intent down, sends it once and stores the answer. It
// returns the operation as it then stands:
//   - running (or already done), with the cloud's operation id;
//   - pending, when the cloud did not answer (unavailable, timed out): the
//     watcher sends it again, with the same key, so it is done once;
//   - failed, with the cloud's refusal as the error (a *cloud.Error with
//     its field violations: the caller shows them next to the fields).
func (t *Tracker) Start(ctx context.Context, who Who, batch string, in Intent) (store.Operation, error) {
	ops, err := t.write(ctx, who, batch, []Intent{in})
	if err != nil {
		return store.Operation{}, err
	}
	// The call must not die with the request that asked for it: the person
	// closing the tab does not take back what they asked.
	o, err := t.send(context.WithoutCancel(ctx), ops[0])
	t.poke()
	return o, err
}

// write writes intents down as pending operations of who, in one
// transaction, within the per-person limit.
func (t *Tracker) write(ctx context.Context, who Who, batch string, ins []Intent) ([]store.Operation, error) {
	ops := make([]store.Operation, len(ins))
	for i, in := range ins {
		req, err := json.Marshal(in.req)
		if err != nil {
			return nil, fmt.Errorf("tracker: encode %s: %w", in.op.Action, err)
		}
		o := in.op
		o.Key, o.Batch, o.Request = cloud.NewIdempotencyKey(), batch, req
		o.UserID, o.Username = who.UserID, who.Username
		o.NextPollAt = t.now().Add(sendGrace)
		ops[i] = o
	}
	ops, err := t.store.CreateIntentsLimited(ctx, ops, t.cfg.MaxOpenPerUser)
	if err != nil {
		return nil, fmt.Errorf("tracker: %w", err)
	}
	return ops, nil
}

// StartBatch is Start for many intents of one bulk action: all of them are
// written down in one transaction first — so a crash while asking leaves
// either the whole batch to resume or nothing — then sent, a few at a
// time. It returns each operation as it then stands and each one's error
// (nil, or the cloud's refusal as with Start); err is set only when
// nothing could be written.
func (t *Tracker) StartBatch(ctx context.Context, who Who, batch string, ins []Intent) (ops []store.Operation, errs []error, err error) {
	if ops, err = t.write(ctx, who, batch, ins); err != nil {
		return nil, nil, err
	}
	errs = make([]error, len(ops))
	sem := make(chan struct{}, min(t.cfg.Concurrency, 4))
	var wg sync.WaitGroup
	detached := context.WithoutCancel(ctx)
	for i := range ops {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ops[i], errs[i] = t.send(detached, ops[i])
		})
	}
	wg.Wait()
	t.poke()
	return ops, errs, nil
}

// send sends o's request (again, with the same key, when it is retried)
// and records the answer.
func (t *Tracker) send(ctx context.Context, o store.Operation) (store.Operation, error) {
	req, err := decodeRequest(o)
	if err != nil {
		o.State, o.ErrorCode, o.ErrorMessage = store.OpFailed, "Internal", err.Error()
		return o, errors.Join(err, t.finish(ctx, o, nil, cloud.Image{}))
	}
	o.Attempts++
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
			o.ErrorMessage = "No answer from the cloud yet (" + errorText(err) + "); trying again."
			o.PollEvery = t.backoff(o.PollEvery, false)
			o.NextPollAt = now.Add(o.PollEvery)
			t.log.WarnContext(ctx, "send operation: will retry", "id", o.ID, "action", o.Action, "err", err)
			return o, t.save(ctx, o)
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
	if op.Done || op.Error != nil {
		return t.observe(ctx, o, req, op, t.save)
	}
	// Before the running state is saved: until then the watcher does not
	// poll it, so its final image cannot be overwritten by this one.
	t.showInFlight(ctx, o)
	return o, t.save(ctx, o)
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

// saver records an operation that is still open.
type saver func(context.Context, store.Operation) error

// poll asks the cloud how o stands and records it: an end at once (with
// its effect on the cache), a still open state through save (which the
// watcher batches: one transaction for a step's polls, not one each).
func (t *Tracker) poll(ctx context.Context, o store.Operation, save saver) (store.Operation, error) {
	req, err := decodeRequest(o)
	if err != nil {
		o.State, o.ErrorCode, o.ErrorMessage = store.OpFailed, "Internal", err.Error()
		return o, t.finish(ctx, o, nil, cloud.Image{})
	}
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
	return t.observe(ctx, o, req, op, save)
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
		img, removed := t.afterFailure(ctx, o)
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

func (t *Tracker) save(ctx context.Context, o store.Operation) error {
	if err := t.store.SaveOperation(ctx, o); err != nil {
		return fmt.Errorf("tracker: %w", err)
	}
	return nil
}

// finish records o's end (and its effect on the cache) and writes the
// outcome to the audit log in the name of the person who asked.
func (t *Tracker) finish(ctx context.Context, o store.Operation, img *cloud.Image, removed cloud.Image) error {
	if err := t.store.FinishOperation(ctx, o, img, removed); err != nil {
		return fmt.Errorf("tracker: %w", err)
	}
	outcome, detail := store.OutcomeSuccess, "operation done"
	if o.State != store.OpDone {
		outcome, detail = store.OutcomeFailure, "operation "+string(o.State)+": "+o.ErrorCode+": "+o.ErrorMessage
	}
	if _, err := t.store.AppendAudit(ctx, store.AuditEntry{UserID: o.UserID, Username: o.Username, Action: o.Action,
		TargetKind: "image", TargetID: o.ImageID, OperationID: o.CloudID, Outcome: outcome, Detail: detail}); err != nil {
		t.log.ErrorContext(ctx, "audit operation outcome", "id", o.ID, "err", err)
	}
	return nil
}

// Cancel asks the cloud to cancel the running operation id (where the API
// allows it) and polls it soon.
func (t *Tracker) Cancel(ctx context.Context, id int64) (store.Operation, error) {
	o, err := t.store.Operation(ctx, id)
	if err != nil {
		return o, fmt.Errorf("tracker: %w", err)
	}
	if o.State != store.OpRunning || o.CloudID == "" {
		return o, fmt.Errorf("tracker: cancel operation %d: %w: it is %s", id, ErrNotRunning, o.State)
	}
	if _, err := t.cloud.CancelOperation(ctx, o.CloudID); err != nil {
		return o, err
	}
	o.PollEvery, o.NextPollAt = t.cfg.MinPoll, t.now()
	if err := t.save(ctx, o); err != nil {
		return o, err
	}
	t.poke()
	return o, nil
}

// ErrNotRunning: the operation has no cloud operation to act on (yet or
// any more).
var ErrNotRunning = errors.New("operation not running")

// Step handles every open operation due now, at most Config.Batch, with
// bounded concurrency: pending ones are sent, running ones polled. It
// returns how many it handled. Run calls it in a loop; tests call it on a
// fake clock.
func (t *Tracker) Step(ctx context.Context) (int, error) {
	due, err := t.store.DueOperations(ctx, t.now(), t.cfg.Batch)
	if err != nil {
		return 0, fmt.Errorf("tracker: %w", err)
	}
	t.handle(ctx, due)
	return len(due), nil
}

// handle sends or polls each of ops, Concurrency at a time. The polls that
// leave an operation open are written together at the end, in one
// transaction: with a thousand operations in flight, one write each made
// the writer the bottleneck.
func (t *Tracker) handle(ctx context.Context, ops []store.Operation) {
	sem := make(chan struct{}, t.cfg.Concurrency)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		pending []store.Operation
	)
	collect := func(_ context.Context, o store.Operation) error {
		mu.Lock()
		pending = append(pending, o)
		mu.Unlock()
		return nil
	}
	for _, o := range ops {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			var err error
			if o.State == store.OpPending {
				_, err = t.send(ctx, o)
				if err != nil && !isCloudError(err) {
					t.log.ErrorContext(ctx, "resend operation", "id", o.ID, "err", err)
				}
				return
			}
			if _, err = t.poll(ctx, o, collect); err != nil {
				t.log.ErrorContext(ctx, "poll operation", "id", o.ID, "err", err)
			}
		})
	}
	wg.Wait()
	if len(pending) > 0 {
		// Even when ctx has ended: what was learnt is written.
		if err := t.store.SaveOperations(context.WithoutCancel(ctx), pending); err != nil {
			t.log.ErrorContext(ctx, "save polled operations", "count", len(pending), "err", err)
		}
	}
}

// Resume sends every pending intent now, whatever its due time: at
// start-up these are the calls a previous process wrote down but may not
// have sent. Run calls it first.
func (t *Tracker) Resume(ctx context.Context) (int, error) {
	pending, err := t.store.Operations(ctx, store.OperationQuery{States: []store.OpState{store.OpPending}, Limit: store.MaxOperationLimit, WithRequest: true})
	if err != nil {
		return 0, fmt.Errorf("tracker: resume: %w", err)
	}
	t.handle(ctx, pending)
	return len(pending), nil
}

// idleWait bounds a sleep of the loop: it looks again at least this often
// (an operation written by another process, a clock change).
const idleWait = 5 * time.Second

// Run resumes what a previous process left, then watches until ctx ends.
// It returns nil when ctx ends.
func (t *Tracker) Run(ctx context.Context) error {
	if n, err := t.Resume(ctx); err != nil {
		t.log.ErrorContext(ctx, "resume operations", "err", err)
	} else if n > 0 {
		t.log.InfoContext(ctx, "resumed pending operations", "count", n)
	}
	for ctx.Err() == nil {
		n, err := t.Step(ctx)
		if err != nil && ctx.Err() == nil {
			t.log.ErrorContext(ctx, "watch operations", "err", err)
		}
		if n >= t.cfg.Batch {
			continue // more are due
		}
		wait := idleWait
		if next, ok, err := t.store.NextDue(ctx); err == nil && ok {
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
