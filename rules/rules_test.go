package rules

import (
	"fmt"
	"strings"
	"testing"
)

func TestName(t *testing.T) {
	tests := []struct {
		give     string
		required bool
		wantOK   bool
	}{
		{"", false, true},
		{"", true, false},
		{"ab", false, false}, // 2 chars: below the 3 the regex needs
		{"abc", false, true},
		{"a" + strings.Repeat("b", 61) + "c", false, true},  // 63
		{"a" + strings.Repeat("b", 62) + "c", false, false}, // 64
		{"Ubuntu", false, false},
		{"ubuntu-", false, false},
		{"1ubuntu", false, false},
		{"ubuntu-22-04", false, true},
		{"ubu_ntu", false, false},
		{"ubuntu 22", false, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q/%v", tt.give, tt.required), func(t *testing.T) {
			got := Name("name", tt.give, tt.required)
			if (len(got) == 0) != tt.wantOK {
				t.Errorf("Name(%q) = %v, want ok=%v", tt.give, got, tt.wantOK)
			}
			for _, v := range got {
				if v.Field != "name" {
					t.Errorf("field %q, want name", v.Field)
				}
			}
		})
	}
}

func TestDescription(t *testing.T) {
	if got := Description("description", strings.Repeat("я", 256)); len(got) != 0 {
		t.Errorf("256 runes: %v, want ok", got)
	}
	if got := Description("description", strings.Repeat("x", 257)); len(got) != 1 {
		t.Errorf("257 chars: %v, want one violation", got)
	}
}

func TestLabels(t *testing.T) {
	many := func(n int) map[string]string {
		m := map[string]string{}
		for i := 0; i < n; i++ {
			m[fmt.Sprintf("k%d", i)] = "v"
		}
		return m
	}
	tests := []struct {
		name      string
		give      map[string]string
		wantField string // "" = valid
	}{
		{"none", nil, ""},
		{"ok", map[string]string{"env": "prod", "team_a": "x-1", "e": ""}, ""},
		{"64", many(64), ""},
		{"65", many(65), "labels"},
		{"upper key", map[string]string{"Env": "x"}, "labels.Env"},
		{"digit first", map[string]string{"1env": "x"}, "labels.1env"},
		{"empty key", map[string]string{"": "x"}, "labels"},
		{"long key", map[string]string{"k" + strings.Repeat("a", 63): "x"}, "labels.k" + strings.Repeat("a", 63)},
		{"63 key", map[string]string{"k" + strings.Repeat("a", 62): "x"}, ""},
		{"upper value", map[string]string{"env": "Prod"}, "labels.env"},
		{"space value", map[string]string{"env": "a b"}, "labels.env"},
		{"long value", map[string]string{"env": strings.Repeat("a", 64)}, "labels.env"},
		{"63 value", map[string]string{"env": strings.Repeat("a", 63)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Labels("labels", tt.give)
			if tt.wantField == "" {
				if len(got) != 0 {
					t.Errorf("got %v, want valid", got)
				}
				return
			}
			if len(got) == 0 || got[0].Field != tt.wantField {
				t.Errorf("got %v, want first violation on %q", got, tt.wantField)
			}
		})
	}
}

func TestMinDisk(t *testing.T) {
	tests := []struct {
		give, size int64
		wantOK     bool
	}{
		{0, 0, true},
		{4194303, 0, false},
		{4194304, 0, true},
		{4398046511104, 0, true},
		{4398046511105, 0, false},
		{10 << 30, 12 << 30, false},
		{12 << 30, 12 << 30, true},
	}
	for _, tt := range tests {
		got := MinDisk("min_disk_size", tt.give, tt.size)
		if (len(got) == 0) != tt.wantOK {
			t.Errorf("MinDisk(%d, size %d) = %v, want ok=%v", tt.give, tt.size, got, tt.wantOK)
		}
	}
}

func TestIDAndPaging(t *testing.T) {
	if got := ID("image_id", strings.Repeat("a", 50), true); len(got) != 0 {
		t.Errorf("50 chars: %v", got)
	}
	if got := ID("image_id", strings.Repeat("a", 51), true); len(got) != 1 {
		t.Errorf("51 chars: %v, want a violation", got)
	}
	if got := ID("image_id", "", true); len(got) != 1 {
		t.Errorf("empty required: %v, want a violation", got)
	}
	if got := Paging(1000, strings.Repeat("t", 100)); len(got) != 0 {
		t.Errorf("limits: %v", got)
	}
	if got := Paging(1001, strings.Repeat("t", 101)); len(got) != 2 {
		t.Errorf("over limits: %v, want two violations", got)
	}
}
