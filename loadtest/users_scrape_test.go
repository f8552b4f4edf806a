package loadtest

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// Snippets of the dashboard's pages as it renders them (views/*.templ).
const (
	listPage = `<form><input type="hidden" name="_csrf" value="tok&amp;en">
<label><input type="checkbox" name="folder" value="b1ggolden" data-testid="folder-option"> golden-images</label>
<select name="status" data-testid="filter-status"><option value="">Any status</option><option value="READY">Ready (186)</option><option value="ERROR">Error (2)</option></select>
<select name="family" data-testid="filter-family"><option value="">Any family</option><option value="debian-12">debian-12 (22)</option></select>
<select name="os" data-testid="filter-os"><option value="LINUX">Linux</option></select></form>
<tr data-testid="image-row" data-id="fd8aaa"><td><a class="name" href="/images/compute/fd8aaa" data-testid="name">debian-12-v1</a></td><td><span class="badge" data-testid="status" data-status="READY">Ready</span></td>
<td><a href="/?service=compute&amp;label=env%3Dprod">env=prod</a></td></tr>
<tr data-testid="image-row" data-id="fd8bbb"><td><a class="name" href="/images/compute/fd8bbb" data-testid="name">ubuntu-2404-lts-v2-lt-x1</a></td><td><span data-testid="status" data-status="CREATING">Creating</span></td></tr>
<a href="/?after=eyJz&amp;service=compute&amp;start=51" hx-get="/?after=eyJz&amp;service=compute&amp;start=51" rel="next" data-testid="next-page">Next →</a>`
	copyForm = `<input type="hidden" name="_csrf" value="tok2">
<input type="checkbox" name="folder" value="b1ggolden" data-testid="folder-option">
<input type="checkbox" name="folder" value="b1galpha" checked data-testid="target">
<input type="checkbox" name="folder" value="b1gbeta" data-testid="target">`
	monitorPart = `<tr data-testid="op-row" data-id="7" data-state="running" data-action="image.copy"></tr>
<tr data-testid="op-row" data-id="8" data-state="done" data-action="image.copy"></tr>
<tr data-testid="op-row" data-id="9" data-state="pending" data-action="image.copy"></tr>`
	resultPage = `<tr data-testid="copy-result" data-op="12" data-state="started"></tr>`
)

func TestScrape(t *testing.T) {
	if got, want := scrapeCSRF([]byte(listPage)), "tok&en"; got != want {
		t.Errorf("scrapeCSRF = %q, want %q", got, want)
	}
	imgs := scrapeImages([]byte(listPage))
	want := []image{{id: "fd8aaa", name: "debian-12-v1", status: "READY"}, {id: "fd8bbb", name: "ubuntu-2404-lts-v2-lt-x1", status: "CREATING"}}
	if !slices.Equal(imgs, want) {
		t.Errorf("scrapeImages = %+v, want %+v", imgs, want)
	}
	if got := scrapeCopyTargets([]byte(copyForm)); !slices.Equal(got, []string{"b1galpha", "b1gbeta"}) {
		t.Errorf("scrapeCopyTargets = %v, want the two targets (not the folder filter)", got)
	}
	if got := scrapeRunningOps([]byte(monitorPart)); !slices.Equal(got, []int64{7, 9}) {
		t.Errorf("scrapeRunningOps = %v, want [7 9]", got)
	}
	if got := scrapeOps([]byte(resultPage)); !slices.Equal(got, []int64{12}) {
		t.Errorf("scrapeOps = %v, want [12]", got)
	}
	if copySource(imgs[1]) || !copySource(imgs[0]) {
		t.Errorf("copySource: want only the READY image that is not a load-test copy")
	}
}

func TestCatalogLearns(t *testing.T) {
	c := newCatalog()
	c.learn([]byte(listPage))
	c.learn([]byte(listPage)) // nothing twice
	rng := rand.New(rand.NewPCG(1, 1))
	if n := len(c.images.items); n != 2 {
		t.Errorf("%d images, want 2", n)
	}
	for _, tt := range []struct {
		kind int
		want []string
	}{
		{kindStatus, []string{"READY", "ERROR"}},
		{kindFamily, []string{"debian-12"}},
		{kindLabel, []string{"env=prod"}},
		{kindFolder, []string{"b1ggolden"}},
	} {
		if got := c.values[tt.kind].items; !slices.Equal(got, tt.want) {
			t.Errorf("kind %d = %v, want %v", tt.kind, got, tt.want)
		}
	}
	if next, ok := c.cursor(rng); !ok || next != "/?after=eyJz&service=compute&start=51" {
		t.Errorf("cursor = %q, %v", next, ok)
	}
	if img, ok := c.image(rng, copySource); !ok || img.id != "fd8aaa" {
		t.Errorf("image(copySource) = %+v, %v; want fd8aaa", img, ok)
	}
	if !c.words.has("debian") || !c.words.has("ubuntu") {
		t.Errorf("words = %v, want the names' first parts", c.words.items)
	}
}

func TestRing(t *testing.T) {
	r := newRing[int](3)
	for i := range 5 {
		r.add(i)
	}
	if !slices.Equal(r.items, []int{3, 4, 2}) {
		t.Errorf("ring = %v, want the latest three", r.items)
	}
}

func TestWeightsPick(t *testing.T) {
	w := Weights{List: 2, Copy: 1}
	var got []action
	for r := range w.total() {
		got = append(got, w.pick(r))
	}
	if want := []action{actList, actList, actCopy}; !slices.Equal(got, want) {
		t.Errorf("picks = %v, want %v", got, want)
	}
}
