// Package syncer keeps the local image cache fresh: it pages through the
// cloud's List calls for every (service, folder) it watches and replaces
// that slice of the cache in one transaction. Pages read from the cache and
// never wait on the cloud; the syncer is the only reader of List.
package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/store"
)

// Source is what the syncer needs from the cloud client.
type Source interface {
	AllFolders(ctx context.Context) ([]cloud.Folder, error)
	ListImages(ctx context.Context, svc cloud.Service, folderID string, opt cloud.ListOptions) ([]cloud.Image, string, error)
}

// Cache is what the syncer needs from the store.
type Cache interface {
	SaveFolders(ctx context.Context, folders []cloud.Folder) error
	ReplaceFolderImages(ctx context.Context, svc cloud.Service, folderID string, imgs []cloud.Image, at time.Time) (store.Changes, error)
	RecordSync(ctx context.Context, svc cloud.Service, folderID string, r store.SyncRecord) error
	Folders(ctx context.Context) ([]cloud.Folder, error)
	// The folder lifecycle (parking.go).
	ImageFolders(ctx context.Context, svc cloud.Service) ([]string, error)
	ParkFolderImages(ctx context.Context, svc cloud.Service, folderID string, reason store.ParkReason, at time.Time) (int, error)
}

// Config tunes a Syncer.
type Config struct {
	// Interval between full syncs (default 60s).
	Interval time.Duration
	// MinRefreshGap is the least time between two on-demand refreshes (default 10s).
	MinRefreshGap time.Duration
	// Folders to watch; empty means every folder the credentials can list.
	Folders []string
	// Services to sync; empty means all three.
	Services []cloud.Service
	// PageSize of each List call (default 1000, the API's maximum).
	PageSize int64
	Logger   *slog.Logger
	Now      func() time.Time
}

// Syncer refreshes the cache on an interval and on demand.
type Syncer struct {
	src   Source
	cache Cache
	cfg   Config

	trigger chan struct{}

	mu          sync.Mutex
	lastRefresh time.Time
	running     bool
	lastPass    Pass
}

// Pass is the outcome of one full sync.
type Pass struct {
	Started  time.Time
	Finished time.Time
	Folders  int
	Changes  store.Changes
	Failures int
	Parked   int   // images of folders no longer synced, taken out of the lists
	Err      error // the folder listing failed, so nothing was synced
}

// New makes a Syncer; call Run to start it.
func New(src Source, cache Cache, cfg Config) *Syncer {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.MinRefreshGap <= 0 {
		cfg.MinRefreshGap = 10 * time.Second
	}
	if len(cfg.Services) == 0 {
		cfg.Services = cloud.Services
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 1000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Syncer{src: src, cache: cache, cfg: cfg, trigger: make(chan struct{}, 1)}
}

// Run syncs at once, then every Interval and whenever Refresh asks, until
// ctx is done.
func (s *Syncer) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		s.SyncAll(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.trigger:
		}
	}
}

// ErrTooSoon is returned by Refresh when the last refresh was too recent.
var ErrTooSoon = errors.New("a refresh was asked for moments ago")

// Refresh asks for a sync now. It does not wait for it; it returns
// ErrTooSoon when called again within MinRefreshGap, so a button cannot
// hammer the cloud.
func (s *Syncer) Refresh() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	if !s.lastRefresh.IsZero() && now.Sub(s.lastRefresh) < s.cfg.MinRefreshGap {
		return fmt.Errorf("%w: try again in %s", ErrTooSoon, (s.cfg.MinRefreshGap - now.Sub(s.lastRefresh)).Round(time.Second))
	}
	s.lastRefresh = now
	select {
	case s.trigger <- struct{}{}:
	default: // one is already queued
	}
	return nil
}

// Running reports whether a sync pass is under way.
func (s *Syncer) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// LastPass is the outcome of the last finished pass.
func (s *Syncer) LastPass() Pass {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastPass
}

// SyncAll syncs every watched (service, folder) once. A failing folder is
// recorded and the pass goes on with the others.
func (s *Syncer) SyncAll(ctx context.Context) Pass {
	s.mu.Lock()
	s.running = true
	s.mu.Unlock()
	p := Pass{Started: s.cfg.Now()}
	defer func() {
		p.Finished = s.cfg.Now()
		s.mu.Lock()
		s.running, s.lastPass = false, p
		s.mu.Unlock()
	}()
	folders, err := s.folders(ctx)
	if err != nil {
		p.Err = err
		s.cfg.Logger.Warn("sync: list folders", "err", err)
		// Record the failure on every folder we know of, so pages show
		// that the cache is getting old and why.
		for _, f := range s.knownFolders(ctx) {
			for _, svc := range s.cfg.Services {
				s.record(ctx, svc, f, store.SyncRecord{At: p.Started, Err: err})
			}
		}
		return p
	}
	p.Parked += s.parkUnwatched(ctx, folders, p.Started)
	for _, f := range folders {
		for _, svc := range s.cfg.Services {
			if ctx.Err() != nil {
				return p
			}
			ch, err := s.SyncFolder(ctx, svc, f)
			p.Folders++
			if err != nil {
				p.Failures++
				p.Parked += s.parkGone(ctx, svc, f, err, p.Started)
				continue
			}
			p.Changes.Added += ch.Added
			p.Changes.Updated += ch.Updated
			p.Changes.Removed += ch.Removed
		}
	}
	s.cfg.Logger.Info("sync: pass done", "folders", len(folders), "added", p.Changes.Added,
		"updated", p.Changes.Updated, "removed", p.Changes.Removed, "failures", p.Failures, "parked", p.Parked,
		"took", s.cfg.Now().Sub(p.Started).Round(time.Millisecond))
	return p
}

// folders lists the watched folder ids, saving the folder list to the cache
// when it comes from the cloud.
func (s *Syncer) folders(ctx context.Context) ([]string, error) {
	all, err := s.src.AllFolders(ctx)
	if err != nil {
		return nil, fmt.Errorf("list folders: %w", err)
	}
	if err := s.cache.SaveFolders(ctx, all); err != nil {
		return nil, fmt.Errorf("save folders: %w", err)
	}
	if len(s.cfg.Folders) > 0 {
		return s.cfg.Folders, nil
	}
	ids := make([]string, len(all))
	for i, f := range all {
		ids[i] = f.ID
	}
	return ids, nil
}

// knownFolders is the watched folders when configured, else the folders
// the cache learnt from the last successful listing.
func (s *Syncer) knownFolders(ctx context.Context) []string {
	if len(s.cfg.Folders) > 0 {
		return s.cfg.Folders
	}
	cached, err := s.cache.Folders(ctx)
	if err != nil {
		s.cfg.Logger.Error("sync: read cached folders", "err", err)
		return nil
	}
	ids := make([]string, len(cached))
	for i, f := range cached {
		ids[i] = f.ID
	}
	return ids
}

// SyncFolder pages through one (service, folder) and replaces its slice of
// the cache. On failure the cached rows stay and the error is recorded.
func (s *Syncer) SyncFolder(ctx context.Context, svc cloud.Service, folderID string) (store.Changes, error) {
	start := s.cfg.Now()
	var all []cloud.Image
	token := ""
	for {
		imgs, next, err := s.src.ListImages(ctx, svc, folderID, cloud.ListOptions{PageSize: s.cfg.PageSize, PageToken: token})
		if err != nil {
			err = fmt.Errorf("sync %s images of folder %s: %w", svc, folderID, err)
			s.cfg.Logger.Warn("sync: list images", "service", svc, "folder", folderID, "err", err)
			s.record(ctx, svc, folderID, store.SyncRecord{At: start, Err: err})
			return store.Changes{}, err
		}
		all = append(all, imgs...)
		if next == "" {
			break
		}
		token = next
	}
	ch, err := s.cache.ReplaceFolderImages(ctx, svc, folderID, all, start)
	if err != nil {
		err = fmt.Errorf("sync %s images of folder %s: %w", svc, folderID, err)
		s.record(ctx, svc, folderID, store.SyncRecord{At: start, Err: err})
		return store.Changes{}, err
	}
	s.record(ctx, svc, folderID, store.SyncRecord{At: start, Count: len(all)})
	return ch, nil
}

func (s *Syncer) record(ctx context.Context, svc cloud.Service, folderID string, r store.SyncRecord) {
	if err := s.cache.RecordSync(ctx, svc, folderID, r); err != nil {
		s.cfg.Logger.Error("sync: record state", "service", svc, "folder", folderID, "err", err)
	}
}
