package fault

import (
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/imagedash/imagedash/cloud"
)

// The cloud's error of an operation (a refused send, or an operation that
// ended in error) is stored as its gRPC code name and the server's message
// (store.Operation.ErrorCode, ErrorMessage). The message is the server's:
// written for its developers, naming ids ("Image fd8… not found", "already
// exists in folder b1g…", another team's folder among them). People read
// Outcome's sentence instead, made from the code and the names the page
// knows; the server's words go to the log (and to administrators).

// AnotherFolder is what a sentence calls a folder the reader may not see:
// neither its name nor its id is theirs to read.
const AnotherFolder = "another folder"

// About is what an operation's error is about, by the names its reader
// knows. Every field is optional.
type About struct {
	// Action is what was asked, as a noun: "copy", "edit", "delete"; ""
	// → "change".
	Action string
	// Image is the target image's name ("" when unknown).
	Image string
	// Folder is the target folder as the reader may call it: its name,
	// or AnotherFolder for one they may not see; "" → "its folder".
	Folder string
}

func (a About) action() string {
	if a.Action == "" {
		return "change"
	}
	return a.Action
}

func (a About) folder() string {
	if a.Folder == "" {
		return "its folder"
	}
	return a.Folder
}

// named is the image by name ("“web-1”"), or fallback.
func (a About) named(fallback string) string {
	if a.Image == "" {
		return fallback
	}
	return "“" + a.Image + "”"
}

// outcome is the sentence a person reads for each code an operation can
// fail with (its kind comes from the table of kinds, through CodeKind).
// message is the server's, used only to tell cases apart, never repeated
// (it names ids). A code not listed reads as Unknown.
func outcome(c codes.Code, a About, message string) string {
	m := strings.ToLower(message)
	switch c {
	case codes.Canceled:
		return "The " + a.action() + " was cancelled."
	case codes.InvalidArgument, codes.OutOfRange:
		return "The cloud refused the " + a.action() + " in " + a.folder() +
			": it does not accept some of what was asked (a name, a label or a size). Check the fields and try again."
	case codes.DeadlineExceeded:
		return "The cloud took too long over the " + a.action() + " in " + a.folder() +
			". Check the image's status to see whether it was made before trying again."
	case codes.NotFound:
		onImage := a.Action == "edit" || a.Action == "delete"
		switch {
		case strings.HasPrefix(m, "folder"):
			return "The folder of the " + a.action() + " (" + a.folder() + ") no longer exists in the cloud."
		case onImage && a.Image != "":
			return "The image " + a.named("") + " no longer exists in the cloud."
		case onImage:
			return "The image no longer exists in the cloud."
		case strings.HasPrefix(m, "desktop"):
			return "The source desktop no longer exists, so nothing was made in " + a.folder() + "."
		}
		return "The source image no longer exists, so nothing was copied into " + a.folder() + "."
	case codes.AlreadyExists:
		return "An image named " + a.named("so") + " already exists in " + a.folder() + ". Pick another name and try again."
	case codes.PermissionDenied:
		return "The cloud does not allow the dashboard to do this in " + a.folder() +
			". Ask the operator to check the dashboard's access there."
	case codes.ResourceExhausted:
		if strings.Contains(m, "rate") || strings.Contains(m, "too many") {
			return "The cloud is limiting the dashboard's requests, so the " + a.action() + " did not go through. Try again in a moment."
		}
		return "The image quota of " + a.folder() + " is full, so the " + a.action() +
			" could not be made. Delete images you no longer need there, or ask for a larger quota, then try again."
	case codes.FailedPrecondition:
		return "The cloud cannot do the " + a.action() + " in the image's current state (it may still be being made, changed or deleted). " +
			"Wait until it is Ready, then try again."
	case codes.Aborted:
		return "Another change to the image was under way at the same moment, so the cloud stopped the " + a.action() + ". Try again."
	case codes.Unimplemented:
		return "The cloud does not offer the " + a.action() + " for this kind of image."
	case codes.Unavailable:
		return "The cloud was not answering, so the " + a.action() + " did not go through. Try again in a moment."
	case codes.Unauthenticated:
		return "The cloud did not accept the dashboard's credentials, so the " + a.action() +
			" did not go through. Ask the operator to check them."
	}
	// Unknown, Internal, DataLoss, and what is no code.
	return "The cloud could not finish the " + a.action() + " in " + a.folder() +
		": it failed on its side. Try again; if it fails again, ask the operator (the dashboard's log has the details)."
}

// Code is the gRPC code named name, as codes.Code.String() names it
// ("NotFound"); false for a name that is none (the dashboard's own, e.g.
// "Mismatch").
func Code(name string) (codes.Code, bool) {
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		if c.String() == name {
			return c, true
		}
	}
	return codes.Unknown, false
}

// CodeKind is the kind of a cloud error stored by its code name: the
// kind a call failing with that code has (see KindOf). A name that is no
// code is Upstream; "OK" is Internal (no error to speak of).
func CodeKind(name string) Kind {
	c, ok := Code(name)
	if !ok {
		return Upstream
	}
	return KindOf(cloud.FromStatus("", status.Error(c, name)))
}

// Outcome is the sentence a person reads for an operation that failed
// with the cloud's error code (a gRPC code name, as stored) and message:
// plain words, the names in a, never the server's text or an id. A code
// that is no gRPC code reads as the cloud failing on its side. "" for no
// code: nothing went wrong.
func Outcome(code, message string, a About) string {
	if code == "" || code == codes.OK.String() {
		return ""
	}
	c, _ := Code(code)
	return outcome(c, a, message)
}
