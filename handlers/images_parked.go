package handlers

import (
	"context"
	"errors"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/views"
)

// noImage is the 404 of an image the cache does not list. When it was
// parked (its folder stopped being synced: store/folders_parking.go) and
// its folder is one p may see, it says so in words, with the image's name
// and its folder's, instead of "it may have been deleted": an operation or
// audit entry that links to it leads here. Otherwise it is errNoImage,
// word for word, so the answer tells nothing of other folders.
func (h *Handlers) noImage(ctx context.Context, p auth.Policy, svc cloud.Service, id string) error {
	parked, err := h.store.ParkedImage(ctx, svc, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.CanView(parked.Image.FolderID)) {
		return errNoImage(svc, id)
	}
	if err != nil {
		return err
	}
	folder := "its folder " + parked.Image.FolderID
	if fs, ferr := h.store.Folders(ctx); ferr == nil {
		if name := views.FolderNames(fs)[parked.Image.FolderID]; name != "" {
			folder = "its folder " + name
		}
	}
	name := parked.Image.Name
	if name == "" {
		name = id
	}
	return fault.New(fault.NotFound, "The "+svc.Title()+" image "+name+" is no longer listed: "+folder+
		" stopped being synced on "+parked.ParkedAt.UTC().Format("2 Jan 2006")+", because "+parkReason(parked.Reason)+
		". Its operations and audit entries are kept.")
}

// parkReason is why a folder stopped being synced, in words.
func parkReason(r store.ParkReason) string {
	switch r {
	case store.ParkNotFound:
		return "the cloud says the folder no longer exists"
	case store.ParkForbidden:
		return "the dashboard's credentials may no longer read it"
	}
	return "the dashboard no longer syncs it (it was taken out of the dashboard's folders, or the cloud no longer lists it)"
}
