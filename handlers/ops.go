package handlers

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/views"
)

// Tracker starts the changes people ask for and cancels them.
// *tracker.Tracker satisfies it.
type Tracker interface {
	Start(ctx context.Context, who tracker.Who, batch string, in tracker.Intent) (store.Operation, error)
	StartBatch(ctx context.Context, who tracker.Who, batch string, ins []tracker.Intent) ([]store.Operation, []error, error)
	Cancel(ctx context.Context, id int64) (store.Operation, error)
}

// OpsStore is what pages read of the operations the dashboard started.
// *store.Store satisfies it. Pages and badges read only this, never the
// cloud: the tracker's watcher is the one thing that polls the cloud.
type OpsStore interface {
	Operation(ctx context.Context, id int64) (store.Operation, error)
	OperationsByID(ctx context.Context, ids []int64) ([]store.Operation, error)
	Operations(ctx context.Context, q store.OperationQuery) ([]store.Operation, error)
	OpenImageOperations(ctx context.Context, svc cloud.Service, ids []string) (map[string]store.Operation, error)
	CountOperations(ctx context.Context, folders []string, since time.Time) (store.OperationCounts, error)
	OpsGeneration() uint64
}

var (
	_ Tracker  = (*tracker.Tracker)(nil)
	_ OpsStore = (*store.Store)(nil)
)

// who is the tracker's name for the viewer of c.
func who(c echo.Context) tracker.Who {
	v := viewer(c)
	return tracker.Who{UserID: v.User.ID, Username: v.User.Username}
}

// anyOpen tells whether any operation is in flight, asking the store once
// per write to the operations: the list shows live badges only then, so
// a list with nothing in flight (the usual case, and every poll of it)
// costs no query for them.
func (h *Handlers) anyOpen(ctx context.Context) (bool, error) {
	if h.ops == nil {
		return false, nil
	}
	gen := h.ops.OpsGeneration()
	h.openMu.Lock()
	if h.openGen == gen && h.openKnown {
		open := h.openAny
		h.openMu.Unlock()
		return open, nil
	}
	h.openMu.Unlock()
	c, err := h.ops.CountOperations(ctx, nil, time.Time{})
	if err != nil {
		return false, err
	}
	h.openMu.Lock()
	h.openGen, h.openAny, h.openKnown = gen, c.InFlight > 0, true
	h.openMu.Unlock()
	return c.InFlight > 0, nil
}

// markOpen sets the OpID of the rows whose image has an operation in
// flight.
func (h *Handlers) markOpen(ctx context.Context, svc cloud.Service, rows []views.ImageRow) error {
	if open, err := h.anyOpen(ctx); err != nil || !open || len(rows) == 0 {
		return err
	}
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	ops, err := h.ops.OpenImageOperations(ctx, svc, ids)
	if err != nil {
		return err
	}
	for i := range rows {
		if o, ok := ops[rows[i].ID]; ok {
			rows[i].OpID = o.ID
		}
	}
	return nil
}
