package sim

import (
	"context"
	"slices"
	"strings"

	"github.com/imagedash/imagedash/rules"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/resourcemanager/v1"
	"google.golang.org/protobuf/proto"
)

// clouds implements yandex.cloud.resourcemanager.v1.CloudService: List and
// Get; the rest answers Unimplemented.
type clouds struct {
	resourcemanager.UnimplementedCloudServiceServer
	s *Sim
}

// folders implements yandex.cloud.resourcemanager.v1.FolderService: List
// and Get; the rest answers Unimplemented.
type folders struct {
	resourcemanager.UnimplementedFolderServiceServer
	s *Sim
}

var (
	_ resourcemanager.CloudServiceServer  = (*clouds)(nil)
	_ resourcemanager.FolderServiceServer = (*folders)(nil)
)

func (c *clouds) List(ctx context.Context, req *resourcemanager.ListCloudsRequest) (*resourcemanager.ListCloudsResponse, error) {
	filter, fv := parseFilter(req.GetFilter())
	after, tv := decodePageToken(req.GetPageToken())
	if err := check(rules.Paging(req.GetPageSize(), req.GetPageToken()), tv, fv, rules.ID("organization_id", req.GetOrganizationId(), false)); err != nil {
		return nil, err
	}
	resp := &resourcemanager.ListCloudsResponse{}
	err := c.s.read(func() error {
		keep := func(v *resourcemanager.Cloud) bool {
			return filter.match(v.GetName()) && (req.GetOrganizationId() == "" || v.GetOrganizationId() == req.GetOrganizationId())
		}
		var last string
		resp.Clouds, last = pageResourcesByID(c.s.clouds, after, pageSize(req.GetPageSize()), keep)
		resp.NextPageToken = encodePageToken(last)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func (c *clouds) Get(ctx context.Context, req *resourcemanager.GetCloudRequest) (*resourcemanager.Cloud, error) {
	if err := check(idRule("cloud_id", req.GetCloudId())); err != nil {
		return nil, err
	}
	var out *resourcemanager.Cloud
	err := c.s.read(func() error {
		v := c.s.cloudByIDLocked(req.GetCloudId())
		if v == nil {
			return notFound("Cloud", req.GetCloudId())
		}
		out = cloneMsg(v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (f *folders) List(ctx context.Context, req *resourcemanager.ListFoldersRequest) (*resourcemanager.ListFoldersResponse, error) {
	filter, fv := parseFilter(req.GetFilter())
	after, tv := decodePageToken(req.GetPageToken())
	if err := check(idRule("cloud_id", req.GetCloudId()), rules.Paging(req.GetPageSize(), req.GetPageToken()), tv, fv); err != nil {
		return nil, err
	}
	resp := &resourcemanager.ListFoldersResponse{}
	err := f.s.read(func() error {
		if f.s.cloudByIDLocked(req.GetCloudId()) == nil {
			return notFound("Cloud", req.GetCloudId())
		}
		keep := func(v *resourcemanager.Folder) bool {
			return v.GetCloudId() == req.GetCloudId() && filter.match(v.GetName())
		}
		var last string
		resp.Folders, last = pageResourcesByID(f.s.folders, after, pageSize(req.GetPageSize()), keep)
		resp.NextPageToken = encodePageToken(last)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

func (f *folders) Get(ctx context.Context, req *resourcemanager.GetFolderRequest) (*resourcemanager.Folder, error) {
	if err := check(idRule("folder_id", req.GetFolderId())); err != nil {
		return nil, err
	}
	var out *resourcemanager.Folder
	err := f.s.read(func() error {
		v := f.s.folderLocked(req.GetFolderId())
		if v == nil {
			return notFound("Folder", req.GetFolderId())
		}
		out = cloneMsg(v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// cloudByIDLocked returns the cloud with id, or nil.
func (s *Sim) cloudByIDLocked(id string) *resourcemanager.Cloud {
	for _, c := range s.clouds {
		if c.GetId() == id {
			return c
		}
	}
	return nil
}

// pageResourcesByID returns copies of up to n values that pass keep with ids after
// `after`, in id order, and the id to continue after ("" at the end).
func pageResourcesByID[T interface {
	proto.Message
	GetId() string
}](vs []T, after string, n int, keep func(T) bool) ([]T, string) {
	sorted := slices.Clone(vs)
	slices.SortFunc(sorted, func(a, b T) int { return strings.Compare(a.GetId(), b.GetId()) })
	var out []T
	for _, v := range sorted {
		if v.GetId() <= after || !keep(v) {
			continue
		}
		if len(out) == n {
			return out, out[n-1].GetId()
		}
		out = append(out, cloneMsg(v))
	}
	return out, ""
}
