package views

import "github.com/a-h/templ"

// swapAttrs makes a link or form load u with htmx into target (replacing
// it) and push the URL, the server answering with the canonical one. The
// global progress bar and the target itself show the request.
func swapAttrs(u, target string) templ.Attributes {
	return templ.Attributes{
		"hx-get":       u,
		"hx-target":    target,
		"hx-swap":      "outerHTML",
		"hx-push-url":  "true",
		"hx-indicator": Selector(ProgressID) + ", " + target,
	}
}

// tableAttrs is swapAttrs into the image table.
func tableAttrs(u string) templ.Attributes { return swapAttrs(u, Selector(ImageTableID)) }

// inheritSwapAttrs are tableAttrs but hx-get (scrolling the window to the top when page), for a
// container whose links each carry only their hx-get and inherit the rest
// (the table's hx-indicator comes from the table region itself).
func inheritSwapAttrs(page bool) templ.Attributes {
	swap := "outerHTML"
	if page {
		swap = "outerHTML show:window:top"
	}
	return templ.Attributes{
		"hx-target":   Selector(ImageTableID),
		"hx-swap":     swap,
		"hx-push-url": "true",
	}
}

// appJS is our own script in package static (the "/" key, copy buttons,
// history restore).
const appJS = "app.js"

// keysJS is the image list's keyboard shortcuts (j/k, Enter, c, e, x, ?),
// in package static.
const keysJS = "keys.js"
