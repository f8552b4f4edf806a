package views

import (
	"cmp"
	"slices"

	"github.com/a-h/templ"
)

// ActionKind is how much an action weighs, and so its one look: every
// page and row shows its actions primary first, then secondary, then
// danger, with exactly these three classes (docs/design.md, "Actions").
type ActionKind int

const (
	// Primary is the page's main action: Pico's default (filled) button.
	Primary ActionKind = iota
	// Secondary is any other action that destroys nothing.
	Secondary
	// Danger destroys something or cuts someone off. It is always a link
	// (or a GET form's button) to a confirm page that names what goes, with
	// the danger button and a Cancel link back: never a one-click post.
	Danger
)

// String is the kind's name, the data-kind attribute tests read.
func (k ActionKind) String() string {
	switch k {
	case Primary:
		return "primary"
	case Danger:
		return "danger"
	default:
		return "secondary"
	}
}

// Class is the kind's button class: Pico's default for primary.
func (k ActionKind) Class() string {
	switch k {
	case Primary:
		return ""
	case Danger:
		return "danger"
	default:
		return "secondary outline"
	}
}

// Action is one button of an actions bar. Exactly one of URL (a link: a
// form or a confirm page) and Post (a one-button form that acts at once)
// is set, or Body, a component of its own (a form with fields); a Danger
// action must have URL, its confirm page.
type Action struct {
	Kind   ActionKind
	Label  string
	URL    string
	Post   string
	Hidden map[string]string // Post's fields besides the CSRF token
	TestID string
	Title  string
	// NoBoost leaves the link out of hx-boost (a page with its own
	// scripts, such as a confirm reached from a live page).
	NoBoost bool
	Body    templ.Component
}

// Confirm is the confirm page a danger action leads to, "" for the
// others; the bar marks it (data-confirm) so tests can follow it.
func (a Action) Confirm() string {
	if a.Kind == Danger {
		return a.URL
	}
	return ""
}

// OrderActions puts actions in the one order, primary → secondary →
// danger, keeping each kind's own order.
func OrderActions(as []Action) []Action {
	out := slices.Clone(as)
	slices.SortStableFunc(out, func(a, b Action) int { return cmp.Compare(a.Kind, b.Kind) })
	return out
}

// actionClass is a bar item's classes: the kind's, small in a row.
func actionClass(a Action, row bool) string {
	c := a.Kind.Class()
	if row {
		if c == "" {
			return "small"
		}
		return c + " small"
	}
	return c
}
