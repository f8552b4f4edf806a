package store

import (
	"context"
	"database/sql"
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
}

// Audit page sizes.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

// AppendAudit adds an entry and returns it with its id (and its time, the
// store's now when At is zero). The log is append-only: nothing in the
// store updates or deletes it, and triggers refuse to.
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
	err := s.tx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO audit_log
	(at, user_id, username, ip, action, target_kind, target_id, operation_id, outcome, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			ms(e.At), nullUser(e.UserID), e.Username, e.IP, e.Action, e.TargetKind, e.TargetID,
			e.OperationID, string(e.Outcome), e.Detail).Scan(&e.ID)
	})
	if err != nil {
		return AuditEntry{}, fmt.Errorf("store: append audit %s: %w", e.Action, err)
	}
	return e, nil
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
	query := `SELECT id, at, user_id, username, ip, action, target_kind, target_id, operation_id, outcome, detail
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
			e       AuditEntry
			at      int64
			user    sql.NullInt64
			outcome string
		)
		if err := rows.Scan(&e.ID, &at, &user, &e.Username, &e.IP, &e.Action, &e.TargetKind, &e.TargetID,
			&e.OperationID, &outcome, &e.Detail); err != nil {
			return nil, fmt.Errorf("store: audit log: %w", err)
		}
		e.At, e.UserID, e.Outcome = fromMS(at), user.Int64, Outcome(outcome)
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	return es, nil
}
