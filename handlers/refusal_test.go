package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/imagedash/imagedash/cloud"
)

// TestRefusalInPlainWords: a change the cloud refused is told by the
// kind's status and in the dashboard's words; the server's message (which
// names ids and internals) is never part of it. Before fault, a
// FailedPrecondition and an InvalidArgument repeated the server's text.
func TestRefusalInPlainWords(t *testing.T) {
	t.Parallel()
	const raw = "image fd8secret is in state CREATING (req 42)"
	tests := []struct {
		code       codes.Code
		wantStatus int
		wantText   string
	}{
		{codes.FailedPrecondition, http.StatusConflict, "The cloud refused"},
		{codes.AlreadyExists, http.StatusConflict, "The cloud refused"},
		{codes.InvalidArgument, http.StatusUnprocessableEntity, "The cloud refused the request as not valid"},
		{codes.NotFound, http.StatusNotFound, "does not know this image"},
		{codes.Unavailable, http.StatusServiceUnavailable, "not answering"},
		{codes.DeadlineExceeded, http.StatusGatewayTimeout, "not answering"},
		{codes.ResourceExhausted, http.StatusTooManyRequests, "limiting our requests"},
		{codes.PermissionDenied, http.StatusBadGateway, "credentials"},
		{codes.Internal, http.StatusBadGateway, "the call failed"},
	}
	for _, tt := range tests {
		st, err := status.New(tt.code, raw).WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: "name", Description: "raw violation"}}})
		if err != nil {
			t.Fatal(err)
		}
		cerr := fmt.Errorf("tracker: start: %w", cloud.FromStatus("compute.ImageService.Update", st.Err()))
		msg, code := refusal(cerr)
		if code != tt.wantStatus || !strings.Contains(msg, tt.wantText) {
			t.Errorf("%v: refusal = %d %q, want %d with %q", tt.code, code, msg, tt.wantStatus, tt.wantText)
		}
		if strings.Contains(msg, "fd8secret") || strings.Contains(msg, "req 42") || strings.Contains(msg, "ImageService") {
			t.Errorf("%v: the server's text reached the person: %q", tt.code, msg)
		}
	}
	if msg, code := refusal(errors.New("disk on fire")); code != 0 || msg != "" {
		t.Errorf("refusal(not the cloud's) = %d %q, want 0: an internal error", code, msg)
	}
}
