package store

import (
	"context"
	"fmt"
	"time"
)

// FolderPrunerConfig configures a FolderPruner (see PrunerConfig).
type FolderPrunerConfig = PrunerConfig

// FolderPruner deletes the images of folders that stopped being synced
// once they have been parked longer than the retention: once at start and
// then every so often, until its context ends. Started by main. The age
// is the parked_at the database keeps, so a restart neither forgets a
// parking nor restarts its clock.
type FolderPruner struct {
	st  *Store
	cfg FolderPrunerConfig
}

// NewFolderPruner makes a FolderPruner over st: images parked longer than
// cfg.Retention ago are deleted (0 is DefaultFolderRetention). A negative
// retention is an error.
func NewFolderPruner(st *Store, cfg FolderPrunerConfig) (*FolderPruner, error) {
	if cfg.Retention < 0 {
		return nil, fmt.Errorf("store: folder retention %v: %w: not negative", cfg.Retention, ErrInvalid)
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultFolderRetention
	}
	cfg = cfg.withDefaults()
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
	return runPrunes(ctx, p.cfg, p.Prune, "prune of parked folder images failed", "images of folders no longer synced deleted past retention")
}
