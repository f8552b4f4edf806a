package views

// SessionRow is one of a person's signed-in sessions.
type SessionRow struct {
	// ID is the session's store id (the hash of its cookie's id, useless
	// as a cookie), the handle of its "End" button.
	ID     string
	Device string // "Firefox on Linux"
	IP     string
	// Signed in and last seen: relative, exact, ISO.
	SignedIn, SignedInExact, SignedInISO string
	LastSeen, LastSeenExact, LastSeenISO string
	// Current: the session of this very page.
	Current bool
}

// SessionsPage is the person's own sessions.
type SessionsPage struct {
	Rows []SessionRow
	// Max is how many sessions a person keeps (older ones end at sign-in).
	Max int
}

// SessionEndURL is the address that ends session id.
func SessionEndURL(id string) string { return "/account/sessions/" + id + "/end" }

// SessionsEndOthersURL ends every session of the person but this one
// (POST), or asks first (GET).
const SessionsEndOthersURL = "/account/sessions/end-others"
