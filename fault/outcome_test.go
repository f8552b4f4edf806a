package fault_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/imagedash/imagedash/fault"
)

// rawWords are what the cloud's own messages carry and a person must never
// read: code names, the transport's prefix, ids.
var rawWords = []string{
	"rpc error", "NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
	"Unavailable", "InvalidArgument", "DeadlineExceeded", "Internal", "Unknown", "code =", "desc =",
	"b1gteamb0000000000", "fd8img000000000000", "injected fault",
}

// TestOutcome is the table of the sentences people read for a failed
// operation, by the cloud's code: each in plain words, with the names it
// was given, and none of the server's message (which names ids, here
// another team's folder).
func TestOutcome(t *testing.T) {
	copyInto := fault.About{Action: "copy", Image: "web-1-copy", Folder: "team-alpha"}
	tests := []struct {
		code, message string
		about         fault.About
		want          []string // all in the sentence
	}{
		{"NotFound", "Image fd8img000000000000 not found", copyInto, []string{"The source image no longer exists", "team-alpha"}},
		{"NotFound", "the image is gone", fault.About{Action: "edit", Image: "web-1"}, []string{"The image “web-1” no longer exists"}},
		{"NotFound", "Image fd8img000000000000 not found", fault.About{Action: "delete"}, []string{"The image no longer exists"}},
		{"NotFound", "Folder b1gteamb0000000000 not found", copyInto, []string{"folder", "team-alpha", "no longer exists"}},
		{"NotFound", "Desktop fd8img000000000000 not found", fault.About{Action: "image from desktop", Folder: "team-alpha"}, []string{"source desktop"}},
		{"AlreadyExists", `image with name "web-1-copy" already exists in folder b1gteamb0000000000`, copyInto,
			[]string{"An image named “web-1-copy” already exists in team-alpha."}},
		{"AlreadyExists", `image with name "x" already exists in folder b1gteamb0000000000`, fault.About{Action: "copy", Folder: fault.AnotherFolder},
			[]string{"already exists in another folder"}},
		{"PermissionDenied", "Permission denied to folder b1gteamb0000000000", copyInto, []string{"does not allow", "team-alpha"}},
		{"PermissionDenied", "Permission denied to folder b1gteamb0000000000", fault.About{Action: "copy", Folder: fault.AnotherFolder}, []string{"another folder"}},
		{"ResourceExhausted", "injected fault: quota exceeded, retry later", copyInto, []string{"image quota of team-alpha is full"}},
		{"ResourceExhausted", "rate limit exceeded for b1gteamb0000000000", copyInto, []string{"limiting", "Try again"}},
		{"FailedPrecondition", "Image fd8img000000000000 is in status CREATING", fault.About{Action: "edit"}, []string{"current state", "Ready"}},
		{"Aborted", "conflict on fd8img000000000000", fault.About{Action: "edit"}, []string{"Another change", "Try again"}},
		{"Unavailable", "rpc error: code = Unavailable desc = connection refused", copyInto, []string{"not answering", "Try again"}},
		{"DeadlineExceeded", "context deadline exceeded", copyInto, []string{"took too long", "team-alpha"}},
		{"InvalidArgument", "Request validation error: name: must match", copyInto, []string{"does not accept", "team-alpha"}},
		{"OutOfRange", "min_disk_size out of range", copyInto, []string{"does not accept"}},
		{"Unauthenticated", "the IAM token is invalid or expired", copyInto, []string{"credentials"}},
		{"Unimplemented", "method not implemented", copyInto, []string{"does not offer the copy"}},
		{"Canceled", "the operation was cancelled", copyInto, []string{"The copy was cancelled."}},
		{"Internal", "injected fault: the operation failed", copyInto, []string{"could not finish the copy in team-alpha", "failed on its side"}},
		{"Unknown", "stack trace at b1gteamb0000000000", fault.About{}, []string{"could not finish the change in its folder"}},
		{"DataLoss", "disk fd8img000000000000 lost", copyInto, []string{"failed on its side"}},
		{"Mismatch", "metadata X is not of image.copy", copyInto, []string{"failed on its side"}},
	}
	for _, tt := range tests {
		t.Run(tt.code+"/"+tt.about.Action, func(t *testing.T) {
			got := fault.Outcome(tt.code, tt.message, tt.about)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Outcome(%s) = %q, want it to contain %q", tt.code, got, w)
				}
			}
			checkPlain(t, got)
		})
	}
	if got := fault.Outcome("", "Waiting for the cloud", copyInto); got != "" {
		t.Errorf("Outcome without a code = %q, want \"\"", got)
	}
	if got := fault.Outcome("OK", "", copyInto); got != "" {
		t.Errorf("Outcome(OK) = %q, want \"\"", got)
	}
}

// TestOutcomeEveryCode: every gRPC code there is reads as a plain
// sentence, whatever its message.
func TestOutcomeEveryCode(t *testing.T) {
	for c := codes.Canceled; c <= codes.Unauthenticated; c++ {
		msg := "rpc error: code = " + c.String() + " desc = folder b1gteamb0000000000 image fd8img000000000000"
		for _, a := range []fault.About{{}, {Action: "copy", Image: "a", Folder: fault.AnotherFolder}, {Action: "delete", Folder: "team-alpha"}} {
			got := fault.Outcome(c.String(), msg, a)
			if got == "" {
				t.Errorf("Outcome(%v) is empty", c)
			}
			checkPlain(t, got)
		}
	}
}

// checkPlain fails unless s is a sentence without raw words.
func checkPlain(t *testing.T, s string) {
	t.Helper()
	if s == "" || !strings.HasSuffix(s, ".") || strings.ToUpper(s[:1]) != s[:1] {
		t.Errorf("%q is not a sentence", s)
	}
	for _, w := range rawWords {
		if strings.Contains(s, w) {
			t.Errorf("%q contains the raw %q", s, w)
		}
	}
}

// TestCodeKind: a stored code name maps to the kind a call failing with
// that code has, through the same table.
func TestCodeKind(t *testing.T) {
	tests := []struct {
		give string
		want fault.Kind
	}{
		{"NotFound", fault.NotFound},
		{"AlreadyExists", fault.Conflict},
		{"FailedPrecondition", fault.Conflict},
		{"InvalidArgument", fault.Invalid},
		{"PermissionDenied", fault.Upstream},
		{"ResourceExhausted", fault.RateLimited},
		{"Unavailable", fault.Unavailable},
		{"DeadlineExceeded", fault.Timeout},
		{"Internal", fault.Upstream},
		{"Mismatch", fault.Upstream},
		{"OK", fault.Internal},
	}
	for _, tt := range tests {
		if got := fault.CodeKind(tt.give); got != tt.want {
			t.Errorf("CodeKind(%q) = %v, want %v", tt.give, got, tt.want)
		}
	}
	if c, ok := fault.Code("ResourceExhausted"); !ok || c != codes.ResourceExhausted {
		t.Errorf("Code(ResourceExhausted) = %v, %v", c, ok)
	}
}
