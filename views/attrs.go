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

// pageAttrs is tableAttrs for a pager link: the window scrolls to the top.
func pageAttrs(u string) templ.Attributes {
	a := tableAttrs(u)
	a["hx-swap"] = "outerHTML show:window:top"
	return a
}

// appJS is our own script in package static (the "/" key, copy buttons,
// history restore).
const appJS = "app.js"
