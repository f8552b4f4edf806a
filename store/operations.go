package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// OpState is where an operation the dashboard started stands.
type OpState string

// The states of an operation (the machine is drawn in docs/operations.md).
// Pending, sending and running are open: the watcher works on them. The
// others are final: no write moves an operation out of them (the
// conditional UPDATE, and the trigger of migration 011).
const (
	// OpPending: the intent is written; the cloud has not (knowingly)
	// answered the call yet. It is (re-)sent with the same idempotency key.
	OpPending OpState = "pending"
	// OpSending: the watcher holding the lease is calling the cloud. Should
	// it die, the next holder sends again with the same key.
	OpSending OpState = "sending"
	// OpRunning: the cloud answered with an operation that is not done
	// (sent, cloud id known). With an error set it is failing: the cloud
	// reported an error before it was done.
	OpRunning   OpState = "running"
	OpDone      OpState = "done"      // succeeded
	OpFailed    OpState = "failed"    // refused by the cloud, or done with an error
	OpCancelled OpState = "cancelled" // cancelled at a person's request
	OpLost      OpState = "lost"      // the cloud no longer knows it, or answered another operation
)

// OpStates lists the states, open ones first.
var OpStates = []OpState{OpPending, OpSending, OpRunning, OpDone, OpFailed, OpCancelled, OpLost}

// Open tells whether the watcher still works on an operation in state s.
func (s OpState) Open() bool { return s == OpPending || s == OpSending || s == OpRunning }

// The open and the final states as SQL lists; the partial indexes of
// migration 011 are on exactly openStates, so queries must say it so.
const (
	openStates  = `('pending', 'sending', 'running')`
	finalStates = `('done', 'failed', 'cancelled', 'lost')`
)

// Operation is one change the dashboard asked the cloud for: the intent
// (written before the call), the cloud's operation, and how it ended.
type Operation struct {
	ID    int64
	Key   string // the idempotency key every send of Request carries
	Batch string // groups the operations of one bulk action ("" for none)
	// Action is what was asked, e.g. "image.copy", "image.update".
	Action   string
	Service  cloud.Service // the service of the target image
	FolderID string        // the target image's folder
	// ImageID is the target image: known from the start for an update or
	// a delete, from the cloud's answer for a copy.
	ImageID   string
	ImageName string
	// SourceService and SourceID name what a copy copies (an image, or a
	// desktop for CopyFromDesktop).
	SourceService cloud.Service
	SourceID      string
	// Request is the call to send, encoded by the caller (opaque here).
	Request  []byte
	UserID   int64
	Username string

	State        OpState
	CloudID      string // the cloud's operation id, "" while pending
	ErrorCode    string // gRPC code name, when the cloud reported an error
	ErrorMessage string
	Attempts     int // sends of the request
	Polls        int // OperationService.Get calls
	CreatedAt    time.Time
	UpdatedAt    time.Time
	DoneAt       time.Time
	// NextPollAt is when the watcher next looks at it (open ones only);
	// PollEvery is its current backoff interval.
	NextPollAt time.Time
	PollEvery  time.Duration
	// CloudModifiedAt is the cloud operation's modified_at when last seen,
	// so a change resets the backoff.
	CloudModifiedAt time.Time

	// Version is bumped by every transition; a write is made only over the
	// version it was read at (see Transition).
	Version int64
	// ClaimedBy holds the lease on the row until ClaimedUntil: only it
	// sends, polls or finishes the operation meanwhile.
	ClaimedBy    string
	ClaimedUntil time.Time
	// Cancel is whether a person asked to cancel it, and whether that was
	// sent to the cloud.
	Cancel CancelState

	// Expect, when not 0, is the image fingerprint (ImageFingerprint) of
	// the cached image the intent was made from: CreateIntents writes it
	// only while the cache still holds the image so (*ImageChangedError
	// otherwise). Not stored.
	Expect int64

	// read is State as read from the row: the "from" of the next write.
	read OpState
}

// CancelState is where a person's request to cancel an operation stands.
type CancelState int

const (
	CancelNone      CancelState = 0
	CancelRequested CancelState = 1 // asked; the watcher sends it
	CancelSent      CancelState = 2 // sent to the cloud
)

// Failing tells whether the cloud reported an error on an operation that
// is not finished yet.
func (o Operation) Failing() bool { return o.State == OpRunning && o.ErrorCode != "" }

const opCols = `id, idempotency_key, batch_id, action, service, folder_id, image_id, image_name,
	source_service, source_id, request, coalesce(user_id, 0), username, state, cloud_id, error_code, error_message,
	attempts, polls, created_at, updated_at, done_at, next_poll_at, poll_every_ms, cloud_modified_at,
	version, claimed_by, claimed_until, cancel_requested`

// opColsNoRequest is opCols with an empty request, for lists that do not
// show it (the monitor polls a page of them every 2 s).
var opColsNoRequest = strings.Replace(opCols, "source_id, request,", "source_id, x'',", 1)

func scanOp(sc rowScanner) (Operation, error) {
	var (
		o                                         Operation
		svc, srcSvc, state                        string
		created, updated, done, next, every, cmod int64
		claimed                                   int64
	)
	err := sc.Scan(&o.ID, &o.Key, &o.Batch, &o.Action, &svc, &o.FolderID, &o.ImageID, &o.ImageName,
		&srcSvc, &o.SourceID, &o.Request, &o.UserID, &o.Username, &state, &o.CloudID, &o.ErrorCode, &o.ErrorMessage,
		&o.Attempts, &o.Polls, &created, &updated, &done, &next, &every, &cmod,
		&o.Version, &o.ClaimedBy, &claimed, &o.Cancel)
	if err != nil {
		return Operation{}, err
	}
	o.Service, o.SourceService, o.State = cloud.Service(svc), cloud.Service(srcSvc), OpState(state)
	o.read, o.ClaimedUntil = o.State, fromMS(claimed)
	o.CreatedAt, o.UpdatedAt, o.DoneAt, o.NextPollAt = fromMS(created), fromMS(updated), fromMS(done), fromMS(next)
	o.PollEvery, o.CloudModifiedAt = time.Duration(every)*time.Millisecond, fromMS(cmod)
	return o, nil
}

// CreateIntent writes a new operation in state pending, due at once (so
// that if the caller dies before sending it, the watcher sends it), and
// returns it with its id. Key must be fresh: a used key is ErrExists.
func (s *Store) CreateIntent(ctx context.Context, o Operation) (Operation, error) {
	ops, err := s.CreateIntents(ctx, []Operation{o})
	if err != nil {
		return Operation{}, err
	}
	return ops[0], nil
}

// CreateIntents is CreateIntent for many, in one transaction: a bulk
// action is written down whole or not at all, so a crash in the middle
// of asking leaves no half of it behind.
func (s *Store) CreateIntents(ctx context.Context, in []Operation) ([]Operation, error) {
	return s.CreateIntentsLimited(ctx, in, 0)
}

// ErrTooMany: the intents would give their person more operations in
// flight than they may have at once (a 429 for the handler). The error is
// an *OpenLimitError, which says the numbers.
var ErrTooMany = errors.New("too many operations in flight")

// OpenLimitError is ErrTooMany with its numbers.
type OpenLimitError struct {
	Open, Asked, Limit int
}

func (e *OpenLimitError) Error() string {
	return fmt.Sprintf("%d operations in flight and %d asked for, over the limit of %d", e.Open, e.Asked, e.Limit)
}

func (e *OpenLimitError) Unwrap() error { return ErrTooMany }

// Message says it for the person who asked.
func (e *OpenLimitError) Message() string {
	if e.Asked == 1 {
		return fmt.Sprintf("You have %d operations in flight, the most one person may have at once. Wait for some to end, then try again.", e.Open)
	}
	return fmt.Sprintf("You have %d operations in flight and asked for %d more; one person may have %d at once. Wait for some to end, or choose fewer.",
		e.Open, e.Asked, e.Limit)
}

// NameInFlightError refuses intents one of which names an image that an
// unfinished operation is already giving that name in the folder. It is
// ErrExists.
type NameInFlightError struct {
	Name      string
	Operation int64 // the operation already under way
}

func (e *NameInFlightError) Error() string {
	return fmt.Sprintf("operation %d is already making an image named %q there", e.Operation, e.Name)
}

func (e *NameInFlightError) Unwrap() error { return ErrExists }

// Message is the refusal as a person reads it.
func (e *NameInFlightError) Message() string {
	return fmt.Sprintf("An image named %s is already being made in that folder (was the form sent twice?), so nothing was copied. "+
		"See the operations page, or choose another name.", e.Name)
}

// CreateIntentsLimited is CreateIntents refusing with an *OpenLimitError
// when the person the intents belong to (they all belong to one: the
// first's UserID) would have more than limit open operations with them.
// The count is read in the write's own transaction, so two requests at
// once cannot both slip under the limit. limit ≤ 0, or no user, is no
// limit. A copy naming an image another unfinished operation is
// already making in its folder refuses them all (*NameInFlightError), and
// so does one targeting an image another unfinished operation targets
// (*ImageBusyError), and one whose Expect the cached image no longer
// matches (*ImageChangedError).
func (s *Store) CreateIntentsLimited(ctx context.Context, in []Operation, limit int) ([]Operation, error) {
	now := s.now()
	out := make([]Operation, 0, len(in))
	for _, o := range in {
		if o.Key == "" || o.Action == "" || !o.Service.Valid() || o.FolderID == "" || len(o.Request) == 0 {
			return nil, fmt.Errorf("store: create intent: %w: key, action, service, folder and request are required", ErrInvalid)
		}
		if o.CreatedAt.IsZero() {
			o.CreatedAt = now
		}
		o.State, o.UpdatedAt = OpPending, o.CreatedAt
		if o.NextPollAt.IsZero() {
			o.NextPollAt = o.CreatedAt
		}
		out = append(out, o)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if limit > 0 && len(out) > 0 && out[0].UserID != 0 {
			var open int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM operations
WHERE user_id = ? AND state IN `+openStates, out[0].UserID).Scan(&open); err != nil {
				return fmt.Errorf("count open: %w", err)
			}
			if open+len(out) > limit {
				return &OpenLimitError{Open: open, Asked: len(out), Limit: limit}
			}
		}
		// An image another unfinished operation is changing (the same
		// delete sent twice, two edits at once): refused whole, listing
		// each (operations_busy.go).
		busy, err := busyImages(ctx, tx, out)
		if err != nil {
			return err
		}
		if busy != nil {
			return busy
		}
		changed, err := changedImages(ctx, tx, out)
		if err != nil {
			return err
		}
		if changed != nil {
			return changed
		}
		// A name another unfinished operation is already giving an image
		// in the folder (the same form sent twice, two people at once):
		// checked here, in the write's own transaction, so two plans made
		// at the same moment cannot both pass the planner's look-up.
		open := openStateArgs()
		for _, o := range out {
			if o.ImageName == "" || o.ImageID != "" {
				continue // not an image in the making (a copy has no id yet)
			}
			args := append([]any{o.FolderID, o.ImageName, string(o.Service), deleteAction}, open...)
			var name string
			var id int64
			err := tx.QueryRowContext(ctx, openOpNamesSQL(1, len(open)), args...).Scan(&name, &id)
			if err == nil {
				return &NameInFlightError{Name: o.ImageName, Operation: id}
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("names in flight: %w", err)
			}
		}
		for i, o := range out {
			var err error
			out[i], err = scanOp(tx.QueryRowContext(ctx, `INSERT INTO operations
	(idempotency_key, batch_id, action, service, folder_id, image_id, image_name, source_service, source_id,
	 request, user_id, username, state, created_at, updated_at, next_poll_at, poll_every_ms)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+opCols,
				o.Key, o.Batch, o.Action, string(o.Service), o.FolderID, o.ImageID, o.ImageName, string(o.SourceService), o.SourceID,
				o.Request, nullUser(o.UserID), o.Username, string(o.State), ms(o.CreatedAt), ms(o.UpdatedAt), ms(o.NextPollAt),
				o.PollEvery.Milliseconds()))
			if isUnique(err) {
				return fmt.Errorf("key %s: %w", o.Key, ErrExists)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", o.Action, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: create intents: %w", err)
	}
	s.opsChanged()
	s.openGen.Add(1)
	return out, nil
}

// ErrStale: the operation changed since it was read (another watcher took
// it over, a poll came late, it finished meanwhile), so the write was not
// made. The writer drops its work: what it knew is no longer the news.
var ErrStale = errors.New("operation changed meanwhile")

// SaveOperation is Transition for a caller that does not need the row back.
func (s *Store) SaveOperation(ctx context.Context, o Operation) error {
	_, err := s.Transition(ctx, o)
	return err
}

// Transition writes the mutable fields of o (state, cloud id, image,
// error, counters, times, lease) over the row as it was read: only when
// the row is still in the state and at the version o was read at, and
// bumps the version. Otherwise nothing is written and the error is
// ErrStale (ErrNotFound for no such row). A final state is written by
// FinishOperation only. It returns o as now stored. It does not touch the
// image cache.
func (s *Store) Transition(ctx context.Context, o Operation) (Operation, error) {
	if !o.State.Open() {
		return o, fmt.Errorf("store: save operation %d: %w: state %s is final: finish it", o.ID, ErrInvalid, o.State)
	}
	var retargeted bool
	err := s.tx(ctx, func(tx *sql.Tx) (err error) {
		retargeted, o, err = saveOp(ctx, tx, o, s.now())
		return err
	})
	if err != nil {
		return o, fmt.Errorf("store: save operation %d: %w", o.ID, err)
	}
	s.opsChanged()
	if retargeted {
		s.openGen.Add(1)
	}
	return o, nil
}

// SaveOperations is SaveOperation for many, in one transaction; the ones
// that changed meanwhile are left as they are (their writer lost the race)
// and reported as stale, the others are written.
func (s *Store) SaveOperations(ctx context.Context, ops []Operation) (stale []int64, err error) {
	now := s.now()
	var retargeted bool
	err = s.tx(ctx, func(tx *sql.Tx) error {
		retargeted, stale = false, stale[:0]
		for _, o := range ops {
			if !o.State.Open() {
				return fmt.Errorf("operation %d: %w: state %s is final: finish it", o.ID, ErrInvalid, o.State)
			}
			r, _, err := saveOp(ctx, tx, o, now)
			if errors.Is(err, ErrStale) {
				stale = append(stale, o.ID)
				continue
			}
			if err != nil {
				return fmt.Errorf("operation %d: %w", o.ID, err)
			}
			retargeted = retargeted || r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: save %d operations: %w", len(ops), err)
	}
	s.opsChanged()
	if retargeted {
		s.openGen.Add(1)
	}
	return stale, nil
}

// FinishOperation moves o, read at o.Version in an open state, to its
// final state (done, failed, cancelled or lost) and, in the same
// transaction, writes its outcome to the audit log in the name of the
// person who asked and its effect on the image cache: img is upserted when
// not nil, and (svc, id) of removed is deleted when removed.ID is set. So
// the cache, the operation and its one outcome row never disagree, even
// across a crash, and a second finish (a late poll, a second watcher, a
// cancel after the end) is ErrStale and writes nothing.
func (s *Store) FinishOperation(ctx context.Context, o Operation, img *cloud.Image, removed cloud.Image) error {
	if o.State.Open() {
		return fmt.Errorf("store: finish operation %d: %w: state %s is not final", o.ID, ErrInvalid, o.State)
	}
	if img != nil {
		if err := checkImage(*img); err != nil {
			return fmt.Errorf("store: finish operation %d: %w", o.ID, err)
		}
	}
	now := s.now()
	var refs []imageRef
	if img != nil {
		refs = append(refs, imageRef{img.Service, img.ID})
	}
	if removed.ID != "" {
		refs = append(refs, imageRef{removed.Service, removed.ID})
	}
	tx := s.tx
	if len(refs) > 0 {
		// The images change: keep what the cache can (cache_delta.go).
		tx = func(ctx context.Context, fn func(*sql.Tx) error) error { return s.imageTx(ctx, refs, fn) }
	}
	err := tx(ctx, func(tx *sql.Tx) error {
		if _, _, err := saveOp(ctx, tx, o, now); err != nil {
			return err
		}
		if err := auditOutcome(ctx, tx, o, now); err != nil {
			return fmt.Errorf("audit the outcome: %w", err)
		}
		if len(refs) == 0 {
			return nil
		}
		w, err := newImageWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.Close()
		if img != nil {
			doc, ok, err := w.doc(img.Service, img.ID)
			if err != nil {
				return err
			}
			if err := w.put(newImageRow(*img), now, now, doc, ok); err != nil {
				return err
			}
		}
		if removed.ID != "" {
			doc, ok, err := w.doc(removed.Service, removed.ID)
			if err != nil {
				return err
			}
			if ok {
				if err := w.remove(doc, removed.Service, removed.ID); err != nil {
					return err
				}
			}
			// Noted even when not cached: a sync listing now may have it.
			return removedByOperation(ctx, tx, removed.Service, removed.ID, now)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: finish operation %d: %w", o.ID, err)
	}
	s.opsChanged()
	s.openGen.Add(1)
	return nil
}

// auditOutcome appends o's outcome to the audit log, in the transaction
// that finishes it: exactly one row per operation.
func auditOutcome(ctx context.Context, tx *sql.Tx, o Operation, now time.Time) error {
	outcome, detail := OutcomeSuccess, "operation done"
	if o.State != OpDone {
		outcome, detail = OutcomeFailure, "operation "+string(o.State)
		if o.ErrorCode != "" || o.ErrorMessage != "" {
			detail += ": " + o.ErrorCode + ": " + o.ErrorMessage
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log
	(at, user_id, username, action, target_kind, target_id, operation_id, outcome, detail)
VALUES (?, ?, ?, ?, 'image', ?, ?, ?, ?)`,
		ms(now), nullUser(o.UserID), o.Username, o.Action, o.ImageID, AuditOperationID(o), string(outcome), detail+CloudNote(o))
	return err
}

// AuditOperationID is how the audit log names o: by the dashboard's own
// operation id. The cloud's id is not unique over time (a cloud started
// again from its seed hands the same ids out again) and is empty for an
// intent the cloud refused or never answered; it goes in the detail
// (CloudNote).
func AuditOperationID(o Operation) string { return strconv.FormatInt(o.ID, 10) }

// CloudNote is " (cloud operation X)" for the detail of an audit row of
// o, "" while the cloud's id is not known.
func CloudNote(o Operation) string {
	if o.CloudID == "" {
		return ""
	}
	return " (cloud operation " + o.CloudID + ")"
}

// saveOp writes o over its row, guarded: only when the row is in o.read
// at o.Version (see Transition). A final state releases the lease and
// stamps done_at. It returns o as stored. retargeted is whether the write
// changed which image the operation targets while open, or closed it (see
// openOps); false for the watcher's routine saves of a poll.
func saveOp(ctx context.Context, tx *sql.Tx, o Operation, now time.Time) (retargeted bool, _ Operation, err error) {
	if !o.State.Open() {
		if o.DoneAt.IsZero() {
			o.DoneAt = now
		}
		o.ClaimedBy, o.ClaimedUntil = "", time.Time{}
	}
	var (
		state, image string
		version      int64
	)
	err = tx.QueryRowContext(ctx, `SELECT state, image_id, version FROM operations WHERE id = ?`, o.ID).Scan(&state, &image, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return false, o, ErrNotFound
	}
	if err != nil {
		return false, o, err
	}
	if OpState(state) != o.read || version != o.Version {
		return false, o, ErrStale
	}
	res, err := tx.ExecContext(ctx, `UPDATE operations SET
	image_id = ?, image_name = ?, state = ?, cloud_id = ?, error_code = ?, error_message = ?, attempts = ?, polls = ?,
	updated_at = ?, done_at = ?, next_poll_at = ?, poll_every_ms = ?, cloud_modified_at = ?,
	claimed_by = ?,
	claimed_until = CASE WHEN ? = '' THEN 0 ELSE max(claimed_until, ?) END, -- a write never shortens a renewed lease
	cancel_requested = max(cancel_requested, ?), version = version + 1
WHERE id = ? AND state = ? AND version = ?`,
		o.ImageID, o.ImageName, string(o.State), o.CloudID, o.ErrorCode, o.ErrorMessage, o.Attempts, o.Polls,
		ms(now), ms(o.DoneAt), ms(o.NextPollAt), o.PollEvery.Milliseconds(), ms(o.CloudModifiedAt),
		o.ClaimedBy, o.ClaimedBy, ms(o.ClaimedUntil), int(o.Cancel), o.ID, string(o.read), o.Version)
	if err != nil {
		return false, o, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, o, ErrStale
	}
	retargeted = o.read.Open() != o.State.Open() || o.State.Open() && image != o.ImageID
	o.Version++
	o.read, o.UpdatedAt = o.State, fromMS(ms(now))
	return retargeted, o, nil
}

// Operation is the operation with that (local) id.
func (s *Store) Operation(ctx context.Context, id int64) (Operation, error) {
	o, err := scanOp(s.r.QueryRowContext(ctx, `SELECT `+opCols+` FROM operations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Operation{}, fmt.Errorf("store: operation %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Operation{}, fmt.Errorf("store: operation %d: %w", id, err)
	}
	return o, nil
}

// OperationsByID returns the operations with those ids, in no order;
// unknown ids are left out.
func (s *Store) OperationsByID(ctx context.Context, ids []int64) ([]Operation, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return s.queryOps(ctx, `SELECT `+opCols+` FROM operations WHERE id IN (`+placeholders(len(ids))+`)`, args...)
}

// DueOperations lists up to limit open operations whose next poll is at or
// before now, the most overdue first.
func (s *Store) DueOperations(ctx context.Context, now time.Time, limit int) ([]Operation, error) {
	return s.queryOps(ctx, `SELECT `+opCols+` FROM operations
WHERE state IN `+openStates+` AND next_poll_at <= ? ORDER BY next_poll_at, id LIMIT ?`, ms(now), limit)
}

// NextDue is when the earliest open operation is due; ok is false when
// none is open.
func (s *Store) NextDue(ctx context.Context) (t time.Time, ok bool, err error) {
	var v sql.NullInt64
	err = s.r.QueryRowContext(ctx, `SELECT min(next_poll_at) FROM operations WHERE state IN `+openStates).Scan(&v)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: next due operation: %w", err)
	}
	return fromMS(v.Int64), v.Valid, nil
}

// OpenImageOperations maps each of the images ids of svc that an open
// operation targets to the newest such operation (an image's page and its
// badges).
func (s *Store) OpenImageOperations(ctx context.Context, svc cloud.Service, ids []string) (map[string]Operation, error) {
	out := map[string]Operation{}
	if len(ids) == 0 {
		return out, nil
	}
	args := []any{string(svc)}
	for _, id := range ids {
		args = append(args, id)
	}
	ops, err := s.queryOps(ctx, `SELECT `+opCols+` FROM operations
WHERE service = ? AND image_id IN (`+placeholders(len(ids))+`) AND state IN `+openStates+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	for _, o := range ops {
		out[o.ImageID] = o // newest wins: ordered by id
	}
	return out, nil
}

// OpenImageOperationIDs is OpenImageOperations' ids alone, for the rows of
// a list page: every page asks, so the answer comes from a snapshot of
// the open operations (openOps) rather than from one query a page.
func (s *Store) OpenImageOperationIDs(ctx context.Context, svc cloud.Service, ids []string) (map[string]int64, error) {
	by, err := s.openOps.get(ctx, s)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	if len(by) == 0 {
		return out, nil
	}
	for _, id := range ids {
		if op, ok := by[imageRef{svc, id}]; ok {
			out[id] = op
		}
	}
	return out, nil
}

// openOps is which images the open (pending or running) operations
// target, as of openGen. There are as many as are in flight: hundreds, not
// the history. openGen moves only when that changes (an operation
// created, finished, or given its image); the watcher's routine saves of
// polls (several a second with a hundred in flight) leave it.
type openOps struct {
	// refresh lets one caller read the snapshot again; the others wait
	// for it rather than run the same query.
	refresh sync.Mutex
	mu      sync.Mutex
	gen     uint64
	known   bool
	byImage map[imageRef]int64 // the newest open operation of an image; read-only once published
}

// current is the snapshot when it is of generation gen.
func (c *openOps) current(gen uint64) (map[imageRef]int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byImage, c.known && c.gen == gen
}

// get is the snapshot, read again when openGen moved. The generation is
// read before the query: a write that lands meanwhile moves it after its
// commit, so a snapshot never outlives the write it missed.
func (c *openOps) get(ctx context.Context, s *Store) (map[imageRef]int64, error) {
	gen := s.openGen.Load()
	if by, ok := c.current(gen); ok {
		return by, nil
	}
	c.refresh.Lock()
	defer c.refresh.Unlock()
	if by, ok := c.current(gen); ok {
		return by, nil // another caller read it meanwhile
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, service, image_id FROM operations
WHERE state IN `+openStates+` AND image_id != '' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: open operations: %w", err)
	}
	defer rows.Close()
	by := map[imageRef]int64{}
	for rows.Next() {
		var (
			id  int64
			ref imageRef
		)
		if err := rows.Scan(&id, &ref.svc, &ref.id); err != nil {
			return nil, fmt.Errorf("store: open operations: %w", err)
		}
		by[ref] = id // newest wins: ordered by id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: open operations: %w", err)
	}
	c.mu.Lock()
	if !c.known || gen >= c.gen {
		c.gen, c.known, c.byImage = gen, true, by
	}
	c.mu.Unlock()
	return by, nil
}

// OperationQuery selects operations for the monitor. Zero fields select
// everything.
type OperationQuery struct {
	Open     bool      // only pending and running
	Closed   bool      // only done, failed and lost
	States   []OpState // exact states
	User     string    // username, without case
	Action   string
	Service  cloud.Service
	Folders  []string // any of these target folders; nil: all
	Image    string   // target image id
	Batch    string
	From, To time.Time // created_at in [From, To)
	// WithRequest reads each operation's Request too (to send it again,
	// say); lists leave it empty.
	WithRequest bool
	// Before is the paging cursor: only operations with a smaller id.
	Before int64
	Limit  int // DefaultOperationLimit when 0, at most MaxOperationLimit
}

// Operation page sizes.
const (
	DefaultOperationLimit = 50
	MaxOperationLimit     = 1000
)

// Operations lists the operations q selects, newest first.
func (s *Store) Operations(ctx context.Context, q OperationQuery) ([]Operation, error) {
	switch {
	case q.Limit == 0:
		q.Limit = DefaultOperationLimit
	case q.Limit < 0 || q.Limit > MaxOperationLimit:
		return nil, fmt.Errorf("store: operations: %w: limit %d not in 1..%d", ErrInvalid, q.Limit, MaxOperationLimit)
	}
	where, args := q.where()
	args = append(args, q.Limit)
	cols := opColsNoRequest
	if q.WithRequest {
		cols = opCols
	}
	from := "operations"
	if q.Open {
		// Newest open ones first is a walk down the partial index of the
		// open ids (migration 006); left to itself the planner takes the
		// state index and sorts every open row.
		from = "operations INDEXED BY operations_open_id"
	}
	return s.queryOps(ctx, `SELECT `+cols+` FROM `+from+where+` ORDER BY id DESC LIMIT ?`, args...)
}

func (q OperationQuery) where() (string, []any) {
	var (
		conds []string
		args  []any
	)
	add := func(cond string, a ...any) { conds, args = append(conds, cond), append(args, a...) }
	if q.Open {
		add(`state IN ` + openStates)
	}
	if q.Closed {
		add(`state IN ` + finalStates)
	}
	if len(q.States) > 0 {
		a := make([]any, len(q.States))
		for i, st := range q.States {
			a[i] = string(st)
		}
		add(`state IN (`+placeholders(len(a))+`)`, a...)
	}
	if q.User != "" {
		add(`username = ?`, q.User)
	}
	if q.Action != "" {
		add(`action = ?`, q.Action)
	}
	if q.Service != "" {
		add(`service = ?`, string(q.Service))
	}
	if q.Folders != nil {
		if len(q.Folders) == 0 {
			add(`0`)
		} else {
			a := make([]any, len(q.Folders))
			for i, f := range q.Folders {
				a[i] = f
			}
			add(`folder_id IN (`+placeholders(len(a))+`)`, a...)
		}
	}
	if q.Image != "" {
		add(`image_id = ?`, q.Image)
	}
	if q.Batch != "" {
		add(`batch_id = ?`, q.Batch)
	}
	if !q.From.IsZero() {
		add(`created_at >= ?`, ms(q.From))
	}
	if !q.To.IsZero() {
		add(`created_at < ?`, ms(q.To))
	}
	if q.Before > 0 {
		add(`id < ?`, q.Before)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// OperationCounts are the header's figures.
type OperationCounts struct {
	InFlight int // pending or running
	Failed   int // failed or lost in the last day
}

// CountOperations counts the open operations, and the ones that failed or
// were lost since since, among the folders (nil: all).
func (s *Store) CountOperations(ctx context.Context, folders []string, since time.Time) (OperationCounts, error) {
	var c OperationCounts
	q := OperationQuery{Folders: folders}
	where, args := q.where()
	and := " WHERE "
	if where != "" {
		and = where + " AND "
	}
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM operations`+and+`state IN `+openStates, args...).Scan(&c.InFlight); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM operations`+and+`state IN ('failed', 'lost') AND done_at >= ?`,
			append(args, ms(since))...).Scan(&c.Failed)
	})
	if err != nil {
		return c, fmt.Errorf("store: count operations: %w", err)
	}
	return c, nil
}

func (s *Store) queryOps(ctx context.Context, query string, args ...any) ([]Operation, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: operations: %w", err)
	}
	defer rows.Close()
	var out []Operation
	for rows.Next() {
		o, err := scanOp(rows)
		if err != nil {
			return nil, fmt.Errorf("store: operations: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: operations: %w", err)
	}
	return out, nil
}

// OpsGeneration changes after every write to the operations, so pollers
// (the badges, the header counts) can tell cheaply that nothing changed.
func (s *Store) OpsGeneration() uint64 { return s.opsGen.Load() }

func (s *Store) opsChanged() { s.opsGen.Add(1) }

// placeholders is n comma-separated "?" for an IN list.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
