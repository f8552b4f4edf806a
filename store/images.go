package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/readmodel"
)

// Changes counts what a ReplaceFolderImages did to the cache.
type Changes struct {
	Added     int // new to the folder (including images moved in from another folder)
	Updated   int // present before, with some field changed
	Removed   int // in the cache, missing from the listing
	Unchanged int // present before and equal: not written
	Newer     int // written after the listing began (by an operation's outcome): left as it is
}

// imageCols are the columns scanImage reads, in its order, for the alias i.
const imageCols = `i.service, i.id, i.folder_id, i.name, i.description, i.family, i.status, i.os,
	i.size, i.storage_size, i.min_disk_size, i.product_ids, i.pooled, i.hardware_generation,
	i.checksum, i.created_at, i.labels`

// The statements of an imageWriter, in the caller's transaction.
const (
	insertImageSQL = `INSERT INTO images (service, id, folder_id, name, description, family, status, os,
	size, storage_size, min_disk_size, product_ids, pooled, hardware_generation, checksum,
	created_at, labels, fingerprint, synced_at, written_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (service, id) DO NOTHING`
	// updateImageSQL takes the same arguments as insertImageSQL, then doc;
	// service and id are not written (they are the doc's key).
	updateImageSQL = `UPDATE images SET folder_id = ?3, name = ?4, description = ?5, family = ?6,
	status = ?7, os = ?8, size = ?9, storage_size = ?10, min_disk_size = ?11, product_ids = ?12,
	pooled = ?13, hardware_generation = ?14, checksum = ?15, created_at = ?16, labels = ?17,
	fingerprint = ?18, synced_at = ?19, written_at = ?20
WHERE doc = ?21`
	findImageSQL   = `SELECT doc FROM images WHERE service = ? AND id = ?`
	deleteImageSQL = `DELETE FROM images WHERE doc = ?`
)

// imageWriter writes images through statements prepared once per
// transaction. (Their search text and labels are indexed by the read
// model, from the rows the write commits: see readmodel.go.)
type imageWriter struct {
	ctx                       context.Context
	find, insert, update, del *sql.Stmt
}

func newImageWriter(ctx context.Context, tx *sql.Tx) (*imageWriter, error) {
	w := &imageWriter{ctx: ctx}
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&w.find, findImageSQL}, {&w.insert, insertImageSQL}, {&w.update, updateImageSQL},
		{&w.del, deleteImageSQL},
	} {
		st, err := tx.PrepareContext(ctx, p.sql)
		if err != nil {
			w.Close()
			return nil, err
		}
		*p.stmt = st
	}
	return w, nil
}

// Close closes the prepared statements.
func (w *imageWriter) Close() {
	for _, st := range []*sql.Stmt{w.find, w.insert, w.update, w.del} {
		if st != nil {
			st.Close()
		}
	}
}

// doc finds the row of an image key; ok is false when it is not cached.
func (w *imageWriter) doc(svc cloud.Service, id string) (doc int64, ok bool, err error) {
	err = w.find.QueryRowContext(w.ctx, string(svc), id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return doc, err == nil, err
}

// put writes r over row doc when exists, else as a new row: synced at
// at, and by an operation's outcome at written (zero: by a sync).
func (w *imageWriter) put(r imageRow, at, written time.Time, doc int64, exists bool) error {
	e, err := r.encode()
	if err != nil {
		return err
	}
	args := r.args(e, at, written)
	if !exists {
		res, err := w.insert.ExecContext(w.ctx, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 1 {
			return nil
		}
		// The key is cached after all (the caller did not look): update it.
		if doc, exists, err = w.doc(r.img.Service, r.img.ID); err != nil {
			return err
		}
		if !exists {
			return fmt.Errorf("image %q: insert conflicted with no row", r.img.ID)
		}
	}
	_, err = w.update.ExecContext(w.ctx, append(args, doc)...)
	return err
}

// remove deletes row doc, the image svc/id.
func (w *imageWriter) remove(doc int64, svc cloud.Service, id string) error {
	_, err := w.del.ExecContext(w.ctx, doc)
	return err
}

// imageRow is an image on its way to the images table, with the
// fingerprint that tells whether the cached row differs.
type imageRow struct {
	img         cloud.Image
	fingerprint int64
}

func newImageRow(img cloud.Image) imageRow {
	return imageRow{img: img, fingerprint: fingerprint(img)}
}

// fingerprint is a 64-bit FNV-1a of every stored field of img (labels by
// key), each length-prefixed, so that a changed field (almost surely)
// changes it. Computing it costs no JSON: most rows of a sync are
// unchanged and never encoded.
func fingerprint(img cloud.Image) int64 {
	h := fnv.New64a()
	var buf [8]byte
	num := func(v int64) {
		binary.LittleEndian.PutUint64(buf[:], uint64(v))
		h.Write(buf[:])
	}
	str := func(s string) {
		num(int64(len(s)))
		io.WriteString(h, s)
	}
	str(string(img.Service))
	str(img.ID)
	str(img.FolderID)
	str(img.Name)
	str(img.Description)
	str(img.Family)
	str(img.Status)
	str(img.OS)
	num(img.Size)
	num(img.StorageSize)
	num(img.MinDiskSize)
	num(int64(len(img.ProductIDs)))
	for _, p := range img.ProductIDs {
		str(p)
	}
	num(b2i(img.Pooled))
	str(img.HardwareGeneration)
	str(img.Checksum)
	num(ms(img.CreatedAt))
	num(int64(len(img.Labels)))
	for _, k := range slices.Sorted(maps.Keys(img.Labels)) {
		str(k)
		str(img.Labels[k])
	}
	return int64(h.Sum64())
}

// encodedImage is an imageRow's JSON columns.
type encodedImage struct {
	productIDs string // JSON array
	labels     string // JSON object, keys sorted
}

func (r imageRow) encode() (encodedImage, error) {
	e := encodedImage{productIDs: "[]", labels: "{}"}
	if len(r.img.ProductIDs) > 0 {
		b, err := json.Marshal(r.img.ProductIDs)
		if err != nil {
			return e, err
		}
		e.productIDs = string(b)
	}
	if len(r.img.Labels) > 0 {
		b, err := json.Marshal(r.img.Labels)
		if err != nil {
			return e, err
		}
		e.labels = string(b)
	}
	return e, nil
}

// args binds r to insertImageSQL.
func (r imageRow) args(e encodedImage, syncedAt, writtenAt time.Time) []any {
	i := r.img
	return []any{string(i.Service), i.ID, i.FolderID, i.Name, i.Description, i.Family, i.Status, i.OS,
		i.Size, i.StorageSize, i.MinDiskSize, e.productIDs, b2i(i.Pooled), i.HardwareGeneration,
		i.Checksum, ms(i.CreatedAt), e.labels, r.fingerprint, ms(syncedAt), ms(writtenAt)}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanImage reads the imageCols of one row, followed by extra destinations.
func scanImage(sc scanner, extra ...any) (cloud.Image, error) {
	var (
		img               cloud.Image
		svc, pids, labels string
		createdAt         int64
	)
	dest := append([]any{&svc, &img.ID, &img.FolderID, &img.Name, &img.Description, &img.Family,
		&img.Status, &img.OS, &img.Size, &img.StorageSize, &img.MinDiskSize, &pids, &img.Pooled,
		&img.HardwareGeneration, &img.Checksum, &createdAt, &labels}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return img, err
	}
	img.Service = cloud.Service(svc)
	img.CreatedAt = fromMS(createdAt)
	if pids != "[]" && pids != "" {
		if err := json.Unmarshal([]byte(pids), &img.ProductIDs); err != nil {
			return img, fmt.Errorf("image %s: product_ids: %w", img.ID, err)
		}
	}
	if labels != "{}" && labels != "" {
		if err := json.Unmarshal([]byte(labels), &img.Labels); err != nil {
			return img, fmt.Errorf("image %s: labels: %w", img.ID, err)
		}
	}
	return img, nil
}

// checkImage reports an image the cache cannot key.
func checkImage(img cloud.Image) error {
	switch {
	case !img.Service.Valid():
		return fmt.Errorf("image %q: %w: unknown service %q", img.ID, ErrInvalid, img.Service)
	case img.ID == "":
		return fmt.Errorf("%w: image without an id", ErrInvalid)
	case img.FolderID == "":
		return fmt.Errorf("image %q: %w: no folder id", img.ID, ErrInvalid)
	}
	return nil
}

// ReplaceFolderImages makes the cached images of one folder of one service
// equal to imgs, a complete listing taken at at, in one transaction: new
// images are inserted, changed ones updated, missing ones deleted; rows
// that did not change are not written. An image whose Service or FolderID
// is empty is taken as svc's and folderID's; one of another service or
// folder is an ErrInvalid. When an id occurs twice the last one wins.
//
// A row an operation's outcome wrote after at (UpsertImage,
// FinishOperation) is newer than the listing and is left alone, and so
// is the absence of an image such an outcome removed after at (DeleteImage,
// FinishOperation): otherwise a copy started while a sync was listing
// would vanish from the cache, or its READY turn back to CREATING, and a
// deleted image come back, until the next sync. (A clock stepped back by
// Δ spares those rows for Δ longer; rows a sync wrote are never spared.)
//
// A successful replace also forgets the folder's parked rows
// (folders_parking.go): a folder that came back is what its listing says.
func (s *Store) ReplaceFolderImages(ctx context.Context, svc cloud.Service, folderID string, imgs []cloud.Image, at time.Time) (Changes, error) {
	return s.replaceFolderImages(ctx, svc, folderID, imgs, at, nil)
}

// replaceFolderImages is ReplaceFolderImages; with park set, each row it
// removes is first copied to parked_images (ParkFolderImages), in the same
// transaction, and the folder's earlier parked rows are kept.
func (s *Store) replaceFolderImages(ctx context.Context, svc cloud.Service, folderID string, imgs []cloud.Image, at time.Time, park *parking) (Changes, error) {
	var ch Changes
	if !svc.Valid() || folderID == "" {
		return ch, fmt.Errorf("store: replace folder images: %w: service %q, folder %q", ErrInvalid, svc, folderID)
	}
	// Encode outside the transaction: the writer lock is held only for SQL.
	rows := make([]imageRow, 0, len(imgs))
	index := make(map[string]int, len(imgs))
	for _, img := range imgs {
		if img.Service == "" {
			img.Service = svc
		}
		if img.FolderID == "" {
			img.FolderID = folderID
		}
		if img.Service != svc || img.FolderID != folderID {
			return ch, fmt.Errorf("store: replace folder images of %s/%s: %w: image %q is of %s/%s",
				svc, folderID, ErrInvalid, img.ID, img.Service, img.FolderID)
		}
		if err := checkImage(img); err != nil {
			return ch, fmt.Errorf("store: replace folder images: %w", err)
		}
		r := newImageRow(img)
		if i, ok := index[img.ID]; ok {
			rows[i] = r
			continue
		}
		index[img.ID] = len(rows)
		rows = append(rows, r)
	}

	// Held until the read model has the change (readmodel.go).
	s.imageWrites.Lock()
	defer s.imageWrites.Unlock()
	var published readmodel.Change
	err := s.tx(ctx, func(tx *sql.Tx) error {
		ch = Changes{}
		if park == nil {
			if err := unpark(ctx, tx, svc, folderID); err != nil {
				return fmt.Errorf("forget parked images: %w", err)
			}
		}
		have, err := folderRows(ctx, tx, svc, folderID)
		if err != nil {
			return fmt.Errorf("read folder: %w", err)
		}
		removed, err := removedSince(ctx, tx, svc, at)
		if err != nil {
			return fmt.Errorf("read removals: %w", err)
		}
		// Sort the work out first (see imageWriter on the order).
		type change struct {
			doc int64
			row *imageRow // nil: remove
			id  string
		}
		var (
			changes []change
			added   []*imageRow
		)
		for i := range rows {
			r := &rows[i]
			old, ok := have[r.img.ID]
			delete(have, r.img.ID)
			switch {
			case !ok && removed[r.img.ID]:
				ch.Newer++ // removed since the listing began
			case !ok:
				added = append(added, r)
			case old.writtenAt > ms(at):
				ch.Newer++
			case old.fingerprint == r.fingerprint:
				ch.Unchanged++
			default:
				ch.Updated++
				changes = append(changes, change{doc: old.doc, row: r})
			}
		}
		for id, old := range have {
			if old.writtenAt > ms(at) {
				ch.Newer++
				continue
			}
			ch.Removed++
			changes = append(changes, change{doc: old.doc, id: id})
		}
		ch.Added = len(added)
		// New to this folder, but maybe cached in another: those move here.
		moved, err := cachedDocs(ctx, tx, svc, added)
		if err != nil {
			return fmt.Errorf("find moved images: %w", err)
		}
		if len(moved) > 0 {
			fresh := added[:0]
			for _, r := range added {
				if old, ok := moved[r.img.ID]; ok {
					if old.writtenAt > ms(at) {
						ch.Added--
						ch.Newer++
						continue
					}
					changes = append(changes, change{doc: old.doc, row: r})
					continue
				}
				fresh = append(fresh, r)
			}
			added = fresh
		}
		slices.SortFunc(changes, func(a, b change) int { return cmp.Compare(a.doc, b.doc) })

		w, err := newImageWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.Close()
		for _, c := range changes {
			if c.row == nil {
				if err := park.keep(ctx, tx, c.doc); err != nil {
					return fmt.Errorf("park image %q: %w", c.id, err)
				}
				if err := w.remove(c.doc, svc, c.id); err != nil {
					return fmt.Errorf("delete image %q: %w", c.id, err)
				}
				continue
			}
			if err := w.put(*c.row, at, time.Time{}, c.doc, true); err != nil {
				return fmt.Errorf("write image %q: %w", c.row.img.ID, err)
			}
		}
		for _, r := range added {
			if err := w.put(*r, at, time.Time{}, 0, false); err != nil {
				return fmt.Errorf("write image %q: %w", r.img.ID, err)
			}
		}
		refs := make([]imageRef, 0, len(changes)+len(added))
		for _, c := range changes {
			id := c.id
			if c.row != nil {
				id = c.row.img.ID
			}
			refs = append(refs, imageRef{svc, id})
		}
		for _, r := range added {
			refs = append(refs, imageRef{svc, r.img.ID})
		}
		// A read-back that fails fails the write: the model must have
		// every commit.
		published, err = s.changeOf(ctx, tx, refs)
		return err
	})
	if err != nil {
		return Changes{}, fmt.Errorf("store: replace images of %s/%s: %w", svc, folderID, err)
	}
	s.publish(published) // a sync that changed nothing (the usual case) publishes nothing
	return ch, nil
}

// removedByOperation notes that an operation's outcome removed an image
// at at, so that a sync whose listing began before does not bring it back.
func removedByOperation(ctx context.Context, tx *sql.Tx, svc cloud.Service, id string, at time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO image_removals (service, id, removed_at) VALUES (?, ?, ?)
ON CONFLICT (service, id) DO UPDATE SET removed_at = excluded.removed_at`, string(svc), id, ms(at))
	if err != nil {
		return fmt.Errorf("note the removal of %s/%s: %w", svc, id, err)
	}
	return nil
}

// removalKeep is how long a removal is noted: longer than any listing.
const removalKeep = time.Hour

// removedSince is the ids of svc an operation's outcome removed after at,
// forgetting the removals older than removalKeep before at.
func removedSince(ctx context.Context, tx *sql.Tx, svc cloud.Service, at time.Time) (map[string]bool, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM image_removals WHERE removed_at < ?`, ms(at.Add(-removalKeep))); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM image_removals WHERE service = ? AND removed_at > ?`, string(svc), ms(at))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids map[string]bool
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if ids == nil {
			ids = map[string]bool{}
		}
		ids[id] = true
	}
	return ids, rows.Err()
}

// cachedRow is what ReplaceFolderImages needs of a cached image.
type cachedRow struct {
	doc         int64
	fingerprint int64
	writtenAt   int64 // ms: when an operation's outcome wrote it; 0: a sync
}

// folderRows maps the ids of a folder's cached images to their rows.
func folderRows(ctx context.Context, tx *sql.Tx, svc cloud.Service, folderID string) (map[string]cachedRow, error) {
	rows, err := tx.QueryContext(ctx,
		`SELECT id, doc, fingerprint, written_at FROM images WHERE service = ? AND folder_id = ?`, string(svc), folderID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := make(map[string]cachedRow)
	for rows.Next() {
		var (
			id string
			r  cachedRow
		)
		if err := rows.Scan(&id, &r.doc, &r.fingerprint, &r.writtenAt); err != nil {
			return nil, err
		}
		m[id] = r
	}
	return m, rows.Err()
}

// cachedDocs maps the ids of rows that are cached (in any folder of svc)
// to their rows, in one statement.
func cachedDocs(ctx context.Context, tx *sql.Tx, svc cloud.Service, rows []*imageRow) (map[string]cachedRow, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.img.ID
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	// CROSS JOIN keeps json_each outside: parsed once, one look-up an id.
	res, err := tx.QueryContext(ctx, `SELECT i.id, i.doc, i.fingerprint, i.written_at FROM json_each(?) j
CROSS JOIN images i ON i.service = ? AND i.id = j.value`, string(b), string(svc))
	if err != nil {
		return nil, err
	}
	defer res.Close()
	m := make(map[string]cachedRow)
	for res.Next() {
		var (
			id string
			r  cachedRow
		)
		if err := res.Scan(&id, &r.doc, &r.fingerprint, &r.writtenAt); err != nil {
			return nil, err
		}
		m[id] = r
	}
	return m, res.Err()
}

// UpsertImage writes one image (after an operation finished, say), moving
// it to its folder if it was cached in another.
func (s *Store) UpsertImage(ctx context.Context, img cloud.Image) error {
	if err := checkImage(img); err != nil {
		return fmt.Errorf("store: upsert image: %w", err)
	}
	r := newImageRow(img)
	err := s.imageTx(ctx, []imageRef{{img.Service, img.ID}}, func(tx *sql.Tx) error {
		w, err := newImageWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.Close()
		doc, ok, err := w.doc(img.Service, img.ID)
		if err != nil {
			return err
		}
		now := s.now()
		return w.put(r, now, now, doc, ok)
	})
	if err != nil {
		return fmt.Errorf("store: upsert image %s/%s: %w", img.Service, img.ID, err)
	}
	return nil
}

// DeleteImage removes one image from the cache. Removing an image that is
// not cached is not an error: the cache already says what it should.
func (s *Store) DeleteImage(ctx context.Context, svc cloud.Service, id string) error {
	err := s.imageTx(ctx, []imageRef{{svc, id}}, func(tx *sql.Tx) error {
		w, err := newImageWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.Close()
		doc, ok, err := w.doc(svc, id)
		if err != nil {
			return err
		}
		if ok {
			if err := w.remove(doc, svc, id); err != nil {
				return err
			}
		}
		// Noted even when not cached: a sync listing now may have it.
		return removedByOperation(ctx, tx, svc, id, s.now())
	})
	if err != nil {
		return fmt.Errorf("store: delete image %s/%s: %w", svc, id, err)
	}
	return nil
}

// Image is one cached image, or an error matching ErrNotFound.
func (s *Store) Image(ctx context.Context, svc cloud.Service, id string) (cloud.Image, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+imageCols+` FROM images i WHERE i.service = ? AND i.id = ?`,
		string(svc), id)
	img, err := scanImage(row)
	if errors.Is(err, sql.ErrNoRows) {
		return cloud.Image{}, fmt.Errorf("store: image %s/%s: %w", svc, id, ErrNotFound)
	}
	if err != nil {
		return cloud.Image{}, fmt.Errorf("store: image %s/%s: %w", svc, id, err)
	}
	return img, nil
}
