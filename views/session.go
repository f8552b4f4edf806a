package views

import (
	"context"
	"encoding/json"
)

// Me is the signed-in person, as the header shows them.
type Me struct {
	Name  string
	Admin bool
}

// Request is what every page of a request shares and no view model
// carries: who is signed in and the CSRF token that forms and htmx
// requests send back. The web middleware puts it on the context, so the
// layout and any form can read it without each handler threading it.
type Request struct {
	Me   Me
	CSRF string // "" when the request needs none (the browser proved same-origin)
	// Flashes are one-time notices from the previous request (a redirect
	// after a change), shown as toasts by the layout.
	Flashes []string
	// Outage is the banner every page shows while the cloud has not
	// answered since the server started ("" when it has); a page with a
	// banner of its own shows that one.
	Outage string
	// Folders are the folders the signed-in person may see, for the
	// header's folder picker on a page about no one service's images
	// (SiteNav); set on full pages only (a partial has no header).
	Folders []FolderOption
}

// pageBanner is the banner a page shows: its own, else the outage's.
func pageBanner(own, outage string) string {
	if own != "" {
		return own
	}
	return outage
}

type requestKey struct{}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom is the Request on ctx (zero when none).
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	return r
}

// CSRFField is the form field, and CSRFHeader the header, that carry the
// CSRF token.
const (
	CSRFField  = "_csrf"
	CSRFHeader = "X-CSRF-Token"
)

// csrfHeaders is the hx-headers value that makes every htmx request carry
// the token ("" when there is none).
func csrfHeaders(ctx context.Context) string {
	tok := RequestFrom(ctx).CSRF
	if tok == "" {
		return ""
	}
	b, _ := json.Marshal(map[string]string{CSRFHeader: tok})
	return string(b)
}
