package sim

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/yandex-cloud/go-genproto/yandex/cloud/baremetal/v1alpha"
	clouddesktop "github.com/yandex-cloud/go-genproto/yandex/cloud/clouddesktop/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/compute/v1"
	"github.com/yandex-cloud/go-genproto/yandex/cloud/resourcemanager/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The demo organisation: one cloud, a shared folder of golden images that
// teams copy from, and a folder per team.
const (
	demoCloud    = "demo-cloud"
	goldenFolder = "golden-images"
)

var demoFolders = []struct{ name, description, team string }{
	{goldenFolder, "Shared golden images, built by the platform team", "platform"},
	{"team-alpha", "Team Alpha: web services", "alpha"},
	{"team-beta", "Team Beta: data pipelines", "beta"},
	{"team-gamma", "Team Gamma: Windows desktops", "gamma"},
	{"sandbox", "Playground for experiments", "sandbox"},
}

// seedEpoch is "now" for the seeded history, fixed so a seed always makes
// the same data whatever the day.
var seedEpoch = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

type family struct {
	name, title, os string
	sizeGiB         int // typical size
	products        []string
}

var families = []family{
	{"ubuntu-2204-lts", "Ubuntu 22.04 LTS", "LINUX", 8, nil},
	{"ubuntu-2404-lts", "Ubuntu 24.04 LTS", "LINUX", 9, nil},
	{"debian-12", "Debian 12 bookworm", "LINUX", 5, nil},
	{"debian-11", "Debian 11 bullseye", "LINUX", 5, nil},
	{"centos-stream-9", "CentOS Stream 9", "LINUX", 10, nil},
	{"almalinux-9", "AlmaLinux 9", "LINUX", 10, nil},
	{"rocky-9", "Rocky Linux 9", "LINUX", 10, nil},
	{"fedora-40", "Fedora 40", "LINUX", 7, nil},
	{"container-optimized-image", "Container Optimized Image", "LINUX", 4, nil},
	{"nat-instance-ubuntu-2204", "NAT instance on Ubuntu 22.04", "LINUX", 3, nil},
	{"gpu-ubuntu-2204-cuda", "Ubuntu 22.04 with CUDA 12", "LINUX", 24, []string{"f2ecuda12licence000x"}},
	{"windows-2019-dc", "Windows Server 2019 Datacenter", "WINDOWS", 28, []string{"f2ewin2019dc00000000"}},
	{"windows-2022-dc", "Windows Server 2022 Datacenter", "WINDOWS", 30, []string{"f2ewin2022dc00000000"}},
	{"sqlserver-2022-std", "SQL Server 2022 Standard on Windows 2022", "WINDOWS", 40, []string{"f2ewin2022dc00000000", "f2esqlsrv2022std0000"}},
}

var (
	envs        = []string{"prod", "staging", "dev", "test"}
	owners      = []string{"platform", "alpha", "beta", "gamma", "secops", "ml"}
	builders    = []string{"packer", "buildkite", "github-actions", "manual"}
	costCenters = []string{"cc-1001", "cc-1002", "cc-2001", "cc-3003"}
)

// seed fills an empty emulator with the demo data set for n Compute images
// (n < 0: folders and sources only).
func (s *Sim) seed(n int) {
	r := s.rng
	cloud := &resourcemanager.Cloud{
		Id: newID(r, prefixCloud), Name: demoCloud, Description: "imagedash demo cloud",
		CreatedAt: timestamppb.New(seedEpoch.AddDate(-3, 0, 0)), OrganizationId: "bpfdemoorganization0",
	}
	s.clouds = []*resourcemanager.Cloud{cloud}
	for i, df := range demoFolders {
		f := &resourcemanager.Folder{
			Id: newID(r, prefixFolder), CloudId: cloud.Id, Name: df.name, Description: df.description,
			CreatedAt: timestamppb.New(seedEpoch.AddDate(-2, i, 0)),
			Labels:    map[string]string{"team": df.team},
			Status:    resourcemanager.Folder_ACTIVE,
		}
		if df.name == goldenFolder {
			f.Labels["shared"] = "true"
		}
		s.folders = append(s.folders, f)
		for j := 0; j < 3; j++ {
			fam := families[(i*3+j)%len(families)]
			size := int64(fam.sizeGiB) << 30
			d := Source{ID: newID(r, prefixDisk), FolderID: f.Id, Name: fmt.Sprintf("%s-disk-%d", df.name, j+1), Size: size, OS: fam.os}
			s.disks[d.ID] = d
			sn := Source{ID: newID(r, prefixSnapshot), FolderID: f.Id, Name: fmt.Sprintf("%s-snap-%d", df.name, j+1), Size: size, OS: fam.os}
			s.snapshots[sn.ID] = sn
			dk := Source{ID: newID(r, prefixDesktopVM), FolderID: f.Id, Name: fmt.Sprintf("%s-desktop-%d", df.name, j+1), Size: 32 << 30, OS: "WINDOWS"}
			s.desktops[dk.ID] = dk
		}
	}
	if n < 0 {
		return
	}
	s.compute.appendSorted(s.seedCompute(n))
	small := max(5, n/20)
	s.desktop.appendSorted(s.seedDesktop(small))
	s.baremetal.appendSorted(s.seedBareMetal(small))
}

// folderFor spreads images: half in the golden folder, the rest over the others.
func (s *Sim) folderFor(i int) *resourcemanager.Folder {
	if i%2 == 0 {
		return s.folders[0]
	}
	return s.folders[1+(i/2)%(len(s.folders)-1)]
}

func (s *Sim) seedCompute(n int) []*computeImage {
	r := s.rng
	out := make([]*computeImage, 0, n)
	for i := 0; i < n; i++ {
		fam := families[i%len(families)]
		f := s.folderFor(i)
		created := seedEpoch.Add(-time.Duration(n-i) * 7 * time.Minute)
		size := int64(fam.sizeGiB)<<30 + r.Int64N(2<<30)
		storage := size * int64(40+r.IntN(30)) / 100
		minDisk := (size>>30 + 1 + int64(r.IntN(8))) << 30
		env := envs[r.IntN(len(envs))]
		img := &computeImage{
			Id:       newID(r, prefixCompute),
			FolderId: f.Id,
			// The index keeps names unique in a folder however many images there are.
			Name:        fmt.Sprintf("%s-v%s-%d", fam.name, created.Format("20060102"), i),
			Description: fmt.Sprintf("%s, %s build %d by %s for %s", fam.title, env, 1000+i, builders[r.IntN(len(builders))], owners[r.IntN(len(owners))]),
			Labels: map[string]string{
				"env":         env,
				"owner":       owners[r.IntN(len(owners))],
				"cost-center": costCenters[r.IntN(len(costCenters))],
				"os":          familyOS(fam),
			},
			Family:      fam.name,
			Size:        size,
			StorageSize: storage,
			MinDiskSize: minDisk,
			ProductIds:  append([]string(nil), fam.products...),
			Status:      compute.Image_READY,
			Os:          &compute.Os{Type: compute.Os_Type(compute.Os_Type_value[fam.os])},
			Pooled:      r.IntN(10) == 0,
			CreatedAt:   timestamppb.New(created),
		}
		if r.IntN(4) == 0 {
			img.Labels["approved"] = "true"
		}
		if r.IntN(100) == 0 {
			img.Status = compute.Image_ERROR
		}
		if r.IntN(3) == 0 {
			img.HardwareGeneration = &compute.HardwareGeneration{Features: &compute.HardwareGeneration_Generation2Features{Generation2Features: &compute.Generation2HardwareFeatures{}}}
		} else {
			img.HardwareGeneration = &compute.HardwareGeneration{Features: &compute.HardwareGeneration_LegacyFeatures{LegacyFeatures: &compute.LegacyHardwareFeatures{PciTopology: compute.PCITopology_PCI_TOPOLOGY_V2}}}
		}
		out = append(out, img)
	}
	return out
}

func familyOS(f family) string {
	if f.os == "WINDOWS" {
		return "windows"
	}
	return "linux"
}

func (s *Sim) seedDesktop(n int) []*desktopImage {
	r := s.rng
	out := make([]*desktopImage, 0, n)
	for i := 0; i < n; i++ {
		f := s.folderFor(i)
		created := seedEpoch.Add(-time.Duration(n-i) * 3 * time.Hour)
		size := int64(20+r.IntN(30)) << 30
		kind := []string{"office", "dev", "design", "support"}[i%4]
		out = append(out, &desktopImage{
			Id:          newID(r, prefixDesktop),
			FolderId:    f.Id,
			Name:        fmt.Sprintf("desktop-%s-%d", kind, i),
			Description: fmt.Sprintf("Cloud Desktop image for %s work", kind),
			Labels:      map[string]string{"purpose": kind, "env": envs[r.IntN(len(envs))]},
			Status:      clouddesktop.DesktopImage_ACTIVE,
			StorageSize: size * 6 / 10,
			MinDiskSize: size,
			CreatedAt:   timestamppb.New(created),
		})
	}
	return out
}

func (s *Sim) seedBareMetal(n int) []*baremetalImage {
	r := s.rng
	out := make([]*baremetalImage, 0, n)
	for i := 0; i < n; i++ {
		f := s.folderFor(i)
		created := seedEpoch.Add(-time.Duration(n-i) * 5 * time.Hour)
		fam := families[i%8] // Linux families only
		name := fmt.Sprintf("bm-%s-%d", fam.name, i)
		sum := md5.Sum([]byte(name))
		out = append(out, &baremetalImage{
			Id:          newID(r, prefixBareMetal),
			FolderId:    f.Id,
			Name:        name,
			Description: fmt.Sprintf("%s for bare metal servers", fam.title),
			Checksum:    hex.EncodeToString(sum[:]),
			Status:      baremetal.Image_READY,
			Labels:      map[string]string{"env": envs[r.IntN(len(envs))], "family": fam.name},
			CreatedAt:   timestamppb.New(created),
		})
	}
	return out
}
