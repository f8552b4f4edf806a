package sim

import (
	"fmt"
	"strings"

	"github.com/imagedash/imagedash/rules"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// invalid answers InvalidArgument with the violations as google.rpc.BadRequest
// details, the way the real API reports bad fields.
func invalid(vs []rules.Violation) error {
	msgs := make([]string, len(vs))
	br := &errdetails.BadRequest{}
	for i, v := range vs {
		msgs[i] = v.Field + ": " + v.Message
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Message})
	}
	st := status.New(codes.InvalidArgument, "Request validation error: "+strings.Join(msgs, "; "))
	if d, err := st.WithDetails(br); err == nil {
		st = d
	}
	return st.Err()
}

// check collects violations from several rules and answers invalid if any.
func check(groups ...[]rules.Violation) error {
	var all []rules.Violation
	for _, g := range groups {
		all = append(all, g...)
	}
	if len(all) == 0 {
		return nil
	}
	return invalid(all)
}

func notFound(kind, id string) error {
	return status.Errorf(codes.NotFound, "%s %s not found", kind, id)
}

func alreadyExists(kind, name, folderID string) error {
	return status.Errorf(codes.AlreadyExists, "%s with name %q already exists in folder %s", kind, name, folderID)
}

func failedPrecondition(format string, a ...any) error {
	return status.Error(codes.FailedPrecondition, fmt.Sprintf(format, a...))
}
