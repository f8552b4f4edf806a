package handlers

import (
	"context"
	"fmt"

	"github.com/imagedash/imagedash/views"
)

// NavFolders are the folders the header's folder picker offers on a page
// about no one service's images (operations, admin, account, an error
// page): for the person signed in on ctx, the same ones the image list
// offers them (pickerFolders), none selected; nil when nobody is signed in.
// The web middleware puts them on the page's request data (views.Request)
// for the layout.
func (h *Handlers) NavFolders(ctx context.Context) ([]views.FolderOption, error) {
	v, ok := ViewerFrom(ctx)
	if !ok {
		return nil, nil
	}
	known, err := h.store.Folders(ctx)
	if err != nil {
		return nil, fmt.Errorf("header folders: %w", err)
	}
	return views.NewFolderOptions(seenBy(v.Policy, h.visible(known)), nil), nil
}
