package views

import (
	"context"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/cloud"
)

func TestBytes(t *testing.T) {
	tests := []struct {
		give int64
		want string
	}{
		{0, ""},
		{-1, ""},
		{1 << 10, "< 0.1 MiB"},
		{1 << 20, "1 MiB"},
		{512 << 20, "512 MiB"},
		{1023 << 20, "1023 MiB"},
		{1 << 30, "1 GiB"},
		{3 << 29, "1.5 GiB"},
		{10 << 30, "10 GiB"},
		{4398046511104, "4096 GiB"},
	}
	for _, tt := range tests {
		if got := Bytes(tt.give); got != tt.want {
			t.Errorf("Bytes(%d) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestCount(t *testing.T) {
	tests := []struct {
		give int
		want string
	}{
		{0, "0"},
		{999, "999"},
		{1000, "1\u202f000"},
		{12345, "12\u202f345"},
		{1234567, "1\u202f234\u202f567"},
		{-1500, "-1\u202f500"},
	}
	for _, tt := range tests {
		if got := Count(tt.give); got != tt.want {
			t.Errorf("Count(%d) = %q, want %q", tt.give, got, tt.want)
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

func TestSince(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		give time.Duration
		want string
	}{
		{-time.Second, "just now"},
		{4 * time.Second, "just now"},
		{20 * time.Second, "20 s ago"},
		{2*time.Minute + 10*time.Second, "2 min ago"},
		{3 * time.Hour, "3 h ago"},
		{50 * time.Hour, "2 d ago"},
	}
	for _, tt := range tests {
		if got := Since(now.Add(-tt.give), now); got != tt.want {
			t.Errorf("Since(now-%v) = %q, want %q", tt.give, got, tt.want)
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
		selected []string
		want     []string
	}{
		{"one selected", []string{"a1"}, []string{"c1", "golden-images*", "team-b"}},
		{"unknown folder goes first", []string{"zz", "b1"}, []string{"zz*", "c1", "golden-images", "team-b*"}},
		{"all folders", nil, []string{"c1", "golden-images", "team-b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, o := range NewFolderOptions(folders, tt.selected) {
				l := o.Label
				if o.Selected {
					l += "*"
				}
				got = append(got, l)
			}
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("labels = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFolderSummary(t *testing.T) {
	opts := NewFolderOptions([]cloud.Folder{{ID: "a1", Name: "golden"}, {ID: "b1", Name: "team"}}, nil)
	tests := []struct {
		selected []string
		want     string
	}{
		{nil, "All folders"},
		{[]string{"a1"}, "golden"},
		{[]string{"a1", "b1"}, "2 folders"},
	}
	for _, tt := range tests {
		n := Nav{Folders: NewFolderOptions([]cloud.Folder{{ID: "a1", Name: "golden"}, {ID: "b1", Name: "team"}}, tt.selected)}
		if got := n.FolderSummary(); got != tt.want {
			t.Errorf("FolderSummary(%v) = %q, want %q", tt.selected, got, tt.want)
		}
	}
	_ = opts
}

func TestImageFilterURL(t *testing.T) {
	tests := []struct {
		name string
		give ImageFilter
		want string
	}{
		{"defaults", ImageFilter{Service: cloud.Compute}, "/?service=compute"},
		{"default order left out", ImageFilter{Service: cloud.Compute, Sort: "created_at", Desc: true, Limit: 50}, "/?service=compute"},
		{"everything", ImageFilter{
			Service: cloud.Desktop, Folders: []string{"f1", "f2"}, Text: "ubuntu 24", Statuses: []string{"READY"},
			Families: []string{"debian-12"}, OS: "LINUX", Labels: []string{"env=prod", "gpu"},
			Sort: "name", Desc: false, Limit: 100, After: "abc", Start: 101,
		}, "/?after=abc&dir=asc&family=debian-12&folder=f1&folder=f2&label=env%3Dprod&label=gpu&limit=100&os=LINUX&q=ubuntu+24&service=desktop&sort=name&start=101&status=READY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.give.URL(); got != tt.want {
				t.Errorf("URL() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestImageFilterSortedBy(t *testing.T) {
	f := ImageFilter{Service: cloud.Compute, Sort: "created_at", Desc: true, After: "cur", Start: 51}
	tests := []struct {
		name     string
		from     ImageFilter
		key      string
		numeric  bool
		wantDesc bool
	}{
		{"same column flips", f, "created_at", true, false},
		{"text column starts A to Z", f, "name", false, false},
		{"numeric column starts largest", f, "size", true, true},
		{"flip back", ImageFilter{Service: cloud.Compute, Sort: "name"}, "name", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := tt.from.SortedBy(tt.key, tt.numeric)
			if g.Sort != tt.key || g.Desc != tt.wantDesc || g.After != "" || g.Start != 0 {
				t.Errorf("SortedBy(%q) = sort %q desc %v after %q start %d; want sort %q desc %v on the first page",
					tt.key, g.Sort, g.Desc, g.After, g.Start, tt.key, tt.wantDesc)
			}
		})
	}
}

func TestChipsRemoveOneFilter(t *testing.T) {
	f := ImageFilter{Service: cloud.Compute, Folders: []string{"f1"}, Text: "web", Statuses: []string{"READY", "ERROR"},
		Labels: []string{"env=prod"}, After: "cursor", Start: 51}
	chips := f.Chips()
	if len(chips) != 4 {
		t.Fatalf("chips = %d, want 4: %+v", len(chips), chips)
	}
	for _, c := range chips {
		u, err := url.Parse(c.Remove)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if q.Get("after") != "" || q.Get("start") != "" {
			t.Errorf("chip %q keeps the page cursor: %s", c.Label, c.Remove)
		}
		if q.Get("folder") != "f1" {
			t.Errorf("chip %q drops the folder: %s", c.Label, c.Remove)
		}
	}
	if q := mustQuery(t, chips[1].Remove); strings.Join(q["status"], ",") != "ERROR" || q.Get("q") != "web" {
		t.Errorf("removing status READY: %s", chips[1].Remove)
	}
	if q := mustQuery(t, chips[0].Remove); q.Has("q") || len(q["status"]) != 2 {
		t.Errorf("removing the text: %s", chips[0].Remove)
	}
	if len(f.Statuses) != 2 {
		t.Errorf("Chips changed the filter: %v", f.Statuses)
	}
}

func mustQuery(t *testing.T, u string) url.Values {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Query()
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

func TestImageTableCells(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	img := cloud.Image{
		ID: "fd8abc", FolderID: "b1g-golden", Name: "ubuntu-2404", Family: "ubuntu-2404-lts", Status: "READY", OS: "LINUX",
		StorageSize: 3 << 30, MinDiskSize: 10 << 30, Size: 8 << 30, Checksum: "d41d8cd9",
		Labels: map[string]string{"os": "ubuntu", "env": "prod"}, CreatedAt: now.Add(-49 * time.Hour),
	}
	tests := []struct {
		svc  cloud.Service
		want []string
	}{
		{cloud.Compute, []string{"ubuntu-2404", "golden images", "fd8abc", "ubuntu-2404-lts", "Ready", "LINUX", "8 GiB", "10 GiB", "env=prod os=ubuntu", "2 days ago"}},
		{cloud.Desktop, []string{"ubuntu-2404", "golden images", "fd8abc", "Ready", "3 GiB", "10 GiB", "env=prod os=ubuntu", "2 days ago"}},
		{cloud.BareMetal, []string{"ubuntu-2404", "golden images", "fd8abc", "Ready", "d41d8cd9", "env=prod os=ubuntu", "2 days ago"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.svc), func(t *testing.T) {
			img := img
			img.Service = tt.svc
			f := ImageFilter{Service: tt.svc}
			p := ImagesPage{Nav: Nav{Page: PageImages, Service: tt.svc, Filter: f}, Filter: f,
				Columns: ColumnsOf(tt.svc), Rows: NewImageRows([]cloud.Image{img}, now), Total: 1, Start: 1,
				FolderNames: map[string]string{"b1g-golden": "golden images"}}
			doc := render(t, ImageTable(p))
			row := doc.Find(`[data-testid="image-row"]`)
			if row.Length() != 1 {
				t.Fatalf("rows = %d, want 1", row.Length())
			}
			if row.Find(`td.select input[type="checkbox"][name="id"][form="bulk"]`).AttrOr("value", "") != img.ID {
				t.Error("the row has no selection box for the bulk form")
			}
			cells := row.Find("td:not(.select)").Map(func(_ int, s *goquery.Selection) string {
				if chips := s.Find(".chip"); chips.Length() > 0 {
					return strings.Join(chips.Map(func(_ int, c *goquery.Selection) string { return c.Text() }), " ")
				}
				return strings.Join(strings.Fields(s.Text()), " ")
			})
			if strings.Join(cells, "|") != strings.Join(tt.want, "|") {
				t.Errorf("cells = %q, want %q", cells, tt.want)
			}
			if got := doc.Find("thead th:not(.select)").Length(); got != len(tt.want) {
				t.Errorf("header cells = %d, want %d", got, len(tt.want))
			}
			if title, _ := row.Find("time").Attr("title"); title != "2026-11-21 11:00:00 UTC" {
				t.Errorf("time title = %q", title)
			}
			if href, _ := row.Find(`a[data-testid="name"]`).Attr("href"); href != "/images/"+string(tt.svc)+"/fd8abc" {
				t.Errorf("name links to %q", href)
			}
			if got, _ := row.Find("button.copy").Attr("data-copy"); got != "fd8abc" {
				t.Errorf("copy button copies %q", got)
			}
		})
	}
}

func TestSortHeaders(t *testing.T) {
	f := ImageFilter{Service: cloud.Compute, Sort: "name", Desc: false}
	p := ImagesPage{Nav: Nav{Page: PageImages, Service: cloud.Compute, Filter: f}, Filter: f,
		Columns: ColumnsOf(cloud.Compute), Rows: make([]ImageRow, 1), Total: 1, Start: 1}
	doc := render(t, ImageTable(p))
	name := doc.Find(`th:has([data-testid="sort-name"])`)
	if got, _ := name.Attr("aria-sort"); got != "ascending" {
		t.Errorf("name aria-sort = %q, want ascending", got)
	}
	if got := strings.TrimSpace(name.Find(".arrow").Text()); got != "▲" {
		t.Errorf("name arrow = %q", got)
	}
	if href, _ := name.Find("a").Attr("href"); href != "/?dir=desc&service=compute&sort=name" {
		t.Errorf("name header flips to %q", href)
	}
	if href, _ := doc.Find(`[data-testid="sort-created_at"]`).Attr("href"); href != "/?service=compute" {
		t.Errorf("created header leads to %q, want the default order", href)
	}
	if doc.Find(`[data-testid="sort-labels"]`).Length() != 0 {
		t.Error("the labels column is sortable")
	}
}

func TestEmptyState(t *testing.T) {
	tests := []struct {
		name     string
		give     ImagesPage
		want     string
		wantPoll bool
	}{
		{"empty folder", ImagesPage{Filter: ImageFilter{Service: cloud.Desktop, Folders: []string{"f1"}}}, "No Cloud Desktop images in this folder", false},
		{"filtered", ImagesPage{Filter: ImageFilter{Service: cloud.Compute, Text: "zzz"}}, "No images match these filters", false},
		{"first sync", ImagesPage{Filter: ImageFilter{Service: cloud.Compute}, Cache: CacheSyncing}, "First sync in progress", true},
		{"loading at start", ImagesPage{Filter: ImageFilter{Service: cloud.Compute}, Cache: CacheLoading}, "Loading the cached images", true},
		{"past the end", ImagesPage{Filter: ImageFilter{Service: cloud.Compute, After: "t"}}, "No more images", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.give.Nav = Nav{Page: PageImages, Service: tt.give.Filter.Service, Filter: tt.give.Filter}
			doc := render(t, ImageTable(tt.give))
			empty := doc.Find(`[data-testid="empty"]`)
			if got := strings.TrimSpace(empty.Find("strong").Text()); got != tt.want {
				t.Errorf("empty state = %q, want %q", got, tt.want)
			}
			if _, polls := empty.Attr("hx-trigger"); polls != tt.wantPoll {
				t.Errorf("polls = %v, want %v", polls, tt.wantPoll)
			}
		})
	}
}

func TestPartialSwapsHeaderOutOfBand(t *testing.T) {
	f := ImageFilter{Service: cloud.BareMetal, Folders: []string{"f2"}, Text: "web"}
	p := ImagesPage{Nav: Nav{Page: PageImages, Service: cloud.BareMetal, Filter: f}, Filter: f}
	doc := render(t, ImagesPartial(p))
	if doc.Find("html head meta").Length() != 0 || doc.Find("header").Length() != 0 {
		t.Error("partial has page markup")
	}
	for _, id := range []string{ServiceTabsID, BannerID, SearchStateID, FolderStateID, FolderSummaryID} {
		if oob, _ := doc.Find("#" + id).Attr("hx-swap-oob"); oob != "true" {
			t.Errorf("#%s hx-swap-oob = %q, want true", id, oob)
		}
	}
	cur := doc.Find(`#` + ServiceTabsID + ` a[aria-current="page"]`)
	if href, _ := cur.Attr("href"); cur.Text() != "BareMetal" || href != "/?folder=f2&q=web&service=baremetal" {
		t.Errorf("current tab = %q %q", cur.Text(), href)
	}
	var hidden []string
	doc.Find("#" + SearchStateID + " input").Each(func(_ int, s *goquery.Selection) {
		n, _ := s.Attr("name")
		v, _ := s.Attr("value")
		hidden = append(hidden, n+"="+v)
	})
	if got := strings.Join(hidden, "&"); got != "service=baremetal&folder=f2" {
		t.Errorf("search box state = %q (the text is the box's own)", got)
	}
}

func TestCountText(t *testing.T) {
	rows := func(n int) []ImageRow { return make([]ImageRow, n) }
	tests := []struct {
		give ImagesPage
		want string
	}{
		{ImagesPage{}, "No images"},
		{ImagesPage{Cache: CacheLoading}, "Loading…"},
		{ImagesPage{Rows: rows(1), Total: 1, Start: 1}, "1–1 of 1"},
		{ImagesPage{Rows: rows(50), Total: 12345, Start: 1}, "1–50 of 12\u202f345"},
		{ImagesPage{Rows: rows(50), Total: 12345, Start: 51}, "51–100 of 12\u202f345"},
		{ImagesPage{Rows: rows(50), Total: 12345}, "50 of 12\u202f345"},
	}
	for _, tt := range tests {
		if got := tt.give.CountText(); got != tt.want {
			t.Errorf("CountText() = %q, want %q", got, tt.want)
		}
	}
}

func TestFieldsPerService(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	img := cloud.Image{ID: "x", FolderID: "f1", Family: "debian-12", ProductIDs: []string{"p1", "p2"},
		Pooled: true, HardwareGeneration: "generation2", Checksum: "abc", StorageSize: 2 << 30, MinDiskSize: 4 << 30}
	tests := []struct {
		svc  cloud.Service
		want []string
	}{
		{cloud.Compute, []string{"ID", "Status", "Folder", "Family", "OS", "Size", "Storage size", "Min disk size", "Product ids", "Pooled", "Hardware generation", "Created"}},
		{cloud.Desktop, []string{"ID", "Status", "Folder", "Storage size", "Min disk size", "Created"}},
		{cloud.BareMetal, []string{"ID", "Status", "Folder", "Checksum", "Created"}},
	}
	for _, tt := range tests {
		img := img
		img.Service = tt.svc
		var got []string
		for _, f := range NewImageFields(NewImageRow(img, now), img, "golden") {
			got = append(got, f.Name)
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s fields = %q, want %q", tt.svc, got, tt.want)
		}
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

// TestFilterURLIsQueryEncoded: URL is written by hand for speed; it must
// stay exactly "/?" + Query().Encode().
func TestFilterURLIsQueryEncoded(t *testing.T) {
	for _, f := range []ImageFilter{
		{Service: cloud.Compute},
		{Service: cloud.Desktop, Folders: []string{"b", "a"}, Text: "a b&c=d", Statuses: []string{"READY", "ERROR"},
			Families: []string{"debian-12"}, OS: "LINUX", Labels: []string{"env=prod", "gpu"}, Sort: "name", Desc: true,
			Limit: 100, After: "x/y+z", Start: 101},
		{Service: cloud.BareMetal, Sort: DefaultSort, Desc: !DefaultDesc, Before: "c", Limit: DefaultLimit},
	} {
		if got, want := f.URL(), "/?"+f.Query().Encode(); got != want {
			t.Errorf("URL() = %q, want %q", got, want)
		}
	}
}
