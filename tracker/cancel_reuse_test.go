package tracker

import (
	"context"
	"testing"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/store"
)

// TestCancelAfterOpIDReuse: a running copy whose cloud restarted
// and handed its operation id to someone else's change. The person cancels
// their copy: the watcher sends CancelOperation for the id without first
// checking that the operation under it is still theirs, and so cancels the
// other person's change; only the poll after it sees the mismatch.
func TestCancelAfterOpIDReuse(t *testing.T) {
	tests := []struct {
		name  string
		reuse func(m *menv) string // the key of the other change
	}{
		{"another person's copy under the id", func(m *menv) string {
			m.cloud.restartFromSeed()
			_, _ = m.cloud.CreateImage(context.Background(), "someone-else", cloud.CreateImageSpec{FolderID: "f-other", Name: "theirs"})
			return "someone-else"
		}},
		{"another person's edit under the id", func(m *menv) string {
			m.cloud.restart()
			_, _ = m.cloud.UpdateImage(context.Background(), "someone-else", cloud.Compute, m.src.ID, cloud.ImageUpdate{Description: "theirs"})
			return "someone-else"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMEnv(t)
			m.cloud.pollsToDone = 3
			st := m.open()
			tr := m.tracker(st, "a")
			ctx := context.Background()
			o, err := tr.Start(ctx, Who{Username: "amir"}, "", m.copyIntent("mine"))
			if err != nil || o.CloudID != "op1" || o.State != store.OpRunning {
				t.Fatalf("start = %+v, %v", o, err)
			}
			key := tt.reuse(m)
			if _, err := tr.Cancel(ctx, o.ID); err != nil {
				t.Fatal(err)
			}
			m.drain(st, 10, tr)
			m.cloud.mu.Lock()
			var theirs *fakeOp
			for _, op := range m.cloud.ops {
				if op.key == key {
					theirs = op
				}
			}
			cancelled := theirs != nil && theirs.cancelled
			m.cloud.mu.Unlock()
			if theirs == nil {
				t.Fatal("the other change is not in the cloud")
			}
			if cancelled {
				t.Errorf("amir's cancel of operation %d cancelled someone else's change (cloud %s)", o.ID, theirs.id)
			}
			got, _ := st.Operation(ctx, o.ID)
			if got.State != store.OpLost {
				t.Errorf("= %s %s %q, want lost", got.State, got.ErrorCode, got.ErrorMessage)
			}
		})
	}
}
