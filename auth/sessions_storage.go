package auth

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/imagedash/imagedash/store"
)

// StorageFault reports whether err is the store refusing a write for lack
// of room or permission (store.ErrFull, store.ErrReadOnly). Such a write on
// the way to reading a page (a session's activity, clearing shown flashes)
// is skipped, so a full disk leaves everyone able to read what is stored;
// the first skip of a run of them is logged at warn, what follows at debug,
// until a write of the store goes through again. what says which write.
func (st *SessionStore) StorageFault(ctx context.Context, what string, err error) bool {
	if !errors.Is(err, store.ErrFull) && !errors.Is(err, store.ErrReadOnly) {
		return false
	}
	st.storage.failed(ctx, what, err)
	return true
}

// storageWarning logs a storage fault once per run of them.
type storageWarning struct {
	log     *slog.Logger
	failing atomic.Bool
}

func (w *storageWarning) failed(ctx context.Context, what string, err error) {
	if w.failing.CompareAndSwap(false, true) {
		w.log.WarnContext(ctx, "sessions: cannot "+what+"; pages are served from what is stored until the database can be written", "err", err)
		return
	}
	w.log.DebugContext(ctx, "sessions: cannot "+what, "err", err)
}

func (w *storageWarning) recovered(ctx context.Context) {
	if w.failing.CompareAndSwap(true, false) {
		w.log.InfoContext(ctx, "sessions: the database can be written again")
	}
}
