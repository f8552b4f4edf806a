package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/imagedash/imagedash/cloud"
)

// One open change an image: an intent that targets an existing image (an
// edit, a delete) is refused while another operation on that image is
// unfinished, whatever its action. Two deletes of one image would make two
// operations (the second fails, or worse, is audited as a second delete);
// two edits are last-writer-wins at the cloud; an edit of an image being
// deleted, or a delete of one being edited or still being made, races the
// cloud's own state checks. Checked in the transaction that writes the
// intents, so requests sent at the same moment cannot both pass.

// updateAction is tracker.ActionUpdate (store cannot import tracker).
const updateAction = "image.update"

// BusyImage is one image an intent was refused for: the change asked
// (Action) and the operation already under way on it.
type BusyImage struct {
	Service   cloud.Service
	ImageID   string
	ImageName string
	Action    string // the action refused
	// Operation is the unfinished operation on the image; OpAction, its
	// action, and Username, who started it (Mine: the asker).
	Operation int64
	OpAction  string
	Username  string
	Mine      bool
}

// Message says it for the person who asked, in one sentence: what is
// under way, by whom, and that their change was not sent.
func (b BusyImage) Message() string {
	doing, so := b.words()
	return doing + ", " + so + "."
}

// Doing is what is under way on the image, by whom ("web is already
// being deleted by alice (operation 12)"), for a page that offers the
// change before it is asked.
func (b BusyImage) Doing() string {
	doing, _ := b.words()
	return doing
}

func (b BusyImage) words() (doing, so string) {
	name := b.ImageName
	if name == "" {
		name = b.ImageID
	}
	who := b.Username
	switch {
	case b.Mine:
		who = "you"
	case who == "":
		who = "someone"
	}
	var what string
	switch b.OpAction {
	case deleteAction:
		what = "already being deleted"
	case updateAction:
		what = "being edited"
	default:
		what = "being made or changed"
	}
	if b.OpAction == b.Action && b.Action == updateAction {
		what = "already being edited"
	}
	switch b.Action {
	case deleteAction:
		so = "so it was not deleted again"
		if b.OpAction != deleteAction {
			so = "so it was not deleted: delete it once that ends"
		}
	case updateAction:
		so = "so your changes were not sent"
		if b.OpAction == deleteAction {
			so = "so your changes were not sent: it is going away"
		}
	default:
		so = "so nothing was sent"
	}
	return fmt.Sprintf("%s is %s by %s (operation %d)", name, what, who, b.Operation), so
}

// ImageBusyError refuses a whole set of intents one or more of which
// target an image another operation is still changing; Images lists each
// such image, in the order of the intents. It is ErrExists (a conflict).
type ImageBusyError struct {
	Images []BusyImage
}

func (e *ImageBusyError) Error() string {
	parts := make([]string, len(e.Images))
	for i, b := range e.Images {
		parts[i] = b.Action + " of " + string(b.Service) + "/" + b.ImageID + ": operation " + strconv.FormatInt(b.Operation, 10) +
			" (" + b.OpAction + ") is unfinished"
	}
	return strings.Join(parts, "; ")
}

func (e *ImageBusyError) Unwrap() error { return ErrExists }

// Message is the refusal as a person reads it: the one image's sentence,
// or how many of the batch are busy (each row says which).
func (e *ImageBusyError) Message() string {
	if len(e.Images) == 1 {
		return e.Images[0].Message() + " See the operations page for how it goes."
	}
	return fmt.Sprintf("%d of these images already have a change under way, so nothing was sent: see each one.", len(e.Images))
}

// For is the refusal of the image (svc, id), if it is one of them.
func (e *ImageBusyError) For(svc cloud.Service, id string) (BusyImage, bool) {
	for _, b := range e.Images {
		if b.Service == svc && b.ImageID == id {
			return b, true
		}
	}
	return BusyImage{}, false
}

// busyImages finds, in tx, the intents of in that target an image an
// unfinished operation already targets (or that the same batch names
// twice): nil when none does. A copy has no image id yet and is not
// checked here (its name is: NameInFlightError).
func busyImages(ctx context.Context, tx *sql.Tx, in []Operation) (*ImageBusyError, error) {
	open := openStateArgs()
	var (
		busy  []BusyImage
		batch = map[imageRef]int{}
	)
	for i, o := range in {
		if o.ImageID == "" {
			continue
		}
		ref := imageRef{o.Service, o.ImageID}
		if j, dup := batch[ref]; dup {
			return nil, fmt.Errorf("%w: image %s/%s is named twice (intents %d and %d)", ErrInvalid, o.Service, o.ImageID, j, i)
		}
		batch[ref] = i
		b := BusyImage{Service: o.Service, ImageID: o.ImageID, ImageName: o.ImageName, Action: o.Action}
		var user int64
		args := append([]any{string(o.Service), o.ImageID}, open...)
		err := tx.QueryRowContext(ctx, `SELECT id, action, username, coalesce(user_id, 0) FROM operations INDEXED BY operations_image
WHERE service = ? AND image_id = ? AND state IN (`+placeholders(len(open))+`) ORDER BY id LIMIT 1`, args...).
			Scan(&b.Operation, &b.OpAction, &b.Username, &user)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("open operations of %s/%s: %w", o.Service, o.ImageID, err)
		}
		b.Mine = user != 0 && user == o.UserID
		busy = append(busy, b)
	}
	if len(busy) == 0 {
		return nil, nil
	}
	return &ImageBusyError{Images: busy}, nil
}

// ImageFingerprint is what the image cache would store as img's
// fingerprint: an intent made from img read from the cache carries it as
// Operation.Expect, so that it is written only while the cache still
// holds the image as it was read.
func ImageFingerprint(img cloud.Image) int64 { return fingerprint(img) }

// ChangedImage is one image an intent was refused for because the cache
// no longer holds it as the intent was made from: Gone, or changed.
type ChangedImage struct {
	Service   cloud.Service
	ImageID   string
	ImageName string
	Action    string
	Gone      bool
}

// Message says it for the person who asked.
func (c ChangedImage) Message() string {
	name := c.ImageName
	if name == "" {
		name = c.ImageID
	}
	if c.Gone {
		return name + " no longer exists (it was deleted meanwhile), so nothing was sent."
	}
	return name + " was changed by someone else since you opened this page, so nothing was sent: reload to see it as it is now."
}

// ImageChangedError refuses a whole set of intents one or more of which
// was made from an image the cache no longer holds as it was (an edit
// opened on an older version, a delete of an image deleted meanwhile).
// It is ErrExists (a conflict).
type ImageChangedError struct {
	Images []ChangedImage
}

func (e *ImageChangedError) Error() string {
	parts := make([]string, len(e.Images))
	for i, c := range e.Images {
		what := "changed"
		if c.Gone {
			what = "gone"
		}
		parts[i] = c.Action + " of " + string(c.Service) + "/" + c.ImageID + ": the cached image is " + what
	}
	return strings.Join(parts, "; ")
}

func (e *ImageChangedError) Unwrap() error { return ErrExists }

// Message is the refusal as a person reads it.
func (e *ImageChangedError) Message() string {
	if len(e.Images) == 1 {
		return e.Images[0].Message()
	}
	return fmt.Sprintf("%d of these images changed or are gone since the page was opened, so nothing was sent: see each one.", len(e.Images))
}

// For is the refusal of the image (svc, id), if it is one of them.
func (e *ImageChangedError) For(svc cloud.Service, id string) (ChangedImage, bool) {
	for _, c := range e.Images {
		if c.Service == svc && c.ImageID == id {
			return c, true
		}
	}
	return ChangedImage{}, false
}

// changedImages finds, in tx, the intents of in with an Expect whose
// image the cache no longer holds with that fingerprint.
func changedImages(ctx context.Context, tx *sql.Tx, in []Operation) (*ImageChangedError, error) {
	var changed []ChangedImage
	for _, o := range in {
		if o.Expect == 0 {
			continue
		}
		var fp int64
		err := tx.QueryRowContext(ctx, `SELECT fingerprint FROM images WHERE service = ? AND id = ?`, string(o.Service), o.ImageID).Scan(&fp)
		gone := errors.Is(err, sql.ErrNoRows)
		if err != nil && !gone {
			return nil, fmt.Errorf("cached image %s/%s: %w", o.Service, o.ImageID, err)
		}
		if gone || fp != o.Expect {
			changed = append(changed, ChangedImage{Service: o.Service, ImageID: o.ImageID, ImageName: o.ImageName, Action: o.Action, Gone: gone})
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	return &ImageChangedError{Images: changed}, nil
}
