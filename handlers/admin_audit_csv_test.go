package handlers

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/imagedash/imagedash/store"
)

func TestCSVText(t *testing.T) {
	t.Parallel()
	tests := []struct{ give, want string }{
		{"", ""},
		{"alice", "alice"},
		{"=1+1", "'=1+1"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t'=1"},
		{"\rx", "'\rx"},
		{"a;=1+1", "a;'=1+1"},
		{"a,=1+1", "a,'=1+1"},
		{"a\t=1+1", "a\t'=1+1"},
		{"a\r=1+1", "a\r'=1+1"},
		{"a\n=1+1", "a\n'=1+1"},
		{"a; =1", "a; '=1"},
		{`a;"=1"`, `a;"'=1"`},
		{`a;" "@x`, `a;" "'@x`},
		{"  =1", "  '=1"},
		{"a;;-1", "a;;'-1"},
		{"a=1", "a=1"},
		{"user-agent", "user-agent"},
		{"a;b=1", "a;b=1"},
		{"exported 5 entries", "exported 5 entries"},
		{"=;=", "'=;'="},
		{"ок;=1", "ок;'=1"},
	}
	for _, tt := range tests {
		if got := csvText(tt.give); got != tt.want {
			t.Errorf("csvText(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

// FuzzAuditCSV writes an entry whose typed fields hold the fuzzed text
// and reads the file back as each kind of spreadsheet would: lines split
// on CR and LF, cells on ',', ';' or TAB. No cell, once its spaces and
// double quotes are trimmed, may start with a formula character.
func FuzzAuditCSV(f *testing.F) {
	for _, s := range []string{"a;=1+1", "=HYPERLINK(\"x\")", "a,\"=1\"", "x\t@y", "a\r\n-2", " +3", `";=cmd|' /C calc'!A0`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := store.AuditEntry{ID: 7, At: time.Unix(0, 0), Username: s, IP: s, Action: s, TargetKind: s,
			TargetID: s, OperationID: s, Outcome: store.OutcomeFailure, Detail: s}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if _, err := writeAuditCSV(w, []store.AuditEntry{e}, nil); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, sep := range []string{",", ";", "\t"} {
			for line := range strings.FieldsFuncSeq(out, func(r rune) bool { return r == '\n' || r == '\r' }) {
				for _, cell := range strings.Split(line, sep) {
					c := strings.Trim(cell, ` "`)
					if c != "" && strings.ContainsRune(csvFormulaStart, rune(c[0])) {
						t.Fatalf("split on %q, the cell %q starts a formula (value %q)", sep, cell, s)
					}
				}
			}
		}
		// And encoding/csv reads the defused text back, each cell whole
		// (with CRLF read as LF, as it does in a quoted cell).
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || len(recs) != 2 || recs[1][3] != strings.ReplaceAll(csvText(s), "\r\n", "\n") {
			t.Fatalf("read back: %q, %v", recs, err)
		}
	})
}
