package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

const gib = int64(1) << 30

func day(month, d int) time.Time { return time.Date(2024, time.Month(month), d, 10, 0, 0, 0, time.UTC) }

// testFolders are the folders of the fixture.
var testFolders = []cloud.Folder{
	{ID: "b1g-a", CloudID: "b1g-cloud", Name: "team-a", Description: "Team A", Labels: map[string]string{"owner": "a"}},
	{ID: "b1g-b", CloudID: "b1g-cloud", Name: "team-b"},
}

// fixtureImages is a small hand-made cache: eight Compute images in two
// folders (with ties on created_at and hostile text), and one image each
// of Desktop and BareMetal.
func fixtureImages() []cloud.Image {
	return []cloud.Image{
		{Service: cloud.Compute, ID: "fd8a01", FolderID: "b1g-a", Name: "ubuntu-22-04-lts-v1", Description: "Ubuntu 22.04 LTS",
			Family: "ubuntu-2204-lts", Status: "READY", OS: "LINUX", Size: 8 * gib, MinDiskSize: 10 * gib,
			ProductIDs: []string{"f2e1", "f2e2"}, Pooled: true, HardwareGeneration: "generation2",
			CreatedAt: day(1, 1), Labels: map[string]string{"env": "prod", "team": "core"}},
		{Service: cloud.Compute, ID: "fd8a02", FolderID: "b1g-a", Name: "ubuntu-22-04-lts-v2", Description: "Ubuntu 22.04 LTS, refreshed",
			Family: "ubuntu-2204-lts", Status: "READY", OS: "LINUX", Size: 9 * gib, MinDiskSize: 10 * gib,
			CreatedAt: day(2, 1), Labels: map[string]string{"env": "stage"}},
		{Service: cloud.Compute, ID: "fd8a03", FolderID: "b1g-a", Name: "debian-12-v1", Description: "Debian bookworm",
			Family: "debian-12", Status: "CREATING", OS: "LINUX", Size: 5 * gib, MinDiskSize: 5 * gib,
			CreatedAt: day(2, 1), Labels: map[string]string{"env": "prod", "gpu": ""}},
		{Service: cloud.Compute, ID: "fd8a04", FolderID: "b1g-a", Name: "windows-2022-dc", Description: "Windows Server <script>alert(1)</script>",
			Family: "windows-2022-dc", Status: "READY", OS: "WINDOWS", Size: 20 * gib, MinDiskSize: 50 * gib,
			HardwareGeneration: "legacy:PCI_TOPOLOGY_V1", CreatedAt: day(3, 1)},
		{Service: cloud.Compute, ID: "fd8a05", FolderID: "b1g-a", Name: "image-99", Description: `the image-99 build, "quoted" and 'single'`,
			Status: "ERROR", OS: "LINUX", Size: 3 * gib, MinDiskSize: 4 * gib,
			CreatedAt: day(3, 1), Labels: map[string]string{"team": "core"}},
		{Service: cloud.Compute, ID: "fd8a06", FolderID: "b1g-a", Name: "image-990", Description: "Ünïcødé café 日本語",
			Status: "READY", Size: 4 * gib, MinDiskSize: 4 * gib, CreatedAt: day(4, 1)},
		{Service: cloud.Compute, ID: "fd8b01", FolderID: "b1g-b", Name: "ubuntu-22-04-lts-v3", Description: "Ubuntu 22.04 LTS",
			Family: "ubuntu-2204-lts", Status: "READY", OS: "LINUX", Size: 10 * gib, MinDiskSize: 12 * gib,
			CreatedAt: day(5, 1), Labels: map[string]string{"env": "prod"}},
		{Service: cloud.Compute, ID: "fd8b02", FolderID: "b1g-b", Name: "a-or-b", Description: "a OR b NEAR(x y)",
			Family: "debian-12", Status: "DELETING", OS: "LINUX", Size: 6 * gib, MinDiskSize: 6 * gib,
			CreatedAt: day(1, 1), Labels: map[string]string{"env": "dev"}},
		{Service: cloud.Desktop, ID: "d1", FolderID: "b1g-a", Name: "ubuntu-desktop", Status: "ACTIVE",
			StorageSize: 30 * gib, MinDiskSize: 40 * gib, CreatedAt: day(6, 1), Labels: map[string]string{"env": "prod"}},
		{Service: cloud.BareMetal, ID: "bm1", FolderID: "b1g-a", Name: "ubuntu-bm", Status: "READY",
			Checksum: "sha256:abc", CreatedAt: day(6, 2)},
	}
}

// fixtureStore is a store holding fixtureImages and testFolders.
func fixtureStore(t *testing.T) *Store {
	t.Helper()
	s := openTest(t)
	seed(t, s, fixtureImages())
	if err := s.SaveFolders(context.Background(), testFolders); err != nil {
		t.Fatal(err)
	}
	return s
}

// seed replaces each (service, folder) of imgs with its images.
func seed(t testing.TB, s *Store, imgs []cloud.Image) {
	t.Helper()
	type slice struct {
		svc    cloud.Service
		folder string
	}
	groups := map[slice][]cloud.Image{}
	for _, img := range imgs {
		k := slice{img.Service, img.FolderID}
		groups[k] = append(groups[k], img)
	}
	for k, g := range groups {
		if _, err := s.ReplaceFolderImages(context.Background(), k.svc, k.folder, g, day(7, 1)); err != nil {
			t.Fatalf("seed %v: %v", k, err)
		}
	}
}

// ids are the ids of imgs, in order.
func ids(imgs []cloud.Image) []string {
	out := make([]string, len(imgs))
	for i, img := range imgs {
		out[i] = img.ID
	}
	return out
}

// allImages reads every image of q (without paging), walking Next.
func allImages(t *testing.T, s *Store, q ImageQuery) []cloud.Image {
	t.Helper()
	var out []cloud.Image
	q.Limit = MaxLimit
	for {
		p, err := s.Snapshot().Images(q)
		if err != nil {
			t.Fatalf("Images(%+v): %v", q, err)
		}
		out = append(out, p.Images...)
		if p.Next == "" {
			return out
		}
		q.After = p.Next
	}
}

func sorted(xs []string) []string {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs
}
