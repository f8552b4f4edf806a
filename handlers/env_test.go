package handlers_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/syncer"
	"github.com/imagedash/imagedash/views"
	"github.com/imagedash/imagedash/web"
	"github.com/imagedash/imagedash/web/webtest"
)

// now is the handlers' clock in every test.
var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// The two folders of the generated data set.
const (
	golden = "b1ggolden0000000000a"
	team   = "b1gteam000000000000b"
)

var genFolders = []cloud.Folder{
	{ID: golden, CloudID: "b1gcloud", Name: "golden-images"},
	{ID: team, CloudID: "b1gcloud", Name: "team-alpha"},
}

var genFamilies = []string{"ubuntu-2404-lts", "debian-12", "windows-2022-dc", "almalinux-9", "fedora-40"}

// genImages builds n deterministic images of svc over the two folders:
// mostly READY (ACTIVE for Desktop), some in flight or failed; families
// (Compute), OS, labels "env", "team" and sometimes a bare "gpu"; created
// times with ties every three images, for the keyset tie-breaks.
func genImages(svc cloud.Service, n int) []cloud.Image {
	rng := rand.New(rand.NewPCG(7, uint64(n)))
	ready := "READY"
	if svc == cloud.Desktop {
		ready = "ACTIVE"
	}
	out := make([]cloud.Image, n)
	for i := range out {
		st := ready
		switch r := rng.IntN(20); {
		case r < 2:
			st = "CREATING"
		case r < 4:
			st = "ERROR"
		case r < 5:
			st = "DELETING"
		}
		img := cloud.Image{
			Service:     svc,
			ID:          fmt.Sprintf("%s%017d", map[cloud.Service]string{cloud.Compute: "fd8", cloud.Desktop: "dci", cloud.BareMetal: "ly5"}[svc], i),
			FolderID:    []string{golden, team}[i%2],
			Name:        fmt.Sprintf("%s-img-%03d", svc, i),
			Description: fmt.Sprintf("build %d made by %s", i, []string{"packer", "buildkite", "manual"}[i%3]),
			Status:      st,
			Labels: map[string]string{
				"env":  []string{"prod", "stage", "dev"}[rng.IntN(3)],
				"team": fmt.Sprintf("t%d", rng.IntN(3)),
			},
			MinDiskSize: int64(10+rng.IntN(20)) << 30,
			CreatedAt:   now.Add(-time.Duration(n-i/3*3) * time.Hour),
		}
		if rng.IntN(5) == 0 {
			img.Labels["gpu"] = ""
		}
		switch svc {
		case cloud.Compute:
			img.Family = genFamilies[i%len(genFamilies)]
			img.OS = "LINUX"
			if strings.HasPrefix(img.Family, "windows") {
				img.OS = "WINDOWS"
			}
			img.Size = int64(1+rng.IntN(9)) << 30
			img.StorageSize = img.Size / 2
			img.ProductIDs = []string{"f2eprod" + img.Family}
			img.HardwareGeneration = "generation2"
			img.Pooled = i%7 == 0
		case cloud.Desktop:
			img.StorageSize = int64(1+rng.IntN(40)) << 30
		case cloud.BareMetal:
			img.Checksum = fmt.Sprintf("%032x", i*7919)
		}
		out[i] = img
	}
	return out
}

// env is the router over real handlers and a real store on a temp file,
// filled with the generated images and synced 20 s before now.
type env struct {
	t   testing.TB
	srv http.Handler
	// browser is signed in as admin; e.do and e.get go through it.
	browser *webtest.Browser
	store   *store.Store
	syncer  *syncer.Syncer
	images  map[cloud.Service][]cloud.Image
}

type envOptions struct {
	compute, desktop, baremetal int
	// empty leaves the cache empty: no folders, no images, no sync states.
	empty  bool
	cloud  handlers.ImageHistory
	syncer *syncer.Syncer
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	counts := map[cloud.Service]int{cloud.Compute: o.compute, cloud.Desktop: o.desktop, cloud.BareMetal: o.baremetal}
	key := fmt.Sprintf("env %d/%d/%d empty=%v", o.compute, o.desktop, o.baremetal, o.empty)
	st := openFixture(t, key, func(st *store.Store) error {
		if o.empty {
			return nil
		}
		ctx := context.Background()
		if err := st.SaveFolders(ctx, genFolders); err != nil {
			return err
		}
		for svc, n := range counts {
			if err := putImages(ctx, st, svc, genImages(svc, n)); err != nil {
				return err
			}
		}
		return nil
	})
	e := &env{t: t, store: st, images: map[cloud.Service][]cloud.Image{}}
	if !o.empty {
		for svc, n := range counts {
			e.images[svc] = genImages(svc, n)
		}
	}
	e.syncer = o.syncer
	if e.syncer == nil {
		// A real syncer that never runs: Refresh and its rate limit are real.
		e.syncer = syncer.New(nil, st, syncer.Config{MinRefreshGap: time.Minute, Now: func() time.Time { return now }})
	}
	e.serve(handlers.Config{Store: st, Syncer: e.syncer, Cloud: o.cloud, Now: func() time.Time { return now }})
	return e
}

// serve builds the real router over handlers of cfg, with sign-in, and
// signs e.browser in as an admin.
func (e *env) serve(cfg handlers.Config) {
	e.t.Helper()
	sessions, dir := webtest.People(e.t, e.store, nil)
	cfg.People, cfg.Sessions = e.store, sessions
	if cfg.Hasher == nil {
		cfg.Hasher = webtest.Hasher()
	}
	if cfg.Ops == nil {
		cfg.Ops = e.store
	}
	srv, err := web.New(web.Config{}, web.Deps{Handlers: handlers.New(cfg), Sessions: sessions, Directory: dir})
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv = srv
	webtest.AddUser(e.t, e.store, "root", true)
	e.browser = webtest.NewBrowser(e.t, srv)
	e.browser.Login("root", webtest.Password)
}

// sessionCookie is the admin browser's session cookie as a Cookie header
// value, for clients that are not the browser (the load tool).
func (e *env) sessionCookie() string {
	c := e.browser.SessionCookie()
	if c == nil {
		e.t.Fatal("the admin browser is not signed in")
	}
	return c.Name + "=" + c.Value
}

// put replaces the cached images of svc with imgs, folder by folder, and
// records a successful sync 20 s before now.
func (e *env) put(svc cloud.Service, imgs []cloud.Image) {
	e.t.Helper()
	if err := putImages(context.Background(), e.store, svc, imgs); err != nil {
		e.t.Fatal(err)
	}
}

// putImages is env.put on st.
func putImages(ctx context.Context, st *store.Store, svc cloud.Service, imgs []cloud.Image) error {
	for _, f := range genFolders {
		var in []cloud.Image
		for _, img := range imgs {
			if img.FolderID == f.ID {
				in = append(in, img)
			}
		}
		if _, err := st.ReplaceFolderImages(ctx, svc, f.ID, in, now.Add(-20*time.Second)); err != nil {
			return err
		}
		if err := st.RecordSync(ctx, svc, f.ID, store.SyncRecord{At: now.Add(-20 * time.Second), Count: len(in)}); err != nil {
			return err
		}
	}
	return nil
}

// failSync records a failed sync of svc in folder 2 minutes before now.
func (e *env) failSync(svc cloud.Service, folder string) {
	e.t.Helper()
	err := e.store.RecordSync(context.Background(), svc, folder, store.SyncRecord{
		At:  now.Add(-2 * time.Minute),
		Err: fmt.Errorf("sync: %w", cloud.FromStatus("compute.ImageService.List", status.Error(codes.Unavailable, "backend down"))),
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

type response struct {
	code int
	hdr  http.Header
	body string
	doc  *goquery.Document
}

var htmx = map[string]string{handlers.HeaderRequest: "true"}

// do sends a request through the admin's browser. A form body gets the
// page's CSRF token, as a browser's form would.
func (e *env) do(method, target string, body url.Values, hdr map[string]string) response {
	e.t.Helper()
	var req *http.Request
	if body != nil {
		if !body.Has(views.CSRFField) {
			body = maps.Clone(body)
			body.Set(views.CSRFField, e.browser.CSRF)
		}
		req = httptest.NewRequest(method, target, strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := e.browser.Do(req)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		e.t.Fatal(err)
	}
	return response{code: rec.Code, hdr: rec.Header(), body: rec.Body.String(), doc: doc}
}

func (e *env) get(target string, hdr map[string]string) response {
	e.t.Helper()
	return e.do(http.MethodGet, target, nil, hdr)
}

// ok is get that fails the test on any status but 200.
func (e *env) ok(target string) response {
	e.t.Helper()
	r := e.get(target, nil)
	if r.code != http.StatusOK {
		e.t.Fatalf("GET %s = %d, want 200; body:\n%s", target, r.code, r.body)
	}
	return r
}

// rowIDs are the image ids of the table's rows, in order.
func (r response) rowIDs() []string {
	var ids []string
	r.doc.Find(`[data-testid="image-row"]`).Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-id")
		ids = append(ids, id)
	})
	return ids
}

func (r response) text(sel string) string {
	return strings.Join(strings.Fields(r.doc.Find(sel).First().Text()), " ")
}

func (r response) attr(sel, name string) string {
	v, _ := r.doc.Find(sel).First().Attr(name)
	return v
}

// want is the ids of imgs that keep passes, ordered by cmp (ties broken by
// id in the same direction, as the store does).
func want(imgs []cloud.Image, keep func(cloud.Image) bool, cmp func(a, b cloud.Image) int, desc bool) []string {
	var sel []cloud.Image
	for _, img := range imgs {
		if keep == nil || keep(img) {
			sel = append(sel, img)
		}
	}
	slices.SortFunc(sel, func(a, b cloud.Image) int {
		c := cmp(a, b)
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		if desc {
			return -c
		}
		return c
	})
	ids := make([]string, len(sel))
	for i, img := range sel {
		ids[i] = img.ID
	}
	return ids
}

func byCreated(a, b cloud.Image) int { return a.CreatedAt.Compare(b.CreatedAt) }

func contains(vals []string, want string) bool {
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), want) {
				return true
			}
		}
	}
	return false
}
