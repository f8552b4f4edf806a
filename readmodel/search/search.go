// Package search is the search box's language: how an image's text is cut
// into tokens and how what a person typed becomes words to look for. The
// read model indexes the tokens; this package alone decides what they are,
// so the index and the check of a single row cannot disagree.
//
// The rules are those of SQLite's FTS5 unicode61 tokenizer with
// remove_diacritics 2, which the dashboard used before the read model, so
// a search finds what it found then, code point for code point
// (FuzzMatchesFTS5 compares with SQLite itself):
//   - a token is a maximal run of letters, numbers and private-use runes
//     by SQLite's own Unicode 6.1 tables, which also count every code
//     point they do not know (unassigned then); every other rune separates
//     tokens, except a few combining accents that continue a token and are
//     dropped from it;
//   - tokens are compared case-folded, with the diacritics of Latin letters
//     removed where SQLite's list has an ASCII base ("Émile" finds
//     "emile"; "ø" stays "ø").
//
// The tables are unicode61_tables.go, generated from the SQLite linked in
// (TestGenerateUnicode61Tables); TestUnicode61TablesSample checks a sample
// against it on every run.
package search

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// IsTokenRune reports the runes a token is made of: ASCII letters and
// digits, and the runes above ASCII that SQLite's unicode61 tokenizer
// keeps in tokens (unicode61_tables.go). Those are its letters, numbers
// and private-use runes by its own Unicode tables (6.1), so unlike Go's
// unicode package it also counts every code point those tables do not
// know: the unassigned ones, and the ones assigned since (new scripts,
// emoji modifiers, ₺) whatever their category today.
func IsTokenRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.Is(unicode61Tokens, r)
}

// isDiacritic reports the combining marks (some of U+0300..U+0331) that
// continue a token without starting one, and are dropped from it: in
// SQLite "e\u0301t" is the one token "et".
func isDiacritic(r rune) bool {
	return r >= 0x300 && r <= 0x36F && unicode.Is(unicode61Diacritics, r)
}

// foldRun maps the runes From..To (every Stride-th) to rune+Delta, or all
// to Const when it is not 0 (-1: dropped).
type foldRun struct {
	From, To rune
	Stride   uint8
	Delta    rune
	Const    rune
}

// foldRune is r as tokens compare it, as SQLite folds it: ASCII to lower
// case; above ASCII by its table (unicode61_tables.go), which folds case
// by its Unicode 6.1 data (simple case folding: "ſ" is "s", "ς" is "σ";
// above U+FFFF only Deseret), and with remove_diacritics 2 turns a Latin
// letter with diacritics into its ASCII base letter where its own list
// says so ("é" is "e", "ø" is "o", but "ǡ" stays). -1 drops r.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	i, ok := slices.BinarySearchFunc(unicode61Folds, r, func(f foldRun, r rune) int { return cmp.Compare(f.From, r) })
	if !ok {
		i--
	}
	if i < 0 {
		return r
	}
	f := unicode61Folds[i]
	switch {
	case r > f.To:
		return r
	case f.Const != 0:
		return f.Const
	case (r-f.From)%rune(f.Stride) == 0:
		return r + f.Delta
	}
	return r
}

// Fold is a token's folded form.
func Fold(tok string) string {
	ascii := true
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			ascii = false
			break
		}
	}
	if ascii {
		return tok
	}
	return strings.Map(foldRune, tok)
}

// Tokens appends the folded tokens of s to dst, in order.
func Tokens(dst []string, s string) []string {
	start := -1
	for i, r := range s {
		if IsTokenRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && isDiacritic(r) {
			continue // in the token, dropped by Fold
		}
		if start >= 0 {
			dst = append(dst, Fold(s[start:i]))
			start = -1
		}
	}
	if start >= 0 {
		dst = append(dst, Fold(s[start:]))
	}
	return dst
}

// Word is one word a person typed: its tokens must occur one after another
// in one field (a phrase: "debian-12" is debian then 12), the last one as a
// prefix when Prefix is set.
type Word struct {
	Tokens []string
	Prefix bool
}

// Query is the words of a search, all of which must match; an empty Query
// matches everything.
type Query []Word

// Parse turns what a person typed into words. Any text is a valid query:
// control runes are spaces, words are separated by spaces, a word's
// trailing '*' makes it a prefix, and so is the last word unless a space
// follows it, so results follow the typing. Words without a token rune are
// dropped.
func Parse(text string) Query {
	text = spaced(text)
	words := strings.Fields(text)
	trailingSpace := len(text) > 0 && unicode.IsSpace(rune(text[len(text)-1]))
	var q Query
	for i, w := range words {
		prefix := i == len(words)-1 && !trailingSpace
		if t := strings.TrimRight(w, "*"); t != w {
			w, prefix = t, true
		}
		toks := Tokens(nil, w)
		if len(toks) == 0 {
			continue
		}
		q = append(q, Word{Tokens: toks, Prefix: prefix})
	}
	return q
}

// Fields are the words of text as Parse cuts them (control runes are
// spaces), each as typed: what a caller that bounds searches must count.
func Fields(text string) []string { return strings.Fields(spaced(text)) }

// spaced is text with its control runes made spaces.
func spaced(text string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, text)
}

// Match reports whether every word of q occurs in one of fields, each
// field already cut by Tokens. It is the definition the index answers
// from: the read model checks a candidate row with it.
func (q Query) Match(fields ...[]string) bool {
	for _, w := range q {
		found := false
		for _, f := range fields {
			if w.In(f) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// In reports whether w's tokens occur one after another in toks.
func (w Word) In(toks []string) bool {
	n := len(w.Tokens)
	for i := 0; i+n <= len(toks); i++ {
		if w.at(toks[i:]) {
			return true
		}
	}
	return false
}

// at reports whether w's tokens start toks.
func (w Word) at(toks []string) bool {
	last := len(w.Tokens) - 1
	for j, t := range w.Tokens {
		if j == last && w.Prefix {
			if !strings.HasPrefix(toks[j], t) {
				return false
			}
			continue
		}
		if toks[j] != t {
			return false
		}
	}
	return true
}

// LabelText is the labels as the search box sees them: "k=v k2=v2", by
// key, so "env=prod" finds the label env=prod as a phrase.
func LabelText(labels map[string]string) string {
	keys := slices.Sorted(maps.Keys(labels))
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(labels[k])
	}
	return b.String()
}
