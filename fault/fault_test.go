package fault_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/store"
)

// TestKinds is the table itself: each kind's status, whether it is
// retried and its Retry-After, and that every kind has a message.
func TestKinds(t *testing.T) {
	tests := []struct {
		give       fault.Kind
		wantStatus int
		wantRetry  bool
		wantAfter  time.Duration
	}{
		{fault.Internal, http.StatusInternalServerError, false, 0},
		{fault.BadRequest, http.StatusBadRequest, false, 0},
		{fault.Invalid, http.StatusUnprocessableEntity, false, 0},
		{fault.Unauthenticated, http.StatusUnauthorized, false, 0},
		{fault.Forbidden, http.StatusForbidden, false, 0},
		{fault.NotFound, http.StatusNotFound, false, 0},
		{fault.NotAllowed, http.StatusMethodNotAllowed, false, 0},
		{fault.SlowRequest, http.StatusRequestTimeout, false, 0},
		{fault.Conflict, http.StatusConflict, false, 0},
		{fault.TooLarge, http.StatusRequestEntityTooLarge, false, 0},
		{fault.Misdirected, http.StatusMisdirectedRequest, false, 0},
		{fault.RateLimited, http.StatusTooManyRequests, true, 30 * time.Second},
		{fault.Upstream, http.StatusBadGateway, false, 0},
		{fault.Unavailable, http.StatusServiceUnavailable, true, 0},
		{fault.ReadOnly, http.StatusServiceUnavailable, false, 0},
		{fault.Busy, http.StatusServiceUnavailable, true, 5 * time.Second},
		{fault.Timeout, http.StatusGatewayTimeout, true, 0},
		{fault.StorageFull, http.StatusInsufficientStorage, false, 0},
	}
	seen := map[fault.Kind]bool{}
	for _, tt := range tests {
		seen[tt.give] = true
		if got := tt.give.Status(); got != tt.wantStatus {
			t.Errorf("%v.Status() = %d, want %d", tt.give, got, tt.wantStatus)
		}
		if got := tt.give.Retried(); got != tt.wantRetry {
			t.Errorf("%v.Retried() = %v, want %v", tt.give, got, tt.wantRetry)
		}
		if got := tt.give.RetryAfter(); got != tt.wantAfter {
			t.Errorf("%v.RetryAfter() = %v, want %v", tt.give, got, tt.wantAfter)
		}
		if msg := tt.give.Message(); !strings.HasSuffix(msg, ".") || strings.ToUpper(msg[:1]) != msg[:1] {
			t.Errorf("%v.Message() = %q, want a sentence", tt.give, msg)
		}
		if tt.give.String() == "" {
			t.Errorf("kind %d has no name", tt.give)
		}
	}
	// Every kind up to the first without a name has a row in this test.
	for k := fault.Kind(0); k.String() != fault.Internal.String() || k == 0; k++ {
		if !seen[k] {
			t.Errorf("kind %d (%v) is not in this test", k, k)
		}
	}
}

// TestForStatus: Echo's own errors carry only a status.
func TestForStatus(t *testing.T) {
	tests := []struct {
		give int
		want fault.Kind
	}{
		{http.StatusNotFound, fault.NotFound},
		{http.StatusMethodNotAllowed, fault.NotAllowed},
		{http.StatusRequestEntityTooLarge, fault.TooLarge},
		{http.StatusServiceUnavailable, fault.Unavailable},
		{http.StatusUnsupportedMediaType, fault.BadRequest},
		{http.StatusTeapot, fault.BadRequest},
		{599, fault.Internal},
	}
	for _, tt := range tests {
		if got := fault.ForStatus(tt.give); got != tt.want {
			t.Errorf("ForStatus(%d) = %v, want %v", tt.give, got, tt.want)
		}
	}
}

// cloudErr is a failed call as the cloud client returns it.
func cloudErr(c codes.Code, msg string, violations ...string) error {
	st := status.New(c, msg)
	if len(violations) > 0 {
		br := &errdetails.BadRequest{}
		for i := 0; i+1 < len(violations); i += 2 {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: violations[i], Description: violations[i+1]})
		}
		var err error
		if st, err = st.WithDetails(br); err != nil {
			panic(err)
		}
	}
	return cloud.FromStatus("compute.ImageService.Update", st.Err())
}

// TestKindOf maps every error the other packages define to its kind,
// bare and wrapped with context.
func TestKindOf(t *testing.T) {
	tests := []struct {
		name string
		give error
		want fault.Kind
	}{
		{"nil", nil, fault.Internal},
		{"plain", errors.New("boom"), fault.Internal},
		{"fault", fault.New(fault.Conflict, "x"), fault.Conflict},
		{"fault wrapping a store error", fault.New(fault.Forbidden, "").Wrap(store.ErrNotFound), fault.Forbidden},
		{"store not found", store.ErrNotFound, fault.NotFound},
		{"store bad cursor", store.ErrBadCursor, fault.BadRequest},
		{"store invalid", store.ErrInvalid, fault.BadRequest},
		{"store exists", store.ErrExists, fault.Conflict},
		{"store too many", store.ErrTooMany, fault.RateLimited},
		{"store open limit", &store.OpenLimitError{Open: 5, Asked: 1, Limit: 5}, fault.RateLimited},
		{"store image busy", &store.ImageBusyError{Images: []store.BusyImage{{ImageID: "i", Operation: 3}}}, fault.Conflict},
		{"store full", store.ErrFull, fault.StorageFull},
		{"store read-only", store.ErrReadOnly, fault.ReadOnly},
		{"store revoked", store.ErrRevoked, fault.Unauthenticated},
		{"auth busy", auth.ErrBusy, fault.Busy},
		{"cloud not found", cloud.ErrNotFound, fault.NotFound},
		{"cloud unavailable", cloud.ErrUnavailable, fault.Unavailable},
		{"cloud exhausted", cloud.ErrExhausted, fault.RateLimited},
		{"cloud unsupported", cloud.ErrUnsupported, fault.BadRequest},
		{"context deadline", context.DeadlineExceeded, fault.Timeout},
		{"grpc NotFound", cloudErr(codes.NotFound, "image x not found"), fault.NotFound},
		{"grpc InvalidArgument", cloudErr(codes.InvalidArgument, "bad", "name", "must match"), fault.Invalid},
		{"grpc OutOfRange", cloudErr(codes.OutOfRange, "bad"), fault.Invalid},
		{"grpc AlreadyExists", cloudErr(codes.AlreadyExists, "dup"), fault.Conflict},
		{"grpc FailedPrecondition", cloudErr(codes.FailedPrecondition, "state"), fault.Conflict},
		{"grpc Aborted", cloudErr(codes.Aborted, "state"), fault.Conflict},
		{"grpc PermissionDenied", cloudErr(codes.PermissionDenied, "no"), fault.Upstream},
		{"grpc Unauthenticated", cloudErr(codes.Unauthenticated, "no"), fault.Upstream},
		{"grpc Unavailable", cloudErr(codes.Unavailable, "down"), fault.Unavailable},
		{"grpc ResourceExhausted", cloudErr(codes.ResourceExhausted, "quota"), fault.RateLimited},
		{"grpc DeadlineExceeded", cloudErr(codes.DeadlineExceeded, "slow"), fault.Timeout},
		{"grpc Internal", cloudErr(codes.Internal, "oops"), fault.Upstream},
		{"grpc Unknown", cloudErr(codes.Unknown, "oops"), fault.Upstream},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fault.KindOf(tt.give); got != tt.want {
				t.Errorf("KindOf(%v) = %v, want %v", tt.give, got, tt.want)
			}
			if tt.give == nil {
				return
			}
			wrapped := fmt.Errorf("handlers: update image: %w", tt.give)
			if got := fault.KindOf(wrapped); got != tt.want {
				t.Errorf("KindOf(wrapped %v) = %v, want %v", tt.give, got, tt.want)
			}
			if got, want := fault.Retried(wrapped), tt.want.Retried(); got != want {
				t.Errorf("Retried(%v) = %v, want %v", tt.give, got, want)
			}
		})
	}
}

// TestFromCloud: a cloud refusal reads as the table's words with the
// field violations; the server's own text stays in the cause, for the log.
func TestFromCloud(t *testing.T) {
	raw := "rpc error: request id 42: Illegal argument name (internal validator v3)"
	err := fmt.Errorf("handlers: update: %w", cloudErr(codes.InvalidArgument, raw, "name", "must match |[a-z][-a-z0-9]{1,61}[a-z0-9]", "name", "second"))
	fe := fault.From(err)
	if fe.Kind != fault.Invalid || fe.Status() != http.StatusUnprocessableEntity {
		t.Fatalf("From = %v (%d), want invalid 422", fe.Kind, fe.Status())
	}
	if strings.Contains(fe.Say(), "Illegal") || fe.Say() != fault.Invalid.Message() {
		t.Errorf("Say() = %q, want the table's message", fe.Say())
	}
	if got := fe.Fields["name"]; got != "must match |[a-z][-a-z0-9]{1,61}[a-z0-9]" {
		t.Errorf("Fields[name] = %q, want the first violation", got)
	}
	if !strings.Contains(fe.Error(), "Illegal argument") {
		t.Errorf("Error() = %q, want the server's text for the log", fe.Error())
	}
	if !errors.Is(fe, cloud.ErrInvalid) {
		t.Error("errors.Is(From(err), cloud.ErrInvalid) = false")
	}
}

// TestError: the type's behaviour under errors.Is/As and its defaults.
func TestError(t *testing.T) {
	cause := store.ErrNotFound
	fe := fault.New(fault.NotFound, "There is no such team.").Wrap(cause)
	err := fmt.Errorf("show team: %w", fe)
	if got, ok := errors.AsType[*fault.Error](err); !ok || got != fe {
		t.Fatalf("errors.As = %v, %v", got, ok)
	}
	if !errors.Is(err, cause) {
		t.Error("errors.Is(err, cause) = false: the cause is unwrapped")
	}
	if !errors.Is(err, &fault.Error{Kind: fault.NotFound}) || errors.Is(err, &fault.Error{Kind: fault.Conflict}) {
		t.Error("errors.Is by kind is wrong")
	}
	if got := fault.From(err); got != fe {
		t.Errorf("From(err) = %v, want the wrapped *Error itself", got)
	}
	if got := fault.New(fault.Busy, "").Say(); got != fault.Busy.Message() {
		t.Errorf("empty message says %q, want the kind's", got)
	}
	if got := fault.New(fault.Busy, "").Wait(); got != 5*time.Second {
		t.Errorf("Busy Wait = %v, want the kind's 5s", got)
	}
	if got := fault.New(fault.RateLimited, "").RetryIn(2 * time.Second).Wait(); got != 2*time.Second {
		t.Errorf("RetryIn(2s).Wait = %v", got)
	}
	var zero fault.Error
	if zero.Status() != http.StatusInternalServerError {
		t.Errorf("zero Error status %d, want 500 (fail closed)", zero.Status())
	}
	ol := fault.From(&store.OpenLimitError{Open: 7, Asked: 3, Limit: 8})
	if !strings.Contains(ol.Say(), "7 operations in flight") {
		t.Errorf("open limit says %q, want its numbers", ol.Say())
	}
	busy := fault.From(fmt.Errorf("tracker: %w", &store.ImageBusyError{Images: []store.BusyImage{{ImageID: "img1", ImageName: "web",
		Action: "image.delete", OpAction: "image.delete", Operation: 12, Username: "alice"}}}))
	if busy.Status() != http.StatusConflict || !strings.Contains(busy.Say(), "web is already being deleted by alice (operation 12)") {
		t.Errorf("image busy: %d %q, want 409 naming the image, the person and the operation", busy.Status(), busy.Say())
	}
}
