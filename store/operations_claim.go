package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// The watcher's leases (docs/operations.md). A watcher works on an
// operation (sends it, polls it, cancels it, finishes it) only while it
// holds the row's lease: claimed_by is it and claimed_until has not passed.
// A claim is a guarded write that bumps the version, so whatever a former
// holder still had in hand is stale from then on; a lease is renewed while
// the work lasts and released by the write that ends the work. Another
// watcher — a second process on the same database, or a restarted one —
// takes a row only once its lease expired: its holder died, or hung past
// the lease.

// ClaimDue leases to owner, until now+lease, up to limit open operations
// that are due (next poll at or before now; a cancel asked brings it to
// then) and not leased to anyone (claimed_until ≤ now), leaving out skip
// (those owner is already working on). They come back with their
// requests, the most overdue first.
func (s *Store) ClaimDue(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip []int64) ([]Operation, error) {
	args := []any{owner, ms(now.Add(lease)), ms(now), ms(now)}
	notIn := ""
	if len(skip) > 0 {
		notIn = ` AND id NOT IN (` + placeholders(len(skip)) + `)`
		for _, id := range skip {
			args = append(args, id)
		}
	}
	args = append(args, limit)
	for _, id := range skip {
		args = append(args, id)
	}
	args = append(args, ms(now))
	// A cancel asked is due at once (RequestCancel brings its next poll to
	// now), and then waits its backoff like any other work: a cancel that
	// cannot go out (the cloud down) is not tried in a loop.
	return s.claim(ctx, `UPDATE operations SET claimed_by = ?, claimed_until = ?, version = version + 1
WHERE id IN (
	SELECT id FROM (SELECT id FROM operations WHERE state IN `+openStates+` AND next_poll_at <= ? AND claimed_until <= ?`+notIn+`
		ORDER BY next_poll_at, id LIMIT ?)
) AND claimed_until <= ?
RETURNING `+opCols, args...)
}

// ClaimOperations leases to owner those of ids that are open and not
// leased to anyone, whether due or not (a start hands its intents to the
// watcher at once).
func (s *Store) ClaimOperations(ctx context.Context, owner string, ids []int64, now time.Time, lease time.Duration) ([]Operation, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{owner, ms(now.Add(lease))}
	for _, id := range ids {
		args = append(args, id)
	}
	args = append(args, ms(now))
	return s.claim(ctx, `UPDATE operations SET claimed_by = ?, claimed_until = ?, version = version + 1
WHERE id IN (`+placeholders(len(ids))+`) AND state IN `+openStates+` AND claimed_until <= ?
RETURNING `+opCols, args...)
}

func (s *Store) claim(ctx context.Context, query string, args ...any) ([]Operation, error) {
	var out []Operation
	err := s.tx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			o, err := scanOp(rows)
			if err != nil {
				return err
			}
			out = append(out, o)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim operations: %w", err)
	}
	slices.SortFunc(out, func(a, b Operation) int {
		if c := a.NextPollAt.Compare(b.NextPollAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

// RenewClaims extends owner's leases on ids to now+lease. It is not a
// transition (the version stays): the holder's copy stays good. A lease
// owner lost meanwhile is not taken back.
func (s *Store) RenewClaims(ctx context.Context, owner string, ids []int64, now time.Time, lease time.Duration) error {
	if len(ids) == 0 {
		return nil
	}
	args := []any{ms(now.Add(lease)), owner}
	for _, id := range ids {
		args = append(args, id)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE operations SET claimed_until = ?
WHERE claimed_by = ? AND id IN (`+placeholders(len(ids))+`) AND state IN `+openStates, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: renew claims: %w", err)
	}
	return nil
}

// ErrFinished: the operation has already ended; a request to change it
// (cancel it) changes nothing.
var ErrFinished = errors.New("operation already finished")

// RequestCancel records that a person asked to cancel operation id, for
// the watcher to act on. It is not a transition (the version stays: the
// lease holder's work in hand stays good, and its writes keep the
// request). On an operation that ended it changes nothing and returns the
// operation with ErrFinished.
func (s *Store) RequestCancel(ctx context.Context, id int64, now time.Time) (Operation, error) {
	var o Operation
	err := s.tx(ctx, func(tx *sql.Tx) (err error) {
		o, err = scanOp(tx.QueryRowContext(ctx, `SELECT `+opCols+` FROM operations WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if !o.State.Open() {
			return ErrFinished
		}
		if o.Cancel != CancelNone {
			return nil
		}
		o.Cancel = CancelRequested
		_, err = tx.ExecContext(ctx, `UPDATE operations SET cancel_requested = 1, next_poll_at = min(next_poll_at, ?)
WHERE id = ? AND cancel_requested = 0 AND state IN `+openStates, ms(now), id)
		return err
	})
	if err != nil {
		return o, fmt.Errorf("store: cancel operation %d: %w", id, err)
	}
	s.opsChanged()
	return o, nil
}

// NextWork is when the earliest open operation is due for a watcher: its
// next poll (a cancel asked brings it to then), but not before its lease
// ends; ok is false when none is open.
func (s *Store) NextWork(ctx context.Context) (t time.Time, ok bool, err error) {
	var v sql.NullInt64
	err = s.r.QueryRowContext(ctx, `SELECT min(max(next_poll_at, claimed_until)) FROM operations WHERE state IN `+openStates).Scan(&v)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: next work: %w", err)
	}
	return fromMS(v.Int64), v.Valid, nil
}
