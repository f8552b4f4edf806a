package sim

import "testing"

func TestParseFilter(t *testing.T) {
	tests := []struct {
		give    string
		wantErr bool
		match   map[string]bool
	}{
		{give: "", match: map[string]bool{"anything": true}},
		{give: `name="ubuntu"`, match: map[string]bool{"ubuntu": true, "debian": false}},
		{give: `name = 'ubuntu'`, match: map[string]bool{"ubuntu": true}},
		{give: `name!="ubuntu"`, match: map[string]bool{"ubuntu": false, "debian": true}},
		{give: `name IN ("a-1", "b-2")`, match: map[string]bool{"a-1": true, "b-2": true, "c-3": false}},
		{give: `name in ("a-1")`, match: map[string]bool{"a-1": true}},
		{give: `name NOT IN ("a-1","b-2")`, match: map[string]bool{"a-1": false, "c-3": true}},
		{give: `name="say \"hi\""`, match: map[string]bool{`say "hi"`: true}},
		{give: `family="x"`, wantErr: true},
		{give: `name ~ "x"`, wantErr: true},
		{give: `name="x`, wantErr: true},
		{give: `name=x`, wantErr: true},
		{give: `name IN ("a" "b")`, wantErr: true},
		{give: `name IN "a"`, wantErr: true},
		{give: `name NOT "a"`, wantErr: true},
		{give: `name="a" AND name="b"`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			f, vs := parseFilter(tt.give)
			if got := len(vs) > 0; got != tt.wantErr {
				t.Fatalf("violations %v, want error=%v", vs, tt.wantErr)
			}
			if tt.wantErr {
				if vs[0].Field != "filter" {
					t.Errorf("field %q, want filter", vs[0].Field)
				}
				return
			}
			for name, want := range tt.match {
				if got := f.match(name); got != want {
					t.Errorf("match(%q) = %v, want %v", name, got, want)
				}
			}
		})
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{`name="a"`, `name NOT IN ("a","b")`, `name IN (`, `"`, `name='\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, vs := parseFilter(s)
		if len(vs) == 0 && s != "" && flt == nil {
			// Only blank input may parse to "no filter".
			for _, c := range s {
				if c != ' ' && c != '\t' {
					t.Fatalf("parseFilter(%q) gave neither a filter nor an error", s)
				}
			}
		}
	})
}
