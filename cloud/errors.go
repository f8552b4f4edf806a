package cloud

import (
	"errors"
	"fmt"

	"github.com/imagedash/imagedash/rules"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Sentinel kinds of error. A *Error matches one of them with errors.Is.
var (
	ErrNotFound           = errors.New("not found")
	ErrInvalid            = errors.New("invalid argument")
	ErrAlreadyExists      = errors.New("already exists")
	ErrFailedPrecondition = errors.New("failed precondition")
	ErrPermission         = errors.New("permission denied")
	ErrUnauthenticated    = errors.New("unauthenticated")
	ErrUnavailable        = errors.New("cloud unavailable")
	ErrExhausted          = errors.New("resource exhausted")
)

// Error is a failed call to the cloud, translated once from a gRPC status.
type Error struct {
	Op         string            // the call, e.g. "compute.ImageService.Get"
	Code       codes.Code        // the gRPC code
	Message    string            // the server's message
	Violations []rules.Violation // field violations from google.rpc.BadRequest details
	kind       error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.Op, e.Code, e.Message)
}

// Is makes errors.Is(err, ErrNotFound) and friends work.
func (e *Error) Is(target error) bool { return e.kind != nil && target == e.kind }

// Unwrap exposes the kind, so %w chains keep it.
func (e *Error) Unwrap() error { return e.kind }

// FromStatus turns an error returned by a gRPC call into an *Error; a nil
// error stays nil, and a non-status error (a cancelled context, say) is
// wrapped with the call's name.
func FromStatus(op string, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", op, err)
	}
	e := &Error{Op: op, Code: st.Code(), Message: st.Message(), kind: kindOf(st.Code())}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, fv := range br.GetFieldViolations() {
				e.Violations = append(e.Violations, rules.Violation{Field: fv.GetField(), Message: fv.GetDescription()})
			}
		}
	}
	return e
}

func kindOf(c codes.Code) error {
	switch c {
	case codes.NotFound:
		return ErrNotFound
	case codes.InvalidArgument, codes.OutOfRange:
		return ErrInvalid
	case codes.AlreadyExists:
		return ErrAlreadyExists
	case codes.FailedPrecondition, codes.Aborted:
		return ErrFailedPrecondition
	case codes.PermissionDenied:
		return ErrPermission
	case codes.Unauthenticated:
		return ErrUnauthenticated
	case codes.Unavailable, codes.DeadlineExceeded:
		return ErrUnavailable
	case codes.ResourceExhausted:
		return ErrExhausted
	}
	return nil
}
