package handlers_test

import (
	"fmt"
	"html"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/web"
	"github.com/imagedash/imagedash/web/webtest"
)

// BenchmarkPathologicalSearch100k: while one person ("mallory") hammers
// pathological searches from 8 connections at once, another ("alice")
// pages through ordinary lists one request after another (10 pages of
// each of six lists in turn: pages she has not seen, computed as after a
// sync); the figure is
// alice's p50 and p99. Over 100 000 cached Compute images, through the
// real router, in three arms of the same run on the same store: quiet
// (alice alone), limits-on (the dashboard as shipped) and limits-off
// (ListLimits.Off: no search bounds, no per-person slots, no deadline,
// as before issue 15), so the ratio is measured side by side.
//
// Mallory's searches are what each version lets through, each one new so
// that no cache answers it: 60 to 66 prefixes of one character
// ("a* f* 1* …", which the bounds refuse), and the worst the bounds still
// take, 8 prefixes of 2 characters, chosen among those that expand to the
// most tokens (fd*: every image id; 1*…9*: every number).
//
//	go test -run '^$' -bench PathologicalSearch -benchtime 1x ./handlers/
func BenchmarkPathologicalSearch100k(b *testing.B) {
	e := newEnv(b, envOptions{compute: 100000})
	webtest.AddUser(b, e.store, "alice", true)
	webtest.AddUser(b, e.store, "mallory", true)
	const (
		attackers = 8
		window    = 8 * time.Second
	)
	for armNo, arm := range []struct {
		name   string
		attack bool
		limits handlers.ListLimits
	}{
		{"quiet", false, handlers.ListLimits{}},
		{"limits-on", true, handlers.ListLimits{}},
		{"limits-off", true, handlers.ListLimits{Off: true}},
	} {
		b.Run(arm.name, func(b *testing.B) {
			srv, cookies := searchBenchRouter(b, e, arm.limits)
			rng := rand.New(rand.NewPCG(uint64(armNo), 16))
			for b.Loop() {
				var (
					stop    atomic.Bool
					wg      sync.WaitGroup
					codes   sync.Map // status → *atomic.Int64, mallory's answers
					slowest atomic.Int64
				)
				if arm.attack {
					for i := range attackers {
						wg.Go(func() {
							rng := rand.New(rand.NewPCG(uint64(i), 15))
							for n := 0; !stop.Load(); n++ {
								q := worstAllowed(rng)
								if n%2 == 0 {
									q = manyPrefixes(rng)
								}
								t0 := time.Now()
								code := getAs(srv, cookies["mallory"], "/?q="+url.QueryEscape(q))
								if d := time.Since(t0); d.Nanoseconds() > slowest.Load() {
									slowest.Store(d.Nanoseconds())
								}
								c, _ := codes.LoadOrStore(code, new(atomic.Int64))
								c.(*atomic.Int64).Add(1)
							}
						})
					}
				}
				// Alice pages through each list in turn, 10 pages of each:
				// a page she has not seen is computed, as after a sync.
				var (
					lat  []time.Duration
					next string
				)
				for end := time.Now().Add(window); time.Now().Before(end); {
					p := next
					if p == "" || len(lat)%10 == 0 {
						p = aliceList(rng, armNo)
					}
					t0 := time.Now()
					rec := pageAs(srv, cookies["alice"], p)
					lat = append(lat, time.Since(t0))
					if rec.Code != http.StatusOK {
						b.Fatalf("alice GET %s = %d", p, rec.Code)
					}
					next = nextLink(rec.Body.String())
				}
				stop.Store(true)
				wg.Wait()
				slices.Sort(lat)
				pct := func(p float64) float64 {
					return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
				}
				b.ReportMetric(pct(0.50), "alice-p50-ms")
				b.ReportMetric(pct(0.99), "alice-p99-ms")
				b.ReportMetric(float64(len(lat))/window.Seconds(), "alice-req/s")
				var summary []string
				codes.Range(func(k, v any) bool {
					summary = append(summary, fmt.Sprintf("%d×%d", v.(*atomic.Int64).Load(), k))
					return true
				})
				slices.Sort(summary)
				if arm.attack {
					b.ReportMetric(float64(slowest.Load())/1e6, "mallory-max-ms")
					b.Logf("%s: mallory's answers %s", arm.name, strings.Join(summary, " "))
				}
			}
		})
	}
}

// aliceList is the first page of an ordinary list: a sort and direction,
// maybe a status and a family, and the label team=t<arm>, so that each
// arm's lists are its own (none cached by an earlier arm): 384 of them.
func aliceList(rng *rand.Rand, arm int) string {
	sorts := []string{"name", "id", "family", "status", "os", "size", "min_disk_size", "created_at"}
	v := url.Values{}
	v.Set("label", fmt.Sprintf("team=t%d", arm))
	v.Set("sort", sorts[rng.IntN(len(sorts))])
	v.Set("dir", []string{"asc", "desc"}[rng.IntN(2)])
	if st := []string{"", "READY", "CREATING", "ERROR"}[rng.IntN(4)]; st != "" {
		v.Set("status", st)
	}
	if fam := rng.IntN(len(genFamilies) + 1); fam < len(genFamilies) {
		v.Set("family", genFamilies[fam])
	}
	return "/?" + v.Encode()
}

// searchBenchRouter is the real router over e's store with limits l, and
// the session cookies of alice and mallory.
func searchBenchRouter(b *testing.B, e *env, l handlers.ListLimits) (http.Handler, map[string]string) {
	b.Helper()
	sessions, dir := webtest.People(b, e.store, nil)
	h := handlers.New(handlers.Config{Store: e.store, People: e.store, Sessions: sessions, Ops: e.store,
		Syncer: e.syncer, ListLimits: l, Now: func() time.Time { return now }})
	srv, err := web.New(web.Config{}, web.Deps{Handlers: h, Sessions: sessions, Directory: dir})
	if err != nil {
		b.Fatal(err)
	}
	cookies := map[string]string{}
	for _, name := range []string{"alice", "mallory"} {
		br := webtest.NewBrowser(b, srv)
		br.Login(name, webtest.Password)
		c := br.SessionCookie()
		cookies[name] = c.Name + "=" + c.Value
	}
	return srv, cookies
}

// getAs sends an HTMX GET as the person of cookie and returns the status.
func getAs(srv http.Handler, cookie, target string) int {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Cookie", cookie)
	req.Header.Set(handlers.HeaderRequest, "true")
	var w countingWriter
	w.hdr = http.Header{}
	srv.ServeHTTP(&w, req)
	return w.code
}

// pageAs is getAs keeping the answer.
func pageAs(srv http.Handler, cookie, target string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Cookie", cookie)
	req.Header.Set(handlers.HeaderRequest, "true")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	return rec
}

// nextHref finds the pager's Next link.
var nextHref = regexp.MustCompile(`href="([^"]*)"[^>]*rel="next"`)

// nextLink is the address of the next page in a list partial, "" at the end.
func nextLink(body string) string {
	m := nextHref.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// costly2 are 2-character prefixes that expand to many tokens of the
// generated images: fd* every id, the digits every number, and the words
// every image has.
var costly2 = func() []string {
	out := []string{"fd", "co", "im", "bu", "ma", "by", "en", "te", "pr", "pa", "de", "st", "ub", "wi"}
	for d := 10; d < 100; d++ {
		out = append(out, fmt.Sprint(d))
	}
	return out
}()

// worstAllowed is 8 costly 2-character prefixes, fd* always among them.
func worstAllowed(rng *rand.Rand) string {
	terms := []string{"fd*"}
	for len(terms) < 8 {
		terms = append(terms, costly2[rng.IntN(len(costly2))]+"*")
	}
	return strings.Join(terms, " ")
}

// manyPrefixes is 60 to 66 one-character prefixes ("a* 7* f* …"), as
// many as the 200 characters of a search hold.
func manyPrefixes(rng *rand.Rand) string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	terms := make([]string, 60+rng.IntN(7))
	for i := range terms {
		terms[i] = string(chars[rng.IntN(len(chars))]) + "*"
	}
	return strings.Join(terms, " ")
}
