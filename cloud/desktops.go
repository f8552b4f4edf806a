package cloud

import (
	"context"

	desktop "github.com/yandex-cloud/go-genproto/yandex/cloud/clouddesktop/v1"
	"google.golang.org/grpc"
)

// VirtualDesktop is a Cloud Desktop (a virtual machine a person works in), as far
// as the dashboard needs it: a source of Desktop images, whose folder says
// who may image it. (Desktop is the name of the image service.)
type VirtualDesktop struct {
	ID       string
	FolderID string
	Name     string
	Status   string
}

func desktopFrom(m *desktop.Desktop) VirtualDesktop {
	return VirtualDesktop{ID: m.GetId(), FolderID: m.GetFolderId(), Name: m.GetName(), Status: m.GetStatus().String()}
}

// GetDesktop reads one desktop (DesktopService.Get); ErrNotFound when the
// cloud knows no desktop of that id.
func (c *Client) GetDesktop(ctx context.Context, id string) (VirtualDesktop, error) {
	const op = "clouddesktop.DesktopService.Get"
	m, err := read(ctx, c, op, func(ctx context.Context, o ...grpc.CallOption) (*desktop.Desktop, error) {
		return c.desktops.Get(ctx, &desktop.GetDesktopRequest{DesktopId: id}, o...)
	})
	if err != nil {
		return VirtualDesktop{}, err
	}
	return desktopFrom(m), nil
}

// Desktops lists every desktop of a folder (DesktopService.List), paging
// through all of them.
func (c *Client) Desktops(ctx context.Context, folderID string) ([]VirtualDesktop, error) {
	return listAll(ctx, c, "clouddesktop.DesktopService.List",
		func(ctx context.Context, token string, o ...grpc.CallOption) (*desktop.ListDesktopsResponse, error) {
			return c.desktops.List(ctx, &desktop.ListDesktopsRequest{FolderId: folderID, PageSize: listPageSize, PageToken: token}, o...)
		},
		func(resp *desktop.ListDesktopsResponse) []VirtualDesktop {
			return mapAll(resp.GetDesktops(), desktopFrom)
		})
}
