// Package tracker carries every change the dashboard makes in the cloud
// from the person's click to its outcome: it writes the intent before the
// call (with a fresh idempotency key), sends it, stores the operation the
// cloud answers, and its watcher polls every unfinished operation with
// backoff until it is done, then writes the result into the image cache.
// Whatever the process goes through, start-up resumes: intents that never
// got an answer are sent again with the same key (so the cloud does them
// once), unfinished operations are polled again.
package tracker

import (
	"encoding/json"
	"fmt"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/store"
)

// The actions, as operations and the audit log name them.
const (
	ActionCopy            = "image.copy"              // Compute image → new Compute image
	ActionCopyToDesktop   = "image.copy_to_desktop"   // Compute image → new Desktop image
	ActionCopyFromDesktop = "image.copy_from_desktop" // a desktop → new Desktop image
	ActionUpdate          = "image.update"
	ActionDelete          = "image.delete"
)

// Actions lists them, for filters.
var Actions = []string{ActionCopy, ActionCopyToDesktop, ActionCopyFromDesktop, ActionUpdate, ActionDelete}

// ActionTitle is an action for people ("Copy").
func ActionTitle(a string) string {
	switch a {
	case ActionCopy:
		return "Copy"
	case ActionCopyToDesktop:
		return "Copy to Desktop"
	case ActionCopyFromDesktop:
		return "Image from desktop"
	case ActionUpdate:
		return "Edit"
	case ActionDelete:
		return "Delete"
	}
	return a
}

// request is the call an intent stands for, as stored (JSON) so that it
// can be sent again after a restart exactly as first asked.
type request struct {
	Action string `json:"action"`
	// Copy.
	Create *cloud.CreateImageSpec `json:"create,omitempty"`
	// CopyToDesktop, CopyFromDesktop.
	Desktop *desktopCopy `json:"desktop,omitempty"`
	// Update, Delete.
	Service cloud.Service      `json:"service,omitempty"`
	ImageID string             `json:"image_id,omitempty"`
	Update  *cloud.ImageUpdate `json:"update,omitempty"`
}

// copyTarget is the folder and name of the image a copy asked for; "" for
// an action that makes no image.
func (r request) copyTarget() (folder, name string) {
	switch {
	case r.Create != nil:
		return r.Create.FolderID, r.Create.Name
	case r.Desktop != nil:
		return r.Desktop.FolderID, r.Desktop.Name
	}
	return "", ""
}

type desktopCopy struct {
	FolderID      string            `json:"folder_id"`
	Name          string            `json:"name"`
	Description   string            `json:"description,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
	SourceImageID string            `json:"source_image_id,omitempty"`
	DesktopID     string            `json:"desktop_id,omitempty"`
}

// Intent is a change someone asks for, before it is written down. Make one
// with Copy, CopyToDesktop, CopyFromDesktop, Update or Delete.
type Intent struct {
	op  store.Operation // the fields of the operation row it becomes
	req request
}

// Action is the intent's action.
func (in Intent) Action() string { return in.op.Action }

// Unchanged makes an edit or a delete conditional on img, the cached
// image it was made from: it is written only while the image cache still
// holds img as it was read (a form opened on an older version, a delete
// of an image deleted meanwhile are refused with *store.ImageChangedError,
// nothing written).
func (in Intent) Unchanged(img cloud.Image) Intent {
	if in.op.ImageID == img.ID && in.op.Service == img.Service {
		in.op.Expect = store.ImageFingerprint(img)
	}
	return in
}

// Copy copies the Compute image src into a new Compute image as spec says
// (spec.SourceImageID is set to src's id).
func Copy(src cloud.Image, spec cloud.CreateImageSpec) Intent {
	spec.SourceImageID, spec.SourceDiskID, spec.SourceSnapshotID, spec.SourceURI = src.ID, "", "", ""
	return Intent{
		op: store.Operation{Action: ActionCopy, Service: cloud.Compute, FolderID: spec.FolderID, ImageName: spec.Name,
			SourceService: src.Service, SourceID: src.ID},
		req: request{Action: ActionCopy, Create: &spec},
	}
}

// CopyToDesktop makes a Desktop image in folderID from the Compute image src.
func CopyToDesktop(src cloud.Image, folderID, name, description string, labels map[string]string) Intent {
	return Intent{
		op: store.Operation{Action: ActionCopyToDesktop, Service: cloud.Desktop, FolderID: folderID, ImageName: name,
			SourceService: src.Service, SourceID: src.ID},
		req: request{Action: ActionCopyToDesktop, Desktop: &desktopCopy{FolderID: folderID, Name: name,
			Description: description, Labels: labels, SourceImageID: src.ID}},
	}
}

// CopyFromDesktop makes a Desktop image in folderID from the desktop desktopID.
func CopyFromDesktop(desktopID, folderID, name, description string, labels map[string]string) Intent {
	return Intent{
		op: store.Operation{Action: ActionCopyFromDesktop, Service: cloud.Desktop, FolderID: folderID, ImageName: name,
			SourceID: desktopID},
		req: request{Action: ActionCopyFromDesktop, Desktop: &desktopCopy{FolderID: folderID, Name: name,
			Description: description, Labels: labels, DesktopID: desktopID}},
	}
}

// Update changes img as u says (u.Mask names the changed fields).
func Update(img cloud.Image, u cloud.ImageUpdate) Intent {
	name := img.Name
	for _, m := range u.Mask {
		if m == "name" {
			name = u.Name
		}
	}
	return Intent{
		op:  store.Operation{Action: ActionUpdate, Service: img.Service, FolderID: img.FolderID, ImageID: img.ID, ImageName: name},
		req: request{Action: ActionUpdate, Service: img.Service, ImageID: img.ID, Update: &u},
	}
}

// Delete deletes img.
func Delete(img cloud.Image) Intent {
	return Intent{
		op:  store.Operation{Action: ActionDelete, Service: img.Service, FolderID: img.FolderID, ImageID: img.ID, ImageName: img.Name},
		req: request{Action: ActionDelete, Service: img.Service, ImageID: img.ID},
	}
}

func decodeRequest(o store.Operation) (request, error) {
	var r request
	if err := json.Unmarshal(o.Request, &r); err != nil {
		return r, fmt.Errorf("operation %d: unreadable request: %w", o.ID, err)
	}
	if r.Action != o.Action {
		return r, fmt.Errorf("operation %d: request is for %q, not %q", o.ID, r.Action, o.Action)
	}
	return r, nil
}
