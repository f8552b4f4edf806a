package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one numbered SQL file of migrations/.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the files of fsys named NNN_what.sql, in version
// order. Versions must be unique and positive.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var migs []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and '_'", base)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		migs = append(migs, migration{version: v, name: base, sql: string(b)})
	}
	slices.SortFunc(migs, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(migs); i++ {
		if migs[i].version == migs[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", migs[i-1].name, migs[i].name, migs[i].version)
		}
	}
	return migs, nil
}

// migrate applies the embedded migrations the database lacks.
func (s *Store) migrate(ctx context.Context) error {
	migs, err := loadMigrations(migrationFS)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return s.applyMigrations(ctx, migs)
}

// applyMigrations applies each migration not yet recorded in
// schema_migrations, each in its own transaction together with its record,
// so a failed file leaves nothing behind and is retried by the next Open.
// A database that has versions this binary does not know was written by a
// newer binary, and is refused.
func (s *Store) applyMigrations(ctx context.Context, migs []migration) error {
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at INTEGER NOT NULL -- unix ms
) STRICT`
	if _, err := s.w.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	known := make(map[int]bool, len(migs))
	for _, m := range migs {
		known[m.version] = true
	}
	applied, err := s.appliedVersions(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	done := make(map[int]bool, len(applied))
	for _, v := range applied {
		if !known[v] {
			return fmt.Errorf("migrate: the database has migration %d, unknown to this binary (a newer version wrote it)", v)
		}
		done[v] = true
	}
	for _, m := range migs {
		if done[m.version] {
			// Recorded before this Open: no transaction (a start opened
			// an already migrated file with one write per migration).
			continue
		}
		err := s.tx(ctx, func(tx *sql.Tx) error {
			// Checked inside the transaction: another process may have
			// applied it since appliedVersions.
			var n int
			if err := tx.QueryRowContext(ctx,
				`SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx,
				`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, m.version, ms(s.now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: %s: %w", m.name, err)
		}
	}
	return nil
}

// appliedVersions lists the recorded migrations, in order.
func (s *Store) appliedVersions(ctx context.Context) ([]int, error) {
	rows, err := s.w.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, rows.Err()
}
