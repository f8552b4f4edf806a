package store

import (
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/imagedash/imagedash/cloud"
)

// textColumns are the images_fts columns the search box looks at.
const textColumns = "{name description id family labels}"

// ftsTerms turns what a person typed into FTS5 terms that cannot be a
// syntax error: every word becomes a quoted string (FTS5 has no other
// escape), so operators (AND, OR, NOT, NEAR, column filters, parentheses,
// ^, +, -) are plain words. Words are ANDed. The last word, and any word
// typed with a trailing '*', matches as a prefix, so results follow the
// typing. Words without a letter or digit (which the unicode61 tokenizer
// would drop anyway) are dropped; "" means "no text filter".
//
//	image-99*   → "image-99"*
//	a OR b      → "a" "OR" "b"*
//	say "hi"    → "say" """hi"""*
func ftsTerms(text string) string {
	// Control characters (NUL included) become spaces: the FTS5 parser
	// stops at a NUL.
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, text)
	words := strings.Fields(text)
	trailingSpace := len(text) > 0 && unicode.IsSpace(rune(text[len(text)-1]))
	var b strings.Builder
	for i, w := range words {
		prefix := i == len(words)-1 && !trailingSpace
		if t := strings.TrimRight(w, "*"); t != w {
			w, prefix = t, true
		}
		if !strings.ContainsFunc(w, isTokenRune) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(w, `"`, `""`))
		b.WriteByte('"')
		if prefix {
			b.WriteByte('*')
		}
	}
	return b.String()
}

// IsSearchRune reports the runes a search token is made of (the unicode61
// tokenizer's): every other rune separates tokens. Handlers count a
// search's terms with it, as the index will.
func IsSearchRune(r rune) bool { return isTokenRune(r) }

// isTokenRune reports the runes the unicode61 tokenizer keeps in tokens:
// letters, numbers and private-use characters.
func isTokenRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

// The kinds of attrs tokens. A token is its kind letter followed by the
// value in lower-case hex, so it is one alphanumeric token whatever the
// value, and distinct values never share a token.
const (
	attrService  = 's'
	attrFolder   = 'f'
	attrStatus   = 't'
	attrFamily   = 'm'
	attrOS       = 'o'
	attrLabelKey = 'k'
	attrLabel    = 'v' // hex(key) 'x' hex(value)
)

// attrToken is the attrs token of a value of a kind.
func attrToken(kind byte, value string) string {
	return string(kind) + hex.EncodeToString([]byte(value))
}

// labelToken is the attrs token of label key=value.
func labelToken(key, value string) string {
	return attrToken(attrLabel, key) + "x" + hex.EncodeToString([]byte(value))
}

// attrsText is the attrs column of img.
func attrsText(img cloud.Image) string {
	toks := []string{
		attrToken(attrService, string(img.Service)),
		attrToken(attrFolder, img.FolderID),
		attrToken(attrStatus, img.Status),
		attrToken(attrFamily, img.Family),
		attrToken(attrOS, img.OS),
	}
	for _, k := range slices.Sorted(maps.Keys(img.Labels)) {
		toks = append(toks, attrToken(attrLabelKey, k), labelToken(k, img.Labels[k]))
	}
	return strings.Join(toks, " ")
}

// ftsText is the MATCH expression of q's text, over the text columns
// only; "" when q has no text.
func (q ImageQuery) ftsText() string {
	terms := ftsTerms(q.Text)
	if terms == "" {
		return ""
	}
	return textColumns + " : (" + terms + ")"
}

// ftsFiltered is ftsText ANDed with all q's filters as attrs tokens, so
// that the expression alone selects exactly q's rows and FTS5 can count
// them without visiting a row. (Other queries leave the filters to SQL:
// intersecting the long doclists of common values such as the service or
// READY costs more than testing the rows a page reads.) "" when q has no
// text.
func (q ImageQuery) ftsFiltered() string {
	text := q.ftsText()
	if text == "" {
		return ""
	}
	var attrs []string
	anyOf := func(kind byte, vals []string) {
		alts := make([]string, len(vals))
		for i, v := range vals {
			alts[i] = `"` + attrToken(kind, v) + `"`
		}
		attrs = append(attrs, "("+strings.Join(alts, " OR ")+")")
	}
	anyOf(attrService, []string{string(q.Service)})
	if len(q.FolderIDs) > 0 {
		anyOf(attrFolder, q.FolderIDs)
	}
	if len(q.Statuses) > 0 {
		anyOf(attrStatus, q.Statuses)
	}
	if len(q.Families) > 0 {
		anyOf(attrFamily, q.Families)
	}
	if q.OS != "" {
		anyOf(attrOS, []string{q.OS})
	}
	for _, l := range q.Labels {
		if l.AnyValue {
			anyOf(attrLabelKey, []string{l.Key})
			continue
		}
		attrs = append(attrs, `"`+labelToken(l.Key, l.Value)+`"`)
	}
	return text + " AND {attrs} : (" + strings.Join(attrs, " AND ") + ")"
}
