package sim

import (
	"context"
	"slices"
	"sort"
	"testing"

	"github.com/yandex-cloud/go-genproto/yandex/cloud/resourcemanager/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

func TestCloudsListAndGet(t *testing.T) {
	_, conn, _ := startSim(t, Options{})
	cl := resourcemanager.NewCloudServiceClient(conn)
	ctx := context.Background()
	resp, err := cl.List(ctx, &resourcemanager.ListCloudsRequest{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(resp.GetClouds()) != 1 || resp.GetClouds()[0].GetName() != demoCloud {
		t.Fatalf("clouds %v, want just %q", resp.GetClouds(), demoCloud)
	}
	cloud := resp.GetClouds()[0]
	got, err := cl.Get(ctx, &resourcemanager.GetCloudRequest{CloudId: cloud.GetId()})
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !proto.Equal(got, cloud) {
		t.Errorf("Get = %v, want %v", got, cloud)
	}

	tests := []struct {
		name string
		call func() error
		want codes.Code
	}{
		{"get unknown", func() error {
			_, err := cl.Get(ctx, &resourcemanager.GetCloudRequest{CloudId: "b1gnosuchcloud000000"})
			return err
		}, codes.NotFound},
		{"get without id", func() error {
			_, err := cl.Get(ctx, &resourcemanager.GetCloudRequest{})
			return err
		}, codes.InvalidArgument},
		{"list page size", func() error {
			_, err := cl.List(ctx, &resourcemanager.ListCloudsRequest{PageSize: 1001})
			return err
		}, codes.InvalidArgument},
		{"create", func() error {
			_, err := cl.Create(ctx, &resourcemanager.CreateCloudRequest{Name: "another"})
			return err
		}, codes.Unimplemented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectCode(t, tt.call(), tt.want)
		})
	}
	empty, err := cl.List(ctx, &resourcemanager.ListCloudsRequest{Filter: `name="nope"`})
	if err != nil {
		t.Fatalf("List with a filter: %v", err)
	}
	if len(empty.GetClouds()) != 0 {
		t.Errorf("List with name=nope: %v, want none", empty.GetClouds())
	}
}

func TestFoldersPaging(t *testing.T) {
	s, conn, _ := startSim(t, Options{})
	fc := resourcemanager.NewFolderServiceClient(conn)
	ctx := context.Background()
	all := s.Folders()
	cloudID := all[0].GetCloudId()

	var got []string
	pages := 0
	tok := ""
	for range 10 {
		resp, err := fc.List(ctx, &resourcemanager.ListFoldersRequest{CloudId: cloudID, PageSize: 2, PageToken: tok})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		pages++
		if n := len(resp.GetFolders()); n > 2 {
			t.Errorf("page of %d folders, want at most 2", n)
		}
		for _, f := range resp.GetFolders() {
			got = append(got, f.GetId())
		}
		if tok = resp.GetNextPageToken(); tok == "" {
			break
		}
	}
	want := make([]string, len(all))
	for i, f := range all {
		want[i] = f.GetId()
	}
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("paged folder ids %v, want %v", got, want)
	}
	if wantPages := (len(all) + 1) / 2; pages != wantPages {
		t.Errorf("%d pages, want %d", pages, wantPages)
	}
}

func TestFoldersListAndGet(t *testing.T) {
	s, conn, _ := startSim(t, Options{})
	fc := resourcemanager.NewFolderServiceClient(conn)
	ctx := context.Background()
	golden := s.DefaultFolderID()
	cloudID := s.Folders()[0].GetCloudId()

	resp, err := fc.List(ctx, &resourcemanager.ListFoldersRequest{CloudId: cloudID, Filter: `name="team-alpha"`})
	if err != nil {
		t.Fatalf("List with a filter: %v", err)
	}
	if len(resp.GetFolders()) != 1 || resp.GetFolders()[0].GetName() != "team-alpha" {
		t.Errorf("List name=team-alpha: %v, want the one folder", resp.GetFolders())
	}
	got, err := fc.Get(ctx, &resourcemanager.GetFolderRequest{FolderId: golden})
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.GetName() != goldenFolder || got.GetCloudId() != cloudID || got.GetStatus() != resourcemanager.Folder_ACTIVE {
		t.Errorf("Get = %v, want the active golden-images folder of the cloud", got)
	}

	tests := []struct {
		name  string
		call  func() error
		want  codes.Code
		field string
	}{
		{"list without cloud", func() error {
			_, err := fc.List(ctx, &resourcemanager.ListFoldersRequest{})
			return err
		}, codes.InvalidArgument, "cloud_id"},
		{"list of an unknown cloud", func() error {
			_, err := fc.List(ctx, &resourcemanager.ListFoldersRequest{CloudId: "b1gnosuchcloud000000"})
			return err
		}, codes.NotFound, ""},
		{"list page size", func() error {
			_, err := fc.List(ctx, &resourcemanager.ListFoldersRequest{CloudId: cloudID, PageSize: 1001})
			return err
		}, codes.InvalidArgument, "page_size"},
		{"list page token", func() error {
			_, err := fc.List(ctx, &resourcemanager.ListFoldersRequest{CloudId: cloudID, PageToken: "garbage"})
			return err
		}, codes.InvalidArgument, "page_token"},
		{"list filter", func() error {
			_, err := fc.List(ctx, &resourcemanager.ListFoldersRequest{CloudId: cloudID, Filter: `labels.team="x"`})
			return err
		}, codes.InvalidArgument, "filter"},
		{"get unknown", func() error {
			_, err := fc.Get(ctx, &resourcemanager.GetFolderRequest{FolderId: "b1gnosuchfolder00000"})
			return err
		}, codes.NotFound, ""},
		{"get without id", func() error {
			_, err := fc.Get(ctx, &resourcemanager.GetFolderRequest{})
			return err
		}, codes.InvalidArgument, "folder_id"},
		{"create", func() error {
			_, err := fc.Create(ctx, &resourcemanager.CreateFolderRequest{CloudId: cloudID, Name: "new-folder"})
			return err
		}, codes.Unimplemented, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.field != "" {
				expectViolation(t, err, tt.field)
				return
			}
			expectCode(t, err, tt.want)
		})
	}
}
