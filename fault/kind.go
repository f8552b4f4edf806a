// Package fault is the dashboard's one error vocabulary: a table of kinds
// of failure, each with the HTTP status it is answered with, the message a
// person reads when nothing more precise was said, and whether the call is
// worth retrying; an error type that carries a kind, a message for people
// and the cause for the log; and the mapping of the store's, the cloud's
// and auth's errors into kinds.
//
// Every boundary translates once (store: SQLite → store errors; cloud:
// gRPC status → *cloud.Error), and fault translates those into kinds, so
// that web renders every error through one table and the tracker asks one
// question (Kind.Retried) whatever the error came from.
//
// fault imports store, cloud and auth to recognise their errors; none of
// them imports fault (they sit below it), so there is no cycle. Packages
// above them (handlers, web, tracker, planner) build and read faults.
package fault

import (
	"net/http"
	"time"
)

// Kind is a kind of failure. The zero Kind is Internal, so a zero Error
// fails closed: a 500 with no detail.
type Kind int

// The kinds. Add one here and in kinds below; TestKinds checks that every
// kind has its row.
const (
	Internal        Kind = iota // a fault of ours: a bug, the database broke
	BadRequest                  // the request is malformed: an unknown parameter value, a stale cursor
	Invalid                     // what was entered breaks a rule: messages per field
	Unauthenticated             // no session, or it ended: sign in again
	Forbidden                   // signed in, but this person may not do this
	NotFound                    // nothing at this address (or nothing this person may see)
	NotAllowed                  // the address exists, not with this method
	SlowRequest                 // the client sent its body slower than the read timeout
	Conflict                    // the resource's state does not allow it (already exists, wrong state)
	TooLarge                    // the body is over the limit
	Misdirected                 // the Host is not one of ours (DNS rebinding)
	RateLimited                 // too many at once, of this person's or of ours at the cloud
	Upstream                    // the cloud answered with an error that is not the person's
	Unavailable                 // a dependency (the cloud, a part of this server) is not there now
	ReadOnly                    // the database cannot be written now
	Busy                        // this server is busy (password hashing) for a few seconds
	Timeout                     // the cloud or a computation did not answer in time
	StorageFull                 // the database or its disk is full
	numKinds
)

// row is one kind's line in the table.
type row struct {
	name    string
	status  int
	message string
	// retried: the same call, repeated later unchanged, may well succeed;
	// the tracker retries these with backoff, a person is told to try again.
	retried bool
	// retryAfter is the Retry-After an answer of this kind carries unless
	// the error says otherwise; 0 = none.
	retryAfter time.Duration
}

// kinds is the table. It is never written: an array, indexed by Kind.
var kinds = [numKinds]row{
	Internal:        {"internal", http.StatusInternalServerError, "Something went wrong on our side; it has been logged.", false, 0},
	BadRequest:      {"bad request", http.StatusBadRequest, "The dashboard cannot read this request. Go back and try again from the page.", false, 0},
	Invalid:         {"invalid", http.StatusUnprocessableEntity, "Some of what was entered is not valid, so nothing was saved: see what each field needs.", false, 0},
	Unauthenticated: {"unauthenticated", http.StatusUnauthorized, "Your session has ended. Sign in again.", false, 0},
	Forbidden:       {"forbidden", http.StatusForbidden, "You may not do this.", false, 0},
	NotFound:        {"not found", http.StatusNotFound, "There is no page at this address.", false, 0},
	NotAllowed:      {"method not allowed", http.StatusMethodNotAllowed, "This address does not take this kind of request.", false, 0},
	SlowRequest: {"slow request", http.StatusRequestTimeout,
		"The request came in too slowly and the dashboard stopped waiting for it, so nothing was saved. Check the connection and try again.", false, 0},
	Conflict: {"conflict", http.StatusConflict,
		"This cannot be done in the current state of the resource, so nothing was changed. Reload the page to see its state.", false, 0},
	TooLarge: {"too large", http.StatusRequestEntityTooLarge,
		"This request is larger than the dashboard accepts, so nothing was saved. Send less at once.", false, 0},
	Misdirected: {"misdirected", http.StatusMisdirectedRequest,
		"This dashboard does not answer under this host name. Open it at its own address (ask the operator, who can add it with --public-url).", false, 0},
	RateLimited: {"rate limited", http.StatusTooManyRequests,
		"Too many requests at once, so nothing was done. Wait a little, then try again.", true, 30 * time.Second},
	Upstream: {"upstream", http.StatusBadGateway,
		"The cloud could not do this: the call failed. Nothing was changed; it has been logged.", false, 0},
	Unavailable: {"unavailable", http.StatusServiceUnavailable,
		"Could not reach the cloud: it is not answering right now. Try again in a moment.", true, 0},
	ReadOnly: {"read-only", http.StatusServiceUnavailable,
		"The dashboard's database cannot be written just now, so nothing was saved. Ask the operator; try again later.", false, 0},
	Busy: {"busy", http.StatusServiceUnavailable,
		"Many people are signing in or setting passwords at this moment, so nothing was saved. Try again in a few seconds.", true, 5 * time.Second},
	Timeout: {"timeout", http.StatusGatewayTimeout,
		"The cloud did not answer in time. Try again in a moment; the operations page shows whether anything was started.", true, 0},
	StorageFull: {"storage full", http.StatusInsufficientStorage,
		"The dashboard's database is full, so nothing was saved. Ask the operator to free disk space, then try again.", false, 0},
}

func (k Kind) row() row {
	if k < 0 || k >= numKinds {
		return kinds[Internal]
	}
	return kinds[k]
}

// String is the kind's name, for logs and metrics labels.
func (k Kind) String() string { return k.row().name }

// Status is the HTTP status a request that failed this way is answered with.
func (k Kind) Status() int { return k.row().status }

// Message is what a person reads when the error says nothing more precise.
func (k Kind) Message() string { return k.row().message }

// Retried tells whether the same call, repeated later unchanged, may
// succeed: the tracker retries these (with backoff, the same idempotency
// key); everything else is final.
func (k Kind) Retried() bool { return k.row().retried }

// RetryAfter is the wait an answer of this kind advises (Retry-After); 0
// when none.
func (k Kind) RetryAfter() time.Duration { return k.row().retryAfter }

// ForStatus is the kind answered with status, for errors that carry only a
// status (Echo's own: route not found, method not allowed, body limit);
// Internal for a status no kind has. When two kinds share a status, the
// first in the table wins (503 → Unavailable).
func ForStatus(status int) Kind {
	for k := range numKinds {
		if kinds[k].status == status {
			return k
		}
	}
	if status >= 400 && status < 500 {
		return BadRequest
	}
	return Internal
}
