package sim

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/imagedash/imagedash/rules"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/baremetal/v1alpha"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/operation"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// baremetalImages implements yandex.cloud.baremetal.v1alpha.ImageService.
type baremetalImages struct {
	baremetal.UnimplementedImageServiceServer
	s *Sim
}

var _ baremetal.ImageServiceServer = (*baremetalImages)(nil)

// baremetalPageSize is the service's default page size (its reference says 20).
const baremetalPageSize = 20

// baremetalOrders are the fields ImageService.List sorts by.
var baremetalOrders = []string{"id", "name", "created_at"}

// baremetalUpdatable are the update_mask paths ImageService.Update takes.
var baremetalUpdatable = []string{"name", "description", "labels"}

func (b *baremetalImages) Get(ctx context.Context, req *baremetal.GetImageRequest) (*baremetal.Image, error) {
	if err := check(idRule("image_id", req.GetImageId())); err != nil {
		return nil, err
	}
	var out *baremetalImage
	err := b.s.read(func() error {
		v, ok := b.s.baremetal.get(req.GetImageId())
		if !ok {
			return notFound("Image", req.GetImageId())
		}
		out = cloneMsg(v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (b *baremetalImages) List(ctx context.Context, req *baremetal.ListImagesRequest) (*baremetal.ListImagesResponse, error) {
	filter, fv := parseBareMetalFilter(req.GetFilter())
	order, ov := parseListOrder(req.GetOrderBy(), baremetalOrders)
	if err := check(idRule("folder_id", req.GetFolderId()), rules.Paging(req.GetPageSize(), req.GetPageToken()), fv, ov); err != nil {
		return nil, err
	}
	cur, tv := order.cursor(req.GetPageToken())
	if err := check(tv); err != nil {
		return nil, err
	}
	n := baremetalPageSize
	if req.GetPageSize() > 0 {
		n = int(req.GetPageSize())
	}
	resp := &baremetal.ListImagesResponse{}
	err := b.s.read(func() error {
		if err := b.s.needFolderLocked(req.GetFolderId()); err != nil {
			return err
		}
		page, next := listOrdered(b.s.baremetal, req.GetFolderId(), order, cur, n, filter.match)
		for _, v := range page {
			resp.Images = append(resp.Images, cloneMsg(v))
		}
		resp.NextPageToken = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// Create makes an image from a file at an http(s) URI; its checksum is the
// MD5 of the URI, as the emulator has no file to read.
func (b *baremetalImages) Create(ctx context.Context, req *baremetal.CreateImageRequest) (*operation.Operation, error) {
	if err := check(
		idRule("folder_id", req.GetFolderId()),
		rules.Name("name", req.GetName(), true),
		rules.Description("description", req.GetDescription()),
		bareMetalURIRule("uri", req.GetUri()),
		rules.Labels("labels", req.GetLabels()),
	); err != nil {
		return nil, err
	}
	s := b.s
	return s.mutate(ctx, req, func(by string) (*operation.Operation, error) {
		if err := s.needFolderLocked(req.GetFolderId()); err != nil {
			return nil, err
		}
		if s.nameInUseLocked(svcBareMetal, req.GetFolderId(), req.GetName(), "") {
			return nil, alreadyExists("Image", req.GetName(), req.GetFolderId())
		}
		sum := md5.Sum([]byte(req.GetUri()))
		img := &baremetalImage{
			Id:          newID(s.rng, prefixBareMetal),
			FolderId:    req.GetFolderId(),
			Name:        req.GetName(),
			Description: req.GetDescription(),
			Checksum:    hex.EncodeToString(sum[:]),
			Status:      baremetal.Image_CREATING,
			CreatedAt:   timestamppb.New(s.clock.Now()),
			Labels:      maps.Clone(req.GetLabels()),
		}
		s.putImageLocked(svcBareMetal, img)
		// A made-up size of 1-16 GiB, fixed by the URI, so downloads differ in length.
		size := int64(sum[0]%16+1) << 30
		return s.startOpLocked(opStart{
			service:     svcBareMetal,
			kind:        opCreate,
			image:       img,
			description: "Create image",
			metadata:    &baremetal.CreateImageMetadata{ImageId: img.GetId()},
			delay:       s.createDelay(size),
			createdBy:   by,
		}), nil
	})
}

// bareMetalURIRule checks a source URI: required, an absolute http or https URL.
func bareMetalURIRule(field, v string) []rules.Violation {
	if v == "" {
		return []rules.Violation{{Field: field, Message: "is required"}}
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return []rules.Violation{{Field: field, Message: "must be an http or https URL"}}
	}
	return nil
}

// Update changes the masked fields of a READY image, which is UPDATING
// until the operation is done.
func (b *baremetalImages) Update(ctx context.Context, req *baremetal.UpdateImageRequest) (*operation.Operation, error) {
	paths, mv := maskedFields(req.GetUpdateMask(), baremetalUpdatable)
	vs := [][]rules.Violation{idRule("image_id", req.GetImageId()), mv}
	for _, p := range paths {
		switch p {
		case "name":
			vs = append(vs, rules.Name("name", req.GetName(), false))
		case "description":
			vs = append(vs, rules.Description("description", req.GetDescription()))
		case "labels":
			vs = append(vs, rules.Labels("labels", req.GetLabels()))
		}
	}
	if err := check(vs...); err != nil {
		return nil, err
	}
	s := b.s
	return s.mutate(ctx, req, func(by string) (*operation.Operation, error) {
		img := s.imageLocked(svcBareMetal, req.GetImageId())
		if img == nil {
			return nil, notFound("Image", req.GetImageId())
		}
		v := img.(*baremetalImage)
		if v.GetStatus() != baremetal.Image_READY || s.imageBusyLocked(v.GetId()) {
			return nil, failedPrecondition("image %s is %s: only a READY image can be updated", v.GetId(), v.GetStatus())
		}
		if slices.Contains(paths, "name") && s.nameInUseLocked(svcBareMetal, v.GetFolderId(), req.GetName(), v.GetId()) {
			return nil, alreadyExists("Image", req.GetName(), v.GetFolderId())
		}
		v.Status = baremetal.Image_UPDATING
		s.putImageLocked(svcBareMetal, v)
		after := &baremetalImage{Name: req.GetName(), Description: req.GetDescription(), Labels: maps.Clone(req.GetLabels())}
		return s.startOpLocked(opStart{
			service:     svcBareMetal,
			kind:        opUpdate,
			image:       v,
			description: "Update image",
			metadata:    &baremetal.UpdateImageMetadata{ImageId: v.GetId()},
			delay:       s.updateDelay(),
			after:       after,
			mask:        paths,
			prevStatus:  baremetal.Image_READY.String(),
			createdBy:   by,
		}), nil
	})
}

// Delete removes a READY or ERROR image; it is DELETING until the operation is done.
func (b *baremetalImages) Delete(ctx context.Context, req *baremetal.DeleteImageRequest) (*operation.Operation, error) {
	if err := check(idRule("image_id", req.GetImageId())); err != nil {
		return nil, err
	}
	s := b.s
	return s.mutate(ctx, req, func(by string) (*operation.Operation, error) {
		img := s.imageLocked(svcBareMetal, req.GetImageId())
		if img == nil {
			return nil, notFound("Image", req.GetImageId())
		}
		v := img.(*baremetalImage)
		prev := v.GetStatus()
		if (prev != baremetal.Image_READY && prev != baremetal.Image_ERROR) || s.imageBusyLocked(v.GetId()) {
			return nil, failedPrecondition("image %s is %s: only a READY or ERROR image can be deleted", v.GetId(), prev)
		}
		v.Status = baremetal.Image_DELETING
		s.putImageLocked(svcBareMetal, v)
		return s.startOpLocked(opStart{
			service:     svcBareMetal,
			kind:        opDelete,
			image:       v,
			description: "Delete image",
			metadata:    &baremetal.DeleteImageMetadata{ImageId: v.GetId()},
			delay:       s.deleteDelay(),
			prevStatus:  prev.String(),
			createdBy:   by,
		}), nil
	})
}

// ListOperations lists an image's operations, newest first.
func (b *baremetalImages) ListOperations(ctx context.Context, req *baremetal.ListImageOperationsRequest) (*baremetal.ListImageOperationsResponse, error) {
	after, tv := decodePageToken(req.GetPageToken())
	if err := check(idRule("image_id", req.GetImageId()), rules.Paging(req.GetPageSize(), req.GetPageToken()), tv); err != nil {
		return nil, err
	}
	n := baremetalPageSize
	if req.GetPageSize() > 0 {
		n = int(req.GetPageSize())
	}
	resp := &baremetal.ListImageOperationsResponse{}
	err := b.s.read(func() error {
		if _, ok := b.s.baremetal.get(req.GetImageId()); !ok {
			return notFound("Image", req.GetImageId())
		}
		ops := b.s.imageOpsLocked(req.GetImageId())
		start := 0
		if after != "" {
			i := slices.IndexFunc(ops, func(op *operation.Operation) bool { return op.GetId() == after })
			if i < 0 {
				return invalid([]rules.Violation{{Field: "page_token", Message: "invalid page token"}})
			}
			start = i + 1
		}
		end := min(start+n, len(ops))
		resp.Operations = ops[start:end]
		if end < len(ops) {
			resp.NextPageToken = encodePageToken(ops[end-1].GetId())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// bareMetalFilter is a parsed BareMetal List filter: conditions on id or
// name joined by AND, each `=` (equal) or `:` (substring), values quoted.
type bareMetalFilter []bareMetalCond

type bareMetalCond struct {
	field  string // id or name
	substr bool
	value  string
}

// match reports whether v passes every condition; an empty filter passes all.
func (f bareMetalFilter) match(v *baremetalImage) bool {
	for _, c := range f {
		got := v.GetName()
		if c.field == "id" {
			got = v.GetId()
		}
		if c.substr {
			if !strings.Contains(got, c.value) {
				return false
			}
		} else if got != c.value {
			return false
		}
	}
	return true
}

// parseBareMetalFilter parses `<field> <op> <value> [AND ...]`. A bad
// filter is a violation of the field "filter".
func parseBareMetalFilter(s string) (bareMetalFilter, []rules.Violation) {
	bad := func(format string, a ...any) (bareMetalFilter, []rules.Violation) {
		return nil, []rules.Violation{{Field: "filter", Message: fmt.Sprintf(format, a...)}}
	}
	if len(s) > rules.MaxFilterLength {
		return bad("must be at most %d characters", rules.MaxFilterLength)
	}
	p := &filterLexer{s: s}
	p.skipSpace()
	if p.done() {
		return nil, nil
	}
	var f bareMetalFilter
	for {
		p.skipSpace()
		field := snakeFieldName(p.word())
		if field != "id" && field != "name" {
			return bad("unknown field %q: only id and name can be filtered on", field)
		}
		c := bareMetalCond{field: field}
		p.skipSpace()
		switch {
		case p.take("="):
		case p.take(":"):
			c.substr = true
		default:
			return bad("expected = or : after %s", field)
		}
		p.skipSpace()
		v, err := p.quoted()
		if err != nil {
			return bad("%v", err)
		}
		c.value = v
		f = append(f, c)
		p.skipSpace()
		if p.done() {
			return f, nil
		}
		if w := p.word(); !strings.EqualFold(w, "AND") {
			return bad("expected AND between conditions at position %d", p.i+1)
		}
	}
}
