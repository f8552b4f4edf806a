package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/readmodel"
)

// TestModelEqualsSQL: after random writes through the store's API (syncs
// of folders with images added, changed, moved between folders and gone;
// upserts and deletes of one image; a sync that changes nothing), the
// read model's answers equal a plain SELECT over the images table.
func TestModelEqualsSQL(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	r := rand.New(rand.NewPCG(18, 3))
	folders := []string{"b1g-x", "b1g-y", "b1g-z"}
	pool := genImages(cloud.Compute, folders, 240)
	at := day(8, 1)
	for step := range 40 {
		at = at.Add(time.Minute)
		switch op := r.IntN(5); op {
		case 0, 1: // a sync of one folder: a random part of the pool, edited
			folder := folders[r.IntN(len(folders))]
			var list []cloud.Image
			for _, img := range pool {
				if r.IntN(3) != 0 {
					continue
				}
				img.FolderID = folder // moves images from other folders
				if r.IntN(4) == 0 {
					img.Status = []string{"READY", "ERROR", "CREATING"}[r.IntN(3)]
					img.Name = fmt.Sprintf("%s-%d", img.Name, step)
				}
				list = append(list, img)
			}
			if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, folder, list, at); err != nil {
				t.Fatal(err)
			}
		case 2: // an upsert
			img := pool[r.IntN(len(pool))]
			img.Labels = map[string]string{"env": "upserted", "step": fmt.Sprint(step)}
			img.FolderID = folders[r.IntN(len(folders))]
			if err := s.UpsertImage(ctx, img); err != nil {
				t.Fatal(err)
			}
		case 3: // a delete
			img := pool[r.IntN(len(pool))]
			if err := s.DeleteImage(ctx, cloud.Compute, img.ID); err != nil {
				t.Fatal(err)
			}
		case 4: // the same sync twice: the second changes nothing, publishes nothing
			folder := folders[r.IntN(len(folders))]
			list := genImages(cloud.Compute, []string{folder}, 30)
			if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, folder, list, at); err != nil {
				t.Fatal(err)
			}
			v := s.Snapshot().Version()
			if _, err := s.ReplaceFolderImages(ctx, cloud.Compute, folder, list, at); err != nil {
				t.Fatal(err)
			}
			if got := s.Snapshot().Version(); got != v {
				t.Fatalf("a sync that changed nothing published a snapshot (%d → %d)", v, got)
			}
		}
		if step%8 == 7 {
			compareWithSQL(t, s)
		}
	}
	compareWithSQL(t, s)
}

// compareWithSQL checks the model's lists against SELECTs of the same rows.
func compareWithSQL(t *testing.T, s *Store) {
	t.Helper()
	for _, c := range []struct {
		q     readmodel.Query
		where string
		order string
		args  []any
	}{
		{readmodel.Query{Sort: "id"}, "", "id", nil},
		{readmodel.Query{}, "", "name, id", nil},
		{readmodel.Query{FolderIDs: []string{"b1g-y"}, Sort: "created_at", Desc: true}, "folder_id = ?", "created_at DESC, id DESC", []any{"b1g-y"}},
		{readmodel.Query{Statuses: []string{"ERROR", "CREATING"}, Sort: "status"}, "status IN ('ERROR', 'CREATING')", "status, id", nil},
		{readmodel.Query{Labels: []readmodel.LabelFilter{{Key: "env", Value: "upserted"}}, Sort: "folder"},
			"json_extract(labels, '$.env') = 'upserted'", "folder_id, id", nil},
		{readmodel.Query{Sort: "size", Desc: true}, "", "size DESC, id DESC", nil},
	} {
		where := "service = 'compute'"
		if c.where != "" {
			where += " AND " + c.where
		}
		rows, err := s.r.Query(`SELECT `+imageCols+` FROM images i WHERE `+where+` ORDER BY `+c.order, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for rows.Next() {
			img, err := scanImage(rows)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, fmt.Sprintf("%s %s %s %s %v", img.ID, img.FolderID, img.Name, img.Status, img.Labels))
		}
		rows.Close()

		q := c.q
		q.Service, q.Limit = cloud.Compute, 37
		snap := s.Snapshot()
		var got []string
		total := -1
		for {
			p, err := snap.Images(q)
			if err != nil {
				t.Fatal(err)
			}
			total = p.Total
			for _, img := range p.Images {
				got = append(got, fmt.Sprintf("%s %s %s %s %v", img.ID, img.FolderID, img.Name, img.Status, img.Labels))
			}
			if p.Next == "" {
				break
			}
			q.After = p.Next
		}
		if !slices.Equal(got, want) || total != len(want) {
			t.Fatalf("%s ORDER BY %s: the model has %d rows (total %d), SQL %d\nmodel: %s\nsql:   %s",
				where, c.order, len(got), total, len(want), strings.Join(got, "; "), strings.Join(want, "; "))
		}
	}
}

// TestFoldersAndSyncStatesCached: the folders and sync states are read
// once until a write to them, and a write is seen at once.
func TestFoldersAndSyncStatesCached(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if err := s.SaveFolders(ctx, []cloud.Folder{{ID: "b1g-a", Name: "alpha"}}); err != nil {
		t.Fatal(err)
	}
	fs, err := s.Folders(ctx)
	if err != nil || len(fs) != 1 {
		t.Fatalf("Folders = %v, %v", fs, err)
	}
	// Behind the store's back: the cached value stays until a write.
	if _, err := s.w.ExecContext(ctx, `UPDATE folders SET name = 'changed behind'`); err != nil {
		t.Fatal(err)
	}
	if fs, _ := s.Folders(ctx); fs[0].Name != "alpha" {
		t.Errorf("not cached: %q", fs[0].Name)
	}
	fs[0].Name = "scribbled" // a caller's copy
	if again, _ := s.Folders(ctx); again[0].Name != "alpha" {
		t.Errorf("a caller changed the cached value: %q", again[0].Name)
	}
	if err := s.SaveFolders(ctx, []cloud.Folder{{ID: "b1g-a", Name: "alpha"}, {ID: "b1g-b", Name: "beta"}}); err != nil {
		t.Fatal(err)
	}
	if fs, _ := s.Folders(ctx); len(fs) != 2 {
		t.Errorf("after SaveFolders: %v", fs)
	}
	if err := s.RecordSync(ctx, cloud.Compute, "b1g-a", SyncRecord{At: day(8, 1), Count: 3}); err != nil {
		t.Fatal(err)
	}
	st, err := s.SyncStates(ctx, cloud.Compute)
	if err != nil || len(st) != 1 || st[0].ImageCount != 3 {
		t.Fatalf("SyncStates = %v, %v", st, err)
	}
	if err := s.RecordSync(ctx, cloud.Compute, "b1g-a", SyncRecord{At: day(8, 2), Count: 4}); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.SyncStates(ctx, cloud.Compute); st[0].ImageCount != 4 {
		t.Errorf("after RecordSync: %v", st)
	}
}

// TestMetaCacheDropsAReadOverlappingAWrite: a value read while a write
// invalidated the cache is served to its reader but not kept.
func TestMetaCacheDropsAReadOverlappingAWrite(t *testing.T) {
	var c metaCache
	v, _ := c.get("k", func() (any, error) {
		c.invalidate() // a write commits while the read is under way
		return "old", nil
	})
	if v != "old" {
		t.Fatalf("got %v", v)
	}
	v, _ = c.get("k", func() (any, error) { return "new", nil })
	if v != "new" {
		t.Errorf("the overlapping read was kept: %v", v)
	}
	v, _ = c.get("k", func() (any, error) { return "newer", nil })
	if v != "new" {
		t.Errorf("not cached: %v", v)
	}
}
