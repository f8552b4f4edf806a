package planner

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestNameTemplate(t *testing.T) {
	day := time.Date(2026, 11, 23, 23, 30, 0, 0, time.FixedZone("MSK", 3*3600))
	vars := newNameVars("Ubuntu-2404", "ubuntu-lts", "team-alpha", day)
	tests := []struct {
		give    string
		want    string
		wantErr string
	}{
		{give: "{name}-copy", want: "ubuntu-2404-copy"},
		{give: "plain-name", want: "plain-name"},
		{give: "{family}-{date}", want: "ubuntu-lts-20261123"},
		{give: "{folder}-{name}", want: "team-alpha-ubuntu-2404"},
		{give: "{name}{name}", want: "ubuntu-2404ubuntu-2404"},
		{give: "x{date}y", want: "x20261123y"},
		{give: "", wantErr: "give a name or a template"},
		{give: "   ", wantErr: "give a name or a template"},
		{give: "{name", wantErr: "a { is not closed"},
		{give: "{na{me}", wantErr: "a { is not closed"},
		{give: "name}", wantErr: "a } without its {"},
		{give: "{}", wantErr: "{} names no placeholder"},
		{give: "{owner}-copy", wantErr: "unknown placeholder {owner}"},
		{give: "{NAME}", wantErr: "unknown placeholder {NAME}"},
		{give: strings.Repeat("a", MaxTemplate+1), wantErr: "at most 200 characters"},
	}
	for _, tt := range tests {
		tmpl, err := ParseTemplate(tt.give)
		if tt.wantErr != "" {
			if err == nil || !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseTemplate(%q) error = %v, want %q", tt.give, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTemplate(%q) error = %v", tt.give, err)
			continue
		}
		if got := tmpl.Expand(vars); got != tt.want {
			t.Errorf("ParseTemplate(%q).Expand = %q, want %q", tt.give, got, tt.want)
		}
		if got := tmpl.String(); got != tt.give {
			t.Errorf("ParseTemplate(%q).String() = %q", tt.give, got)
		}
	}
}

func TestNameTemplateMessage(t *testing.T) {
	_, err := ParseTemplate("{nope}")
	got := TemplateMessage(err)
	if want := "The name template is wrong: unknown placeholder {nope}; use {name}, {family}, {folder} or {date}."; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

// FuzzNameTemplate: any input parses or fails with ErrTemplate, never
// panics; a parsed template prints back as given, reparses to the same
// template, and expands without a brace left over.
func FuzzNameTemplate(f *testing.F) {
	for _, s := range []string{"{name}-copy", "{family}-{date}", "{", "}", "{}", "{{name}}", "a{folder}b{date}c", "{nam\xffe}"} {
		f.Add(s)
	}
	vars := newNameVars("src", "fam", "dst", time.Unix(0, 0))
	f.Fuzz(func(t *testing.T, s string) {
		tmpl, err := ParseTemplate(s)
		if err != nil {
			if !errors.Is(err, ErrTemplate) {
				t.Fatalf("ParseTemplate(%q) error %v is not ErrTemplate", s, err)
			}
			if msg := TemplateMessage(err); !utf8.ValidString(msg) && utf8.ValidString(s) {
				t.Fatalf("message %q is not valid UTF-8", msg)
			}
			return
		}
		if got := tmpl.String(); got != s {
			t.Fatalf("String() = %q, want %q", got, s)
		}
		again, err := ParseTemplate(tmpl.String())
		if err != nil || again.String() != s {
			t.Fatalf("reparse of %q = %q, %v", s, again.String(), err)
		}
		if out := tmpl.Expand(vars); strings.ContainsAny(out, "{}") {
			t.Fatalf("Expand(%q) = %q keeps a brace", s, out)
		}
	})
}
