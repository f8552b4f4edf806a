package store

import (
	"context"
	"fmt"
	"time"
)

// DefaultAuditRetention is how long audit entries are kept by default.
const DefaultAuditRetention = 400 * 24 * time.Hour

// AuditPrunerConfig configures a AuditPruner (see PrunerConfig).
type AuditPrunerConfig = PrunerConfig

// AuditPruner deletes the audit entries older than the retention, once at
// start and then every so often, until its context ends. Started by main.
type AuditPruner struct {
	st  *Store
	cfg AuditPrunerConfig
}

// NewAuditPruner makes an AuditPruner over st: entries whose last time is
// older than cfg.Retention are deleted (0 is DefaultAuditRetention). A
// retention below MinAuditRetention is an error (the log would refuse the
// deletes).
func NewAuditPruner(st *Store, cfg AuditPrunerConfig) (*AuditPruner, error) {
	if cfg.Retention == 0 {
		cfg.Retention = DefaultAuditRetention
	}
	if cfg.Retention < MinAuditRetention {
		return nil, fmt.Errorf("store: audit retention %v: %w: at least %v", cfg.Retention, ErrInvalid, MinAuditRetention)
	}
	cfg = cfg.withDefaults()
	return &AuditPruner{st: st, cfg: cfg}, nil
}

// Retention is how long entries are kept.
func (p *AuditPruner) Retention() time.Duration { return p.cfg.Retention }

// Prune deletes the entries older than the retention now, and says how many.
func (p *AuditPruner) Prune(ctx context.Context) (int, error) {
	return p.st.PruneAudit(ctx, p.cfg.Now().Add(-p.cfg.Retention), 0)
}

// Run prunes until ctx ends; a failed prune is logged and tried again
// next time. It returns nil.
func (p *AuditPruner) Run(ctx context.Context) error {
	return runPrunes(ctx, p.cfg, p.Prune, "audit prune failed", "audit entries past retention deleted")
}
