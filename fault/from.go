package fault

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/store"
)

// sentinels are the other packages' errors and their kinds, matched with
// errors.Is in this order.
var sentinels = [...]struct {
	err  error
	kind Kind
}{
	// store
	{store.ErrNotFound, NotFound},
	{store.ErrBadCursor, BadRequest}, // a cursor this store did not make: the request, not the input
	// Arguments the store cannot use (an unknown sort column, a bad
	// service): made from the request, they are a bad request; from a form,
	// the handler has said which field first.
	{store.ErrInvalid, BadRequest},
	{store.ErrExists, Conflict},
	{store.ErrTooMany, RateLimited},
	{store.ErrFull, StorageFull},
	{store.ErrReadOnly, ReadOnly},
	{store.ErrRevoked, Unauthenticated},
	// auth
	{auth.ErrBusy, Busy},
	// cloud (a *cloud.Error matches one of these; see cloudKind for its codes)
	{cloud.ErrNotFound, NotFound},
	{cloud.ErrInvalid, Invalid},
	{cloud.ErrUnsupported, BadRequest},
	{cloud.ErrAlreadyExists, Conflict},
	{cloud.ErrFailedPrecondition, Conflict},
	// The cloud refusing the dashboard's own credentials is not the
	// person's doing: a 403 would say they may not, a 401 would send them
	// to sign in again. It is the upstream's failure.
	{cloud.ErrPermission, Upstream},
	{cloud.ErrUnauthenticated, Upstream},
	{cloud.ErrUnavailable, Unavailable},
	{cloud.ErrExhausted, RateLimited},
	// a deadline of ours ran out (a cloud call, a computation)
	{context.DeadlineExceeded, Timeout},
}

// KindOf is the kind of err: a *Error's own (the outermost), else the
// kind of the first store, cloud or auth error it wraps, else Internal.
// KindOf(nil) is Internal: check for nil first.
func KindOf(err error) Kind {
	if err == nil {
		return Internal
	}
	if fe, ok := errors.AsType[*Error](err); ok {
		return fe.Kind
	}
	if ce, ok := errors.AsType[*cloud.Error](err); ok {
		return cloudKind(ce)
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.kind
		}
	}
	return Internal
}

// cloudKind is the kind of a failed cloud call: by its sentinel, except
// the codes the sentinels lump together.
func cloudKind(ce *cloud.Error) Kind {
	switch ce.Code {
	case codes.DeadlineExceeded:
		// cloud counts it as unavailable (worth a retry); for a person it
		// is a timeout: the call may have been done.
		return Timeout
	}
	for _, s := range sentinels {
		if errors.Is(ce, s.err) {
			return s.kind
		}
	}
	return Upstream
}

// From is err as a *Error: the *Error it wraps (the outermost), or one
// made from its kind, with the kind's message, the cloud's field
// violations as Fields, and err as the cause. A cloud error's own text
// (the server's message, the call's name) stays in the cause, for the
// log: people read the table's words. From(nil) is nil.
func From(err error) *Error {
	if err == nil {
		return nil
	}
	if fe, ok := errors.AsType[*Error](err); ok {
		return fe
	}
	fe := &Error{Kind: KindOf(err), Err: err}
	if ol, ok := errors.AsType[*store.OpenLimitError](err); ok {
		fe.Message = ol.Message() // written for the person who asked, with the numbers
	}
	if nf, ok := errors.AsType[*store.NameInFlightError](err); ok {
		fe.Message = nf.Message()
	}
	if ib, ok := errors.AsType[*store.ImageBusyError](err); ok {
		fe.Message = ib.Message()
	}
	if ic, ok := errors.AsType[*store.ImageChangedError](err); ok {
		fe.Message = ic.Message()
	}
	if ce, ok := errors.AsType[*cloud.Error](err); ok && len(ce.Violations) > 0 {
		fe.Fields = make(map[string]string, len(ce.Violations))
		for _, v := range ce.Violations {
			if _, dup := fe.Fields[v.Field]; !dup {
				fe.Fields[v.Field] = v.Message
			}
		}
	}
	return fe
}

// Retried tells whether err is worth retrying unchanged: its kind's
// Retried. The tracker asks this of a failed send or poll.
func Retried(err error) bool { return err != nil && KindOf(err).Retried() }
