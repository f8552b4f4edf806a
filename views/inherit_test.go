package views

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// selfSwapping tells whether a tag's source polls (hx-trigger "every …")
// or swaps itself (hx-target="this", or an outerHTML swap with no target,
// which is the element itself).
var (
	pollsRe      = regexp.MustCompile(`hx-trigger="[^"]*\bevery\b`)
	targetThisRe = regexp.MustCompile(`hx-target="this"`)
	outerRe      = regexp.MustCompile(`hx-swap="outerHTML`)
	targetRe     = regexp.MustCompile(`hx-target=`)
	disinheritRe = regexp.MustCompile(`hx-disinherit="\*"`)
)

func selfSwapping(tag string) bool {
	return pollsRe.MatchString(tag) || targetThisRe.MatchString(tag) ||
		(outerRe.MatchString(tag) && strings.Contains(tag, "hx-get") && !targetRe.MatchString(tag))
}

// templTags returns the opening tags of a templ source: from "<name" to its
// closing ">", skipping Go expressions in braces and quoted values (a ">"
// in either does not close the tag).
func templTags(src string) []string {
	var tags []string
	for i := 0; i < len(src); i++ {
		if src[i] != '<' || i+1 >= len(src) || !('a' <= src[i+1] && src[i+1] <= 'z') {
			continue
		}
		depth, quote := 0, byte(0)
		j := i + 1
	scan:
		for ; j < len(src); j++ {
			c := src[j]
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '"' || c == '`':
				quote = c
			case c == '{':
				depth++
			case c == '}':
				depth--
			case c == '>' && depth == 0:
				break scan
			case c == '\n':
				// A templ control line among the attributes ("if a > b {",
				// "} else if …"): its condition is Go, up to its last "{".
				end := strings.IndexByte(src[j+1:], '\n')
				if end < 0 {
					end = len(src) - j - 1
				}
				line := strings.TrimSpace(src[j+1 : j+1+end])
				if strings.HasPrefix(line, "} else") {
					depth--
					line = strings.TrimPrefix(line, "}")
				}
				if strings.HasPrefix(strings.TrimSpace(line), "else") || strings.HasPrefix(line, "if ") ||
					strings.HasPrefix(line, "for ") || strings.HasPrefix(line, "switch ") {
					j += 1 + strings.LastIndexByte(src[j+1:j+1+end], '{') - 1
				}
			}
		}
		tags = append(tags, src[i:min(j+1, len(src))])
	}
	return tags
}

// TestSelfSwappingElementsDisinherit is issue 17's defect 1 at its source:
// a link or form inside an element that polls or swaps itself inherits its
// hx-target ("this") and hx-swap, so a boosted click put a whole page inside
// the badge, the header's counts or the monitor's section. Every such element
// in every template must carry hx-disinherit="*", so a new one cannot bring
// the defect back.
func TestSelfSwappingElementsDisinherit(t *testing.T) {
	files, err := filepath.Glob("*.templ")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range templTags(string(src)) {
			if !selfSwapping(tag) {
				continue
			}
			found++
			if !disinheritRe.MatchString(tag) {
				t.Errorf("%s: an element that polls or swaps itself has no hx-disinherit=\"*\": its links would swap pages into it:\n%s", f, tag)
			}
		}
	}
	// The badge, the monitor's in-flight section, the header's counts and
	// slot, the copies' results, two syncing states, the freshness and the
	// lazy sections at least: a scan that finds none is broken.
	if found < 8 {
		t.Errorf("found %d self-swapping elements in the templates, want at least 8: is the scan broken?", found)
	}
}

// TestTemplTags checks the scanner on what templ sources hold.
func TestTemplTags(t *testing.T) {
	src := "<span\n\tif a > b {\n\t\thx-trigger=\"every 2s\"\n\t}\n\ttitle=\"x > y\"\n>\n\t<a href={ u }>x</a>\n</span>"
	got := templTags(src)
	if len(got) != 2 || !strings.HasSuffix(got[0], "\"x > y\"\n>") || got[1] != "<a href={ u }>" {
		t.Fatalf("templTags = %q", got)
	}
	if !selfSwapping(got[0]) || selfSwapping(got[1]) {
		t.Errorf("selfSwapping: %v, %v", selfSwapping(got[0]), selfSwapping(got[1]))
	}
}

// TestRenderedPollersDisinherit renders the live components (and the image
// rows, written in Go) and checks, as a browser would see them, that no link
// or form inside an element that polls or swaps itself can inherit its
// target.
func TestRenderedPollersDisinherit(t *testing.T) {
	open := OpRow{ID: 7, State: "running", Action: "image.copy", ActionTitle: "Copy"}
	ctx := WithRequest(context.Background(), Request{Me: Me{Name: "alice"}})
	var buf bytes.Buffer
	for _, c := range []interface {
		Render(context.Context, io.Writer) error
	}{
		OperationBadge(open),
		OpsInFlight(OpsPage{InFlight: []OpRow{open}, ShowInFlight: true}),
		OpCountsSlot(),
		OpCounts(OpCountsView{InFlight: 1, Failed: 1}),
		CopyResults(CopyBatchPage{Open: true, URL: "/copies/b", Rows: []CopyResultRow{{OpID: 7, State: CopyStarted, OpURL: "/operations/7", ImageURL: "/images/compute/x", Name: "x"}}}),
		imageRows(nil, []ImageRow{{ID: "fd8abc", OpID: 7}}, "/?", ImageFilter{}, nil),
	} {
		if err := c.Render(ctx, &buf); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	sel := `[hx-trigger*="every"], [hx-target="this"], [data-testid="op-slot"]`
	n := doc.Find(sel).Length()
	if n < 6 {
		t.Fatalf("%d live elements rendered, want at least 6", n)
	}
	doc.Find(sel).Each(func(_ int, s *goquery.Selection) {
		if v, _ := s.Attr("hx-disinherit"); v != "*" {
			h, _ := goquery.OuterHtml(s)
			t.Errorf("a live element lets its children inherit its target: %s", h)
		}
	})
	if doc.Find(`[hx-disinherit="*"] a`).Length() < 4 {
		t.Errorf("the live elements rendered no links: the check saw nothing")
	}
}
