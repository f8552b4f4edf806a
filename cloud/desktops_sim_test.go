package cloud_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/cloud/sim"
)

// TestClientDesktops reads the emulator's desktops through
// DesktopService: Get names the desktop's folder (what the dashboard checks
// before imaging it), an unknown id is ErrNotFound, and List gives a
// folder's desktops and no other folder's.
func TestClientDesktops(t *testing.T) {
	e := startSim(t, sim.Options{})
	c := e.dial(t, cloud.Auth{})
	ctx := testCtx(t)
	_, _, want := e.sim.Sources(e.folder)
	if len(want) == 0 {
		t.Fatal("the emulator seeded no desktop in the default folder")
	}

	got, err := c.GetDesktop(ctx, want[0].ID)
	if err != nil {
		t.Fatalf("GetDesktop: %v", err)
	}
	if got.ID != want[0].ID || got.FolderID != e.folder || got.Name != want[0].Name || got.Status != "ACTIVE" {
		t.Errorf("GetDesktop = %+v; want id %s, folder %s, name %s, ACTIVE", got, want[0].ID, e.folder, want[0].Name)
	}

	if _, err := c.GetDesktop(ctx, "e3vnosuchdesktop000"); !errors.Is(err, cloud.ErrNotFound) {
		t.Errorf("GetDesktop(unknown) error %v; want ErrNotFound", err)
	}

	list, err := c.Desktops(ctx, e.folder)
	if err != nil {
		t.Fatalf("Desktops: %v", err)
	}
	var ids []string
	for _, d := range list {
		if d.FolderID != e.folder {
			t.Errorf("Desktops(%s) lists %s of folder %s", e.folder, d.ID, d.FolderID)
		}
		ids = append(ids, d.ID)
	}
	for _, w := range want {
		if !slices.Contains(ids, w.ID) {
			t.Errorf("Desktops(%s) = %v; missing %s", e.folder, ids, w.ID)
		}
	}
	if len(ids) != len(want) {
		t.Errorf("Desktops(%s) lists %d desktops; the folder has %d", e.folder, len(ids), len(want))
	}
}
