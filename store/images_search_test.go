package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/imagedash/imagedash/cloud"
)

func TestFTSTerms(t *testing.T) {
	tests := []struct {
		give, want string
	}{
		{"", ""},
		{"   ", ""},
		{"ubuntu", `"ubuntu"*`},
		{"ubuntu ", `"ubuntu"`},
		{"ubuntu lts", `"ubuntu" "lts"*`},
		{"image-99*", `"image-99"*`},
		{"image-99* lts ", `"image-99"* "lts"`},
		{`"`, ""},
		{`'`, ""},
		{`say "hi"`, `"say" """hi"""*`},
		{`a"b`, `"a""b"*`},
		{"a OR b", `"a" "OR" "b"*`},
		{"NEAR(", `"NEAR("*`},
		{"name:ubuntu", `"name:ubuntu"*`},
		{"<script>alert(1)</script>", `"<script>alert(1)</script>"*`},
		{"'; DROP TABLE images; --", `"DROP" "TABLE" "images;"`},
		{"café 日本語", `"café" "日本語"*`},
		{"a\x00b", `"a" "b"*`},
		{"*", ""},
		{"-- () ^ +", ""},
	}
	for _, tt := range tests {
		if got := ftsTerms(tt.give); got != tt.want {
			t.Errorf("ftsTerms(%q) = %s, want %s", tt.give, got, tt.want)
		}
	}
}

func TestAttrTokens(t *testing.T) {
	// Distinct values, and distinct kinds, never share a token; every token
	// is one unicode61 token (letters and digits only).
	seen := map[string]string{}
	add := func(tok, what string) {
		t.Helper()
		for _, r := range tok {
			if !isTokenRune(r) || r > 0x7f {
				t.Errorf("%s: token %q has %q", what, tok, r)
			}
		}
		if prev, ok := seen[tok]; ok && prev != what {
			t.Errorf("token %q of %s and of %s", tok, what, prev)
		}
		seen[tok] = what
	}
	values := []string{"", "a", "ab", "READY", "ready", "b1g-a", "b1g_a", "x", "7878", "ünï", "a x", "k=v"}
	for _, kind := range []byte{attrService, attrFolder, attrStatus, attrFamily, attrOS, attrLabelKey} {
		for _, v := range values {
			add(attrToken(kind, v), fmt.Sprintf("%c:%q", kind, v))
		}
	}
	for _, k := range values {
		for _, v := range values {
			add(labelToken(k, v), fmt.Sprintf("label %q=%q", k, v))
		}
	}
}

// TestTextCountMatchesRows checks that a text query's Total, counted by
// FTS5 from attrs tokens, equals the rows the SQL filters return.
func TestTextCountMatchesRows(t *testing.T) {
	s, _ := pagingStore(t)
	texts := []string{"ubuntu", "debian", "lts", "image", "2204", "w", "env=prod", "team-3", "gpu"}
	filters := []ImageQuery{
		{},
		{Statuses: []string{"READY"}},
		{Statuses: []string{"ERROR", "CREATING"}},
		{FolderIDs: []string{"b1g-y"}},
		{FolderIDs: []string{"b1g-x", "b1g-z"}, OS: "LINUX"},
		{Families: []string{"ubuntu-2204-lts", "windows-2022-dc", "debian-12"}},
		{OS: "WINDOWS"},
		{Labels: []LabelFilter{{Key: "gpu", AnyValue: true}}},
		{Labels: []LabelFilter{{Key: "env", Value: "prod"}, {Key: "team", Value: "team-1"}}},
		{Labels: []LabelFilter{{Key: "gpu", Value: ""}}, Statuses: []string{"READY"}},
	}
	for _, text := range texts {
		for i, f := range filters {
			q := f
			q.Service, q.Text = cloud.Compute, text
			p, err := s.Images(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			if rows := allImages(t, s, q); p.Total != len(rows) {
				t.Errorf("text %q, filter %d: Total %d, rows %d", text, i, p.Total, len(rows))
			}
		}
	}
}
