package search

import (
	"slices"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		text string
		want Query
	}{
		{"", nil},
		{"  ", nil},
		{"debian", Query{{Tokens: []string{"debian"}, Prefix: true}}},
		{"debian ", Query{{Tokens: []string{"debian"}}}},
		{"image-99*", Query{{Tokens: []string{"image", "99"}, Prefix: true}}},
		{"a OR b", Query{{Tokens: []string{"a"}}, {Tokens: []string{"or"}}, {Tokens: []string{"b"}, Prefix: true}}},
		{`say "hi"`, Query{{Tokens: []string{"say"}}, {Tokens: []string{"hi"}, Prefix: true}}},
		{"-- * ** x\x00y", Query{{Tokens: []string{"x"}}, {Tokens: []string{"y"}, Prefix: true}}},
		{"Émile ÅSA", Query{{Tokens: []string{"emile"}}, {Tokens: []string{"asa"}, Prefix: true}}},
		{"env=prod ", Query{{Tokens: []string{"env", "prod"}}}},
	}
	for _, tt := range tests {
		if got := Parse(tt.text); !slices.EqualFunc(got, tt.want, func(a, b Word) bool {
			return a.Prefix == b.Prefix && slices.Equal(a.Tokens, b.Tokens)
		}) {
			t.Errorf("Parse(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestMatch(t *testing.T) {
	name := Tokens(nil, "debian-12-v20261201")
	labels := Tokens(nil, LabelText(map[string]string{"team": "alpha", "env": "prod"}))
	tests := []struct {
		text string
		want bool
	}{
		{"", true},
		{"debian", true},
		{"deb", true},
		{"deb ", false},
		{"debian-12", true},
		{"debian-1", true},
		{"debian-1 ", false},
		{"12-v2026", true},
		{"debian v20261201 ", true},
		{"env=prod", true},
		{"prod team", true}, // "env=prod team=alpha": a phrase across labels
		{"env=alpha", false},
		{"ubuntu", false},
	}
	for _, tt := range tests {
		if got := Parse(tt.text).Match(name, labels); got != tt.want {
			t.Errorf("Parse(%q).Match = %v, want %v", tt.text, got, tt.want)
		}
	}
}
