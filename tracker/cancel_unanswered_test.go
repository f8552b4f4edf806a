package tracker

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/imagedash/imagedash/store"
)

// TestCancelAfterUnansweredSend: a cancel of an intent whose send got no
// answer was sent again (same key) to have a cloud id to cancel: when the
// cloud had never got the first send, that second send started the copy,
// and the cancel could end as done. Now such a cancel never sends again:
// the intent ends cancelled when every send was refused before the cloud
// took it, and lost (the cloud may or may not have it, said in plain
// words) when any send got no answer or its sender died in the call.
func TestCancelAfterUnansweredSend(t *testing.T) {
	tests := []struct {
		name      string
		faults    []codes.Code // the answers to the sends before the cancel, in order
		midSend   bool         // the sender died in the call instead
		wantState store.OpState
	}{
		{"timed out", []codes.Code{codes.DeadlineExceeded}, false, store.OpLost},
		{"connection dropped", []codes.Code{codes.Unavailable}, false, store.OpLost},
		{"timed out, then rate limited", []codes.Code{codes.DeadlineExceeded, codes.ResourceExhausted}, false, store.OpLost},
		{"rate limited", []codes.Code{codes.ResourceExhausted, codes.ResourceExhausted}, false, store.OpCancelled},
		{"credentials refused", []codes.Code{codes.Unauthenticated}, false, store.OpCancelled},
		{"sender died in the call", nil, true, store.OpLost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMEnv(t)
			st := m.open()
			tr := m.tracker(st, "a")
			ctx := context.Background()
			answers := tt.faults
			m.cloud.setFault(func(call, _ string) error {
				if call != "send" || len(answers) == 0 {
					return nil // the cloud would take it now
				}
				c := answers[0]
				answers = answers[1:]
				return fakeErr(c, "no")
			})
			var o store.Operation
			if tt.midSend {
				// The intent as a watcher that died in the call left it.
				ops := m.intents(st, "amir", []Intent{m.copyIntent("x")})
				o = ops[0]
				o.State, o.Attempts = store.OpSending, 1
				var err error
				if o, err = st.Transition(ctx, o); err != nil {
					t.Fatal(err)
				}
			} else {
				var err error
				o, err = tr.Start(ctx, Who{Username: "amir"}, "", m.copyIntent("x"))
				for err == nil && len(answers) > 0 {
					m.clock.Advance(o.NextPollAt.Sub(m.clock.Now()))
					_, err = tr.Step(ctx)
					o, _ = st.Operation(ctx, o.ID)
				}
				if err != nil || o.State != store.OpPending || o.Attempts != len(tt.faults) {
					t.Fatalf("before the cancel: %s after %d sends, %v; want pending after %d", o.State, o.Attempts, err, len(tt.faults))
				}
			}
			sends := m.cloud.sendsOf(o.Key)
			if _, err := tr.Cancel(ctx, o.ID); err != nil {
				t.Fatal(err)
			}
			m.clock.Advance(time.Minute) // past any backoff and lease
			m.drain(st, 10, tr)
			got, err := st.Operation(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != tt.wantState || m.cloud.sendsOf(o.Key) != sends || len(m.cloud.createdCounts()) != 0 {
				t.Errorf("= %s (%s), %d sends after the cancel, %d images created; want %s, none sent, none created",
					got.State, got.ErrorMessage, m.cloud.sendsOf(o.Key)-sends, len(m.cloud.createdCounts()), tt.wantState)
			}
			if got.State == store.OpLost && got.ErrorMessage != UnansweredCancelMessage {
				t.Errorf("lost saying %q", got.ErrorMessage)
			}
			if _, n := outcomes(t, st); n != 1 {
				t.Errorf("%d outcome rows, want 1", n)
			}
		})
	}
}
