package planner

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultTemplate names a copy after its source: the forms start with it.
const DefaultTemplate = "{name}-copy"

// MaxTemplate bounds a template's length: an expanded name has at most
// 63 characters, and the placeholders are short, so anything longer is a
// mistake (or an attack on the parser).
const MaxTemplate = 200

// The placeholders a name template may hold.
var namePlaceholders = []string{"name", "family", "folder", "date"}

// ErrTemplate is the kind of every parse error; the message says what is
// wrong, for the person who typed it.
var ErrTemplate = errors.New("bad name template")

// Template is a parsed name template such as "{name}-copy": literal
// text and placeholders in {braces}. There is no escape: image names hold
// no braces.
type Template struct {
	parts []namePart
}

// namePart is literal text (ph "") or a placeholder.
type namePart struct {
	lit string
	ph  string
}

// nameVars are the values of the placeholders for one copy.
type nameVars struct {
	Name   string // the source image's name
	Family string // the source image's family ("" when none)
	Folder string // the target folder's name
	Date   string // the day of the copy, YYYYMMDD
}

// newNameVars are the values for copying src's name and family into the
// folder named folder on day t.
func newNameVars(name, family, folder string, t time.Time) nameVars {
	return nameVars{Name: name, Family: family, Folder: folder, Date: t.UTC().Format("20060102")}
}

// ParseTemplate parses s. A brace left open, a closing brace without an
// opening one, an unknown or empty placeholder, and a blank or overlong
// template are errors (wrapping ErrTemplate) with a message for people.
func ParseTemplate(s string) (Template, error) {
	var t Template
	if strings.TrimSpace(s) == "" {
		return t, fmt.Errorf("%w: give a name or a template such as %s", ErrTemplate, DefaultTemplate)
	}
	if len(s) > MaxTemplate {
		return t, fmt.Errorf("%w: at most %d characters, got %d", ErrTemplate, MaxTemplate, len(s))
	}
	rest := s
	for rest != "" {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			t.parts = append(t.parts, namePart{lit: rest})
			break
		}
		if rest[open] == '}' {
			return Template{}, fmt.Errorf("%w: a } without its {", ErrTemplate)
		}
		if open > 0 {
			t.parts = append(t.parts, namePart{lit: rest[:open]})
		}
		rest = rest[open+1:]
		end := strings.IndexAny(rest, "{}")
		if end < 0 || rest[end] == '{' {
			return Template{}, fmt.Errorf("%w: a { is not closed", ErrTemplate)
		}
		ph := rest[:end]
		switch {
		case ph == "":
			return Template{}, fmt.Errorf("%w: {} names no placeholder; use %s", ErrTemplate, namePlaceholderList())
		case !isNamePlaceholder(ph):
			return Template{}, fmt.Errorf("%w: unknown placeholder {%s}; use %s", ErrTemplate, templateClip(ph, 20), namePlaceholderList())
		}
		t.parts = append(t.parts, namePart{ph: ph})
		rest = rest[end+1:]
	}
	return t, nil
}

func isNamePlaceholder(s string) bool {
	for _, p := range namePlaceholders {
		if s == p {
			return true
		}
	}
	return false
}

func namePlaceholderList() string {
	return "{name}, {family}, {folder} or {date}"
}

// templateClip shortens s to n bytes for a message, dropping a cut rune.
func templateClip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// Expand fills the placeholders in with v. Values are lower-cased, as image
// names are; the result is checked by the caller with rules.Name.
func (t Template) Expand(v nameVars) string {
	var b strings.Builder
	for _, p := range t.parts {
		switch p.ph {
		case "":
			b.WriteString(p.lit)
		case "name":
			b.WriteString(strings.ToLower(v.Name))
		case "family":
			b.WriteString(strings.ToLower(v.Family))
		case "folder":
			b.WriteString(strings.ToLower(v.Folder))
		case "date":
			b.WriteString(v.Date)
		}
	}
	return b.String()
}

// String is the template as written.
func (t Template) String() string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.ph != "" {
			b.WriteString("{" + p.ph + "}")
		} else {
			b.WriteString(p.lit)
		}
	}
	return b.String()
}

// Uses tells whether the template holds placeholder ph.
func (t Template) Uses(ph string) bool {
	for _, p := range t.parts {
		if p.ph == ph {
			return true
		}
	}
	return false
}
