package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// Folder lifecycle (issue 18, item 4). A folder the dashboard no longer
// syncs (taken out of --folder, or gone from the cloud) must leave the lists
// at the next sync, yet what it held is kept a while: an operation or an
// audit entry about one of its images still has words to show, and a
// folder removed by mistake costs nothing. So the syncer parks it: its rows
// leave images through the same writer, in the same transaction shape, as
// the rows a listing no longer has (replaceFolderImages with an empty
// listing), so every hook that sees a removal (the in-memory index, the
// query cache, the read model's publish) sees this one, and each row is
// copied into parked_images (migration 015) on its way out. A FolderPruner
// deletes parked rows older than the retention; a folder that comes back is
// simply synced again (its first successful replace forgets its parked
// rows): the listing is the truth, and parked rows may be days old.

// ParkReason says why a folder's images were parked.
type ParkReason string

// The reasons, as parked_images.reason stores them.
const (
	// ParkUnwatched: the dashboard no longer syncs the folder (it was taken
	// out of the configuration, or out of the folders the credentials list).
	ParkUnwatched ParkReason = "unwatched"
	// ParkNotFound: the cloud answered that the folder does not exist.
	ParkNotFound ParkReason = "not-found"
	// ParkForbidden: the cloud refused the dashboard's credentials access to
	// the folder.
	ParkForbidden ParkReason = "forbidden"
)

// Valid reports a known reason.
func (r ParkReason) Valid() bool {
	return r == ParkUnwatched || r == ParkNotFound || r == ParkForbidden
}

// DefaultFolderRetention is how long the images of a folder that stopped
// being synced are kept (parked) by default.
const DefaultFolderRetention = 7 * 24 * time.Hour

// parkImageSQL copies the images row doc into parked_images. A row parked
// before (the image's folder went, came back, went again) is replaced.
const parkImageSQL = `INSERT INTO parked_images (service, id, folder_id, name, description, family, status, os,
	size, storage_size, min_disk_size, product_ids, pooled, hardware_generation, checksum, created_at, labels,
	parked_at, reason)
SELECT service, id, folder_id, name, description, family, status, os,
	size, storage_size, min_disk_size, product_ids, pooled, hardware_generation, checksum, created_at, labels,
	?1, ?2
FROM images WHERE doc = ?3
ON CONFLICT (service, id) DO UPDATE SET
	folder_id = excluded.folder_id, name = excluded.name, description = excluded.description,
	family = excluded.family, status = excluded.status, os = excluded.os, size = excluded.size,
	storage_size = excluded.storage_size, min_disk_size = excluded.min_disk_size,
	product_ids = excluded.product_ids, pooled = excluded.pooled,
	hardware_generation = excluded.hardware_generation, checksum = excluded.checksum,
	created_at = excluded.created_at, labels = excluded.labels,
	parked_at = excluded.parked_at, reason = excluded.reason`

// parking is how replaceFolderImages parks the rows it removes. A nil
// *parking parks nothing.
type parking struct {
	at     time.Time
	reason ParkReason
	tx     *sql.Tx   // the transaction stmt belongs to
	stmt   *sql.Stmt // closed with tx
}

// keep copies row doc of images into parked_images, in tx.
func (p *parking) keep(ctx context.Context, tx *sql.Tx, doc int64) error {
	if p == nil {
		return nil
	}
	if p.tx != tx { // prepared once a transaction (a retried one gets its own)
		st, err := tx.PrepareContext(ctx, parkImageSQL)
		if err != nil {
			return err
		}
		p.tx, p.stmt = tx, st
	}
	_, err := p.stmt.ExecContext(ctx, ms(p.at), string(p.reason), doc)
	return err
}

// unpark forgets the parked rows of a folder of svc.
func unpark(ctx context.Context, tx *sql.Tx, svc cloud.Service, folderID string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM parked_images WHERE service = ? AND folder_id = ?`, string(svc), folderID)
	return err
}

// ParkFolderImages takes the cached images of one folder of svc out of the
// lists, keeping them in parked_images with at and reason until the
// FolderPruner deletes them, and says how many it parked. A row an
// operation's outcome wrote after at is left, as ReplaceFolderImages
// leaves it; the next sync parks it. Parking a folder with no cached
// images does nothing, so the syncer may ask every pass.
func (s *Store) ParkFolderImages(ctx context.Context, svc cloud.Service, folderID string, reason ParkReason, at time.Time) (int, error) {
	if !reason.Valid() {
		return 0, fmt.Errorf("store: park images of %s/%s: %w: reason %q", svc, folderID, ErrInvalid, reason)
	}
	ch, err := s.replaceFolderImages(ctx, svc, folderID, nil, at, &parking{at: at, reason: reason})
	if err != nil {
		return 0, fmt.Errorf("store: park images of %s/%s: %w", svc, folderID, err)
	}
	return ch.Removed, nil
}

// ImageFolders is the ids of the folders that have cached images of svc,
// in order: one index seek a folder (any index that starts with service,
// folder_id: images_folder_name is kept for the planner's names), not a
// scan of the images, so the syncer can ask every pass.
func (s *Store) ImageFolders(ctx context.Context, svc cloud.Service) ([]string, error) {
	var ids []string
	err := s.read(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, nextImageFolderSQL)
		if err != nil {
			return err
		}
		defer st.Close()
		last := ""
		for {
			err := st.QueryRowContext(ctx, string(svc), last).Scan(&last)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			ids = append(ids, last)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("store: folders with %s images: %w", svc, err)
	}
	return ids, nil
}

// nextImageFolderSQL is the first folder after ? with cached images of a
// service: an index seek (TestImageFoldersSeeks).
const nextImageFolderSQL = `SELECT folder_id FROM images
WHERE service = ? AND folder_id > ? ORDER BY folder_id LIMIT 1`

// ParkedImage is an image whose folder stopped being synced, as it was
// then.
type ParkedImage struct {
	Image    cloud.Image
	ParkedAt time.Time
	Reason   ParkReason
}

// ParkedImage is the parked row of svc/id, or an error matching
// ErrNotFound.
func (s *Store) ParkedImage(ctx context.Context, svc cloud.Service, id string) (ParkedImage, error) {
	var (
		p        ParkedImage
		at       int64
		reason   string
		selected = `SELECT ` + imageCols + `, i.parked_at, i.reason FROM parked_images i WHERE i.service = ? AND i.id = ?`
	)
	img, err := scanImage(s.r.QueryRowContext(ctx, selected, string(svc), id), &at, &reason)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("store: parked image %s/%s: %w", svc, id, ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("store: parked image %s/%s: %w", svc, id, err)
	}
	return ParkedImage{Image: img, ParkedAt: fromMS(at), Reason: ParkReason(reason)}, nil
}

// PruneParked deletes the parked images parked before before, and says how
// many.
func (s *Store) PruneParked(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM parked_images WHERE parked_at < ?`, ms(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune parked images: %w", err)
	}
	return int(n), nil
}
