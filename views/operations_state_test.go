package views

import "testing"

// TestOpStateTitle: what the badge says for each state of the machine
// (docs/operations.md), and "Waiting for the cloud" for an intent whose
// sending the cloud did not answer yet.
func TestOpStateTitle(t *testing.T) {
	tests := []struct {
		give OpRow
		want string
		open bool
	}{
		{OpRow{State: "pending"}, "Queued", true},
		{OpRow{State: "pending", Message: "Waiting for the cloud: it did not answer yet"}, "Waiting for the cloud", true},
		{OpRow{State: "sending"}, "Sending", true},
		{OpRow{State: "running"}, "In progress", true},
		{OpRow{State: "running", Failing: true}, "Failing", true},
		{OpRow{State: "done"}, "Done", false},
		{OpRow{State: "failed"}, "Failed", false},
		{OpRow{State: "cancelled"}, "Cancelled", false},
		{OpRow{State: "lost"}, "Lost", false},
	}
	for _, tt := range tests {
		if got := tt.give.StateTitle(); got != tt.want || tt.give.Open() != tt.open {
			t.Errorf("%+v: %q open %v, want %q open %v", tt.give, got, tt.give.Open(), tt.want, tt.open)
		}
	}
}
