package views

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

// hostile are values that HTML, URLs and the fragments' markers must
// survive: markup, quotes, entities, the marker bytes themselves, and text
// that is neither ASCII nor short.
var hostile = []string{
	"",
	"plain",
	`<script>alert("x")</script>`,
	`a"b'c&d<e>f`,
	"&amp; &lt;",
	"\x00\x01\x02 markers",
	"ünïcödé ✓ 日本語",
	"a=b&c=d%3D+e f",
	strings.Repeat("long-name-", 40),
}

// TestRowsWriterEqualsTempl: the fast row writer (imageRows) writes exactly
// what the rows' templ source (rowsTempl) renders, for every column of every
// service, every status, images with and without family, description,
// labels, folder or operation, long and hostile text.
func TestRowsWriterEqualsTempl(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	statuses := []string{"CREATING", "READY", "ACTIVE", "ERROR", "DELETING", "UPDATING", "SOMETHING_NEW", `<b>"x"</b>`, ""}
	var imgs []cloud.Image
	for i, st := range statuses {
		for j, h := range hostile {
			img := cloud.Image{
				Service:     cloud.Services[(i+j)%len(cloud.Services)],
				ID:          fmt.Sprintf("fd8%d%d%s", i, j, h),
				FolderID:    []string{"f1", "f2", "", "not-visible", h}[(i+j)%5],
				Name:        h,
				Description: hostile[(j+1)%len(hostile)],
				Status:      st,
				Size:        int64(i*j) << 28,
				StorageSize: int64(j) << 30,
				MinDiskSize: int64(i) << 30,
				Checksum:    hostile[(j+2)%len(hostile)],
				CreatedAt:   now.Add(-time.Duration(i*j) * time.Hour),
			}
			if j%2 == 0 {
				img.Family, img.OS = hostile[(j+3)%len(hostile)], "LINUX"
			}
			if j%3 != 0 {
				img.Labels = map[string]string{"env": "prod", h: hostile[(j+4)%len(hostile)], "gpu": ""}
			}
			if j == 4 {
				img.CreatedAt = time.Time{} // no time: a dash
			}
			imgs = append(imgs, img)
		}
	}
	rows := NewImageRows(imgs, now)
	for i := range rows {
		switch i % 4 {
		case 1:
			rows[i].OpID = int64(i)
		case 2:
			rows[i].CopyURL, rows[i].EditURL = "/images/compute/x/copy?a=1&b="+hostile[i%len(hostile)], `/e"dit`
		}
	}
	AbsoluteTimes(rows[:len(rows)/3])
	var cols []Column
	for _, svc := range cloud.Services {
		cols = append(cols, ColumnsOf(svc)...)
	}
	cols = append(cols, Column{Key: "a column nobody knows"})
	folders := map[string]string{"f1": "golden <images>", "f2": `team "alpha"`, hostile[2]: hostile[3]}
	for _, tt := range []struct {
		name      string
		cols      []Column
		labelBase string
		list      ImageFilter
	}{
		{"every column", cols, "/?status=READY&q=%3Cx%3E", ImageFilter{Service: cloud.Compute, Statuses: []string{"READY"}, After: "cursor", Start: 51}},
		{"no columns", nil, "/?", ImageFilter{}},
		{"one service's", ColumnsOf(cloud.BareMetal), `/?q="x"&label=a%3Db`, ImageFilter{Service: cloud.BareMetal, Text: `"x"`, Folders: []string{"f1"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var fast, ref bytes.Buffer
			if err := imageRows(tt.cols, rows, tt.labelBase, tt.list, folders).Render(context.Background(), &fast); err != nil {
				t.Fatal(err)
			}
			if err := rowsTempl(tt.cols, rows, tt.labelBase, tt.list, folders).Render(context.Background(), &ref); err != nil {
				t.Fatal(err)
			}
			if got, want := fast.String(), ref.String(); got != want {
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Fatalf("the row writer and rowsTempl differ at byte %d:\nwriter %q\ntempl  %q",
					i, got[max(0, i-100):min(len(got), i+100)], want[max(0, i-100):min(len(want), i+100)])
			}
			if len(tt.cols) > 0 && !strings.Contains(fast.String(), `data-testid="status"`) {
				t.Fatal("no badge rendered: the table tests nothing")
			}
		})
	}
}

// TestFragmentsEqualTempl: a fragment filled with any values is what its
// templ component renders for them.
func TestFragmentsEqualTempl(t *testing.T) {
	for _, a := range hostile {
		for _, b := range hostile {
			if got, want := string(appendCopyID(nil, a)), string(markup(CopyID(a))); got != want {
				t.Errorf("CopyID(%q):\n fragment %q\n templ    %q", a, got, want)
			}
			for _, iso := range []string{"", "2026-11-23T12:00:00Z", b} {
				if got, want := string(appendTime(nil, a, b, iso)), string(markup(timeView(a, b, iso))); got != want {
					t.Errorf("timeView(%q, %q, %q):\n fragment %q\n templ    %q", a, b, iso, got, want)
				}
			}
		}
		for _, href := range []string{"", "/?folder=" + a, a} {
			if got, want := string((&folderLinks{names: map[string]string{"f": a}, list: ImageFilter{Text: href}}).cell("f")), string(markup(folderCell((&folderLinks{names: map[string]string{"f": a}, list: ImageFilter{Text: href}}).link("f")))); got != want {
				t.Errorf("folderCell(%q, %q):\n fragment %q\n templ    %q", a, href, got, want)
			}
		}
		if got, want := string(appendBadge(nil, a)), string(markup(Badge(a))); got != want {
			t.Errorf("Badge(%q):\n writer %q\n templ  %q", a, got, want)
		}
	}
}
