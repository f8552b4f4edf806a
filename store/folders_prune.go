package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// FolderPrunerConfig configures a FolderPruner. Zero fields take the
// defaults.
type FolderPrunerConfig struct {
	// Retention: parked images (folders_parking.go) parked longer ago are
	// deleted (default DefaultFolderRetention).
	Retention time.Duration
	// Every is the pause between prunes (default 1 h).
	Every  time.Duration
	Logger *slog.Logger
	// Now and After are the clock (default time.Now and time.After).
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
}

// FolderPruner deletes the images of folders that stopped being synced
// once they have been parked longer than the retention: once at start and
// then every so often, until its context ends. Started by main. The age
// is the parked_at the database keeps, so a restart neither forgets a
// parking nor restarts its clock.
type FolderPruner struct {
	st  *Store
	cfg FolderPrunerConfig
}

// NewFolderPruner makes a FolderPruner over st. A negative retention is an
// error.
func NewFolderPruner(st *Store, cfg FolderPrunerConfig) (*FolderPruner, error) {
	if cfg.Retention < 0 {
		return nil, fmt.Errorf("store: folder retention %v: %w: not negative", cfg.Retention, ErrInvalid)
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultFolderRetention
	}
	if cfg.Every <= 0 {
		cfg.Every = time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	return &FolderPruner{st: st, cfg: cfg}, nil
}

// Retention is how long parked images are kept.
func (p *FolderPruner) Retention() time.Duration { return p.cfg.Retention }

// Prune deletes the images parked longer than the retention now, and says
// how many.
func (p *FolderPruner) Prune(ctx context.Context) (int, error) {
	return p.st.PruneParked(ctx, p.cfg.Now().Add(-p.cfg.Retention))
}

// Run prunes until ctx ends; a failed prune is logged and tried again next
// time. It returns nil.
func (p *FolderPruner) Run(ctx context.Context) error {
	for {
		n, err := p.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			p.cfg.Logger.WarnContext(ctx, "prune of parked folder images failed", "err", err)
		case n > 0:
			p.cfg.Logger.InfoContext(ctx, "images of folders no longer synced deleted past retention", "n", n, "retention", p.cfg.Retention)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.cfg.After(p.cfg.Every):
		}
	}
}
