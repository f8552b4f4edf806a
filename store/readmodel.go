package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/readmodel"
)

// The lists, facets and families are answered from the read model, a
// snapshot of every cached image in memory (package readmodel). The store
// is its one writer: it loads it from the images table once, when opened,
// and after each committed write of images (under imageWrites, so the
// snapshots follow the commits in order) publishes the snapshot with the
// rows that write committed. Readers never touch SQL for a list.

// syncLoadMax is the most cached images Open loads before it returns;
// past it the model loads in the background and Snapshot is not Ready
// until then (the list pages say they are loading).
const syncLoadMax = 50_000

// ModelStats describes the read model, for the metrics.
type ModelStats struct {
	Version uint64 // snapshots published since the load
	Rows    int    // images in the current snapshot
	Ready   bool
	// LastPublish is how long the last published write took to apply.
	LastPublish time.Duration
	// LoadTime is how long the load from the database took.
	LoadTime time.Duration
}

// modelState is the store's side of the read model.
type modelState struct {
	m           readmodel.Model
	lastPublish atomic.Int64 // ns
	loadTime    atomic.Int64 // ns
	loadErr     atomic.Pointer[error]
	// loaded is closed when the load ended (well or not).
	loaded chan struct{}
	// stop ends a load in the background (Close); background waits for it.
	stop       chan struct{}
	stopOnce   sync.Once // Close may be called twice
	background sync.WaitGroup
}

// Snapshot is the current read model: what the lists show. It never
// changes; a later call may return a newer one. Before the images are
// loaded it is empty and not Ready.
func (s *Store) Snapshot() *readmodel.Snapshot { return s.model.m.Load() }

// ModelStats is the state of the read model.
func (s *Store) ModelStats() ModelStats {
	snap := s.Snapshot()
	return ModelStats{
		Version:     snap.Version(),
		Rows:        snap.Len(),
		Ready:       snap.Ready(),
		LastPublish: time.Duration(s.model.lastPublish.Load()),
		LoadTime:    time.Duration(s.model.loadTime.Load()),
	}
}

// WaitLoaded waits until the read model is loaded, or ctx is done; the
// error is the load's own when it failed (a load in the background is
// tried again until it succeeds: then ctx's error wraps the last failure).
func (s *Store) WaitLoaded(ctx context.Context) error {
	select {
	case <-s.model.loaded:
	case <-ctx.Done():
		if err := s.model.loadErr.Load(); err != nil {
			return fmt.Errorf("%w (the last load: %w)", ctx.Err(), *err)
		}
		return ctx.Err()
	}
	if err := s.model.loadErr.Load(); err != nil {
		return *err
	}
	return nil
}

// startModel loads the read model: now when the images are few, else in
// the background (closing the store's stop channel ends it).
func (s *Store) startModel(ctx context.Context) error {
	s.model.loaded = make(chan struct{})
	s.model.stop = make(chan struct{})
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM images`).Scan(&n); err != nil {
		return fmt.Errorf("count images: %w", err)
	}
	if n <= syncLoadMax {
		err := s.loadModel(ctx)
		close(s.model.loaded)
		return err
	}
	s.model.background.Add(1)
	go func() {
		defer s.model.background.Done()
		defer close(s.model.loaded)
		lctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-s.model.stop:
				cancel()
			case <-lctx.Done():
			}
		}()
		// A load that fails (the disk unreadable for a moment) is tried
		// again, 1 s, 2 s, … up to a minute apart, until it succeeds or the
		// store closes: the lists say "loading" meanwhile, never stay
		// empty for good. WaitLoaded reports the last failure.
		for wait := time.Second; ; wait = min(2*wait, time.Minute) {
			err := s.loadModel(lctx)
			if err == nil {
				s.model.loadErr.Store(nil)
				return
			}
			s.model.loadErr.Store(&err)
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-lctx.Done():
				t.Stop()
				return
			}
		}
	}()
	return nil
}

// loadModel reads every cached image and publishes their snapshot. Under
// imageWrites: no write commits between the read and the publish.
func (s *Store) loadModel(ctx context.Context) error {
	s.imageWrites.Lock()
	defer s.imageWrites.Unlock()
	start := time.Now()
	var rows []readmodel.Row
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		rows, err = queryRows(ctx, tx, `SELECT `+imageCols+`, i.doc FROM images i`)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: load the images: %w", err)
	}
	s.model.m.Publish(readmodel.Build(rows))
	s.model.loadTime.Store(int64(time.Since(start)))
	return nil
}

// queryRows reads the rows of a query of imageCols then doc.
func queryRows(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]readmodel.Row, error) {
	res, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	var out []readmodel.Row
	for res.Next() {
		var doc int64
		img, err := scanImage(res, &doc)
		if err != nil {
			return nil, err
		}
		out = append(out, readmodel.Row{Doc: uint32(doc), Image: img})
	}
	return out, res.Err()
}

// imageRef names one cached image.
type imageRef struct {
	svc cloud.Service
	id  string
}

// changeOf reads back, inside a write's transaction, the rows of the
// images refs names, as the Change to publish after the commit: the rows
// found are upserts, the images the snapshot has and the table no
// longer does are removals. Under imageWrites.
func (s *Store) changeOf(ctx context.Context, tx *sql.Tx, refs []imageRef) (readmodel.Change, error) {
	var ch readmodel.Change
	if len(refs) == 0 {
		return ch, nil
	}
	bySvc := map[cloud.Service][]string{}
	for _, r := range refs {
		bySvc[r.svc] = append(bySvc[r.svc], r.id)
	}
	snap := s.Snapshot()
	for svc, ids := range bySvc {
		b, err := json.Marshal(ids)
		if err != nil {
			return ch, err
		}
		// CROSS JOIN keeps json_each outside: one look-up an id.
		rows, err := queryRows(ctx, tx, `SELECT `+imageCols+`, i.doc FROM json_each(?) j
CROSS JOIN images i ON i.service = ? AND i.id = j.value`, string(b), string(svc))
		if err != nil {
			return ch, fmt.Errorf("read back the written images: %w", err)
		}
		found := make(map[string]bool, len(rows))
		for _, r := range rows {
			found[r.Image.ID] = true
		}
		ch.Upserts = append(ch.Upserts, rows...)
		for _, id := range ids {
			if found[id] {
				continue
			}
			if doc, ok := snap.DocOf(svc, id); ok {
				ch.Removes = append(ch.Removes, doc)
			}
		}
	}
	return ch, nil
}

// publish makes the snapshot after ch current. Under imageWrites, after
// the commit ch was read in. Before the model is loaded it does nothing:
// the load, which waits for imageWrites, reads the commit.
func (s *Store) publish(ch readmodel.Change) {
	if ch.Empty() {
		return
	}
	cur := s.model.m.Load()
	if !cur.Ready() {
		return
	}
	start := time.Now()
	next := cur.Apply(ch)
	if next != cur {
		s.model.m.Publish(next)
	}
	s.model.lastPublish.Store(int64(time.Since(start)))
}
