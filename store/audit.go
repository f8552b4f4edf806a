package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Outcome is how an audited action ended.
type Outcome string

// The outcomes of an audited action.
const (
	OutcomeSuccess Outcome = "success" // done (for a cloud call: the operation started)
	OutcomeFailure Outcome = "failure" // tried and failed (a wrong password, a cloud error)
	OutcomeDenied  Outcome = "denied"  // refused by the roles or the rate limit
)

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID          int64
	At          time.Time
	UserID      int64  // 0: nobody (a failed login)
	Username    string // as given, kept when the account is deleted
	IP          string
	Action      string // e.g. "login", "image.copy", "user.create"
	TargetKind  string // e.g. "image", "user", "team", "folder"
	TargetID    string
	OperationID string
	Outcome     Outcome
	Detail      string
	// AggKey, when set, makes the entry an aggregate: an append with the
	// key of an entry begun less than AuditAggregateWindow before only
	// counts on that entry (Count, LastAt) instead of adding one. For
	// refusals repeated by the thousand (a locked-out address).
	AggKey string
	// AggAfter, with AggKey, lets the key's first AggAfter entries of a
	// window be written one by one; only the ones after them are counted
	// on the newest (0: every one after the first). Ordinary use keeps
	// every entry; a flood costs at most AggAfter+1 rows a window.
	AggAfter int
	// Count is how many times the entry happened, from At to LastAt (1
	// and At for an ordinary entry).
	Count  int64
	LastAt time.Time
}

// AuditAggregateWindow is how long an aggregate entry keeps counting
// (from its first time); the next append after it begins a new entry.
const AuditAggregateWindow = time.Hour

// Audit page sizes.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

// AppendAudit adds an entry and returns it with its id (and its time, the
// store's now when At is zero), or, for an aggregate (AggKey), counts it on
// the key's current entry and returns that. The log is append-only in
// spirit: the triggers refuse any UPDATE but an aggregate's count, and any
// DELETE of an entry younger than MinAuditRetention (PruneAudit).
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	switch {
	case e.Action == "":
		return AuditEntry{}, fmt.Errorf("store: append audit: %w: empty action", ErrInvalid)
	case e.Outcome != OutcomeSuccess && e.Outcome != OutcomeFailure && e.Outcome != OutcomeDenied:
		return AuditEntry{}, fmt.Errorf("store: append audit: %w: outcome %q", ErrInvalid, e.Outcome)
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	e.At = fromMS(ms(e.At))
	e.Count, e.LastAt = 1, e.At
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if e.AggKey != "" && e.AggAfter > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM audit_log WHERE agg_key = ? AND at > ? LIMIT ?)`,
				e.AggKey, ms(e.At.Add(-AuditAggregateWindow)), e.AggAfter).Scan(&n); err != nil {
				return err
			}
			if n < e.AggAfter {
				return insertAudit(ctx, tx, &e)
			}
		}
		if e.AggKey != "" {
			// The aggregate of this key begun within the window, if any,
			// counts one more (the triggers allow nothing else).
			var at, last int64
			err := tx.QueryRowContext(ctx, `UPDATE audit_log SET count = count + 1, last_at = max(?1, coalesce(last_at, at))
WHERE id = (SELECT id FROM audit_log WHERE agg_key = ?2 AND at > ?3 ORDER BY at DESC LIMIT 1)
RETURNING id, at, user_id, username, ip, target_kind, target_id, operation_id, detail, count, last_at`,
				ms(e.At), e.AggKey, ms(e.At.Add(-AuditAggregateWindow))).Scan(&e.ID, &at, new(sql.NullInt64), &e.Username, &e.IP,
				&e.TargetKind, &e.TargetID, &e.OperationID, &e.Detail, &e.Count, &last)
			if err == nil {
				e.At, e.LastAt = fromMS(at), fromMS(last)
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		return insertAudit(ctx, tx, &e)
	})
	if err != nil {
		return AuditEntry{}, fmt.Errorf("store: append audit %s: %w", e.Action, err)
	}
	return e, nil
}

func insertAudit(ctx context.Context, tx *sql.Tx, e *AuditEntry) error {
	return tx.QueryRowContext(ctx, `INSERT INTO audit_log
	(at, user_id, username, ip, action, target_kind, target_id, operation_id, outcome, detail, agg_key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		ms(e.At), nullUser(e.UserID), e.Username, e.IP, e.Action, e.TargetKind, e.TargetID,
		e.OperationID, string(e.Outcome), e.Detail, sql.NullString{String: e.AggKey, Valid: e.AggKey != ""}).Scan(&e.ID)
}

// MinAuditRetention is the shortest audit retention: the log refuses to
// delete an entry younger (a trigger, migration 010).
const MinAuditRetention = 30 * 24 * time.Hour

// PruneAudit deletes the entries whose last time is before before, at most
// batch at a time (so the writer is never held long), and says how many
// it deleted. A before within MinAuditRetention of now is ErrInvalid.
func (s *Store) PruneAudit(ctx context.Context, before time.Time, batch int) (int, error) {
	if before.After(s.now().Add(-MinAuditRetention)) {
		return 0, fmt.Errorf("store: prune audit: %w: entries of the last %v are kept", ErrInvalid, MinAuditRetention)
	}
	if batch <= 0 {
		batch = 1000
	}
	total := 0
	for {
		var n int64
		err := s.tx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM audit_log WHERE id IN (
	SELECT id FROM audit_log WHERE at < ?1 AND coalesce(last_at, at) < ?1 LIMIT ?2)`, ms(before), batch)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("store: prune audit: %w", err)
		}
		total += int(n)
		if n < int64(batch) {
			return total, nil
		}
	}
}

// AuditQuery selects audit entries. Zero fields select everything.
type AuditQuery struct {
	User       string    // username, without case
	Action     string    // exact
	TargetKind string    // exact
	Target     string    // target id, exact
	Outcome    Outcome   // exact
	From       time.Time // at >= From
	To         time.Time // at < To
	// Before is the paging cursor: only entries with a smaller id (pass
	// the ID of the last entry of the previous page).
	Before int64
	// Limit is the page size: DefaultAuditLimit when 0, at most MaxAuditLimit.
	Limit int
}

// AuditLog lists the entries q selects, newest (highest id) first. The
// next page is q with Before set to the last entry's ID; a page shorter
// than the limit is the last.
func (s *Store) AuditLog(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	switch {
	case q.Limit == 0:
		q.Limit = DefaultAuditLimit
	case q.Limit < 0 || q.Limit > MaxAuditLimit:
		return nil, fmt.Errorf("store: audit log: %w: limit %d not in 1..%d", ErrInvalid, q.Limit, MaxAuditLimit)
	}
	var (
		where []string
		args  []any
	)
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if q.User != "" {
		add("username = ?", q.User)
	}
	if q.Action != "" {
		add("action = ?", q.Action)
	}
	if q.TargetKind != "" {
		add("target_kind = ?", q.TargetKind)
	}
	if q.Target != "" {
		add("target_id = ?", q.Target)
	}
	if q.Outcome != "" {
		add("outcome = ?", string(q.Outcome))
	}
	if !q.From.IsZero() {
		add("at >= ?", ms(q.From))
	}
	if !q.To.IsZero() {
		add("at < ?", ms(q.To))
	}
	if q.Before > 0 {
		add("id < ?", q.Before)
	}
	query := `SELECT id, at, user_id, username, ip, action, target_kind, target_id, operation_id, outcome, detail,
	coalesce(agg_key, ''), count, coalesce(last_at, at)
FROM audit_log`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, q.Limit)

	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	defer rows.Close()
	var es []AuditEntry
	for rows.Next() {
		var (
			e        AuditEntry
			at, last int64
			user     sql.NullInt64
			outcome  string
		)
		if err := rows.Scan(&e.ID, &at, &user, &e.Username, &e.IP, &e.Action, &e.TargetKind, &e.TargetID,
			&e.OperationID, &outcome, &e.Detail, &e.AggKey, &e.Count, &last); err != nil {
			return nil, fmt.Errorf("store: audit log: %w", err)
		}
		e.At, e.UserID, e.Outcome, e.LastAt = fromMS(at), user.Int64, Outcome(outcome), fromMS(last)
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	return es, nil
}
