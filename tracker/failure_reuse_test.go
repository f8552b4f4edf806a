package tracker

import (
	"context"
	"testing"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/store"
)

// TestOpIDReusedByAFailedCopy: a cloud started again from its seed
// hands A's operation id and image id to another person's copy, and that
// copy fails (or is cancelled). A polls its id and reads the other copy's
// end: the identity check (name and folder of the image made) runs only on
// success, so A ends failed with the other copy's error instead of lost,
// and the person is told their copy failed when the dashboard cannot know.
func TestOpIDReusedByAFailedCopy(t *testing.T) {
	m := newMEnv(t)
	m.cloud.pollsToDone = 3
	m.cloud.opError = func(key string) bool { return key == "someone-else" }
	st := m.open()
	tr := m.tracker(st, "a")
	ctx := context.Background()
	o, err := tr.Start(ctx, Who{Username: "amir"}, "", m.copyIntent("mine"))
	if err != nil || o.CloudID != "op1" {
		t.Fatalf("start = %+v, %v", o, err)
	}
	m.cloud.restartFromSeed()
	theirs, err := m.cloud.CreateImage(ctx, "someone-else", cloud.CreateImageSpec{FolderID: "f-other", Name: "theirs"})
	if err != nil || theirs.ID != o.CloudID || theirs.ImageID != o.ImageID {
		t.Fatalf("the restarted cloud did not reuse the ids: %+v, %v (mine %s %s)", theirs, err, o.CloudID, o.ImageID)
	}
	m.drain(st, 10, tr)
	got, _ := st.Operation(ctx, o.ID)
	if got.State != store.OpLost || got.ErrorMessage != MismatchMessage {
		t.Errorf("= %s %s %q, want lost with %q: another copy's failure was taken for mine", got.State, got.ErrorCode, got.ErrorMessage, MismatchMessage)
	}
	if _, total := outcomes(t, st); total != 1 {
		t.Errorf("%d outcome rows", total)
	}
}
