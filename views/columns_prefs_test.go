package views

import (
	"slices"
	"testing"

	"github.com/imagedash/imagedash/cloud"
)

func keys(cols []Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Key
	}
	return out
}

// TestOptionalColumns: the columns a person may hide come from every
// service's table (so one added there can be chosen at once), name and
// status are never among them, and folder is known before the tables
// have it.
func TestOptionalColumns(t *testing.T) {
	got := keys(OptionalColumns())
	for _, svc := range cloud.Services {
		for _, c := range ColumnsOf(svc) {
			if AlwaysShown(c.Key) == slices.Contains(got, c.Key) {
				t.Errorf("%s column %q: optional = %v", svc, c.Key, slices.Contains(got, c.Key))
			}
		}
	}
	for _, k := range []string{"created_at", "size", "os", "family", "labels", "folder", "id"} {
		if !OptionalColumn(k) {
			t.Errorf("OptionalColumn(%q) = false", k)
		}
	}
	for _, k := range []string{"name", "status", "", "password_hash", "Labels"} {
		if OptionalColumn(k) {
			t.Errorf("OptionalColumn(%q) = true", k)
		}
	}
	seen := map[string]bool{}
	for _, k := range got {
		if seen[k] {
			t.Errorf("%q listed twice", k)
		}
		seen[k] = true
	}
}

func TestShownColumns(t *testing.T) {
	cols := []Column{colName, colID, colFamily, colStatus, colOS, colLabels, colCreatedAt}
	tests := []struct {
		name   string
		hidden []string
		want   []string
	}{
		{"none hidden", nil, keys(cols)},
		{"some hidden", []string{"id", "labels"}, []string{"name", "family", "status", "os", "created_at"}},
		{"name and status stay", []string{"name", "status", "id", "family", "os", "labels", "created_at"}, []string{"name", "status"}},
		{"keys of columns not in the table change nothing", []string{"checksum", "storage_size", "folder"}, keys(cols)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keys(ShownColumns(cols, tt.hidden)); !slices.Equal(got, tt.want) {
				t.Errorf("ShownColumns = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAbsoluteTimes: the date is shown and the relative time is on
// hover; a row without a time keeps its dash.
func TestAbsoluteTimes(t *testing.T) {
	rows := []ImageRow{
		{Created: "3 h ago", CreatedAt: "2026-11-23 09:00:00 UTC", CreatedISO: "2026-11-23T09:00:00Z"},
		{},
	}
	AbsoluteTimes(rows)
	if rows[0].Created != "2026-11-23 09:00:00 UTC" || rows[0].CreatedAt != "3 h ago" {
		t.Errorf("row 0 = %q (hover %q)", rows[0].Created, rows[0].CreatedAt)
	}
	if rows[1].Created != "" || rows[1].CreatedAt != "" {
		t.Errorf("row without a time changed: %+v", rows[1])
	}
}
