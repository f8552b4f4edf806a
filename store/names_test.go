package store

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// TestImageNamesTakenIsExact: the name look-up is exact whatever the
// number of similar names (the old check paged through text matches and
// said "free" after 10 000), per service and folder. 2 001 similar names
// here, sorted before the real one: the planner's test has 10 001
// (TestUniquenessIsExactBeyond10000).
func TestImageNamesTakenIsExact(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	var imgs []cloud.Image
	for i := range 2_001 {
		imgs = append(imgs, cloud.Image{Service: cloud.Compute, ID: fmt.Sprintf("fd8s%05d", i), FolderID: "b1g-a",
			Name: fmt.Sprintf("golden-copy-%05d", i), Status: "READY", CreatedAt: day(1, 1)})
	}
	// The real conflict sorts after every similar name.
	imgs = append(imgs, cloud.Image{Service: cloud.Compute, ID: "fd8zzz", FolderID: "b1g-a", Name: "golden-copy",
		Status: "READY", CreatedAt: day(1, 1)})
	imgs = append(imgs, cloud.Image{Service: cloud.Desktop, ID: "d1", FolderID: "b1g-a", Name: "desk-only", Status: "ACTIVE", CreatedAt: day(1, 1)})
	seed(t, s, imgs)

	tests := []struct {
		svc    cloud.Service
		folder string
		names  []string
		want   map[string]string
	}{
		{cloud.Compute, "b1g-a", []string{"golden-copy", "golden-copy-x", "golden-copy-02000"},
			map[string]string{"golden-copy": "fd8zzz", "golden-copy-02000": "fd8s02000"}},
		{cloud.Compute, "b1g-b", []string{"golden-copy"}, map[string]string{}},
		{cloud.Desktop, "b1g-a", []string{"golden-copy", "desk-only"}, map[string]string{"desk-only": "d1"}},
		{cloud.Compute, "b1g-a", nil, map[string]string{}},
	}
	for _, tt := range tests {
		got, err := s.ImageNamesTaken(ctx, tt.svc, tt.folder, tt.names)
		if err != nil || !maps.Equal(got, tt.want) {
			t.Errorf("ImageNamesTaken(%s, %s, %v) = %v, %v; want %v", tt.svc, tt.folder, tt.names, got, err, tt.want)
		}
	}
	// More names than one IN list takes.
	var many []string
	for i := range 1200 {
		many = append(many, fmt.Sprintf("golden-copy-%05d", i*9))
	}
	got, err := s.ImageNamesTaken(ctx, cloud.Compute, "b1g-a", many)
	if err != nil || len(got) != 223 { // i*9 ≤ 2 000 for i ≤ 222
		t.Errorf("ImageNamesTaken of 1200 names = %d found, %v; want 223", len(got), err)
	}
}

func TestOpenOperationNames(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	mk := func(key, action string, svc cloud.Service, folder, name string) Operation {
		ops, err := s.CreateIntents(ctx, []Operation{{Key: key, Action: action, Service: svc, FolderID: folder, ImageName: name,
			Request: []byte("{}"), NextPollAt: time.Now().Add(time.Hour)}})
		if err != nil {
			t.Fatal(err)
		}
		return ops[0]
	}
	mk("k1", "image.copy", cloud.Compute, "b1g-a", "in-flight")
	mk("k2", "image.copy_to_desktop", cloud.Desktop, "b1g-a", "desk-in-flight")
	mk("k3", deleteAction, cloud.Compute, "b1g-a", "being-deleted")
	done := mk("k4", "image.copy", cloud.Compute, "b1g-a", "finished")
	done.State = OpDone
	if err := s.FinishOperation(ctx, done, nil, cloud.Image{}); err != nil {
		t.Fatal(err)
	}
	got, err := s.OpenOperationNames(ctx, cloud.Compute, "b1g-a",
		[]string{"in-flight", "desk-in-flight", "being-deleted", "finished", "free"})
	if err != nil || len(got) != 1 || got["in-flight"] == 0 {
		t.Errorf("OpenOperationNames = %v, %v; want only in-flight", got, err)
	}
	// Found however many others are open in the folder (the handlers' old
	// check read the newest 1 000 and said "free" past them).
	var others []Operation
	for i := range 1_001 {
		others = append(others, Operation{Key: fmt.Sprintf("other-%d", i), Action: "image.copy", Service: cloud.Compute, FolderID: "b1g-a",
			ImageName: fmt.Sprintf("other-%d", i), Request: []byte("{}"), NextPollAt: time.Now().Add(time.Hour)})
	}
	if _, err := s.CreateIntents(ctx, others); err != nil {
		t.Fatal(err)
	}
	if got, err := s.OpenOperationNames(ctx, cloud.Compute, "b1g-a", []string{"in-flight"}); err != nil || got["in-flight"] == 0 {
		t.Errorf("behind 1 001 newer ones: %v, %v", got, err)
	}
	if got, err := s.OpenOperationNames(ctx, cloud.Compute, "b1g-b", []string{"in-flight"}); err != nil || len(got) != 0 {
		t.Errorf("another folder = %v, %v", got, err)
	}
	if got, err := s.OpenOperationNames(ctx, cloud.Desktop, "b1g-a", []string{"desk-in-flight"}); err != nil || len(got) != 1 {
		t.Errorf("desktop = %v, %v", got, err)
	}
}

// TestNameQueriesUseTheirIndexes: both look-ups are index seeks, not scans.
func TestNameQueriesUseTheirIndexes(t *testing.T) {
	s := openTest(t)
	for _, q := range []struct {
		sql   string
		args  []any
		index string
	}{
		{imageNamesSQL(2), []any{"compute", "f", "a", "b"}, "images_folder_name"},
		{openOpNamesSQL(2, len(openStateArgs())), append([]any{"f", "a", "b", "compute", deleteAction}, openStateArgs()...), "operations_folder_name"},
	} {
		plan := explain(t, s.r, q.sql, q.args...)
		if !strings.Contains(plan, "USING") || !strings.Contains(plan, q.index) || strings.Contains(plan, "SCAN") {
			t.Errorf("plan of %s:\n%s", q.sql, plan)
		}
	}
}
