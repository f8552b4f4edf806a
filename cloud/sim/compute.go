package sim

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/url"
	"strings"

	"github.com/imagedash/imagedash/rules"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/compute/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/operation"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// computeImages implements yandex.cloud.compute.v1.ImageService.
// Export and the access-binding calls stay Unimplemented.
type computeImages struct {
	compute.UnimplementedImageServiceServer
	s *Sim
}

var _ compute.ImageServiceServer = (*computeImages)(nil)

const oneGiB = int64(1) << 30

func (c *computeImages) Get(ctx context.Context, req *compute.GetImageRequest) (*compute.Image, error) {
	if err := check(idRule("image_id", req.GetImageId())); err != nil {
		return nil, err
	}
	var out *compute.Image
	err := c.s.read(func() error {
		img, ok := c.s.compute.get(req.GetImageId())
		if !ok {
			return notFound("Image", req.GetImageId())
		}
		out = cloneMsg(img)
		return nil
	})
	return out, err
}

// GetLatestByFamily returns the newest READY image of a family in a folder,
// by created_at (ties broken by id, so the answer is stable).
func (c *computeImages) GetLatestByFamily(ctx context.Context, req *compute.GetImageLatestByFamilyRequest) (*compute.Image, error) {
	if err := check(
		idRule("folder_id", req.GetFolderId()),
		rules.Name("family", req.GetFamily(), true),
	); err != nil {
		return nil, err
	}
	var out *compute.Image
	err := c.s.read(func() error {
		if err := c.s.needFolderLocked(req.GetFolderId()); err != nil {
			return err
		}
		var best *compute.Image
		for _, id := range c.s.compute.byFolder[req.GetFolderId()] {
			img := c.s.compute.byID[id]
			if img.GetFamily() != req.GetFamily() || img.GetStatus() != compute.Image_READY {
				continue
			}
			if best == nil || newerImage(img, best) {
				best = img
			}
		}
		if best == nil {
			return status.Errorf(codes.NotFound, "no READY image of family %q in folder %s", req.GetFamily(), req.GetFolderId())
		}
		out = cloneMsg(best)
		return nil
	})
	return out, err
}

func newerImage(a, b *compute.Image) bool {
	ta, tb := a.GetCreatedAt().AsTime(), b.GetCreatedAt().AsTime()
	if !ta.Equal(tb) {
		return ta.After(tb)
	}
	return a.GetId() > b.GetId()
}

// List pages through a folder's images in id order. Paging by id keeps the
// listing free of duplicates and gaps while images come and go between pages.
func (c *computeImages) List(ctx context.Context, req *compute.ListImagesRequest) (*compute.ListImagesResponse, error) {
	filter, fv := parseFilter(req.GetFilter())
	after, tv := decodePageToken(req.GetPageToken())
	if err := check(
		idRule("folder_id", req.GetFolderId()),
		rules.Paging(req.GetPageSize(), req.GetPageToken()),
		fv, tv,
		orderByRule(req.GetOrderBy()),
	); err != nil {
		return nil, err
	}
	resp := &compute.ListImagesResponse{}
	err := c.s.read(func() error {
		if err := c.s.needFolderLocked(req.GetFolderId()); err != nil {
			return err
		}
		keep := func(img *compute.Image) bool { return filter.match(img.GetName()) }
		page, next := c.s.compute.page(req.GetFolderId(), after, pageSize(req.GetPageSize()), keep)
		resp.Images = make([]*compute.Image, len(page))
		for i, img := range page {
			resp.Images[i] = cloneMsg(img)
		}
		resp.NextPageToken = encodePageToken(next)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// orderByRule accepts the API's default order only: "" or "id [asc]". Any
// other order is refused rather than silently ignored.
func orderByRule(v string) []rules.Violation {
	if len(v) > 100 {
		return []rules.Violation{{Field: "order_by", Message: "must be at most 100 characters"}}
	}
	switch strings.ToLower(strings.Join(strings.Fields(v), " ")) {
	case "", "id", "id asc":
		return nil
	}
	return []rules.Violation{{Field: "order_by", Message: fmt.Sprintf("cannot order by %q: the emulator lists in id order only (\"id asc\")", v)}}
}

func (c *computeImages) Create(ctx context.Context, req *compute.CreateImageRequest) (*operation.Operation, error) {
	if err := check(createRules(req)); err != nil {
		return nil, err
	}
	s := c.s
	return s.mutate(ctx, req, func(by string) (*operation.Operation, error) {
		folder := req.GetFolderId()
		if err := s.needFolderLocked(folder); err != nil {
			return nil, err
		}
		if s.computeNameTakenLocked(folder, req.GetName(), "") {
			return nil, alreadyExists("Image", req.GetName(), folder)
		}
		img := &compute.Image{
			FolderId:           folder,
			CreatedAt:          timestamppb.New(s.clock.Now()),
			Name:               req.GetName(),
			Description:        req.GetDescription(),
			Labels:             req.GetLabels(),
			Family:             req.GetFamily(),
			ProductIds:         req.GetProductIds(),
			Status:             compute.Image_CREATING,
			Pooled:             req.GetPooled(),
			HardwareGeneration: req.GetHardwareGeneration(),
		}
		if t := req.GetOs().GetType(); t != compute.Os_TYPE_UNSPECIFIED {
			img.Os = &compute.Os{Type: t}
		}
		var inheritedMin int64
		switch src := req.GetSource().(type) {
		case *compute.CreateImageRequest_ImageId:
			from, ok := s.compute.get(src.ImageId)
			if !ok {
				return nil, notFound("Image", src.ImageId)
			}
			if from.GetStatus() != compute.Image_READY {
				return nil, failedPrecondition("image %s is %s; an image can be made only from a READY image", from.GetId(), from.GetStatus())
			}
			img.Size, img.StorageSize, inheritedMin = from.GetSize(), from.GetStorageSize(), from.GetMinDiskSize()
			if len(img.ProductIds) == 0 {
				img.ProductIds = from.GetProductIds()
			}
			if img.Os == nil {
				img.Os = from.GetOs()
			}
			if img.HardwareGeneration == nil {
				img.HardwareGeneration = from.GetHardwareGeneration()
			}
		case *compute.CreateImageRequest_DiskId:
			d, ok := s.disks[src.DiskId]
			if !ok {
				return nil, notFound("Disk", src.DiskId)
			}
			sourceSizes(img, d.Size, d.ID)
			if img.Os == nil {
				img.Os = computeOS(d.OS)
			}
		case *compute.CreateImageRequest_SnapshotId:
			sn, ok := s.snapshots[src.SnapshotId]
			if !ok {
				return nil, notFound("Snapshot", src.SnapshotId)
			}
			sourceSizes(img, sn.Size, sn.ID)
			if img.Os == nil {
				img.Os = computeOS(sn.OS)
			}
		case *compute.CreateImageRequest_Uri:
			sourceSizes(img, uriSize(src.Uri), src.Uri)
		}
		if err := check(rules.MinDisk("min_disk_size", req.GetMinDiskSize(), img.Size)); err != nil {
			return nil, err
		}
		img.MinDiskSize = req.GetMinDiskSize()
		if img.MinDiskSize == 0 {
			img.MinDiskSize = max(roundUpToGiB(img.Size), inheritedMin)
		}
		if img.Os == nil {
			img.Os = &compute.Os{Type: compute.Os_LINUX}
		}
		if img.HardwareGeneration == nil {
			img.HardwareGeneration = &compute.HardwareGeneration{Features: &compute.HardwareGeneration_LegacyFeatures{
				LegacyFeatures: &compute.LegacyHardwareFeatures{PciTopology: compute.PCITopology_PCI_TOPOLOGY_V1},
			}}
		}
		img.Id = s.newComputeIDLocked()
		// The request's maps and messages belong to the caller's decoded
		// request; the stored image gets its own copy.
		img = cloneMsg(img)
		s.putImageLocked(svcCompute, img)
		return s.startOpLocked(opStart{
			service:     svcCompute,
			kind:        opCreate,
			image:       img,
			description: "Create image",
			metadata:    &compute.CreateImageMetadata{ImageId: img.Id},
			delay:       s.createDelay(img.Size),
			createdBy:   by,
		}), nil
	})
}

// createRules are the checks of a CreateImageRequest that need no state.
func createRules(req *compute.CreateImageRequest) []rules.Violation {
	vs := joinViolations(
		idRule("folder_id", req.GetFolderId()),
		rules.Name("name", req.GetName(), false),
		rules.Description("description", req.GetDescription()),
		rules.Labels("labels", req.GetLabels()),
		rules.Family("family", req.GetFamily()),
		rules.MinDisk("min_disk_size", req.GetMinDiskSize(), 0),
	)
	for i, p := range req.GetProductIds() {
		vs = append(vs, rules.ID(fmt.Sprintf("product_ids[%d]", i), p, true)...)
	}
	switch src := req.GetSource().(type) {
	case nil:
		vs = append(vs, rules.Violation{Field: "source", Message: "one of image_id, disk_id, snapshot_id or uri is required"})
	case *compute.CreateImageRequest_ImageId:
		vs = append(vs, idRule("image_id", src.ImageId)...)
	case *compute.CreateImageRequest_DiskId:
		vs = append(vs, idRule("disk_id", src.DiskId)...)
	case *compute.CreateImageRequest_SnapshotId:
		vs = append(vs, idRule("snapshot_id", src.SnapshotId)...)
	case *compute.CreateImageRequest_Uri:
		vs = append(vs, computeURIRule("uri", src.Uri)...)
	}
	if t := req.GetOs().GetType(); compute.Os_Type_name[int32(t)] == "" {
		vs = append(vs, rules.Violation{Field: "os.type", Message: fmt.Sprintf("unknown operating system type %d", t)})
	}
	return vs
}

func joinViolations(groups ...[]rules.Violation) []rules.Violation {
	var out []rules.Violation
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// computeURIRule: the source URI must be an absolute http(s) URL (the real API
// takes only links to Object Storage, which are https).
func computeURIRule(field, v string) []rules.Violation {
	if v == "" {
		return []rules.Violation{{Field: field, Message: "is required"}}
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return []rules.Violation{{Field: field, Message: "must be an http(s) URL of an image file (qcow2, vmdk or vhd) in Object Storage"}}
	}
	return nil
}

// uriSize is the size of the image behind a URI: the emulator downloads
// nothing, so it derives a size between 1 and 20 GiB from the URI itself.
func uriSize(uri string) int64 {
	h := fnv.New64a()
	h.Write([]byte(uri))
	const mib = int64(1) << 20
	return oneGiB + int64(h.Sum64()%uint64(19*oneGiB/mib+1))*mib
}

// sourceSizes sets size and storage size (40-69% of the size, as compressed
// image storage is, derived from key so it is deterministic).
func sourceSizes(img *compute.Image, size int64, key string) {
	img.Size = size
	img.StorageSize = size * int64(40+fnv32(key)%30) / 100
}

func roundUpToGiB(n int64) int64 {
	return (n + oneGiB - 1) / oneGiB * oneGiB
}

func computeOS(name string) *compute.Os {
	if name == "WINDOWS" {
		return &compute.Os{Type: compute.Os_WINDOWS}
	}
	return &compute.Os{Type: compute.Os_LINUX}
}

// newComputeIDLocked makes an image id no image has.
func (s *Sim) newComputeIDLocked() string {
	for {
		id := newID(s.rng, prefixCompute)
		if _, taken := s.compute.get(id); !taken {
			return id
		}
	}
}

// computeNameTakenLocked reports whether name is held in folder by an image
// other than except, or is about to be by a pending rename (an Update
// applies when its operation finishes, so the name is reserved until then).
func (s *Sim) computeNameTakenLocked(folder, name, except string) bool {
	if name == "" {
		return false
	}
	if id, ok := s.compute.nameTaken(folder, name); ok && id != except {
		return true
	}
	for _, st := range s.pending {
		if st.service != svcCompute || st.kind != opUpdate || st.imageID == except {
			continue
		}
		after, ok := st.after.(*compute.Image)
		if ok && after.GetFolderId() == folder && after.GetName() == name && maskHas(st.mask, "name") {
			return true
		}
	}
	return false
}

func maskHas(mask []string, path string) bool {
	for _, p := range mask {
		if p == path {
			return true
		}
	}
	return false
}

// Update changes the fields named in update_mask when its operation
// finishes. Only a READY image can be updated.
func (c *computeImages) Update(ctx context.Context, req *compute.UpdateImageRequest) (*operation.Operation, error) {
	mask := uniquePaths(req.GetUpdateMask().GetPaths())
	if err := check(updateRules(req, mask)); err != nil {
		return nil, err
	}
	s := c.s
	return s.mutate(ctx, req, func(by string) (*operation.Operation, error) {
		img := s.imageLocked(svcCompute, req.GetImageId())
		if img == nil {
			return nil, notFound("Image", req.GetImageId())
		}
		cur := img.(*compute.Image)
		if cur.GetStatus() != compute.Image_READY {
			return nil, failedPrecondition("image %s is %s; only a READY image can be updated", cur.GetId(), cur.GetStatus())
		}
		after := cloneMsg(cur)
		for _, p := range mask {
			switch p {
			case "name":
				if s.computeNameTakenLocked(cur.GetFolderId(), req.GetName(), cur.GetId()) {
					return nil, alreadyExists("Image", req.GetName(), cur.GetFolderId())
				}
				after.Name = req.GetName()
			case "description":
				after.Description = req.GetDescription()
			case "labels":
				after.Labels = req.GetLabels()
			case "min_disk_size":
				if err := check(rules.MinDisk("min_disk_size", req.GetMinDiskSize(), cur.GetSize())); err != nil {
					return nil, err
				}
				after.MinDiskSize = req.GetMinDiskSize()
			}
		}
		return s.startOpLocked(opStart{
			service:     svcCompute,
			kind:        opUpdate,
			image:       cur,
			description: "Update image",
			metadata:    &compute.UpdateImageMetadata{ImageId: cur.GetId()},
			delay:       s.updateDelay(),
			after:       cloneMsg(after),
			mask:        mask,
			prevStatus:  compute.Image_READY.String(),
			createdBy:   by,
		}), nil
	})
}

// updateRules checks image_id, the mask, and the fields the mask names (only those).
func updateRules(req *compute.UpdateImageRequest, mask []string) []rules.Violation {
	vs := idRule("image_id", req.GetImageId())
	if len(mask) == 0 {
		return append(vs, rules.Violation{Field: "update_mask", Message: "is required: name the fields to update"})
	}
	for _, p := range mask {
		switch p {
		case "name":
			vs = append(vs, rules.Name("name", req.GetName(), false)...)
		case "description":
			vs = append(vs, rules.Description("description", req.GetDescription())...)
		case "labels":
			vs = append(vs, rules.Labels("labels", req.GetLabels())...)
		case "min_disk_size":
			if req.GetMinDiskSize() == 0 {
				vs = append(vs, rules.Violation{Field: "min_disk_size", Message: fmt.Sprintf("must be between %d and %d bytes (4 MiB to 4 TiB)", rules.MinDiskSize, rules.MaxDiskSize)})
			}
			vs = append(vs, rules.MinDisk("min_disk_size", req.GetMinDiskSize(), 0)...)
		default:
			vs = append(vs, rules.Violation{Field: "update_mask", Message: fmt.Sprintf("cannot update %q: allowed fields are name, description, labels and min_disk_size", p)})
		}
	}
	return vs
}

func uniquePaths(paths []string) []string {
	var out []string
	for _, p := range paths {
		if !maskHas(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// Delete marks the image DELETING at once and removes it when the operation
// finishes. A CREATING image, or one already being deleted, cannot be.
func (c *computeImages) Delete(ctx context.Context, req *compute.DeleteImageRequest) (*operation.Operation, error) {
	if err := check(idRule("image_id", req.GetImageId())); err != nil {
		return nil, err
	}
	s := c.s
	return s.mutate(ctx, req, func(by string) (*operation.Operation, error) {
		img := s.imageLocked(svcCompute, req.GetImageId())
		if img == nil {
			return nil, notFound("Image", req.GetImageId())
		}
		cur := img.(*compute.Image)
		switch cur.GetStatus() {
		case compute.Image_CREATING, compute.Image_DELETING:
			return nil, failedPrecondition("image %s is %s and cannot be deleted now", cur.GetId(), cur.GetStatus())
		}
		prev := cur.GetStatus().String()
		// A pending update would put its READY back over DELETING when it
		// finishes; let it return to DELETING instead.
		for _, id := range s.imageOps[cur.GetId()] {
			if st, ok := s.pending[id]; ok && st.kind == opUpdate {
				st.prevStatus = compute.Image_DELETING.String()
			}
		}
		cur.Status = compute.Image_DELETING
		s.putImageLocked(svcCompute, cur)
		return s.startOpLocked(opStart{
			service:     svcCompute,
			kind:        opDelete,
			image:       cur,
			description: "Delete image",
			metadata:    &compute.DeleteImageMetadata{ImageId: cur.GetId()},
			delay:       s.deleteDelay(),
			prevStatus:  prev,
			createdBy:   by,
		}), nil
	})
}

// ListOperations pages through an image's operations, newest first. The
// page token names the last operation returned; operations are never
// removed, so new ones started between pages cause no duplicates or gaps.
// The operations of a deleted image are still listed.
func (c *computeImages) ListOperations(ctx context.Context, req *compute.ListImageOperationsRequest) (*compute.ListImageOperationsResponse, error) {
	after, tv := decodePageToken(req.GetPageToken())
	if err := check(
		idRule("image_id", req.GetImageId()),
		rules.Paging(req.GetPageSize(), req.GetPageToken()),
		tv,
	); err != nil {
		return nil, err
	}
	resp := &compute.ListImageOperationsResponse{}
	err := c.s.read(func() error {
		ids := c.s.imageOps[req.GetImageId()]
		if _, ok := c.s.compute.get(req.GetImageId()); !ok && len(ids) == 0 {
			return notFound("Image", req.GetImageId())
		}
		i := len(ids) - 1 // newest first: walk the list from its end
		if after != "" {
			i = -2
			for j, id := range ids {
				if id == after {
					i = j - 1
					break
				}
			}
			if i == -2 {
				return check([]rules.Violation{{Field: "page_token", Message: "invalid page token"}})
			}
		}
		n := pageSize(req.GetPageSize())
		for ; i >= 0 && len(resp.Operations) < n; i-- {
			resp.Operations = append(resp.Operations, cloneMsg(c.s.ops[ids[i]].op))
		}
		if i >= 0 {
			resp.NextPageToken = encodePageToken(ids[i+1])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}
