package store

import (
	"context"
	"testing"
	"time"
)

// TestAuditAggregates: 1 000 refusals from one address make a few rows
// (one a window) whose counts add up; other keys have their own rows, and
// ordinary entries are never merged.
func TestAuditAggregates(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	// 1 000 over 2 h 46 min: three windows. (10 000, one a second, took
	// 96 s under -race on a loaded machine, a transaction each, to show
	// the same.)
	const n = 1000
	for i := range n {
		at := t0.Add(time.Duration(i) * 10 * time.Second)
		if _, err := s.AppendAudit(ctx, AuditEntry{At: at, Username: "x", IP: "203.0.113.9", Action: "login",
			Outcome: OutcomeDenied, Detail: "rate limited", AggKey: "login.refused 203.0.113.9"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AppendAudit(ctx, AuditEntry{At: t0, IP: "198.51.100.1", Action: "login", Outcome: OutcomeDenied,
		Detail: "rate limited", AggKey: "login.refused 198.51.100.1"}); err != nil {
		t.Fatal(err)
	}
	es, err := s.AuditLog(ctx, AuditQuery{Action: "login", Limit: MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	var rows, sum int64
	for _, e := range es {
		if e.IP != "203.0.113.9" {
			continue
		}
		rows++
		sum += e.Count
		if e.LastAt.Before(e.At) || e.LastAt.Sub(e.At) >= AuditAggregateWindow {
			t.Errorf("entry %d spans %v .. %v", e.ID, e.At, e.LastAt)
		}
	}
	if rows > 3 || sum != n {
		t.Errorf("%d rows counting %d, want ≤ 3 counting %d", rows, sum, n)
	}
	if len(es) != int(rows)+1 {
		t.Errorf("other address: %d entries in all", len(es))
	}
	// The triggers: only an aggregate's count may move, and forward.
	for _, q := range []string{
		`UPDATE audit_log SET detail = 'x' WHERE agg_key IS NOT NULL`,
		`UPDATE audit_log SET count = count - 1 WHERE agg_key IS NOT NULL`,
		`UPDATE audit_log SET count = count + 1, username = 'y' WHERE agg_key IS NOT NULL`,
	} {
		if _, err := s.w.ExecContext(ctx, q); err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
	plain, err := s.AppendAudit(ctx, AuditEntry{Action: "user.create", Outcome: OutcomeSuccess})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE audit_log SET count = 2, last_at = at + 1 WHERE id = ?`, plain.ID); err == nil {
		t.Error("an ordinary entry's count moved")
	}
}

// TestAuditPrune deletes exactly the entries whose last time is older than
// the retention, and the log refuses to delete anything younger than
// MinAuditRetention, whoever asks.
func TestAuditPrune(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	now := time.Now()
	day := 24 * time.Hour
	add := func(at, last time.Time) int64 {
		e, err := s.AppendAudit(ctx, AuditEntry{At: at, Action: "login", Outcome: OutcomeDenied, AggKey: "k" + at.String()})
		if err != nil {
			t.Fatal(err)
		}
		if !last.Equal(at) {
			if e, err = s.AppendAudit(ctx, AuditEntry{At: last, Action: "login", Outcome: OutcomeDenied, AggKey: "k" + at.String()}); err != nil {
				t.Fatal(err)
			}
		}
		return e.ID
	}
	old := add(now.Add(-500*day), now.Add(-500*day))
	justOld := add(now.Add(-400*day-time.Minute), now.Add(-400*day-time.Minute))
	add(now.Add(-400*day+time.Minute), now.Add(-400*day+time.Minute))
	add(now.Add(-400*day-30*time.Minute), now.Add(-400*day+10*time.Minute)) // counted until inside
	add(now.Add(-31*day), now.Add(-31*day))
	add(now.Add(-time.Hour), now.Add(-time.Hour))

	stopped := make(chan time.Time)
	p, err := NewAuditPruner(s, AuditPrunerConfig{Now: func() time.Time { return now },
		After: func(time.Duration) <-chan time.Time { return stopped }})
	if err != nil {
		t.Fatal(err)
	}
	n, err := p.Prune(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2", n, err)
	}
	es, _ := s.AuditLog(ctx, AuditQuery{})
	for _, e := range es {
		if e.ID == old || e.ID == justOld {
			t.Errorf("entry %d (%v) kept", e.ID, e.At)
		}
	}
	if len(es) != 4 {
		t.Errorf("%d entries left, want 4", len(es))
	}
	if _, err := s.w.ExecContext(ctx, `DELETE FROM audit_log`); err == nil {
		t.Error("the log let recent entries be deleted")
	}
	if _, err := NewAuditPruner(s, AuditPrunerConfig{Retention: 7 * day}); err == nil {
		t.Error("a retention of 7 days was accepted")
	}

	// Run prunes at start and stops with its context.
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}

// TestAuditAggregateAfter: with AggAfter, a key's first entries of a
// window keep their own rows; only those after them are counted on the
// newest, and a new window starts over.
func TestAuditAggregateAfter(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	for i := range 30 {
		if _, err := s.AppendAudit(ctx, AuditEntry{At: t0.Add(time.Duration(i) * time.Second), UserID: 0, Username: "eve",
			Action: "image.list", TargetID: "f" + string(rune('a'+i%26)), Outcome: OutcomeDenied,
			AggKey: "each user:9 image.list denied", AggAfter: 5}); err != nil {
			t.Fatal(err)
		}
	}
	// An hour on: a new window, its own first rows.
	if _, err := s.AppendAudit(ctx, AuditEntry{At: t0.Add(2 * time.Hour), Username: "eve", Action: "image.list",
		Outcome: OutcomeDenied, AggKey: "each user:9 image.list denied", AggAfter: 5}); err != nil {
		t.Fatal(err)
	}
	es, err := s.AuditLog(ctx, AuditQuery{Action: "image.list", Limit: MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, e := range es {
		sum += e.Count
	}
	if len(es) != 6 || sum != 31 || es[0].Count != 1 || es[1].Count != 26 {
		t.Errorf("%d rows counting %d (newest counts %d, %d), want 6 rows counting 31: 5 of the first window, the last counting 26, and 1 of the next", len(es), sum, es[0].Count, es[1].Count)
	}
}
