package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// DefaultAuditRetention is how long audit entries are kept by default.
const DefaultAuditRetention = 400 * 24 * time.Hour

// AuditPrunerConfig configures an AuditPruner. Zero fields take the defaults.
type AuditPrunerConfig struct {
	// Retention: entries whose last time is older are deleted (default
	// DefaultAuditRetention, at least MinAuditRetention).
	Retention time.Duration
	// Every is the pause between prunes (default 1 h).
	Every  time.Duration
	Logger *slog.Logger
	// Now and After are the clock (default time.Now and time.After).
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
}

// AuditPruner deletes the audit entries older than the retention, once at
// start and then every so often, until its context ends. Started by main.
type AuditPruner struct {
	st  *Store
	cfg AuditPrunerConfig
}

// NewAuditPruner makes an AuditPruner over st. A retention below
// MinAuditRetention is an error (the log would refuse the deletes).
func NewAuditPruner(st *Store, cfg AuditPrunerConfig) (*AuditPruner, error) {
	if cfg.Retention == 0 {
		cfg.Retention = DefaultAuditRetention
	}
	if cfg.Retention < MinAuditRetention {
		return nil, fmt.Errorf("store: audit retention %v: %w: at least %v", cfg.Retention, ErrInvalid, MinAuditRetention)
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
	for {
		n, err := p.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			p.cfg.Logger.WarnContext(ctx, "audit prune failed", "err", err)
		case n > 0:
			p.cfg.Logger.InfoContext(ctx, "audit entries past retention deleted", "n", n, "retention", p.cfg.Retention)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.cfg.After(p.cfg.Every):
		}
	}
}
