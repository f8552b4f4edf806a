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
	OpenImageOperationIDs(ctx context.Context, svc cloud.Service, ids []string) (map[string]int64, error)
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

// markOpen sets the OpID of the rows whose image has an operation in
// flight.
func (h *Handlers) markOpen(ctx context.Context, svc cloud.Service, rows []views.ImageRow) error {
	if h.ops == nil || len(rows) == 0 {
		return nil
	}
	ids := make([]string, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	ops, err := h.ops.OpenImageOperationIDs(ctx, svc, ids)
	if err != nil {
		return err
	}
	for i := range rows {
		if id, ok := ops[rows[i].ID]; ok {
			rows[i].OpID = id
		}
	}
	return nil
}
