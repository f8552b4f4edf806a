package sim

import (
	"context"
	"slices"
	"strings"

	"github.com/imagedash/imagedash/rules"
	clouddesktop "github.com/yandex-cloud/go-genproto/yandex/cloud/clouddesktop/v1"
)

// desktopVMs implements the read half of
// yandex.cloud.clouddesktop.v1.api.DesktopService (Get, List) over the
// seeded desktops that CopyFromDesktop takes as sources, so a client can
// learn a desktop's folder before imaging it.
type desktopVMs struct {
	clouddesktop.UnimplementedDesktopServiceServer
	s *Sim
}

var _ clouddesktop.DesktopServiceServer = (*desktopVMs)(nil)

// desktopMsg is src as the API answers it: an ACTIVE desktop.
func desktopMsg(src Source) *clouddesktop.Desktop {
	return &clouddesktop.Desktop{
		Id:       src.ID,
		FolderId: src.FolderID,
		Name:     src.Name,
		Status:   clouddesktop.Desktop_ACTIVE,
	}
}

func (d *desktopVMs) Get(ctx context.Context, req *clouddesktop.GetDesktopRequest) (*clouddesktop.Desktop, error) {
	if err := check(idRule("desktop_id", req.GetDesktopId())); err != nil {
		return nil, err
	}
	var out *clouddesktop.Desktop
	err := d.s.read(func() error {
		src, ok := d.s.desktops[req.GetDesktopId()]
		if !ok {
			return notFound("Desktop", req.GetDesktopId())
		}
		out = desktopMsg(src)
		return nil
	})
	return out, err
}

// List pages through a folder's desktops in id order; the page token is
// the last id of the previous page.
func (d *desktopVMs) List(ctx context.Context, req *clouddesktop.ListDesktopsRequest) (*clouddesktop.ListDesktopsResponse, error) {
	if err := check(idRule("folder_id", req.GetFolderId()), rules.Paging(req.GetPageSize(), req.GetPageToken())); err != nil {
		return nil, err
	}
	resp := &clouddesktop.ListDesktopsResponse{}
	err := d.s.read(func() error {
		if err := d.s.needFolderLocked(req.GetFolderId()); err != nil {
			return err
		}
		var ids []string
		for id, src := range d.s.desktops {
			if src.FolderID == req.GetFolderId() && id > req.GetPageToken() {
				ids = append(ids, id)
			}
		}
		slices.SortFunc(ids, strings.Compare)
		if n := pageSize(req.GetPageSize()); len(ids) > n {
			ids = ids[:n]
			resp.NextPageToken = ids[n-1]
		}
		for _, id := range ids {
			resp.Desktops = append(resp.Desktops, desktopMsg(d.s.desktops[id]))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}
