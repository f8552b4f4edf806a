package fault

import (
	"fmt"
	"maps"
	"time"
)

// Error is a failure with its kind, what to tell the person, and the cause
// for the log. Build one where the failure is found, with the words that
// fit there:
//
//	return fault.New(fault.NotFound, "There is no such team: it may have been deleted.").Wrap(err)
//
// Only Message and Fields are ever shown; Err (and so Error()) goes to the
// log.
type Error struct {
	Kind Kind
	// Message is for people: a sentence that says what happened and what to
	// do. "" → the kind's message.
	Message string
	// Fields are messages by form field ("name", "labels.<key>"), for a
	// form to show next to each field; Invalid's field violations.
	Fields map[string]string
	// RetryAfter overrides the kind's Retry-After; 0 → the kind's.
	RetryAfter time.Duration
	// Err is the cause, for the log and errors.Is/As; never shown.
	Err error
}

// New is an error of kind k with message for people ("" → the kind's).
func New(k Kind, message string) *Error { return &Error{Kind: k, Message: message} }

// Errorf is New with a formatted message. The arguments are formatted
// into words for people: pass names, never an error (use Wrap for the
// cause).
func Errorf(k Kind, format string, args ...any) *Error {
	return New(k, fmt.Sprintf(format, args...))
}

// Wrap sets the cause, for the log and for errors.Is/As, and returns e.
func (e *Error) Wrap(cause error) *Error {
	e.Err = cause
	return e
}

// WithFields sets the messages by field (copied) and returns e.
func (e *Error) WithFields(fields map[string]string) *Error {
	if len(fields) > 0 {
		e.Fields = maps.Clone(fields)
	}
	return e
}

// RetryIn sets the advised wait before trying again and returns e.
func (e *Error) RetryIn(d time.Duration) *Error {
	e.RetryAfter = d
	return e
}

// Error is the log's line: kind, message, cause.
func (e *Error) Error() string {
	s := e.Kind.String() + ": " + e.Say()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap is the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, &fault.Error{Kind: k}) match any error of kind k
// (a target with a Message matches only that message too).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && (t.Message == "" || t.Message == e.Message)
}

// Say is what a person reads: the message, or the kind's.
func (e *Error) Say() string {
	if e.Message != "" {
		return e.Message
	}
	return e.Kind.Message()
}

// Status is the HTTP status of the answer.
func (e *Error) Status() int { return e.Kind.Status() }

// Wait is the Retry-After of the answer: the error's, else the kind's; 0
// when none.
func (e *Error) Wait() time.Duration {
	if e.RetryAfter > 0 {
		return e.RetryAfter
	}
	return e.Kind.RetryAfter()
}
