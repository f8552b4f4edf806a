package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAuditLog(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	entries := []AuditEntry{
		{At: t0, Username: "mallory", IP: "203.0.113.9", Action: "login", Outcome: OutcomeFailure, Detail: "wrong password"},
		{At: t0.Add(time.Minute), UserID: 1, Username: "alice", IP: "10.0.0.1", Action: "login", Outcome: OutcomeSuccess},
		{At: t0.Add(2 * time.Minute), UserID: 1, Username: "alice", Action: "image.copy", TargetKind: "image", TargetID: "img1",
			OperationID: "op1", Outcome: OutcomeSuccess},
		{At: t0.Add(3 * time.Minute), UserID: 2, Username: "bob", Action: "image.delete", TargetKind: "image", TargetID: "img1",
			Outcome: OutcomeDenied},
		{At: t0.Add(4 * time.Minute), UserID: 1, Username: "alice", Action: "image.delete", TargetKind: "image", TargetID: "img2",
			OperationID: "op2", Outcome: OutcomeSuccess},
	}
	var ids []int64
	for _, e := range entries {
		got, err := s.AppendAudit(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got.ID)
	}
	if _, err := s.AppendAudit(ctx, AuditEntry{Action: "x", Outcome: "maybe"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad outcome: got %v, want ErrInvalid", err)
	}
	if _, err := s.AppendAudit(ctx, AuditEntry{Outcome: OutcomeSuccess}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty action: got %v, want ErrInvalid", err)
	}

	all, err := s.AuditLog(ctx, AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 || all[0].ID != ids[4] || all[4].ID != ids[0] {
		t.Fatalf("AuditLog = %+v, want 5 entries newest first", all)
	}
	first := all[4]
	if first.UserID != 0 || first.Username != "mallory" || first.IP != "203.0.113.9" || !first.At.Equal(t0) ||
		first.Outcome != OutcomeFailure || first.Detail != "wrong password" {
		t.Errorf("oldest entry = %+v", first)
	}

	tests := []struct {
		name string
		give AuditQuery
		want []int64
	}{
		{"user, any case", AuditQuery{User: "ALICE"}, []int64{ids[4], ids[2], ids[1]}},
		{"action", AuditQuery{Action: "image.delete"}, []int64{ids[4], ids[3]}},
		{"target", AuditQuery{TargetKind: "image", Target: "img1"}, []int64{ids[3], ids[2]}},
		{"outcome", AuditQuery{Outcome: OutcomeDenied}, []int64{ids[3]}},
		{"time range", AuditQuery{From: t0.Add(time.Minute), To: t0.Add(3 * time.Minute)}, []int64{ids[2], ids[1]}},
		{"page 1", AuditQuery{Limit: 2}, []int64{ids[4], ids[3]}},
		{"page 2", AuditQuery{Limit: 2, Before: ids[3]}, []int64{ids[2], ids[1]}},
		{"page 3", AuditQuery{Limit: 2, Before: ids[1]}, []int64{ids[0]}},
		{"combined", AuditQuery{User: "alice", Action: "login"}, []int64{ids[1]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := s.AuditLog(ctx, tt.give)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, e := range es {
				got = append(got, e.ID)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ids = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("ids = %v, want %v", got, tt.want)
				}
			}
		})
	}
	if _, err := s.AuditLog(ctx, AuditQuery{Limit: MaxAuditLimit + 1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("limit too large: got %v, want ErrInvalid", err)
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, err := s.AppendAudit(ctx, AuditEntry{Action: "login", Outcome: OutcomeSuccess}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE audit_log SET outcome = 'failure'`,
		`DELETE FROM audit_log`,
	} {
		if _, err := s.w.ExecContext(ctx, q); err == nil {
			t.Errorf("%s: no error, want the trigger to refuse", q)
		}
	}
	if es, _ := s.AuditLog(ctx, AuditQuery{}); len(es) != 1 || es[0].Outcome != OutcomeSuccess {
		t.Errorf("after refused changes: %+v", es)
	}
}
