package sim

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/imagedash/imagedash/rules"
)

// nameFilter is a parsed List filter. The reference allows one condition on
// the field `name`: `name="x"`, `name!="x"`, `name IN ("a","b")` or
// `name NOT IN ("a","b")`.
type nameFilter struct {
	values map[string]bool
	negate bool
}

// match reports whether a resource named name passes the filter; a nil filter passes all.
func (f *nameFilter) match(name string) bool {
	if f == nil {
		return true
	}
	return f.values[name] != f.negate
}

// parseFilter parses the filter grammar. An empty filter is nil (no filter).
// A bad filter is a violation of the field "filter".
func parseFilter(s string) (*nameFilter, []rules.Violation) {
	bad := func(format string, a ...any) (*nameFilter, []rules.Violation) {
		return nil, []rules.Violation{{Field: "filter", Message: fmt.Sprintf(format, a...)}}
	}
	if len(s) > rules.MaxFilterLength {
		return bad("must be at most %d characters", rules.MaxFilterLength)
	}
	p := &filterLexer{s: s}
	p.skipSpace()
	if p.done() {
		return nil, nil
	}
	field := p.word()
	if field != "name" {
		return bad("unknown field %q: only `name` can be filtered on", field)
	}
	p.skipSpace()
	f := &nameFilter{values: map[string]bool{}}
	var list bool
	switch {
	case p.take("!="):
		f.negate = true
	case p.take("="):
	default:
		switch op := strings.ToUpper(p.word()); op {
		case "IN":
			list = true
		case "NOT":
			p.skipSpace()
			if strings.ToUpper(p.word()) != "IN" {
				return bad("expected IN after NOT")
			}
			list, f.negate = true, true
		default:
			return bad("expected one of =, !=, IN, NOT IN after `name`")
		}
	}
	p.skipSpace()
	if !list {
		v, err := p.quoted()
		if err != nil {
			return bad("%v", err)
		}
		f.values[v] = true
	} else {
		if !p.take("(") {
			return bad("expected ( after IN")
		}
		for {
			p.skipSpace()
			v, err := p.quoted()
			if err != nil {
				return bad("%v", err)
			}
			f.values[v] = true
			p.skipSpace()
			if p.take(")") {
				break
			}
			if !p.take(",") {
				return bad("expected , or ) in the IN list")
			}
		}
	}
	p.skipSpace()
	if !p.done() {
		return bad("unexpected %q after the condition", p.s[p.i:])
	}
	return f, nil
}

type filterLexer struct {
	s string
	i int
}

func (p *filterLexer) done() bool { return p.i >= len(p.s) }

func (p *filterLexer) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *filterLexer) take(tok string) bool {
	if strings.HasPrefix(p.s[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func (p *filterLexer) word() string {
	start := p.i
	for p.i < len(p.s) {
		r := rune(p.s[p.i])
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '.') {
			break
		}
		p.i++
	}
	return p.s[start:p.i]
}

// quoted reads a "double" or 'single' quoted value; backslash escapes the next character.
func (p *filterLexer) quoted() (string, error) {
	if p.done() || (p.s[p.i] != '"' && p.s[p.i] != '\'') {
		return "", fmt.Errorf("expected a quoted value at position %d", p.i+1)
	}
	q := p.s[p.i]
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '\\' && p.i < len(p.s):
			b.WriteByte(p.s[p.i])
			p.i++
		case c == q:
			return b.String(), nil
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("unterminated quoted value")
}
