package syncer

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/store"
)

// The folder lifecycle: a folder the syncer no longer syncs leaves the
// lists at the next pass (store.ParkFolderImages keeps its rows for the
// retention). A folder stops being synced when
//   - it is no longer watched: taken out of Config.Folders (or, when every
//     listable folder is watched, no longer in the cloud's listing), or its
//     service taken out of Config.Services; found by comparing the folders
//     that have cached images with the watched ones, so an image an
//     operation's outcome wrote into such a folder later is parked too;
//   - its listing answers NotFound (the folder was deleted) or
//     PermissionDenied (the credentials lost access: the dashboard can no
//     longer see what it holds, nor act on it, so its cached copy would only
//     age). Both are the cloud's considered answer about this folder.
// Anything else keeps the rows listed: Unavailable, ResourceExhausted,
// DeadlineExceeded and Internal are transient; Unauthenticated is about the
// credentials, not the folder (every folder would fail alike); and a pass
// whose folder listing failed parks nothing. A mistake costs little: a
// folder that comes back is listed again by the same pass that lists it.

// goneReason is why err, a folder's failed listing, means the folder is
// gone; ok is false when it may come back by itself.
func goneReason(err error) (store.ParkReason, bool) {
	switch {
	case errors.Is(err, cloud.ErrNotFound):
		return store.ParkNotFound, true
	case errors.Is(err, cloud.ErrPermission):
		return store.ParkForbidden, true
	}
	return "", false
}

// parkGone parks the cached images of svc/folderID when err says the
// folder is gone, and says how many.
func (s *Syncer) parkGone(ctx context.Context, svc cloud.Service, folderID string, err error, at time.Time) int {
	reason, ok := goneReason(err)
	if !ok {
		return 0
	}
	return s.park(ctx, svc, folderID, reason, at)
}

// parkUnwatched parks the cached images of every folder and service the
// syncer no longer syncs, and says how many.
func (s *Syncer) parkUnwatched(ctx context.Context, watched []string, at time.Time) int {
	n := 0
	for _, svc := range cloud.Services {
		cached, err := s.cache.ImageFolders(ctx, svc)
		if err != nil {
			s.cfg.Logger.Error("sync: read the folders of cached images", "service", svc, "err", err)
			continue
		}
		synced := slices.Contains(s.cfg.Services, svc)
		for _, f := range cached {
			if synced && slices.Contains(watched, f) {
				continue
			}
			n += s.park(ctx, svc, f, store.ParkUnwatched, at)
		}
	}
	return n
}

func (s *Syncer) park(ctx context.Context, svc cloud.Service, folderID string, reason store.ParkReason, at time.Time) int {
	n, err := s.cache.ParkFolderImages(ctx, svc, folderID, reason, at)
	if err != nil {
		s.cfg.Logger.Error("sync: park the images of a folder no longer synced", "service", svc, "folder", folderID, "reason", reason, "err", err)
		return 0
	}
	if n > 0 {
		s.cfg.Logger.Info("sync: folder no longer synced, its images taken out of the lists", "service", svc, "folder", folderID, "reason", reason, "images", n)
	}
	return n
}
