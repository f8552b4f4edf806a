package search

import (
	"database/sql"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The oracle of this file is SQLite itself: an FTS5 table with the
// tokenizer and the columns the dashboard's search index had
// (store/migrations/001_images.sql), asked with the MATCH expression the
// store built (ftsTermsOracle, a copy of store.ftsTerms). Parse(q).Match
// must answer as it does for any row and any typed text.
//
// Not compared (the fuzz skips them, with the reason):
//   - invalid UTF-8: Go reads each bad byte as U+FFFD, SQLite's reader
//     folds a malformed sequence into one code point; images come from the
//     cloud's protobuf strings, which are valid UTF-8 by contract.
// Everything else agrees exactly, code point by code point: the tables of
// unicode61_tables.go are SQLite's own answers (TestGenerateUnicode61Tables).

// ftsTermsOracle is store.ftsTerms (images_search.go) as it was when the
// read model replaced it, with its token-rune test taken from this package
// (the word a person typed is dropped when it has no token, as FTS5 would
// find nothing for an empty phrase).
func ftsTermsOracle(text string) string {
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
		if !strings.ContainsFunc(w, IsTokenRune) {
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

// fts5Oracle is one row of the index at a time.
type fts5Oracle struct {
	db                 *sql.DB
	insert, del, match *sql.Stmt
}

func newFTS5Oracle(tb testing.TB) *fts5Oracle {
	tb.Helper()
	db := openOracle(tb)
	if _, err := db.Exec(`CREATE VIRTUAL TABLE images_fts USING fts5 (
	name, description, id, family, labels,
	tokenize = 'unicode61 remove_diacritics 2')`); err != nil {
		tb.Fatal(err)
	}
	o := &fts5Oracle{db: db}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&o.insert, `INSERT INTO images_fts (rowid, name, description, id, family, labels) VALUES (1, ?, ?, ?, ?, ?)`},
		{&o.del, `DELETE FROM images_fts`},
		{&o.match, `SELECT count(*) FROM images_fts WHERE images_fts MATCH '{name description id family labels} : (' || ? || ')'`},
	} {
		st, err := db.Prepare(p.sql)
		if err != nil {
			tb.Fatal(err)
		}
		*p.st = st
	}
	return o
}

// matches is whether SQLite finds the row fields for what a person typed.
func (o *fts5Oracle) matches(tb testing.TB, typed string, fields [5]string) bool {
	tb.Helper()
	terms := ftsTermsOracle(typed)
	if terms == "" {
		return true // no text filter
	}
	if _, err := o.del.Exec(); err != nil {
		tb.Fatal(err)
	}
	if _, err := o.insert.Exec(fields[0], fields[1], fields[2], fields[3], fields[4]); err != nil {
		tb.Fatal(err)
	}
	var n int
	if err := o.match.QueryRow(terms).Scan(&n); err != nil {
		tb.Fatalf("MATCH %q (typed %q): %v", terms, typed, err)
	}
	return n > 0
}

// goMatches is the package's answer.
func goMatches(typed string, fields [5]string) bool {
	toks := make([][]string, len(fields))
	for i, f := range fields {
		toks[i] = Tokens(nil, f)
	}
	return Parse(typed).Match(toks...)
}

// queryFrom is what a person might type to find fields: the runes of
// their text from a position, cut after a number of runes, then extra.
func queryFrom(fields [5]string, from, n uint8, extra string) string {
	all := []rune(strings.Join(fields[:], " "))
	if len(all) == 0 {
		return extra
	}
	i := int(from) % len(all)
	j := min(len(all), i+int(n)%24)
	return string(all[i:j]) + extra
}

// fuzzSeeds are the tricky cases: each a row (name, description, id,
// family, labels) and what is typed.
var fuzzSeeds = []struct {
	fields [5]string
	typed  string
}{
	{[5]string{"Émile-Zola", "Ünïcødé café 日本語", "fd8a01", "debian-12", "env=prod team=core"}, "emile"},
	{[5]string{"ǡ-image", "", "", "", ""}, "a"},                     // SQLite keeps ǡ: no ASCII base in its list
	{[5]string{"ſtraße", "", "", "", ""}, "stra"},                   // ſ folds to s; ß stays
	{[5]string{"λόγος ΛΌΓΟΣ ς", "", "", "", ""}, "λογοσ"},           // Greek keeps its tonos; ς folds to σ
	{[5]string{"µs", "", "", "", ""}, "μs"},                         // MICRO SIGN folds to GREEK MU
	{[5]string{"øresund Łódź đ", "", "", "", ""}, "øresund łodz đ"}, // letters without a decomposition stay
	{[5]string{"e\u0301t", "", "", "", ""}, "et "},                  // a combining acute inside a token is dropped
	{[5]string{"a\u0332b", "", "", "", ""}, "a b "},                 // one it does not list separates
	{[5]string{"İstanbul ǅ ﬁ", "", "", "", ""}, "istanbul"},         // dotted capital I; titlecase; ligature
	{[5]string{"Ёлка Ѐ", "", "", "", ""}, "ёлка ѐ"},                 // Cyrillic keeps its diacritics
	{[5]string{"日本語の画像", "", "", "", ""}, "日本"},                     // CJK: one token, prefix
	{[5]string{"x²½Ⅲ", "", "", "", ""}, "x2"},                       // numbers of every kind are tokens, not digits
	{[5]string{"\u0378q 🏻x ₺1 Ԩ", "", "", "", ""}, "\u0378q ԩ"},     // code points newer than SQLite's tables
	{[5]string{"𐐀𐐨 𐒰", "", "", "", ""}, "𐐨𐐨 𐓘"},                     // Deseret folds above U+FFFF; Osage does not
	{[5]string{"a OR b NEAR(x y)", `"quoted" and 'single'`, "", "", ""}, `a OR "quoted*`},
	{[5]string{"image-99", "", "", "", "gpu= env=prod"}, "prod gpu"},
	{[5]string{"tab\there", "nul\x00byte", "", "", ""}, "nul\x00by"},
	{[5]string{"** -- ^", "", "", "", ""}, "* ** -"},
	{[5]string{"aᦰb", "", "", "", ""}, "a b "}, // New Tai Lue vowels: marks in SQLite's tables, separators
}

// palette is where the fuzz's mix bytes draw runes from: ranges where
// tokenizers differ (ASCII punctuation, quotes, '*' and controls; Latin
// with diacritics; combining marks; Greek; Cyrillic; CJK; numbers of
// other kinds; code points newer than SQLite's tables, unassigned ones,
// and scripts that fold above U+FFFF), so random bytes make the texts
// a person would type and worse.
var palette = []struct{ lo, n rune }{
	{0x00, 0x80},     // ASCII, controls and NUL included
	{'a', 26},        // more letters, so words repeat
	{' ', 1},         // and spaces, so there are words
	{0xC0, 0x190},    // Latin-1 letters, Latin Extended-A and -B
	{0x1E00, 0x100},  // Latin Extended Additional
	{0x300, 0x70},    // combining diacritical marks
	{0x370, 0x90},    // Greek
	{0x400, 0x130},   // Cyrillic
	{0x3040, 0x60},   // Hiragana
	{0x4E00, 0x40},   // CJK ideographs
	{0xFF00, 0x60},   // fullwidth forms
	{0x2150, 0x40},   // number forms (½, Ⅲ)
	{0x19B0, 0x20},   // New Tai Lue: marks then, letters now
	{0x20A0, 0x20},   // currency signs (₺ is newer than SQLite's tables)
	{0x0378, 0x0C},   // unassigned and Greek
	{0x10400, 0x50},  // Deseret (SQLite folds it)
	{0x104B0, 0x50},  // Osage (it does not: newer)
	{0x1F3F0, 0x20},  // emoji and their skin-tone modifiers
	{0xE000, 0x10},   // private use
	{0x2000, 0x70},   // spaces, dashes, quotes, invisible format runes
	{0xFB00, 0x10},   // ligatures
	{0x1D400, 0x40},  // mathematical letters
	{0xE0000, 0x80},  // tags (format runes today)
	{0x10FFF0, 0x10}, // the last code points
}

// mixed appends to texts the runes mix draws from palette: each byte pair
// picks a text, a range and a rune in it.
func mixed(texts *[6]string, mix []byte) {
	for i := 0; i+1 < len(mix); i += 2 {
		b0, b1 := int(mix[i]), rune(mix[i+1])
		p := palette[(b0/len(texts))%len(palette)]
		texts[b0%len(texts)] += string(p.lo + b1%p.n)
	}
}

func FuzzMatchesFTS5(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s.fields[0], s.fields[1], s.fields[2], s.fields[3], s.fields[4], s.typed, []byte(nil), uint8(0), uint8(0))
	}
	f.Add("", "", "", "", "", "", []byte("\x00\x12\x05\x30\x18\x40\x1e\x05\x06\x07\x12\x13\x1a\x20\x45\x01"), uint8(0), uint8(9))
	o := newFTS5Oracle(f)
	f.Fuzz(func(t *testing.T, name, desc, id, family, labels, typed string, mix []byte, from, n uint8) {
		texts := [6]string{name, desc, id, family, labels, typed}
		mixed(&texts, mix)
		fields := [5]string(texts[:5])
		typed = texts[5]
		if n > 0 {
			typed = queryFrom(fields, from, n, typed)
		}
		for _, s := range append(fields[:], typed) {
			if !utf8.ValidString(s) {
				t.Skip("invalid UTF-8 (see the top of the file)")
			}
		}
		if got, want := goMatches(typed, fields), o.matches(t, typed, fields); got != want {
			t.Errorf("typed %q on %q: Match = %v, FTS5 = %v (terms %s; Parse %v)", typed, fields, got, want, ftsTermsOracle(typed), Parse(typed))
		}
	})
}
