package handlers

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/imagedash/imagedash/fault"
)

// TestCheckSearch: the pathological searches of issue 15 (60 one-letter
// prefixes) and their variants are refused with 400 and a message saying
// what to type; ordinary searches pass.
func TestCheckSearch(t *testing.T) {
	t.Parallel()
	sixty := strings.Repeat("a* ", 60)
	nine := "debian ubuntu alma rocky centos fedora arch suse gentoo"
	tests := []struct {
		give     string
		wantText string // "" = accepted
	}{
		{"", ""},
		{"ubuntu 22", ""},
		{"ubu*", ""},
		{"u", ""}, // typing: the live search's last word
		{"ab* cd* ef* gh* ij* kl* mn* op*", ""},
		{"- -- *** ubuntu", ""}, // words without letters are no terms
		{sixty, "too short a prefix"},
		{"ubuntu a*", "too short a prefix"},
		{"é*", "too short a prefix"},
		{nine, "at most 8"},
		{strings.Repeat("ab* ", 60), "at most 8"},
		// The tokenizer splits at punctuation: the prefix is what follows it,
		// and every part is a term.
		{"x-a* x-b*", "too short a prefix"},
		{"a.*", "too short a prefix"},
		{"a-*", "too short a prefix"},
		{"fd8-ab*", ""},
		{strings.Repeat("a-", 100), "at most 8"},
		{"a.b.c.d e f g h i", "at most 8"},
		{"a.b.c.d e f g h", ""},
		// A control rune separates words as a space does (search.Parse).
		{"a*\x01b*\x01cc*", "too short a prefix"},
		{"ab\x01cd\x01ef\x01gh\x01ij\x01kl\x01mn\x01op\x01qr", "at most 8"},
	}
	for _, tt := range tests {
		err := checkSearch(tt.give)
		if tt.wantText == "" {
			if err != nil {
				t.Errorf("checkSearch(%.40q) = %v, want nil", tt.give, err)
			}
			continue
		}
		fe, ok := errors.AsType[*fault.Error](err)
		if !ok || fe.Status() != http.StatusBadRequest || !strings.Contains(fe.Message, tt.wantText) {
			t.Errorf("checkSearch(%.40q) = %v, want 400 saying %q", tt.give, err, tt.wantText)
		}
	}
}
