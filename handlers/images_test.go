package handlers_test

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/views"
)

func TestListImagesRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 120, desktop: 9, baremetal: 7})
	r := e.ok("/")
	wantIDs := want(e.images[cloud.Compute], nil, byCreated, true)[:50]
	if got := r.rowIDs(); !slices.Equal(got, wantIDs) {
		t.Errorf("rows = %v\nwant newest first %v", got, wantIDs)
	}
	if got := r.text(`[data-testid="count"]`); got != "1–50 of 120" {
		t.Errorf("count = %q, want 1–50 of 120", got)
	}
	first := e.images[cloud.Compute][slices.IndexFunc(e.images[cloud.Compute], func(i cloud.Image) bool { return i.ID == wantIDs[0] })]
	row := r.doc.Find(`[data-testid="image-row"]`).First()
	if got := row.Find(`[data-testid="name"]`).Text(); got != first.Name {
		t.Errorf("first name = %q, want %q", got, first.Name)
	}
	if href, _ := row.Find(`[data-testid="name"]`).Attr("href"); href != "/images/compute/"+first.ID {
		t.Errorf("name links to %q", href)
	}
	if got := r.text(`[data-testid="freshness-summary"]`); got != "synced 20 s ago" {
		t.Errorf("freshness = %q, want synced 20 s ago", got)
	}
	if got := r.doc.Find(`[data-testid="folder-option"]`).Length(); got != 2 {
		t.Errorf("folder options = %d, want 2", got)
	}
	if got := r.text(`[data-testid="folder-summary"]`); got != "Folder: All folders" {
		t.Errorf("folder summary = %q", got)
	}

	// Each service has its own columns.
	for _, tt := range []struct {
		svc  cloud.Service
		cols string
		rows int
	}{
		{cloud.Compute, "Name Folder ID Family Status OS Size Min disk Labels Created", 50},
		{cloud.Desktop, "Name Folder ID Status Storage size Min disk Labels Created", 9},
		{cloud.BareMetal, "Name Folder ID Status Checksum Labels Created", 7},
	} {
		r := e.ok("/?service=" + string(tt.svc))
		var cols []string
		r.doc.Find("thead th:not(.select)").Each(func(_ int, s *goquery.Selection) {
			cols = append(cols, strings.TrimSpace(strings.Trim(strings.TrimSpace(s.Text()), "▲▼")))
		})
		if got := strings.Join(cols, " "); got != tt.cols {
			t.Errorf("%s columns = %q, want %q", tt.svc, got, tt.cols)
		}
		if got := len(r.rowIDs()); got != tt.rows {
			t.Errorf("%s rows = %d, want %d", tt.svc, got, tt.rows)
		}
	}
}

func TestListImagesFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 120})
	imgs := e.images[cloud.Compute]
	tests := []struct {
		name  string
		query string
		keep  func(cloud.Image) bool
		chips []string
	}{
		{"text", "q=buildkite", func(i cloud.Image) bool { return strings.Contains(i.Description, "buildkite") }, []string{"“buildkite”"}},
		{"text prefix and two words", "q=packer+bui", func(i cloud.Image) bool { return strings.Contains(i.Description, "packer") }, []string{"“packer bui”"}},
		{"text matches a label", "q=stage", func(i cloud.Image) bool { return i.Labels["env"] == "stage" }, []string{"“stage”"}},
		{"status", "status=ERROR", func(i cloud.Image) bool { return i.Status == "ERROR" }, []string{"status: Error"}},
		{"two statuses", "status=ERROR&status=CREATING", func(i cloud.Image) bool { return i.Status == "ERROR" || i.Status == "CREATING" }, []string{"status: Error", "status: Creating"}},
		{"family", "family=debian-12", func(i cloud.Image) bool { return i.Family == "debian-12" }, []string{"family: debian-12"}},
		{"os", "os=WINDOWS", func(i cloud.Image) bool { return i.OS == "WINDOWS" }, []string{"OS: WINDOWS"}},
		{"label key=value", "label=env%3Dprod", func(i cloud.Image) bool { return i.Labels["env"] == "prod" }, []string{"label: env=prod"}},
		{"label key", "label=gpu", func(i cloud.Image) bool { _, ok := i.Labels["gpu"]; return ok }, []string{"label: gpu"}},
		{"label with spaces", "label=+team+%3D+t1+", func(i cloud.Image) bool { return i.Labels["team"] == "t1" }, []string{"label: team=t1"}},
		{"empty label field ignored", "label=&status=READY", func(i cloud.Image) bool { return i.Status == "READY" }, []string{"status: Ready"}},
		{"folder", "folder=" + team, func(i cloud.Image) bool { return i.FolderID == team }, nil},
		{"two folders", "folder=" + team + "&folder=" + golden, nil, nil},
		{"all at once", "folder=" + golden + "&status=READY&label=env%3Ddev&os=LINUX", func(i cloud.Image) bool {
			return i.FolderID == golden && i.Status == "READY" && i.Labels["env"] == "dev" && i.OS == "LINUX"
		}, []string{"status: Ready", "OS: LINUX", "label: env=dev"}},
		{"nothing matches", "q=nosuchword", func(cloud.Image) bool { return false }, []string{"“nosuchword”"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.ok("/?limit=200&" + tt.query)
			wantIDs := want(imgs, tt.keep, byCreated, true)
			if got := r.rowIDs(); !slices.Equal(got, wantIDs) {
				t.Errorf("rows (%d) = %v\nwant (%d) %v", len(got), got, len(wantIDs), wantIDs)
			}
			var chips []string
			r.doc.Find(`[data-testid="filter-chip"]`).Each(func(_ int, s *goquery.Selection) {
				chips = append(chips, strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s.Text()), "×")))
			})
			if !slices.Equal(chips, tt.chips) {
				t.Errorf("chips = %q, want %q", chips, tt.chips)
			}
			if len(wantIDs) == 0 {
				if got := r.text(`[data-testid="empty"] strong`); got != "No images match these filters" {
					t.Errorf("empty state = %q", got)
				}
				if href := r.attr(`[data-testid="empty"] [data-testid="clear-filters"]`, "href"); href != "/?limit=200&service=compute" {
					t.Errorf("clear filters link = %q", href)
				}
			}
		})
	}
}

// Each chip links to the same list without its filter.
func TestListImagesChipsRemoveTheirFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 60})
	r := e.ok("/?q=packer&status=READY&label=env%3Dprod&folder=" + golden + "&sort=name&dir=asc")
	hrefs := map[string]string{}
	r.doc.Find(`[data-testid="filter-chip"]`).Each(func(_ int, s *goquery.Selection) {
		k, _ := s.Attr("data-kind")
		hrefs[k], _ = s.Attr("href")
	})
	wantHrefs := map[string]string{
		"text":   "/?dir=asc&folder=" + golden + "&label=env%3Dprod&service=compute&sort=name&status=READY",
		"status": "/?dir=asc&folder=" + golden + "&label=env%3Dprod&q=packer&service=compute&sort=name",
		"label":  "/?dir=asc&folder=" + golden + "&q=packer&service=compute&sort=name&status=READY",
	}
	for k, w := range wantHrefs {
		if hrefs[k] != w {
			t.Errorf("%s chip links to %q, want %q", k, hrefs[k], w)
		}
		if r := e.get(hrefs[k], htmx); r.code != http.StatusOK {
			t.Errorf("following the %s chip = %d", k, r.code)
		}
	}
	if href := r.attr(`[data-testid="active-filters"] [data-testid="clear-filters"]`, "href"); href != "/?dir=asc&folder="+golden+"&service=compute&sort=name" {
		t.Errorf("clear all = %q", href)
	}
}

func TestListImagesSort(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 90, desktop: 20, baremetal: 20})
	str := func(f func(cloud.Image) string) func(a, b cloud.Image) int {
		return func(a, b cloud.Image) int { return strings.Compare(f(a), f(b)) }
	}
	num := func(f func(cloud.Image) int64) func(a, b cloud.Image) int {
		return func(a, b cloud.Image) int { return cmp.Compare(f(a), f(b)) }
	}
	tests := []struct {
		svc cloud.Service
		key string
		cmp func(a, b cloud.Image) int
	}{
		{cloud.Compute, "name", str(func(i cloud.Image) string { return i.Name })},
		{cloud.Compute, "id", func(a, b cloud.Image) int { return 0 }},
		{cloud.Compute, "family", str(func(i cloud.Image) string { return i.Family })},
		{cloud.Compute, "status", str(func(i cloud.Image) string { return i.Status })},
		{cloud.Compute, "os", str(func(i cloud.Image) string { return i.OS })},
		{cloud.Compute, "size", num(func(i cloud.Image) int64 { return i.Size })},
		{cloud.Compute, "min_disk_size", num(func(i cloud.Image) int64 { return i.MinDiskSize })},
		{cloud.Compute, "created_at", byCreated},
		{cloud.Desktop, "min_disk_size", num(func(i cloud.Image) int64 { return i.MinDiskSize })},
		{cloud.BareMetal, "name", str(func(i cloud.Image) string { return i.Name })},
	}
	for _, tt := range tests {
		for _, dir := range []string{"asc", "desc"} {
			t.Run(fmt.Sprintf("%s/%s/%s", tt.svc, tt.key, dir), func(t *testing.T) {
				r := e.ok(fmt.Sprintf("/?service=%s&sort=%s&dir=%s&limit=200", tt.svc, tt.key, dir))
				wantIDs := want(e.images[tt.svc], nil, tt.cmp, dir == "desc")
				if got := r.rowIDs(); !slices.Equal(got, wantIDs) {
					t.Errorf("rows = %v\nwant %v", got, wantIDs)
				}
				th := r.doc.Find(`th:has([data-testid="sort-` + tt.key + `"])`)
				wantSort, wantArrow, flip := "ascending", "▲", "desc"
				if dir == "desc" {
					wantSort, wantArrow, flip = "descending", "▼", "asc"
				}
				if got, _ := th.Attr("aria-sort"); got != wantSort {
					t.Errorf("aria-sort = %q, want %q", got, wantSort)
				}
				if got := strings.TrimSpace(th.Find(".arrow").Text()); got != wantArrow {
					t.Errorf("arrow = %q, want %q", got, wantArrow)
				}
				href, _ := th.Find("a").Attr("href")
				q := mustQuery(t, href)
				gotDir := q.Get("dir")
				if gotDir == "" && tt.key == "created_at" && flip == "desc" {
					gotDir = "desc" // the default order, left out of the URL
				}
				if gotDir != flip || q.Get("limit") != "200" {
					t.Errorf("header link = %q, want dir=%s and the page size kept", href, flip)
				}
			})
		}
	}
}

func TestListImagesPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 110})
	all := want(e.images[cloud.Compute], func(i cloud.Image) bool { return i.Status != "ERROR" }, func(a, b cloud.Image) int {
		return strings.Compare(a.Name, b.Name)
	}, false)
	total := len(all)

	// Forward to the end with Next, checking each page and its count.
	target := "/?service=compute&sort=name&dir=asc&limit=25&status=READY&status=CREATING&status=DELETING"
	var pages []string
	var seen []string
	for i := 0; target != ""; i++ {
		pages = append(pages, target)
		r := e.ok(target)
		ids := r.rowIDs()
		lo := i * 25
		hi := min(lo+25, total)
		if !slices.Equal(ids, all[lo:hi]) {
			t.Fatalf("page %d = %v, want %v", i+1, ids, all[lo:hi])
		}
		seen = append(seen, ids...)
		wantCount := fmt.Sprintf("%d–%d of %d", lo+1, hi, total)
		if got := r.text(`[data-testid="count"]`); got != wantCount {
			t.Errorf("page %d count = %q, want %q", i+1, got, wantCount)
		}
		if i == 0 && r.doc.Find(`[data-testid="prev-page"]`).Length() != 0 {
			t.Error("a Previous link on the first page")
		}
		target = r.attr(`[data-testid="next-page"]`, "href")
	}
	if len(seen) != total {
		t.Fatalf("paged through %d rows, want %d", len(seen), total)
	}

	// Back to the start with Prev: each page is the one we saw going forward.
	r := e.ok(pages[len(pages)-1])
	for i := len(pages) - 2; i >= 0; i-- {
		prev := r.attr(`[data-testid="prev-page"]`, "href")
		if prev == "" {
			t.Fatalf("no Previous link before page %d", i+1)
		}
		r = e.ok(prev)
		if got, wantIDs := r.rowIDs(), all[i*25:(i+1)*25]; !slices.Equal(got, wantIDs) {
			t.Errorf("back to page %d = %v, want %v", i+1, got, wantIDs)
		}
		if got, wantCount := r.text(`[data-testid="count"]`), fmt.Sprintf("%d–%d of %d", i*25+1, (i+1)*25, total); got != wantCount {
			t.Errorf("back to page %d count = %q, want %q", i+1, got, wantCount)
		}
	}
	if prev := r.attr(`[data-testid="prev-page"]`, "href"); prev != "" {
		t.Errorf("a Previous link on the first page: %q", prev)
	}
	if next := r.attr(`[data-testid="next-page"]`, "href"); next != pages[1] {
		t.Errorf("after paging back, Next = %q, want %q", next, pages[1])
	}
}

func TestListImagesFacetCounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 120})
	imgs := e.images[cloud.Compute]
	count := func(keep func(cloud.Image) bool) map[string]int {
		m := map[string]int{}
		for _, img := range imgs {
			if keep(img) {
				m[img.Status]++
				m["family:"+img.Family]++
			}
		}
		return m
	}
	options := func(r response, name string) map[string]string {
		m := map[string]string{}
		r.doc.Find(`select[name="` + name + `"] option`).Each(func(_ int, s *goquery.Selection) {
			v, _ := s.Attr("value")
			if v != "" {
				m[v] = s.Text()
			}
		})
		return m
	}

	// Family filter on: the status counts are within the family, the family
	// counts ignore the family filter (they say what picking another gives).
	r := e.ok("/?family=debian-12&label=env%3Dprod")
	inFam := count(func(i cloud.Image) bool { return i.Family == "debian-12" && i.Labels["env"] == "prod" })
	anyFam := count(func(i cloud.Image) bool { return i.Labels["env"] == "prod" })
	statuses := options(r, "status")
	for _, st := range []string{"READY", "ERROR", "CREATING", "DELETING"} {
		if inFam[st] == 0 {
			continue
		}
		if w := fmt.Sprintf("%s (%d)", views.StatusTitle(st), inFam[st]); statuses[st] != w {
			t.Errorf("status option %s = %q, want %q", st, statuses[st], w)
		}
	}
	fams := options(r, "family")
	for _, fam := range genFamilies {
		if w := fmt.Sprintf("%s (%d)", fam, anyFam["family:"+fam]); fams[fam] != w {
			t.Errorf("family option %s = %q, want %q", fam, fams[fam], w)
		}
	}
	if got := r.attr(`select[name="family"] option[selected]`, "value"); got != "debian-12" {
		t.Errorf("selected family = %q", got)
	}
}

func TestListImagesFullPageOrPartial(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 30})
	tests := []struct {
		name     string
		hdr      map[string]string
		wantFull bool
	}{
		{"browser", nil, true},
		{"htmx", htmx, false},
		{"htmx history restore", map[string]string{handlers.HeaderRequest: "true", handlers.HeaderHistoryRestoreRequest: "true"}, true},
		{"boosted link", map[string]string{handlers.HeaderRequest: "true", handlers.HeaderBoosted: "true"}, true},
		{"not htmx", map[string]string{handlers.HeaderRequest: "false"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get("/?status=READY&label=&q=", tt.hdr)
			if r.code != http.StatusOK {
				t.Fatalf("status = %d, want 200", r.code)
			}
			if got := r.hdr.Values("Vary"); !contains(got, handlers.HeaderRequest) {
				t.Errorf("Vary = %q, want it to hold %s", got, handlers.HeaderRequest)
			}
			isFull := strings.HasPrefix(r.body, "<!doctype html>") && strings.Contains(r.body, "<html")
			if isFull != tt.wantFull {
				t.Errorf("full page = %v, want %v; body starts %.80q", isFull, tt.wantFull, r.body)
			}
			if got := r.doc.Find("#" + views.ImageTableID + ` [data-testid="image-row"]`).Length(); got == 0 {
				t.Errorf("no rows in #%s", views.ImageTableID)
			}
			if tt.wantFull {
				return
			}
			if strings.Contains(r.body, "<html") || strings.Contains(r.body, "<head") {
				t.Error("the partial holds page markup")
			}
			for _, id := range []string{views.ServiceTabsID, views.BannerID, views.SearchStateID, views.FolderStateID, views.FolderSummaryID} {
				if oob, _ := r.doc.Find("#" + id).Attr("hx-swap-oob"); oob != "true" {
					t.Errorf("partial #%s hx-swap-oob = %q, want true", id, oob)
				}
			}
			if got := r.text("title"); got != "Compute images · imagedash" {
				t.Errorf("partial title = %q", got)
			}
			// htmx records the canonical URL, not the form's empty fields.
			if got := r.hdr.Get(handlers.HeaderPushURL); got != "/?service=compute&status=READY" {
				t.Errorf("HX-Push-Url = %q", got)
			}
		})
	}
	// A poll or reload of the page already shown replaces the history entry.
	r := e.get("/?status=READY", map[string]string{handlers.HeaderRequest: "true", handlers.HeaderCurrentURL: "http://example.test/?service=compute&status=READY&q="})
	if got, push := r.hdr.Get(handlers.HeaderReplaceURL), r.hdr.Get(handlers.HeaderPushURL); got != "/?service=compute&status=READY" || push != "" {
		t.Errorf("reload: HX-Replace-Url = %q, HX-Push-Url = %q", got, push)
	}
}

func TestListImagesRendersCloudTextInert(t *testing.T) {
	t.Parallel()
	const (
		evilName  = `<script>alert("name")</script>`
		evilDesc  = `"><img src=x onerror=alert('desc')>`
		evilValue = `'"><script>alert(1)</script>`
	)
	e := newEnv(t, envOptions{compute: 3})
	imgs := e.images[cloud.Compute]
	imgs[0].Name, imgs[0].Description = evilName, evilDesc
	imgs[0].Labels = map[string]string{"x": evilValue, `"><b>`: "y"}
	imgs[0].Family = `" onmouseover="alert(1)`
	imgs[0].Status = `"><script>x</script>`
	e.put(cloud.Compute, imgs)

	for _, target := range []string{"/", "/images/compute/" + imgs[0].ID, "/families?service=compute"} {
		for _, hdr := range []map[string]string{nil, htmx} {
			r := e.get(target, hdr)
			if r.code != http.StatusOK {
				t.Fatalf("GET %s = %d", target, r.code)
			}
			if got := r.doc.Find("script:not([src])").Length(); got != 0 {
				t.Errorf("%s: inline <script> elements = %d, want 0", target, got)
			}
			if got := r.doc.Find("img, b, [onerror], [onmouseover]").Length(); got != 0 {
				t.Errorf("%s: injected elements or handlers = %d, want 0", target, got)
			}
		}
	}
	r := e.ok("/")
	row := r.doc.Find(`[data-testid="image-row"][data-id="` + imgs[0].ID + `"]`)
	if got := row.Find(`[data-testid="name"]`).Text(); got != evilName {
		t.Errorf("name text = %q, want %q", got, evilName)
	}
	if got := row.Find(`[data-testid="description"]`).Text(); got != evilDesc {
		t.Errorf("description text = %q, want %q", got, evilDesc)
	}
	if got := row.Find(`[data-testid="label"]`).Last().Text(); got != "x="+evilValue {
		t.Errorf("label text = %q", got)
	}
	// The label's link carries it as a filter, encoded.
	href, _ := row.Find(`[data-testid="label"]`).Last().Attr("href")
	if q := mustQuery(t, href); !slices.Contains(q["label"], "x="+evilValue) {
		t.Errorf("label link = %q", href)
	}
	// A search typed with quotes and tags comes back as text, in the box and the chip.
	r = e.ok("/?q=" + url.QueryEscape(`"><script>alert(2)</script>`))
	if got := r.attr(`#q`, "value"); got != `"><script>alert(2)</script>` {
		t.Errorf("search box value = %q", got)
	}
	if got := r.doc.Find("script:not([src])").Length(); got != 0 {
		t.Errorf("search text injected %d scripts", got)
	}
}

func TestListImagesBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 30})
	long := strings.Repeat("x", 201)
	tests := []struct {
		name   string
		target string
		want   string
	}{
		{"unknown service", "/?service=storage", `Unknown service "storage"`},
		{"script service", "/?service=%3Cscript%3E", `Unknown service "<script>"`},
		{"unknown sort", "/?sort=colour", `Cannot sort Compute images by "colour"`},
		{"sort not in this service", "/?service=baremetal&sort=family", `Cannot sort BareMetal images by "family"`},
		{"bad direction", "/?sort=name&dir=up", `Unknown sort direction "up"`},
		{"page size", "/?limit=30", `Unknown page size "30": choose 25, 50, 100 or 200`},
		{"page size not a number", "/?limit=all", `Unknown page size "all"`},
		{"long search", "/?q=" + long, "The search text is too long: at most 200 characters, got 201"},
		{"long label", "/?label=" + long, "The label filter is too long"},
		{"bad label", "/?label=Env%3DProd", `Bad label filter "Env=Prod"`},
		{"unknown status", "/?status=SLEEPING", `Unknown status "SLEEPING"`},
		{"bad family", "/?family=Not_A_Family", `Bad family "Not_A_Family"`},
		{"unknown os", "/?os=BEOS", `Unknown OS "BEOS"`},
		{"long folder", "/?folder=" + strings.Repeat("f", 51), "folder: must be at most 50 characters"},
		{"bad cursor", "/?after=garbage", "bad paging cursor"},
		{"cursor of another order", "", "bad paging cursor"},
		{"both cursors", "/?after=a&before=b", "both after and before"},
		{"bad start", "/?start=-3", `Bad start "-3"`},
	}
	// A real cursor, replayed against another sort order.
	next := e.ok("/?limit=25&sort=name&dir=asc")
	u := mustQuery(t, next.attr(`[data-testid="next-page"]`, "href"))
	if u.Get("after") == "" {
		t.Fatal("no cursor in the Next link")
	}
	tests[15].target = "/?limit=25&sort=name&dir=desc&after=" + url.QueryEscape(u.Get("after"))

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get(tt.target, nil)
			if r.code != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", r.code)
			}
			if got := r.text(`[data-testid="error-page"]`); !strings.Contains(got, tt.want) {
				t.Errorf("error page = %q, want it to contain %q", got, tt.want)
			}
			if r.doc.Find("script:not([src])").Length() != 0 {
				t.Error("inline script in the error page")
			}

			r = e.get(tt.target, htmx)
			if r.code != http.StatusBadRequest {
				t.Errorf("htmx status = %d, want 400", r.code)
			}
			if got := r.text(`[data-testid="toast"]`); !strings.Contains(got, tt.want) {
				t.Errorf("toast = %q, want it to contain %q", got, tt.want)
			}
			if got := r.hdr.Get(handlers.HeaderRetarget); got != "#"+views.ToastsID {
				t.Errorf("HX-Retarget = %q, want #%s", got, views.ToastsID)
			}
			if got := r.hdr.Get(handlers.HeaderPushURL); got != "false" {
				t.Errorf("HX-Push-Url = %q, want false", got)
			}
		})
	}
}

func TestListImagesFreshness(t *testing.T) {
	t.Parallel()
	t.Run("first sync", func(t *testing.T) {
		e := newEnv(t, envOptions{empty: true})
		for _, target := range []string{"/", "/?service=desktop", "/?folder=" + golden} {
			r := e.ok(target)
			empty := r.doc.Find(`[data-testid="empty"]`)
			if got, _ := empty.Attr("data-state"); got != "syncing" {
				t.Errorf("%s: empty state %q, want syncing (%q)", target, got, empty.Text())
			}
			if trig, _ := empty.Attr("hx-trigger"); trig != "every 2s" {
				t.Errorf("%s: the empty table does not poll: %q", target, trig)
			}
		}
	})
	t.Run("one folder not synced yet", func(t *testing.T) {
		e := newEnv(t, envOptions{compute: 10})
		if err := e.store.SaveFolders(t.Context(), append(genFolders, cloud.Folder{ID: "b1gnew0000000000000c", Name: "new"})); err != nil {
			t.Fatal(err)
		}
		r := e.ok("/?folder=b1gnew0000000000000c")
		if got := r.attr(`[data-testid="empty"]`, "data-state"); got != "syncing" {
			t.Errorf("empty state of an unsynced folder = %q, want syncing", got)
		}
		r = e.ok("/?folder=" + golden + "&q=nothingmatches")
		if got := r.text(`[data-testid="empty"] strong`); got != "No images match these filters" {
			t.Errorf("empty state = %q", got)
		}
	})
	t.Run("last sync failed", func(t *testing.T) {
		e := newEnv(t, envOptions{compute: 10})
		e.failSync(cloud.Compute, team)
		r := e.ok("/")
		if got := r.text(`[data-testid="sync-problem"]`); got != "Unavailable, 2 min ago" {
			t.Errorf("problem = %q, want Unavailable, 2 min ago", got)
		}
		banner := r.text(`#banner .banner`)
		for _, w := range []string{"could not reach the cloud", "Unavailable, 2 min ago", "Showing the cached images, synced 20 s ago"} {
			if !strings.Contains(banner, w) {
				t.Errorf("banner = %q, want it to say %q", banner, w)
			}
		}
		if strings.Contains(r.body, "backend down") {
			t.Error("the cloud's own error text reached the page")
		}
		if got := len(r.rowIDs()); got != 10 {
			t.Errorf("rows = %d, want the 10 cached ones", got)
		}
		if r := e.ok("/?folder=" + golden); r.text(`#banner .banner`) != "" {
			t.Errorf("banner for a folder that synced fine: %q", r.text(`#banner .banner`))
		}
	})
}

func mustQuery(t *testing.T, u string) url.Values {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Query()
}
