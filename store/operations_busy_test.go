package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/imagedash/imagedash/cloud"
)

// TestCreateIntentsImageBusy: the same bulk delete of 5 images sent 3
// times at once wrote 15 operations; now the first batch written wins
// and the others are refused whole, each refusal naming all 5 images and
// the operation already deleting each.
func TestCreateIntentsImageBusy(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	var imgs []string
	for i := range 5 {
		imgs = append(imgs, fmt.Sprintf("img%d", i))
	}
	deletes := func(key string, ids ...string) []Operation {
		var ops []Operation
		for _, id := range ids {
			ops = append(ops, Operation{Key: key + id, Batch: key, Action: deleteAction, Service: cloud.Compute, FolderID: "f1",
				ImageID: id, ImageName: "name-" + id, Request: []byte("{}"), UserID: 0, Username: "alice"})
		}
		return ops
	}
	const senders = 3
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		written int
		refused []*ImageBusyError
	)
	start := make(chan struct{})
	for i := range senders {
		wg.Go(func() {
			<-start
			ops, err := s.CreateIntentsLimited(ctx, deletes(fmt.Sprint("b", i), imgs...), 0)
			mu.Lock()
			defer mu.Unlock()
			var be *ImageBusyError
			switch {
			case err == nil:
				written += len(ops)
			case errors.As(err, &be) && errors.Is(err, ErrExists):
				refused = append(refused, be)
			default:
				t.Errorf("sender %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	all, err := s.Operations(ctx, OperationQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if written != len(imgs) || len(all) != len(imgs) || len(refused) != senders-1 {
		t.Fatalf("written %d, stored %d, refused %d batches; want %d, %d, %d", written, len(all), len(refused), len(imgs), len(imgs), senders-1)
	}
	perImage := map[string]int64{}
	for _, o := range all {
		perImage[o.ImageID] = o.ID
	}
	for _, be := range refused {
		if len(be.Images) != len(imgs) {
			t.Errorf("refusal lists %d images, want all %d: %v", len(be.Images), len(imgs), be)
		}
		for _, b := range be.Images {
			if b.Operation != perImage[b.ImageID] || b.OpAction != deleteAction || b.Username != "alice" {
				t.Errorf("refusal of %s = %+v, want operation %d by alice", b.ImageID, b, perImage[b.ImageID])
			}
		}
		if msg := be.Images[0].Message(); msg != "name-img0 is already being deleted by alice (operation "+fmt.Sprint(perImage["img0"])+"), so it was not deleted again." {
			t.Errorf("message = %q", msg)
		}
	}
}

// TestCreateIntentsImageBusyVariants: one open change an image, whatever
// the actions; a batch with one busy image is refused whole; the image is
// free again once its operation ends; the same image twice in one batch
// is invalid.
func TestCreateIntentsImageBusyVariants(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	n := 0
	op := func(action, id string, user int64) Operation {
		n++
		return Operation{Key: fmt.Sprint("k", n), Action: action, Service: cloud.Compute, FolderID: "f1", ImageID: id,
			ImageName: id, Request: []byte("{}"), UserID: user, Username: "u" + fmt.Sprint(user)}
	}
	u1, err := s.CreateUser(ctx, NewUser{Username: "u1", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	u2, err := s.CreateUser(ctx, NewUser{Username: "u2", PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	edit, err := s.CreateIntent(ctx, op(updateAction, "a", u1.ID))
	if err != nil {
		t.Fatal(err)
	}
	del, err := s.CreateIntent(ctx, op(deleteAction, "b", u1.ID))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		give     []Operation
		wantBusy []string // images refused, in order; nil: written
		wantMine bool
	}{
		{"a second edit", []Operation{op(updateAction, "a", u2.ID)}, []string{"a"}, false},
		{"a delete while an edit is open", []Operation{op(deleteAction, "a", u1.ID)}, []string{"a"}, true},
		{"an edit of an image being deleted", []Operation{op(updateAction, "b", u2.ID)}, []string{"b"}, false},
		{"a batch with one busy image", []Operation{op(deleteAction, "c", u2.ID), op(deleteAction, "b", u2.ID)}, []string{"b"}, false},
		{"another service, same id", []Operation{{Key: "svc", Action: deleteAction, Service: cloud.Desktop, FolderID: "f1",
			ImageID: "a", Request: []byte("{}")}}, nil, false},
		{"a copy (no image id yet)", []Operation{op("image.copy", "", u2.ID)}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := s.Operations(ctx, OperationQuery{Limit: 100})
			_, err := s.CreateIntentsLimited(ctx, tt.give, 0)
			var be *ImageBusyError
			if tt.wantBusy == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.As(err, &be) {
				t.Fatalf("err = %v, want an ImageBusyError", err)
			}
			var got []string
			for _, b := range be.Images {
				got = append(got, b.ImageID)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wantBusy) || be.Images[0].Mine != tt.wantMine {
				t.Errorf("busy = %v (mine %v), want %v (mine %v)", got, be.Images[0].Mine, tt.wantBusy, tt.wantMine)
			}
			if after, _ := s.Operations(ctx, OperationQuery{Limit: 100}); len(after) != len(before) {
				t.Errorf("%d operations written by a refused batch", len(after)-len(before))
			}
			t.Log(be.Message())
		})
	}
	// Ended: free again.
	edit.State = OpDone
	if err := s.FinishOperation(ctx, edit, nil, cloud.Image{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateIntent(ctx, op(updateAction, "a", u2.ID)); err != nil {
		t.Errorf("an edit once the first ended: %v", err)
	}
	_ = del
	if _, err := s.CreateIntents(ctx, []Operation{op(deleteAction, "z", 0), op(deleteAction, "z", 0)}); !errors.Is(err, ErrInvalid) {
		t.Errorf("one image twice in a batch: %v, want ErrInvalid", err)
	}
}

// TestCreateIntentsExpect: an intent made from a cached image is written
// only while the cache holds that image as it was read: an edit opened on
// an older version (saved by someone else meanwhile) and a delete of an
// image deleted meanwhile are refused, in the write's own transaction;
// a sync that rewrites the same values is no change.
func TestCreateIntentsExpect(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	img := cloud.Image{Service: cloud.Compute, ID: "img1", FolderID: "f1", Name: "web", Status: "READY", Labels: map[string]string{"a": "1"}}
	if err := s.UpsertImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	read, err := s.Image(ctx, cloud.Compute, "img1")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	intent := func(action string, seen cloud.Image) Operation {
		n++
		return Operation{Key: fmt.Sprint("k", n), Action: action, Service: cloud.Compute, FolderID: "f1", ImageID: "img1",
			ImageName: "web", Request: []byte("{}"), Expect: ImageFingerprint(seen)}
	}
	o, err := s.CreateIntent(ctx, intent(updateAction, read))
	if err != nil {
		t.Fatalf("an edit of the image as cached: %v", err)
	}
	o.State = OpDone
	if err := s.FinishOperation(ctx, o, nil, cloud.Image{}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertImage(ctx, read); err != nil { // a sync: the same values
		t.Fatal(err)
	}
	if _, err := s.CreateIntent(ctx, intent(updateAction, read)); err != nil {
		t.Fatalf("after a sync that changed nothing: %v", err)
	}
	// ...that one ends; then someone else's edit lands in the cache.
	ops, _ := s.Operations(ctx, OperationQuery{Open: true})
	for _, o := range ops {
		o.State = OpDone
		if err := s.FinishOperation(ctx, o, nil, cloud.Image{}); err != nil {
			t.Fatal(err)
		}
	}
	saved := read
	saved.Description = "saved by someone else"
	if err := s.UpsertImage(ctx, saved); err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateIntent(ctx, intent(updateAction, read))
	var ce *ImageChangedError
	if !errors.As(err, &ce) || !errors.Is(err, ErrExists) || ce.Images[0].Gone ||
		ce.Images[0].Message() != "web was changed by someone else since you opened this page, so nothing was sent: reload to see it as it is now." {
		t.Fatalf("an edit opened on the older version = %v, want ImageChangedError", err)
	}
	if err := s.DeleteImage(ctx, cloud.Compute, "img1"); err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateIntent(ctx, intent(deleteAction, saved))
	if !errors.As(err, &ce) || !ce.Images[0].Gone {
		t.Fatalf("a delete of an image gone meanwhile = %v, want ImageChangedError (gone)", err)
	}
	if open, _ := s.Operations(ctx, OperationQuery{Open: true}); len(open) != 0 {
		t.Errorf("%d operations written by refused intents", len(open))
	}
}
