package views

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/cloud"
)

func TestGiB(t *testing.T) {
	tests := []struct {
		give int64
		want string
	}{
		{0, ""},
		{-1, ""},
		{1 << 20, "< 0.1 GiB"},
		{1 << 30, "1 GiB"},
		{3 << 29, "1.5 GiB"},
		{10 << 30, "10 GiB"},
		{4398046511104, "4096 GiB"},
	}
	for _, tt := range tests {
		if got := GiB(tt.give); got != tt.want {
			t.Errorf("GiB(%d) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		give time.Duration
		want string
	}{
		{-time.Hour, "just now"},
		{30 * time.Second, "just now"},
		{time.Minute, "1 minute ago"},
		{59 * time.Minute, "59 minutes ago"},
		{2 * time.Hour, "2 hours ago"},
		{3 * 24 * time.Hour, "3 days ago"},
		{65 * 24 * time.Hour, "2 months ago"},
		{800 * 24 * time.Hour, "2 years ago"},
	}
	for _, tt := range tests {
		if got := Ago(now.Add(-tt.give), now); got != tt.want {
			t.Errorf("Ago(now-%v) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestStatusTitle(t *testing.T) {
	tests := []struct{ give, want string }{
		{"READY", "Ready"},
		{"CREATING", "Creating"},
		{"STATUS_UNSPECIFIED", "Status unspecified"},
		{"", "Unknown"},
	}
	for _, tt := range tests {
		if got := StatusTitle(tt.give); got != tt.want {
			t.Errorf("StatusTitle(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestNewFolderOptions(t *testing.T) {
	folders := []cloud.Folder{{ID: "b1", Name: "team-b"}, {ID: "a1", Name: "golden-images"}, {ID: "c1"}}
	tests := []struct {
		name     string
		selected string
		want     []string
	}{
		{"known folder", "a1", []string{"c1", "golden-images (a1)", "team-b (b1)"}},
		{"unknown folder goes first", "zz", []string{"zz", "c1", "golden-images (a1)", "team-b (b1)"}},
		{"none selected", "", []string{"c1", "golden-images (a1)", "team-b (b1)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, o := range NewFolderOptions(folders, tt.selected) {
				got = append(got, o.Label)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("labels = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBadge(t *testing.T) {
	tests := []struct {
		give        string
		wantClass   string
		wantSpinner bool
		wantText    string
	}{
		{"READY", "badge-ready", false, "Ready"},
		{"ACTIVE", "badge-active", false, "Active"},
		{"CREATING", "badge-creating", true, "Creating"},
		{"DELETING", "badge-deleting", true, "Deleting"},
		{"UPDATING", "badge-updating", true, "Updating"},
		{"ERROR", "badge-error", false, "Error"},
		{"<b>", "badge-unknown", false, "<b>"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			doc := render(t, Badge(tt.give))
			b := doc.Find(`[data-testid="status"]`)
			if !b.HasClass(tt.wantClass) {
				cls, _ := b.Attr("class")
				t.Errorf("class = %q, want %q", cls, tt.wantClass)
			}
			if got := b.Find(".spinner").Length() > 0; got != tt.wantSpinner {
				t.Errorf("spinner = %v, want %v", got, tt.wantSpinner)
			}
			if got := strings.TrimSpace(b.Text()); got != tt.wantText {
				t.Errorf("text = %q, want %q", got, tt.wantText)
			}
		})
	}
}

func TestImageTable(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	img := cloud.Image{
		ID: "fd8abc", Name: "ubuntu-2404", Family: "ubuntu-2404-lts", Status: "READY", OS: "LINUX",
		Size: 8 << 30, MinDiskSize: 10 << 30, Labels: map[string]string{"os": "ubuntu", "env": "prod"},
		CreatedAt: now.Add(-49 * time.Hour),
	}
	p := ImagesPage{
		Nav:           Nav{Service: cloud.Compute, FolderID: "f1"},
		Rows:          NewImageRows([]cloud.Image{img}, now),
		NextPageToken: "tok",
	}
	doc := render(t, ImageTable(p))
	row := doc.Find(`[data-testid="image-row"]`)
	if row.Length() != 1 {
		t.Fatalf("rows = %d, want 1", row.Length())
	}
	cells := row.Find("td").Map(func(_ int, s *goquery.Selection) string {
		if chips := s.Find(".chip"); chips.Length() > 0 {
			return strings.Join(chips.Map(func(_ int, c *goquery.Selection) string { return c.Text() }), " ")
		}
		return strings.Join(strings.Fields(s.Text()), " ")
	})
	want := []string{"ubuntu-2404", "fd8abc", "ubuntu-2404-lts", "Ready", "LINUX", "8 GiB", "10 GiB", "env=prod os=ubuntu", "2 days ago"}
	if strings.Join(cells, "|") != strings.Join(want, "|") {
		t.Errorf("cells = %q, want %q", cells, want)
	}
	if title, _ := row.Find("time").Attr("title"); title != "2026-11-21 11:00:00 UTC" {
		t.Errorf("time title = %q", title)
	}
	next := doc.Find(`[data-testid="next-page"]`)
	if href, _ := next.Attr("href"); href != "/?folder=f1&page_token=tok&service=compute" {
		t.Errorf("next href = %q", href)
	}
	if tgt, _ := next.Attr("hx-target"); tgt != "#"+ImageTableID {
		t.Errorf("next hx-target = %q", tgt)
	}
	if doc.Find(`[data-testid="first-page"]`).Length() != 0 {
		t.Error("first page link on the first page")
	}
}

func TestEmptyState(t *testing.T) {
	tests := []struct {
		name string
		give ImagesPage
		want string
	}{
		{"empty folder", ImagesPage{Nav: Nav{Service: cloud.Desktop, FolderID: "f1"}}, "No Cloud Desktop images in this folder"},
		{"no folder", ImagesPage{Nav: Nav{Service: cloud.Compute}}, "No folder selected"},
		{"failed", ImagesPage{Nav: Nav{Service: cloud.Compute, FolderID: "f1"}, Banner: "down"}, "Images could not be loaded"},
		{"past the end", ImagesPage{Nav: Nav{Service: cloud.Compute, FolderID: "f1"}, PageToken: "t"}, "No more images"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := render(t, ImageTable(tt.give))
			if got := doc.Find(`[data-testid="empty"] strong`).Text(); got != tt.want {
				t.Errorf("empty state = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPartialSwapsTabsAndBannerOutOfBand(t *testing.T) {
	p := ImagesPage{Nav: Nav{Service: cloud.BareMetal, FolderID: "f2"}}
	doc := render(t, ImagesPartial(p))
	if doc.Find("html head title").Length() != 0 {
		t.Error("partial has a <title>")
	}
	for _, id := range []string{ServiceTabsID, BannerID} {
		if oob, _ := doc.Find("#" + id).Attr("hx-swap-oob"); oob != "true" {
			t.Errorf("#%s hx-swap-oob = %q, want true", id, oob)
		}
	}
	cur := doc.Find(`#` + ServiceTabsID + ` a[aria-current="page"]`)
	if href, _ := cur.Attr("href"); cur.Text() != "BareMetal" || href != "/?folder=f2&service=baremetal" {
		t.Errorf("current tab = %q %q", cur.Text(), href)
	}
}

func render(t *testing.T, c interface {
	Render(context.Context, io.Writer) error
}) *goquery.Document {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestCountText(t *testing.T) {
	rows := func(n int) []ImageRow { return make([]ImageRow, n) }
	tests := []struct {
		give ImagesPage
		want string
	}{
		{ImagesPage{Rows: rows(1)}, "1 image"},
		{ImagesPage{Rows: rows(7)}, "7 images"},
		{ImagesPage{Rows: rows(100), NextPageToken: "n"}, "100 images on this page, more on the next"},
		{ImagesPage{Rows: rows(100), PageToken: "p", NextPageToken: "n"}, "100 images on this page, more before and after"},
		{ImagesPage{Rows: rows(3), PageToken: "p"}, "3 images on the last page"},
	}
	for _, tt := range tests {
		if got := tt.give.CountText(); got != tt.want {
			t.Errorf("CountText() = %q, want %q", got, tt.want)
		}
	}
}
