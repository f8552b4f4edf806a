// Package store is the only package of imagedash that speaks SQL. It keeps
// the image cache (images, their labels, a full-text index, folders and the
// state of each folder's sync) in one SQLite file, through the pure-Go
// modernc.org/sqlite driver.
//
// A Store holds two pools on the same file: one writer connection whose
// transactions begin IMMEDIATE (so writers queue on the lock instead of
// failing half-way), and a pool of query-only readers that WAL lets run
// beside the writer. Schema changes are numbered SQL files under
// migrations/, applied once each by Open.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/imagedash/imagedash/readmodel"
)

// The store's error vocabulary. Match with errors.Is; each is wrapped with
// what was being done.
var (
	// ErrNotFound: no row has that key.
	ErrNotFound = errors.New("not found")
	// ErrBadCursor: a paging cursor was not made by this store for this
	// sort order (a 400 for the handler).
	ErrBadCursor = readmodel.ErrBadCursor
	// ErrInvalid: the arguments make no sense (unknown sort column or
	// service, empty key, an image of another folder...).
	ErrInvalid = readmodel.ErrInvalid
	// ErrReadOnly: the database file, or the directory that must hold its
	// journal files (-wal, -shm), cannot be written (a 503 for the handler;
	// at start, Open fails with it and names the path).
	ErrReadOnly = errors.New("the database cannot be written (read-only)")
	// ErrFull: a write found no room, on the disk or under the database's
	// size limit; it was rolled back whole, nothing half-written (a 507).
	ErrFull = errors.New("the database or its disk is full")
)

// dsnPragmas are the per-connection settings, busy_timeout first so that
// the others never fail with SQLITE_BUSY.
const dsnPragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"

// Store is the SQLite database of the dashboard. It is safe for concurrent use.
type Store struct {
	// imageWrites runs the writes of images (imageTx,
	// ReplaceFolderImages) one at a time, from their transaction to the
	// publication of the read model's next snapshot, so that snapshots
	// follow the commits in order.
	imageWrites sync.Mutex
	// model is the read model the lists are answered from (readmodel.go).
	model modelState
	path  string
	w     *sql.DB // one connection, BEGIN IMMEDIATE
	r     *sql.DB // query-only readers
	now   func() time.Time
	// meta holds the folders and the sync states (meta.go).
	meta metaCache
	// peopleGen counts writes to users, teams and folder sharing, so that
	// callers may cache what they derive from them (see PeopleGeneration).
	peopleGen atomic.Uint64
	// opsGen counts writes to the operations (see OpsGeneration).
	opsGen atomic.Uint64
	// openGen counts the writes that change which images the open
	// operations target; openOps is the snapshot of them (OpenImageOperationIDs).
	openGen atomic.Uint64
	openOps openOps
	// sessGen counts writes to the sessions; sessions caches the rows
	// read since (see LoadSession).
	sessGen  atomic.Uint64
	sessions sessionCache
	// prefsGen counts writes to the list preferences; prefs caches the
	// ones read since (see Prefs).
	prefsGen atomic.Uint64
	prefs    prefsCache
}

// Open opens (creating when needed) the database file at path and applies
// the migrations it lacks. The error names the path when the file cannot
// be opened or written.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("store: open %q: %w: want a file path", path, ErrInvalid)
	}
	base := "file:" + uriPath(path) + "?" + dsnPragmas
	// Both pools get a 64 MiB page cache (the default is 2 MiB, less than
	// the indexes of 100 000 images): the writer's makes a cold load of a
	// large sync about 30 % faster, the readers' keeps the hot indexes in
	// memory. Readers also map the file (256 MiB), so a page the cache lost
	// is read from the OS page cache without a copy through read(2).
	w, err := sql.Open("sqlite", base+"&_pragma=cache_size(-65536)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)

	r, err := sql.Open("sqlite", base+"&_pragma=cache_size(-65536)&_pragma=mmap_size(268435456)&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	r.SetConnMaxLifetime(0)

	s := &Store{path: path, w: w, r: r, now: time.Now}
	if err := s.init(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, openError(path, err))
	}
	if err := s.startModel(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return s, nil
}

// openError explains why Open failed when the cause is that the file or
// its directory cannot be written (SQLite only says "unable to open
// database file" or "attempt to write a readonly database"): ErrReadOnly,
// naming what is read-only. Other errors are returned as they are.
func openError(path string, err error) error {
	code := sqlitePrimary(err)
	if !errors.Is(err, ErrReadOnly) && code != sqlite3.SQLITE_READONLY && code != sqlite3.SQLITE_CANTOPEN && code != sqlite3.SQLITE_PERM {
		return err
	}
	cause := err
	if errors.Is(err, ErrReadOnly) {
		cause = nil // IsReadOnly said so: nothing more from SQLite
	}
	// access(2) answers for this process, as the kernel will: root passes a
	// chmod but not a read-only mount. The journal files take the database
	// file's mode when SQLite creates them, so they may be read-only too.
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if _, serr := os.Stat(p); serr == nil && syscall.Access(p, 2 /* W_OK */) != nil {
			return fmt.Errorf("%w: the file %s cannot be written%s", ErrReadOnly, p, because(cause))
		}
	}
	if dir := filepath.Dir(path); syscall.Access(dir, 2|1 /* W_OK|X_OK */) != nil {
		return fmt.Errorf("%w: the directory %s cannot be written, and the database needs to create its file or "+
			"its journal files (-wal, -shm) there%s", ErrReadOnly, dir, because(cause))
	}
	if cause == nil || code == sqlite3.SQLITE_READONLY {
		return fmt.Errorf("%w: the file or its file system is read-only%s", ErrReadOnly, because(cause))
	}
	return err
}

// because is " (err)", or "" for a nil err.
func because(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

// sqlitePrimary is the primary SQLite result code of err (0 when err is
// not from SQLite): the extended code's low byte.
func sqlitePrimary(err error) int { return sqliteCode(err) & 0xff }

// storageError marks a failed write whose cause is the storage itself:
// ErrFull (SQLITE_FULL: no space on the disk or over max_page_count) or
// ErrReadOnly (the file became read-only under us). Others pass as they are.
func storageError(err error) error {
	switch sqlitePrimary(err) {
	case sqlite3.SQLITE_FULL:
		return fmt.Errorf("%w: free disk space, then try again; the write was rolled back: %w", ErrFull, err)
	case sqlite3.SQLITE_READONLY:
		return fmt.Errorf("%w: %w", ErrReadOnly, err)
	}
	return err
}

// SetMaxPages limits the database to n pages (PRAGMA max_page_count on
// the writer connection) and returns the limit in force: SQLite never sets
// it below the current size, so n ≤ 1 means "no more pages than now". It
// exists for tests, to make a write find the disk full (SQLITE_FULL)
// without filling a disk; the limit lasts until it is raised or the store
// is closed. "No more pages than now" first vacuums the file: a full disk
// has no free pages inside the file either (a fresh database has some, from
// the tables migrations drop), so every write that needs a page fails.
func (s *Store) SetMaxPages(ctx context.Context, n int64) (int64, error) {
	if n <= 1 {
		if _, err := s.w.ExecContext(ctx, "VACUUM"); err != nil {
			return 0, fmt.Errorf("store: vacuum before max_page_count: %w", err)
		}
	}
	var got int64
	if err := s.w.QueryRowContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", max(n, 1))).Scan(&got); err != nil {
		return 0, fmt.Errorf("store: set max_page_count: %w", err)
	}
	return got, nil
}

// init checks that the file is a writable database and migrates it.
func (s *Store) init(ctx context.Context) error {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return err
	}
	err = conn.Raw(func(dc any) error {
		ro, ok := dc.(interface{ IsReadOnly(string) (bool, error) })
		if !ok {
			return nil
		}
		readOnly, err := ro.IsReadOnly("main")
		if err != nil {
			return err
		}
		if readOnly {
			return ErrReadOnly
		}
		return nil
	})
	if cerr := conn.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := s.migrate(ctx); err != nil {
		return err
	}
	// Let the planner refresh statistics it finds stale; cheap when fresh.
	if _, err := s.w.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	return nil
}

// uriPath escapes the characters that end or change a path in an SQLite
// URI filename.
func uriPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// Close runs PRAGMA optimize (so the next start has fresh statistics) and
// closes both pools.
func (s *Store) Close() error {
	s.model.stopOnce.Do(func() { close(s.model.stop) })
	s.model.background.Wait()
	_, oerr := s.w.Exec("PRAGMA optimize")
	err := errors.Join(s.r.Close(), s.w.Close())
	if err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	if oerr != nil {
		return fmt.Errorf("store: close %s: optimize: %w", s.path, oerr)
	}
	return nil
}

// tx runs fn in a write transaction (BEGIN IMMEDIATE on the single writer
// connection) and commits when fn returns nil. Any error or panic rolls back.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", storageError(err))
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return storageError(err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", storageError(err))
	}
	return nil
}

// read runs fn in a read transaction on a reader connection, so every
// query in fn sees the same snapshot.
func (s *Store) read(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to commit
	return fn(tx)
}

// ms is t as unix milliseconds; the zero time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS is the inverse of ms: 0 is the zero time, others are UTC.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// nullMS is ms for a nullable column.
func nullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}
