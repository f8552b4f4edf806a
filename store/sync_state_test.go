package store

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/imagedash/imagedash/cloud"
)

func TestRecordSync(t *testing.T) {
	ctx := context.Background()
	s := fixtureStore(t)
	unavailable := errors.New("cloud: unavailable")
	steps := []struct {
		name string
		svc  cloud.Service
		give SyncRecord
		want SyncState
	}{
		{"first attempt fails", cloud.Compute, SyncRecord{At: day(8, 1), Err: unavailable, Count: 99},
			SyncState{Service: cloud.Compute, FolderID: "b1g-a", LastAttemptAt: day(8, 1), LastError: "cloud: unavailable"}},
		{"success", cloud.Compute, SyncRecord{At: day(8, 2), Count: 6},
			SyncState{Service: cloud.Compute, FolderID: "b1g-a", LastAttemptAt: day(8, 2), LastSuccessAt: day(8, 2), ImageCount: 6}},
		{"failure keeps the last success", cloud.Compute, SyncRecord{At: day(8, 3), Err: unavailable, Count: 0},
			SyncState{Service: cloud.Compute, FolderID: "b1g-a", LastAttemptAt: day(8, 3), LastSuccessAt: day(8, 2),
				LastError: "cloud: unavailable", ImageCount: 6}},
		{"success clears the error", cloud.Compute, SyncRecord{At: day(8, 4), Count: 7},
			SyncState{Service: cloud.Compute, FolderID: "b1g-a", LastAttemptAt: day(8, 4), LastSuccessAt: day(8, 4), ImageCount: 7}},
	}
	for _, st := range steps {
		if err := s.RecordSync(ctx, st.svc, "b1g-a", st.give); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, err := s.SyncStates(ctx, st.svc)
		if err != nil {
			t.Fatal(err)
		}
		if want := []SyncState{st.want}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: SyncStates = %+v, want %+v", st.name, got, want)
		}
	}
	// A failure leaves the cached images alone.
	if err := s.RecordSync(ctx, cloud.Compute, "b1g-a", SyncRecord{At: day(8, 5), Err: unavailable}); err != nil {
		t.Fatal(err)
	}
	if got := allImages(t, s, ImageQuery{Service: cloud.Compute, FolderIDs: []string{"b1g-a"}}); len(got) != 6 {
		t.Errorf("images after a failed sync: got %d, want 6", len(got))
	}
	// States are per service.
	if got, err := s.SyncStates(ctx, cloud.Desktop); err != nil || len(got) != 0 {
		t.Errorf("Desktop states = %+v, %v; want none", got, err)
	}
	if err := s.RecordSync(ctx, "nope", "b1g-a", SyncRecord{At: day(8, 1)}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown service: got %v, want ErrInvalid", err)
	}
}
