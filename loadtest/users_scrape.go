package loadtest

import (
	"bytes"
	"html"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// What the virtual users read of the dashboard's pages: the markup's
// data-testid hooks (see package views), found with byte searches and a
// few regular expressions, never a full HTML parse, so that scraping costs
// the load generator little next to the requests it makes.

// scrapeCSRF is the value of the page's first hidden _csrf field.
func scrapeCSRF(page []byte) string {
	m := csrfField.FindSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(string(m[1]))
}

var csrfField = regexp.MustCompile(`<input[^>]*name="_csrf"[^>]*value="([^"]*)"`)

// image is one row of a list page.
type image struct {
	id, name, status string
}

// scrapeImages are the rows of a list page: data-testid="image-row" with
// data-id, then the name link and the status badge's data-status.
func scrapeImages(page []byte) []image {
	const row = `data-testid="image-row" data-id="`
	var out []image
	rest := page
	for {
		i := bytes.Index(rest, []byte(row))
		if i < 0 {
			return out
		}
		rest = rest[i+len(row):]
		id, ok := until(rest, '"')
		if !ok {
			return out
		}
		seg := rest
		if j := bytes.Index(rest, []byte(row)); j >= 0 {
			seg = rest[:j]
		}
		img := image{id: id}
		if k := bytes.Index(seg, []byte(`data-testid="name">`)); k >= 0 {
			img.name, _ = until(seg[k+len(`data-testid="name">`):], '<')
			img.name = html.UnescapeString(img.name)
		}
		if k := bytes.Index(seg, []byte(`data-status="`)); k >= 0 {
			img.status, _ = until(seg[k+len(`data-status="`):], '"')
		}
		out = append(out, img)
	}
}

func htmlUnescape(b []byte) string { return html.UnescapeString(string(b)) }

// until is b up to the first c.
func until(b []byte, c byte) (string, bool) {
	i := bytes.IndexByte(b, c)
	if i < 0 || i > 512 {
		return "", false
	}
	return string(b[:i]), true
}

var (
	// nextPage is the list's "Next →" link (a keyset cursor).
	nextPage = regexp.MustCompile(`href="(/\?after=[^"]*)"[^>]*rel="next"`)
	// selectOptions are a filter select's options.
	selectBlock = regexp.MustCompile(`(?s)<select name="(status|family)"[^>]*>(.*?)</select>`)
	optionValue = regexp.MustCompile(`<option value="([^"]+)"`)
	labelLink   = regexp.MustCompile(`href="/\?[^"]*?label=([^"&]+)"`)
	folderBox   = regexp.MustCompile(`<input type="checkbox" name="folder" value="([^"]+)"[^>]*data-testid="folder-option"`)
	copyTarget  = regexp.MustCompile(`<input type="checkbox" name="folder" value="([^"]+)"[^>]*data-testid="target"`)
	runningOp   = regexp.MustCompile(`data-testid="op-row" data-id="(\d+)" data-state="(?:running|pending)"`)
	resultOp    = regexp.MustCompile(`data-testid="copy-result" data-op="(\d+)"`)
)

// scrapeCopyTargets are the folders the copy form offers.
func scrapeCopyTargets(page []byte) []string { return submatches(copyTarget, page) }

// scrapeRunningOps are the operations of the monitor's in-flight section.
func scrapeRunningOps(page []byte) []int64 { return ids(submatches(runningOp, page)) }

// scrapeOps are the operations of a copy's result page.
func scrapeOps(page []byte) []int64 { return ids(submatches(resultOp, page)) }

func submatches(re *regexp.Regexp, page []byte) []string {
	var out []string
	for _, m := range re.FindAllSubmatch(page, -1) {
		out = append(out, html.UnescapeString(string(m[1])))
	}
	return out
}

func ids(ss []string) []int64 {
	var out []int64
	for _, s := range ss {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

// Kinds of list filter values the catalog keeps.
const (
	kindStatus = iota
	kindFamily
	kindLabel
	kindFolder
	kinds
)

// Bounds of the catalog: it keeps the latest of each.
const (
	maxImages  = 512
	maxValues  = 64
	maxCursors = 32
)

// catalog is what the users have learnt of the dashboard, shared by all of
// them: image ids (with name and status), filter values and next-page
// cursors, each a bounded ring. Safe for concurrent use.
type catalog struct {
	mu      sync.Mutex
	images  ring[image]
	values  [kinds]ring[string]
	cursors ring[string]
	words   ring[string]
}

func newCatalog() *catalog {
	c := &catalog{images: newRing[image](maxImages), cursors: newRing[string](maxCursors), words: newRing[string](maxValues)}
	for i := range c.values {
		c.values[i] = newRing[string](maxValues)
	}
	return c
}

// learn reads a list page (whole or partial).
func (c *catalog) learn(page []byte) {
	imgs := scrapeImages(page)
	var next []string
	for _, m := range nextPage.FindAllSubmatch(page, -1) {
		next = append(next, html.UnescapeString(string(m[1])))
	}
	var vals [kinds][]string
	for _, m := range selectBlock.FindAllSubmatch(page, -1) {
		k := kindStatus
		if string(m[1]) == "family" {
			k = kindFamily
		}
		vals[k] = append(vals[k], submatches(optionValue, m[2])...)
	}
	for _, l := range submatches(labelLink, page) {
		if v, err := url.QueryUnescape(l); err == nil {
			vals[kindLabel] = append(vals[kindLabel], v)
		}
	}
	vals[kindFolder] = submatches(folderBox, page)

	c.mu.Lock()
	defer c.mu.Unlock()
	for _, img := range imgs {
		if !c.images.has(img) {
			c.images.add(img)
		}
		// Search words: a name's first part ("debian" of debian-12-…).
		if w, _, _ := strings.Cut(img.name, "-"); w != "" && !c.words.has(w) {
			c.words.add(w)
		}
	}
	for _, n := range next {
		c.cursors.add(n)
	}
	for k := range vals {
		for _, v := range vals[k] {
			if !c.values[k].has(v) {
				c.values[k].add(v)
			}
		}
	}
}

// image is a random known image that keep accepts (nil: any).
func (c *catalog) image(rng *rand.Rand, keep func(image) bool) (image, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.images.items)
	if n == 0 {
		return image{}, false
	}
	off := rng.IntN(n)
	for i := range n {
		img := c.images.items[(off+i)%n]
		if keep == nil || keep(img) {
			return img, true
		}
	}
	return image{}, false
}

// pick is a random known value of kind, or def when none is known.
func (c *catalog) pick(rng *rand.Rand, kind int, def string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	vs := c.values[kind].items
	if len(vs) == 0 {
		return def
	}
	return vs[rng.IntN(len(vs))]
}

// cursor is a random next-page link seen on a list.
func (c *catalog) cursor(rng *rand.Rand) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	vs := c.cursors.items
	if len(vs) == 0 {
		return "", false
	}
	return vs[rng.IntN(len(vs))], true
}

// fixedWords are searched whatever the pages showed: common words of image
// names and descriptions, and one that matches nothing.
var fixedWords = []string{"ubuntu", "debian", "windows", "packer", "secops", "gpu", "prod", "nosuchimage"}

// word is a search word: one seen in names, or a fixed one.
func (c *catalog) word(rng *rand.Rand) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	vs := c.words.items
	if len(vs) == 0 || rng.IntN(2) == 0 {
		return fixedWords[rng.IntN(len(fixedWords))]
	}
	return vs[rng.IntN(len(vs))]
}

// ring keeps the latest n items added.
type ring[T comparable] struct {
	items []T
	next  int
	n     int
}

func newRing[T comparable](n int) ring[T] { return ring[T]{n: n} }

func (r *ring[T]) add(v T) {
	if len(r.items) < r.n {
		r.items = append(r.items, v)
		return
	}
	r.items[r.next] = v
	r.next = (r.next + 1) % r.n
}

func (r *ring[T]) has(v T) bool {
	for _, x := range r.items {
		if x == v {
			return true
		}
	}
	return false
}
