package main

import (
	"bytes"
	"html"
	"math/rand/v2"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// What the mix reads of the dashboard's pages: the markup's data-testid
// hooks (see package views), found with byte searches and a few regular
// expressions, never a full HTML parse, so that reading answers costs the
// load generator little next to the requests it makes. Nothing is
// hard-coded: image ids, filter values, folders and operations all come
// from the pages.

var (
	csrfField   = regexp.MustCompile(`<input[^>]*name="_csrf"[^>]*value="([^"]*)"`)
	nextPage    = regexp.MustCompile(`href="(/\?after=[^"]*)"[^>]*rel="next"`)
	selectBlock = regexp.MustCompile(`(?s)<select name="(status|family)"[^>]*>(.*?)</select>`)
	optionValue = regexp.MustCompile(`<option value="([^"]+)"`)
	labelLink   = regexp.MustCompile(`href="/\?[^"]*?label=([^"&]+)"`)
	folderBox   = regexp.MustCompile(`<input type="checkbox" name="folder" value="([^"]+)"[^>]*data-testid="folder-option"`)
	copyTarget  = regexp.MustCompile(`<input type="checkbox" name="folder" value="([^"]+)"[^>]*data-testid="target"`)
	runningOp   = regexp.MustCompile(`data-testid="op-row" data-id="(\d+)" data-state="(?:running|pending)"`)
	resultOp    = regexp.MustCompile(`data-testid="copy-result" data-op="(\d+)"`)
)

// scrapeCSRF is the value of the page's first hidden _csrf field.
func scrapeCSRF(page []byte) string {
	m := csrfField.FindSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(string(m[1]))
}

// image is one row of a list page.
type image struct{ id, name, status string }

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

// until is b up to the first c.
func until(b []byte, c byte) (string, bool) {
	i := bytes.IndexByte(b, c)
	if i < 0 || i > 512 {
		return "", false
	}
	return string(b[:i]), true
}

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
	maxOps     = 64
)

// fixedWords are searched whatever the pages showed: common words of image
// names and descriptions, and one that matches nothing.
var fixedWords = []string{"ubuntu", "debian", "windows", "packer", "secops", "gpu", "prod", "nosuchimage"}

// catalog is what the mix has learnt of the dashboard from its answers:
// images (id, name, status), filter values, next-page cursors, search
// words, operations in flight and the folders the copy form offers. Safe
// for concurrent use: vegeta's workers read it while results feed it.
type catalog struct {
	mu      sync.Mutex
	images  []image
	values  [kinds][]string
	cursors []string
	words   []string
	ops     []int64
	targets []string
}

// keep appends v to s unless present, dropping the oldest past n.
func keep[T comparable](s []T, v T, n int) []T {
	if slices.Contains(s, v) {
		return s
	}
	s = append(s, v)
	if len(s) > n {
		s = slices.Delete(s, 0, len(s)-n)
	}
	return s
}

// learnList reads a list page (whole or partial).
func (c *catalog) learnList(page []byte) {
	imgs := scrapeImages(page)
	next := submatches(nextPage, page)
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
		c.images = keep(c.images, img, maxImages)
		// Search words: a name's first part ("debian" of debian-12-…).
		if w, _, _ := strings.Cut(img.name, "-"); w != "" {
			c.words = keep(c.words, w, maxValues)
		}
	}
	for _, n := range next {
		c.cursors = keep(c.cursors, n, maxCursors)
	}
	for k := range vals {
		for _, v := range vals[k] {
			c.values[k] = keep(c.values[k], v, maxValues)
		}
	}
}

// learnOps reads the monitor's in-flight section or a copy's result page;
// ended forgets the operation whose badge said it ended.
func (c *catalog) learnOps(page []byte) {
	found := append(ids(submatches(runningOp, page)), ids(submatches(resultOp, page))...)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range found {
		c.ops = keep(c.ops, id, maxOps)
	}
}

func (c *catalog) ended(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ops = slices.DeleteFunc(c.ops, func(x int64) bool { return x == id })
}

// learnTargets reads the copy form.
func (c *catalog) learnTargets(page []byte) {
	t := submatches(copyTarget, page)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range t {
		c.targets = keep(c.targets, f, maxValues)
	}
}

// The choices below are made under the caller's lock (mixer.next holds
// c.mu through one target), so they take rng without locking again.

func (c *catalog) image(rng *rand.Rand, ok func(image) bool) (image, bool) {
	n := len(c.images)
	if n == 0 {
		return image{}, false
	}
	off := rng.IntN(n)
	for i := range n {
		if img := c.images[(off+i)%n]; ok == nil || ok(img) {
			return img, true
		}
	}
	return image{}, false
}

func (c *catalog) pick(rng *rand.Rand, kind int, def string) string {
	if vs := c.values[kind]; len(vs) > 0 {
		return vs[rng.IntN(len(vs))]
	}
	return def
}

func (c *catalog) word(rng *rand.Rand) string {
	if len(c.words) == 0 || rng.IntN(2) == 0 {
		return fixedWords[rng.IntN(len(fixedWords))]
	}
	return c.words[rng.IntN(len(c.words))]
}

// listSorts are the sort columns a list asks for.
var listSorts = []string{"created_at", "name", "size", "family", "status", "min_disk_size"}

// listURL is a list page with a random set of filters: status, family,
// label, folder, sort and direction, page size, or a next page seen before.
func (c *catalog) listURL(rng *rand.Rand) string {
	if rng.IntN(5) == 0 && len(c.cursors) > 0 {
		return c.cursors[rng.IntN(len(c.cursors))]
	}
	v := url.Values{}
	if rng.IntN(2) == 0 {
		v.Set("status", c.pick(rng, kindStatus, "READY"))
	}
	if rng.IntN(3) == 0 {
		v.Set("family", c.pick(rng, kindFamily, ""))
	}
	if rng.IntN(4) == 0 {
		v.Set("label", c.pick(rng, kindLabel, ""))
	}
	if rng.IntN(6) == 0 {
		v.Set("folder", c.pick(rng, kindFolder, ""))
	}
	if rng.IntN(2) == 0 {
		v.Set("sort", listSorts[rng.IntN(len(listSorts))])
		v.Set("dir", []string{"asc", "desc"}[rng.IntN(2)])
	}
	if rng.IntN(5) == 0 {
		v.Set("limit", []string{"25", "100"}[rng.IntN(2)])
	}
	for k, vs := range v {
		if vs[0] == "" {
			delete(v, k)
		}
	}
	if len(v) == 0 {
		return "/"
	}
	return "/?" + v.Encode()
}

// copySource is an image worth copying: READY, a name short enough for a
// suffix, and not itself a load-test copy.
func copySource(img image) bool {
	return img.status == "READY" && len(img.name) <= 40 && !strings.Contains(img.name, "-lt-")
}
