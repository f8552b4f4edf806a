package search

import (
	"slices"
	"testing"
	"unicode/utf8"
)

// TestTokensAsSQLite: the cases where Go's unicode package and SQLite's
// unicode61 tokenizer part ways, each as SQLite cuts and folds it (found
// by FuzzMatchesFTS5 and the probe of TestGenerateUnicode61Tables).
func TestTokensAsSQLite(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"Latin diacritics to ASCII", "Émile ÅSA çà", []string{"emile", "asa", "ca"}},
		{"letters without a decomposition stay", "øresund Łódź Đ ħ", []string{"øresund", "łodz", "đ", "ħ"}},
		{"not in SQLite's list: stays", "ǡ Ǡ", []string{"ǡ", "ǡ"}},
		{"long s folds to s", "ſtraße", []string{"straße"}},
		{"final sigma folds to sigma", "λόγος ΛΌΓΟΣ", []string{"λόγοσ", "λόγοσ"}},
		{"micro sign folds to mu", "µs", []string{"μs"}},
		{"Cyrillic keeps its diacritics", "Ёлка Ѐ", []string{"ёлка", "ѐ"}},
		{"a listed combining mark is in the token, dropped", "e\u0301t", []string{"et"}},
		{"it cannot start a token", "\u0301et", []string{"et"}},
		{"an unlisted combining mark separates", "a\u0332b a\u0305b", []string{"a", "b", "a", "b"}},
		{"CJK run is one token", "日本語の画像 x", []string{"日本語の画像", "x"}},
		{"numbers of every kind", "x²½Ⅲ", []string{"x²½ⅲ"}},
		{"unassigned code point is a token rune", "a\u0378b", []string{"a\u0378b"}},
		{"assigned after Unicode 6.1: a token rune", "₺1 x🏻y", []string{"₺1", "x🏻y"}},
		{"lower case it does not know: not folded", "Ԩ", []string{"Ԩ"}},
		{"marks in its tables, letters today: separators", "aᦰb", []string{"a", "b"}},
		{"Deseret folds above U+FFFF", "𐐀", []string{"𐐨"}},
		{"Osage does not", "𐒰", []string{"𐒰"}},
		{"dotted capital I", "İ", []string{"i"}},
		{"titlecase and ligature", "ǅ ﬁ", []string{"ǆ", "ﬁ"}},
		{"punctuation, quotes, star, controls separate", `a*b "c" d'e f\x00g h` + "\ti", []string{"a", "b", "c", "d", "e", "f", "x00g", "h", "i"}},
	}
	for _, tt := range tests {
		if got := Tokens(nil, tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Tokens(%q) = %q, want %q", tt.name, tt.text, got, tt.want)
		}
	}
}

// TestFuzzSeedsMatchAsFTS5 runs the fuzz's seeds as plain tests, with the
// answers SQLite gave written down: they stay if the fuzz's oracle goes.
func TestFuzzSeedsMatchAsFTS5(t *testing.T) {
	want := []bool{true, false, true, false, true, true, true, true, true, true, true, false, false, false, true, true, true, true, true}
	if len(want) != len(fuzzSeeds) {
		t.Fatalf("%d answers for %d seeds", len(want), len(fuzzSeeds))
	}
	o := newFTS5Oracle(t)
	for i, s := range fuzzSeeds {
		if got := goMatches(s.typed, s.fields); got != want[i] {
			t.Errorf("seed %d: typed %q on %q: Match = %v, want %v", i, s.typed, s.fields, got, want[i])
		}
		if got := o.matches(t, s.typed, s.fields); got != want[i] {
			t.Errorf("seed %d: typed %q on %q: FTS5 = %v, want %v (the written answer is stale)", i, s.typed, s.fields, got, want[i])
		}
	}
}

// TestUnicode61TablesSample asks SQLite again about a sample of code
// points (every one below U+0800, then one in 509) and compares with the
// generated tables: a newer SQLite with other tables fails here first.
func TestUnicode61TablesSample(t *testing.T) {
	var cps []rune
	for c := rune(utf8.RuneSelf); c <= unicode61Max; c++ {
		if utf8.ValidRune(c) && (c < 0x800 || c%509 == 0) {
			cps = append(cps, c)
		}
	}
	probed := probeUnicode61(t, cps)
	for _, c := range cps {
		p := probed[c]
		if got := IsTokenRune(c); got != p.token {
			t.Errorf("IsTokenRune(U+%04X) = %v, SQLite %v", c, got, p.token)
		}
		if got := isDiacritic(c); got != p.cont {
			t.Errorf("isDiacritic(U+%04X) = %v, SQLite %v", c, got, p.cont)
		}
		if (p.token || p.cont) && foldRune(c) != p.fold {
			t.Errorf("foldRune(U+%04X) = %U, SQLite %U", c, foldRune(c), p.fold)
		}
	}
}
