package sim

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/imagedash/imagedash/rules"
	clouddesktop "github.com/yandex-cloud/go-genproto/yandex/cloud/clouddesktop/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/compute/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/operation"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// desktopImages implements yandex.cloud.clouddesktop.v1.api.DesktopImageService.
type desktopImages struct {
	clouddesktop.UnimplementedDesktopImageServiceServer
	s *Sim
}

var _ clouddesktop.DesktopImageServiceServer = (*desktopImages)(nil)

// desktopOrders are the fields DesktopImageService.List sorts by: its
// reference names name, created_at and status; id is the default.
var desktopOrders = []string{"id", "name", "created_at", "status"}

// desktopUpdatable are the update_mask paths DesktopImageService.Update takes.
var desktopUpdatable = []string{"name", "labels", "description"}

func (d *desktopImages) List(ctx context.Context, req *clouddesktop.ListDesktopImagesRequest) (*clouddesktop.ListDesktopImagesResponse, error) {
	filter, fv := parseFilter(req.GetFilter())
	order, ov := parseListOrder(req.GetOrderBy(), desktopOrders)
	if err := check(idRule("folder_id", req.GetFolderId()), rules.Paging(req.GetPageSize(), req.GetPageToken()), fv, ov); err != nil {
		return nil, err
	}
	cur, tv := order.cursor(req.GetPageToken())
	if err := check(tv); err != nil {
		return nil, err
	}
	resp := &clouddesktop.ListDesktopImagesResponse{}
	err := d.s.read(func() error {
		if err := d.s.needFolderLocked(req.GetFolderId()); err != nil {
			return err
		}
		keep := func(v *desktopImage) bool { return filter.match(v.GetName()) }
		page, next := listOrdered(d.s.desktop, req.GetFolderId(), order, cur, pageSize(req.GetPageSize()), keep)
		for _, v := range page {
			resp.DesktopImages = append(resp.DesktopImages, cloneMsg(v))
		}
		resp.NextPageToken = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func (d *desktopImages) Get(ctx context.Context, req *clouddesktop.GetDesktopImageRequest) (*clouddesktop.DesktopImage, error) {
	if err := check(idRule("image_id", req.GetImageId())); err != nil {
		return nil, err
	}
	var out *desktopImage
	err := d.s.read(func() error {
		v, ok := d.s.desktop.get(req.GetImageId())
		if !ok {
			return notFound("Desktop image", req.GetImageId())
		}
		out = cloneMsg(v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Copy makes a desktop image from a Compute image, which must be READY.
func (d *desktopImages) Copy(ctx context.Context, req *clouddesktop.CopyDesktopImageRequest) (*operation.Operation, error) {
	if err := check(
		idRule("folder_id", req.GetFolderId()),
		rules.Name("name", req.GetName(), true),
		rules.Description("description", req.GetDescription()),
		rules.Labels("labels", req.GetLabels()),
		idRule("image_id", req.GetImageId()),
	); err != nil {
		return nil, err
	}
	s := d.s
	return s.mutate(ctx, req, func(by string) (*operation.Operation, error) {
		if err := s.needFolderLocked(req.GetFolderId()); err != nil {
			return nil, err
		}
		if s.nameInUseLocked(svcDesktop, req.GetFolderId(), req.GetName(), "") {
			return nil, alreadyExists("Desktop image", req.GetName(), req.GetFolderId())
		}
		src, ok := s.compute.get(req.GetImageId())
		if !ok {
			return nil, notFound("Image", req.GetImageId())
		}
		if src.GetStatus() != compute.Image_READY {
			return nil, failedPrecondition("image %s is %s: only a READY image can be copied", src.GetId(), src.GetStatus())
		}
		minDisk := src.GetMinDiskSize()
		if minDisk == 0 {
			minDisk = src.GetSize()
		}
		img := s.newDesktopImageLocked(req.GetFolderId(), req.GetName(), req.GetDescription(), req.GetLabels(), src.GetStorageSize(), minDisk)
		return s.startOpLocked(opStart{
			service:     svcDesktop,
			kind:        opCreate,
			image:       img,
			description: "Copy image",
			metadata:    &clouddesktop.CopyDesktopImageMetadata{ImageId: img.GetId()},
			delay:       s.createDelay(src.GetSize()),
			createdBy:   by,
		}), nil
	})
}

// CopyFromDesktop makes a desktop image from the disk of a desktop.
func (d *desktopImages) CopyFromDesktop(ctx context.Context, req *clouddesktop.CopyFromDesktopRequest) (*operation.Operation, error) {
	if err := check(
		idRule("folder_id", req.GetFolderId()),
		rules.Name("name", req.GetName(), true),
		rules.Description("description", req.GetDescription()),
		rules.Labels("labels", req.GetLabels()),
		idRule("desktop_id", req.GetDesktopId()),
	); err != nil {
		return nil, err
	}
	s := d.s
	return s.mutate(ctx, req, func(by string) (*operation.Operation, error) {
		if err := s.needFolderLocked(req.GetFolderId()); err != nil {
			return nil, err
		}
		if s.nameInUseLocked(svcDesktop, req.GetFolderId(), req.GetName(), "") {
			return nil, alreadyExists("Desktop image", req.GetName(), req.GetFolderId())
		}
		src, ok := s.desktops[req.GetDesktopId()]
		if !ok {
			return nil, notFound("Desktop", req.GetDesktopId())
		}
		// A desktop's image stores about 60% of its disk, as the seeded ones do.
		img := s.newDesktopImageLocked(req.GetFolderId(), req.GetName(), req.GetDescription(), req.GetLabels(), src.Size*6/10, src.Size)
		return s.startOpLocked(opStart{
			service:     svcDesktop,
			kind:        opCreate,
			image:       img,
			description: "Copy image from desktop",
			metadata:    &clouddesktop.CopyFromDesktopMetadata{ImageId: img.GetId()},
			delay:       s.createDelay(src.Size),
			createdBy:   by,
		}), nil
	})
}

// newDesktopImageLocked stores a new CREATING desktop image.
func (s *Sim) newDesktopImageLocked(folderID, name, description string, labels map[string]string, storage, minDisk int64) *desktopImage {
	img := &desktopImage{
		Id:          newID(s.rng, prefixDesktop),
		FolderId:    folderID,
		CreatedAt:   timestamppb.New(s.clock.Now()),
		Status:      clouddesktop.DesktopImage_CREATING,
		Name:        name,
		Labels:      maps.Clone(labels),
		Description: description,
		StorageSize: storage,
		MinDiskSize: minDisk,
	}
	s.putImageLocked(svcDesktop, img)
	return img
}

// Update changes the masked fields of an ACTIVE desktop image. Desktop
// images have no UPDATING status: the image stays ACTIVE and the change
// lands when the operation is done.
func (d *desktopImages) Update(ctx context.Context, req *clouddesktop.UpdateDesktopImageRequest) (*operation.Operation, error) {
	paths, mv := maskedFields(req.GetUpdateMask(), desktopUpdatable)
	vs := [][]rules.Violation{idRule("image_id", req.GetImageId()), mv}
	for _, p := range paths {
		switch p {
		case "name":
			vs = append(vs, rules.Name("name", req.GetName(), false))
		case "labels":
			vs = append(vs, rules.Labels("labels", req.GetLabels()))
		case "description":
			vs = append(vs, rules.Description("description", req.GetDescription()))
		}
	}
	if err := check(vs...); err != nil {
		return nil, err
	}
	s := d.s
	return s.mutate(ctx, req, func(by string) (*operation.Operation, error) {
		v, ok := s.desktop.get(req.GetImageId())
		if !ok {
			return nil, notFound("Desktop image", req.GetImageId())
		}
		if v.GetStatus() != clouddesktop.DesktopImage_ACTIVE || s.imageBusyLocked(v.GetId()) {
			return nil, failedPrecondition("desktop image %s is %s: only an ACTIVE image with no operation in progress can be updated", v.GetId(), v.GetStatus())
		}
		if slices.Contains(paths, "name") && s.nameInUseLocked(svcDesktop, v.GetFolderId(), req.GetName(), v.GetId()) {
			return nil, alreadyExists("Desktop image", req.GetName(), v.GetFolderId())
		}
		after := &desktopImage{Name: req.GetName(), Labels: maps.Clone(req.GetLabels()), Description: req.GetDescription()}
		return s.startOpLocked(opStart{
			service:     svcDesktop,
			kind:        opUpdate,
			image:       v,
			description: "Update image",
			metadata:    &clouddesktop.UpdateDesktopImageMetadata{ImageId: v.GetId()},
			delay:       s.updateDelay(),
			after:       after,
			mask:        paths,
			prevStatus:  clouddesktop.DesktopImage_ACTIVE.String(),
			createdBy:   by,
		}), nil
	})
}

// Delete removes an ACTIVE desktop image; it is DELETING until the operation is done.
func (d *desktopImages) Delete(ctx context.Context, req *clouddesktop.DeleteDesktopImageRequest) (*operation.Operation, error) {
	if err := check(idRule("image_id", req.GetImageId())); err != nil {
		return nil, err
	}
	s := d.s
	return s.mutate(ctx, req, func(by string) (*operation.Operation, error) {
		img := s.imageLocked(svcDesktop, req.GetImageId())
		if img == nil {
			return nil, notFound("Desktop image", req.GetImageId())
		}
		v := img.(*desktopImage)
		if v.GetStatus() != clouddesktop.DesktopImage_ACTIVE || s.imageBusyLocked(v.GetId()) {
			return nil, failedPrecondition("desktop image %s is %s: only an ACTIVE image with no operation in progress can be deleted", v.GetId(), v.GetStatus())
		}
		v.Status = clouddesktop.DesktopImage_DELETING
		s.putImageLocked(svcDesktop, v)
		return s.startOpLocked(opStart{
			service:     svcDesktop,
			kind:        opDelete,
			image:       v,
			description: "Delete image",
			metadata:    &clouddesktop.DeleteDesktopImageMetadata{ImageId: v.GetId()},
			delay:       s.deleteDelay(),
			prevStatus:  clouddesktop.DesktopImage_ACTIVE.String(),
			createdBy:   by,
		}), nil
	})
}

// The helpers below are shared by the Desktop and BareMetal services.

// imageBusyLocked reports whether an image has an operation in progress.
func (s *Sim) imageBusyLocked(imageID string) bool {
	for _, id := range s.imageOps[imageID] {
		if _, ok := s.pending[id]; ok {
			return true
		}
	}
	return false
}

// nameInUseLocked reports whether name is held in folder by an image of
// service other than exceptID, or will be once a pending rename lands.
func (s *Sim) nameInUseLocked(service, folderID, name, exceptID string) bool {
	if name == "" {
		return false
	}
	var (
		id    string
		taken bool
	)
	switch service {
	case svcCompute:
		id, taken = s.compute.nameTaken(folderID, name)
	case svcDesktop:
		id, taken = s.desktop.nameTaken(folderID, name)
	case svcBareMetal:
		id, taken = s.baremetal.nameTaken(folderID, name)
	}
	if taken && id != exceptID {
		return true
	}
	for _, st := range s.pending {
		if st.service != service || st.kind != opUpdate || st.imageID == exceptID ||
			!slices.Contains(st.mask, "name") || st.after.GetName() != name {
			continue
		}
		if img := s.imageLocked(service, st.imageID); img != nil && img.GetFolderId() == folderID {
			return true
		}
	}
	return false
}

// maskedFields reads an update_mask: required, each path one of allowed,
// duplicates dropped. Violations are of the field "update_mask".
func maskedFields(m *fieldmaskpb.FieldMask, allowed []string) ([]string, []rules.Violation) {
	if len(m.GetPaths()) == 0 {
		return nil, []rules.Violation{{Field: "update_mask", Message: "is required: name the fields to update"}}
	}
	var (
		paths []string
		vs    []rules.Violation
	)
	for _, p := range m.GetPaths() {
		switch {
		case !slices.Contains(allowed, p):
			vs = append(vs, rules.Violation{Field: "update_mask", Message: fmt.Sprintf("field %q cannot be updated: only %s", p, strings.Join(allowed, ", "))})
		case !slices.Contains(paths, p):
			paths = append(paths, p)
		}
	}
	return paths, vs
}

// listOrder is a parsed order_by: "<field> [asc|desc]".
type listOrder struct {
	field string // id, name, created_at or status
	desc  bool
}

// byID is the default order, paged with the core's id tokens.
func (o listOrder) byID() bool { return o.field == "id" && !o.desc }

// parseListOrder reads order_by. Fields may be snake_case or camelCase; an
// empty order_by is "id asc".
func parseListOrder(s string, allowed []string) (listOrder, []rules.Violation) {
	o := listOrder{field: "id"}
	parts := strings.Fields(s)
	if len(parts) == 0 {
		return o, nil
	}
	bad := []rules.Violation{{Field: "order_by", Message: fmt.Sprintf("must be one of %s, optionally followed by asc or desc", strings.Join(allowed, ", "))}}
	if len(parts) > 2 || !slices.Contains(allowed, snakeFieldName(parts[0])) {
		return o, bad
	}
	o.field = snakeFieldName(parts[0])
	if len(parts) == 2 {
		switch strings.ToLower(parts[1]) {
		case "asc":
		case "desc":
			o.desc = true
		default:
			return o, bad
		}
	}
	return o, nil
}

func snakeFieldName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// listCursor is where a sorted listing continues: after the item with this
// sort key and id. id is "" when the token had no room for it, which only
// happens for long names, and names are unique in a folder.
type listCursor struct{ key, id string }

// sortedTokenPrefix versions the page tokens of sorted listings.
const sortedTokenPrefix = "s1."

// tag marks a sorted token with its order, so a token is not read under another.
func (o listOrder) tag() string {
	if o.desc {
		return o.field[:1] + "-"
	}
	return o.field[:1] + "+"
}

// token makes the next_page_token that continues after (key, id).
func (o listOrder) token(key, id string) string {
	if o.byID() {
		return encodePageToken(id)
	}
	raw := o.tag() + key + "\x00" + id
	if len(sortedTokenPrefix)+base64.RawURLEncoding.EncodedLen(len(raw)) > rules.MaxPageTokenLength {
		raw = o.tag() + key + "\x00"
	}
	return sortedTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// cursor reads a page token made by token for the same order; nil means
// the first page.
func (o listOrder) cursor(tok string) (*listCursor, []rules.Violation) {
	if tok == "" {
		return nil, nil
	}
	if o.byID() {
		id, vs := decodePageToken(tok)
		if vs != nil {
			return nil, vs
		}
		return &listCursor{key: id, id: id}, nil
	}
	bad := []rules.Violation{{Field: "page_token", Message: "invalid page token for this order_by"}}
	rest, ok := strings.CutPrefix(tok, sortedTokenPrefix)
	if !ok {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return nil, bad
	}
	body, ok := strings.CutPrefix(string(b), o.tag())
	if !ok {
		return nil, bad
	}
	key, id, ok := strings.Cut(body, "\x00")
	if !ok {
		return nil, bad
	}
	return &listCursor{key: key, id: id}, nil
}

// after reports whether an item with key and id comes after the cursor.
func (o listOrder) after(key, id string, c *listCursor) bool {
	if o.desc {
		return key < c.key || (key == c.key && c.id != "" && id < c.id)
	}
	return key > c.key || (key == c.key && c.id != "" && id > c.id)
}

// listOrdered lists up to n items of folder that pass keep, in order o,
// after cursor c (nil: from the start), and the token of the next page.
// The default order pages the table by id; others sort the folder.
func listOrdered[T resource](t *table[T], folderID string, o listOrder, c *listCursor, n int, keep func(T) bool) ([]T, string) {
	if o.byID() {
		after := ""
		if c != nil {
			after = c.id
		}
		page, next := t.page(folderID, after, n, keep)
		return page, encodePageToken(next)
	}
	type item struct {
		key string
		v   T
	}
	var items []item
	for _, v := range t.all(folderID) {
		if keep == nil || keep(v) {
			items = append(items, item{orderKey(v, o.field), v})
		}
	}
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.key != b.key {
			return (a.key < b.key) != o.desc
		}
		return (a.v.GetId() < b.v.GetId()) != o.desc
	})
	start := 0
	if c != nil {
		start = sort.Search(len(items), func(i int) bool { return o.after(items[i].key, items[i].v.GetId(), c) })
	}
	end := min(start+n, len(items))
	out := make([]T, 0, end-start)
	for _, it := range items[start:end] {
		out = append(out, it.v)
	}
	if end == len(items) {
		return out, ""
	}
	last := items[end-1]
	return out, o.token(last.key, last.v.GetId())
}

// orderKey is the value of field in v as a string that sorts like the field.
func orderKey(v resource, field string) string {
	switch field {
	case "name":
		return v.GetName()
	case "created_at":
		if c, ok := v.(interface{ GetCreatedAt() *timestamppb.Timestamp }); ok {
			ts := c.GetCreatedAt()
			return fmt.Sprintf("%012d%09d", ts.GetSeconds(), ts.GetNanos())
		}
	case "status":
		r := v.ProtoReflect()
		if fd := r.Descriptor().Fields().ByName("status"); fd != nil {
			return fmt.Sprintf("%04d", r.Get(fd).Enum())
		}
	}
	return v.GetId()
}
