package views

// CopyToast is the notice a person gets once, on the result page their
// copy form sent them to: what was started, each new image linked (its
// page once the cloud named it, else its operation) with its operation.
type CopyToast struct {
	Summary string
	Items   []CopyToastItem
	// Failed: nothing was started (every target refused).
	Failed bool
}

// CopyToastItem is one new image of a CopyToast.
type CopyToastItem struct {
	Name string
	// URL is the new image's page, or its operation's while the cloud has
	// not named the image.
	URL   string
	OpURL string
	State string // one of the Copy* states
}
