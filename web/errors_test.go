package web_test

import (
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/fault"
	"github.com/imagedash/imagedash/handlers"
)

// allKinds are fault's kinds, every one (fault.TestKinds checks the table
// has no other).
var allKinds = []fault.Kind{
	fault.Internal, fault.BadRequest, fault.Invalid, fault.Unauthenticated, fault.Forbidden,
	fault.NotFound, fault.NotAllowed, fault.SlowRequest, fault.Conflict, fault.TooLarge,
	fault.Misdirected, fault.RateLimited, fault.Upstream, fault.Unavailable, fault.ReadOnly,
	fault.Busy, fault.Timeout, fault.StorageFull,
}

// TestErrorKinds: every kind's error page and toast carry the table's
// status, message and Retry-After; a message of the error's own wins over
// the table's.
func TestErrorKinds(t *testing.T) {
	s := newServer(t, nil)
	for i, k := range allKinds {
		s.e.GET("/kind/"+strconv.Itoa(i), func(echo.Context) error {
			return fmt.Errorf("handler: %w", fault.New(k, "").Wrap(fmt.Errorf("secret cause %d", i)))
		})
		s.e.GET("/kind/"+strconv.Itoa(i)+"/own", func(echo.Context) error { return fault.New(k, "Said at the call site.") })
	}
	for i, k := range allKinds {
		for _, htmx := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v htmx=%v", k, htmx), func(t *testing.T) {
				hdr := map[string]string{}
				if htmx {
					hdr[handlers.HeaderRequest] = "true"
				}
				rec := s.do(t, http.MethodGet, "/kind/"+strconv.Itoa(i), nil, hdr)
				body := html.UnescapeString(rec.Body.String())
				if rec.Code != k.Status() {
					t.Errorf("status = %d, want %d", rec.Code, k.Status())
				}
				if !strings.Contains(body, k.Message()) {
					t.Errorf("body lacks the table's message %q:\n%s", k.Message(), body)
				}
				if strings.Contains(body, "secret cause") {
					t.Error("the cause reached the client")
				}
				wantRetry := ""
				if d := k.RetryAfter(); d > 0 {
					wantRetry = strconv.Itoa(int(d.Seconds()))
				}
				if got := rec.Header().Get("Retry-After"); got != wantRetry {
					t.Errorf("Retry-After = %q, want %q", got, wantRetry)
				}
				isToast := strings.Contains(body, `data-testid="toast"`) && !strings.Contains(body, "<html")
				if isToast != htmx {
					t.Errorf("toast = %v, want %v", isToast, htmx)
				}
				if want := fmt.Sprintf(`data-code="%d"`, k.Status()); htmx && !strings.Contains(body, want) {
					t.Errorf("toast lacks %s", want)
				}
				own := s.do(t, http.MethodGet, "/kind/"+strconv.Itoa(i)+"/own", nil, hdr)
				if own.Code != k.Status() || !strings.Contains(own.Body.String(), "Said at the call site.") {
					t.Errorf("own message: %d, body lacks it", own.Code)
				}
			})
		}
	}
	if !strings.Contains(s.log.String(), "secret cause 3") {
		t.Error("the cause was not logged")
	}
}

// cloudRefusal is a failed cloud call as cloud.Client returns it, with the
// server's raw words and, for InvalidArgument, field violations.
func cloudRefusal(t *testing.T, c codes.Code, raw string, violations ...string) error {
	t.Helper()
	st := status.New(c, raw)
	if len(violations) > 0 {
		br := &errdetails.BadRequest{}
		for i := 0; i+1 < len(violations); i += 2 {
			br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: violations[i], Description: violations[i+1]})
		}
		var err error
		if st, err = st.WithDetails(br); err != nil {
			t.Fatal(err)
		}
	}
	return cloud.FromStatus("compute.ImageService.Update", st.Err())
}

// TestCloudErrorsInPlainWords: a cloud error that reaches the error
// handler is answered by its kind, in the table's words, with the field
// violations listed; the server's own text (and the call's name) goes to
// the log only. Before fault, each of these was a bare 500.
func TestCloudErrorsInPlainWords(t *testing.T) {
	s := newServer(t, nil)
	const raw = "Illegal argument: request 7f3a rejected by validator v3"
	tests := []struct {
		code       codes.Code
		violations []string
		want       fault.Kind
		wantRetry  string
	}{
		{codes.InvalidArgument, []string{"name", "must match |[a-z][-a-z0-9]{1,61}[a-z0-9]", "labels.env", "value too long"}, fault.Invalid, ""},
		{codes.InvalidArgument, nil, fault.Invalid, ""},
		{codes.NotFound, nil, fault.NotFound, ""},
		{codes.AlreadyExists, nil, fault.Conflict, ""},
		{codes.FailedPrecondition, nil, fault.Conflict, ""},
		{codes.PermissionDenied, nil, fault.Upstream, ""},
		{codes.Unauthenticated, nil, fault.Upstream, ""},
		{codes.Unavailable, nil, fault.Unavailable, ""},
		{codes.ResourceExhausted, nil, fault.RateLimited, "30"},
		{codes.DeadlineExceeded, nil, fault.Timeout, ""},
		{codes.Internal, nil, fault.Upstream, ""},
	}
	for i, tt := range tests {
		err := cloudRefusal(t, tt.code, raw, tt.violations...)
		path := "/cloud/" + strconv.Itoa(i)
		s.e.GET(path, func(echo.Context) error { return fmt.Errorf("update image fd8x: %w", err) })
		for _, htmx := range []bool{false, true} {
			t.Run(fmt.Sprintf("%v %v htmx=%v", tt.code, len(tt.violations) > 0, htmx), func(t *testing.T) {
				hdr := map[string]string{}
				if htmx {
					hdr[handlers.HeaderRequest] = "true"
				}
				rec := s.do(t, http.MethodGet, path, nil, hdr)
				body := html.UnescapeString(rec.Body.String())
				if rec.Code != tt.want.Status() {
					t.Errorf("status = %d, want %d (%v)", rec.Code, tt.want.Status(), tt.want)
				}
				if !strings.Contains(body, tt.want.Message()) {
					t.Errorf("body lacks %q:\n%s", tt.want.Message(), body)
				}
				for _, leak := range []string{"Illegal argument", "7f3a", "ImageService", "rpc error", "InvalidArgument", "FailedPrecondition", "ResourceExhausted"} {
					if strings.Contains(body, leak) {
						t.Errorf("the cloud's own text %q reached the client:\n%s", leak, body)
					}
				}
				for j := 0; j+1 < len(tt.violations); j += 2 {
					if !strings.Contains(body, tt.violations[j]+"</code>: "+tt.violations[j+1]) {
						t.Errorf("the violation of %s is not listed:\n%s", tt.violations[j], body)
					}
				}
				if got := rec.Header().Get("Retry-After"); got != tt.wantRetry {
					t.Errorf("Retry-After = %q, want %q", got, tt.wantRetry)
				}
			})
		}
	}
	if n := strings.Count(s.log.String(), "request 7f3a"); n != 2*len(tests) {
		t.Errorf("the cloud's text was logged %d times, want once per request (%d)", n, 2*len(tests))
	}
}

// TestEchoErrorsInTheTable: Echo's own refusals (no route, wrong method,
// the body limit) are answered with the table's words for their status,
// not Echo's status text.
func TestEchoErrorsInTheTable(t *testing.T) {
	s := newServer(t, nil)
	s.e.POST("/upload", func(c echo.Context) error {
		_, err := c.Request().Body.Read(make([]byte, 2_000_000))
		return err
	})
	tok := map[string]string{"X-CSRF-Token": s.admin.CSRF, handlers.HeaderRequest: "true"}
	tests := []struct {
		method, target string
		body           string
		want           fault.Kind
	}{
		{http.MethodGet, "/no/such/page", "", fault.NotFound},
		{http.MethodDelete, "/sync", "", fault.NotAllowed},
		{http.MethodPost, "/upload", strings.Repeat("x", 1_000_001), fault.TooLarge},
	}
	for _, tt := range tests {
		rec := s.do(t, tt.method, tt.target, strings.NewReader(tt.body), tok)
		body := html.UnescapeString(rec.Body.String())
		if rec.Code != tt.want.Status() || !strings.Contains(body, tt.want.Message()) {
			t.Errorf("%s %s = %d %q, want %d with %q", tt.method, tt.target, rec.Code, body, tt.want.Status(), tt.want.Message())
		}
		if strings.Contains(body, http.StatusText(rec.Code)+"</") && !strings.Contains(body, "<strong>"+http.StatusText(rec.Code)) {
			t.Errorf("Echo's status text is the message: %s", body)
		}
	}
}
