package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// migrated is a freshly migrated database file, made once per test
// process: migrating takes about 250 ms under the race detector, a copy
// of the file a millisecond, and the package opens a few hundred stores.
var migrated struct {
	once sync.Once
	db   []byte
	err  error
}

// migratedFile is the bytes of an empty, migrated database.
func migratedFile() ([]byte, error) {
	migrated.once.Do(func() {
		dir, err := os.MkdirTemp("", "imagedash-migrated-")
		if err != nil {
			migrated.err = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "imagedash.db")
		s, err := Open(context.Background(), path)
		if err != nil {
			migrated.err = err
			return
		}
		if err := s.Close(); err != nil { // checkpoints the log into the file
			migrated.err = err
			return
		}
		migrated.db, migrated.err = os.ReadFile(path)
	})
	return migrated.db, migrated.err
}

// openTest opens a store on a fresh file in the test's temp dir: a copy
// of an empty migrated one (see migrated).
func openTest(tb testing.TB) *Store {
	tb.Helper()
	db, err := migratedFile()
	if err != nil {
		tb.Fatalf("migrated database: %v", err)
	}
	path := filepath.Join(tb.TempDir(), "imagedash.db")
	if err := os.WriteFile(path, db, 0o600); err != nil {
		tb.Fatal(err)
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// genEpoch is the creation time of the first generated image.
var genEpoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// genFamilies are the families of generated Compute images.
var genFamilies = []string{
	"ubuntu-2204-lts", "ubuntu-2404-lts", "ubuntu-2004-lts", "debian-11", "debian-12",
	"centos-stream-9", "almalinux-9", "rocky-linux-9", "fedora-40", "opensuse-15",
	"windows-2019-dc", "windows-2022-dc", "container-optimized-image", "gpu-ubuntu-2204",
	"kubernetes-node", "nat-instance-ubuntu", "gitlab-ce", "postgresql-16", "clickhouse",
	"redis-7", "nginx-lts", "jenkins", "vault", "consul", "nomad", "grafana", "prometheus",
	"elastic-8", "kafka-3", "airflow", "minio", "mysql-8", "mongodb-7", "rabbitmq",
	"haproxy", "wireguard", "openvpn", "bitrix", "wordpress", "lamp",
}

// genImages builds n deterministic images of svc spread over folders. Ten
// images share each created_at (ties for the keyset tests); most are READY.
func genImages(svc cloud.Service, folders []string, n int) []cloud.Image {
	rng := rand.New(rand.NewPCG(42, uint64(n)))
	imgs := make([]cloud.Image, n)
	for i := range imgs {
		fam := genFamilies[rng.IntN(len(genFamilies))]
		st := "READY"
		switch r := rng.IntN(100); {
		case r < 4:
			st = "CREATING"
		case r < 7:
			st = "ERROR"
		case r < 9:
			st = "DELETING"
		}
		osName := "LINUX"
		if strings.HasPrefix(fam, "windows") {
			osName = "WINDOWS"
		}
		labels := map[string]string{
			"env":  [...]string{"prod", "stage", "dev"}[rng.IntN(3)],
			"team": fmt.Sprintf("team-%d", rng.IntN(8)),
		}
		if rng.IntN(10) == 0 {
			labels["gpu"] = ""
		}
		size := int64(rng.IntN(40)+1) << 30
		imgs[i] = cloud.Image{
			Service:     svc,
			ID:          fmt.Sprintf("fd8%017d", i),
			FolderID:    folders[i%len(folders)],
			Name:        fmt.Sprintf("%s-v%d", fam, i),
			Description: fmt.Sprintf("%s image build %d", fam, i),
			Labels:      labels,
			Family:      fam,
			Status:      st,
			OS:          osName,
			Size:        size,
			StorageSize: size * int64(3+i%7) / 10, // derived from i, not rng: the rest of the data stays as it was
			MinDiskSize: size + 1<<30,
			Checksum:    fmt.Sprintf("%032x", (i%97)*7919),
			ProductIDs:  []string{fmt.Sprintf("f2e%05d", rng.IntN(50))},
			CreatedAt:   genEpoch.Add(time.Duration(i/10) * time.Minute),
		}
	}
	return imgs
}

// byFolder groups images by folder id.
func byFolder(imgs []cloud.Image) map[string][]cloud.Image {
	m := make(map[string][]cloud.Image)
	for _, img := range imgs {
		m[img.FolderID] = append(m[img.FolderID], img)
	}
	return m
}
