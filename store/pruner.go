package store

import (
	"context"
	"log/slog"
	"time"
)

// PrunerConfig configures a pruner of the store (AuditPruner,
// FolderPruner). Zero fields take the defaults.
type PrunerConfig struct {
	// Retention: what is older is deleted (each pruner has its default).
	Retention time.Duration
	// Every is the pause between prunes (default 1 h).
	Every  time.Duration
	Logger *slog.Logger
	// Now and After are the clock (default time.Now and time.After).
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
}

// withDefaults fills c's zero fields but Retention.
func (c PrunerConfig) withDefaults() PrunerConfig {
	if c.Every <= 0 {
		c.Every = time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.After == nil {
		c.After = time.After
	}
	return c
}

// runPrunes calls prune once now and then every c.Every until ctx ends; a
// failed prune is logged (failed) and tried again next time, one that
// deleted something is logged (deleted, with the count). It returns nil.
func runPrunes(ctx context.Context, c PrunerConfig, prune func(context.Context) (int, error), failed, deleted string) error {
	for {
		n, err := prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			c.Logger.WarnContext(ctx, failed, "err", err)
		case n > 0:
			c.Logger.InfoContext(ctx, deleted, "n", n, "retention", c.Retention)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.After(c.Every):
		}
	}
}
