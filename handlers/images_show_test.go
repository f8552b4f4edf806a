package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/cloud/cloudtest"
	"github.com/imagedash/imagedash/cloud/sim"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/syncer"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/views"
)

// fields are the detail page's field names and texts.
func fields(r response) map[string]string {
	m := map[string]string{}
	r.doc.Find(`[data-testid="fields"] dd`).Each(func(_ int, s *goquery.Selection) {
		k, _ := s.Attr("data-field")
		m[k] = strings.Join(strings.Fields(s.Text()), " ")
	})
	return m
}

func TestShowImage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 10, desktop: 4, baremetal: 4})
	tests := []struct {
		svc  cloud.Service
		img  cloud.Image
		want map[string]string
		lazy []string
	}{
		{cloud.Compute, e.images[cloud.Compute][7], map[string]string{
			"ID":                  e.images[cloud.Compute][7].ID,
			"Folder":              "team-alpha (" + team + ")",
			"Family":              "windows-2022-dc",
			"OS":                  "WINDOWS",
			"Product ids":         "f2eprodwindows-2022-dc",
			"Pooled":              "yes",
			"Hardware generation": "generation2",
			"Size":                views.Bytes(e.images[cloud.Compute][7].Size),
			"Storage size":        views.Bytes(e.images[cloud.Compute][7].StorageSize),
			"Min disk size":       views.Bytes(e.images[cloud.Compute][7].MinDiskSize),
		}, []string{views.LatestID, views.OperationsID}},
		{cloud.Desktop, e.images[cloud.Desktop][0], map[string]string{
			"Storage size":  views.Bytes(e.images[cloud.Desktop][0].StorageSize),
			"Min disk size": views.Bytes(e.images[cloud.Desktop][0].MinDiskSize),
			"Folder":        "golden-images (" + golden + ")",
		}, []string{views.OperationsID}},
		{cloud.BareMetal, e.images[cloud.BareMetal][1], map[string]string{
			"Checksum": e.images[cloud.BareMetal][1].Checksum,
		}, []string{views.OperationsID}},
	}
	for _, tt := range tests {
		t.Run(string(tt.svc), func(t *testing.T) {
			r := e.ok("/images/" + string(tt.svc) + "/" + tt.img.ID)
			if got := r.text(`h1[data-testid="name"]`); got != tt.img.Name {
				t.Errorf("name = %q, want %q", got, tt.img.Name)
			}
			if got := r.text(`[data-testid="description"]`); got != tt.img.Description {
				t.Errorf("description = %q", got)
			}
			got := fields(r)
			for k, w := range tt.want {
				if got[k] != w {
					t.Errorf("field %s = %q, want %q", k, got[k], w)
				}
			}
			if !strings.Contains(got["Created"], tt.img.CreatedAt.UTC().Format("2006-01-02 15:04:05")) {
				t.Errorf("created = %q", got["Created"])
			}
			labels := r.doc.Find(`[data-field="Labels"] [data-testid="label"]`)
			if labels.Length() != len(tt.img.Labels) {
				t.Errorf("label chips = %d, want %d", labels.Length(), len(tt.img.Labels))
			}
			// The cloud sections load after the page.
			var lazy []string
			r.doc.Find(`section.lazy`).Each(func(_ int, s *goquery.Selection) {
				id, _ := s.Attr("id")
				trig, _ := s.Attr("hx-trigger")
				get, _ := s.Attr("hx-get")
				if trig != "load" || !strings.HasPrefix(get, "/images/"+string(tt.svc)+"/"+tt.img.ID+"/") {
					t.Errorf("section #%s: hx-get %q, hx-trigger %q", id, get, trig)
				}
				lazy = append(lazy, id)
			})
			if strings.Join(lazy, ",") != strings.Join(tt.lazy, ",") {
				t.Errorf("lazy sections = %v, want %v", lazy, tt.lazy)
			}
		})
	}
}

func TestShowImageNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{compute: 3})
	tests := []struct {
		target string
		code   int
		want   string
	}{
		{"/images/compute/fd8nosuchimage000000", http.StatusNotFound, "No Compute image fd8nosuchimage000000 is cached"},
		{"/images/desktop/" + e.images[cloud.Compute][0].ID, http.StatusNotFound, "No Cloud Desktop image"},
		{"/images/compute/fd8nosuchimage000000/operations", http.StatusNotFound, "No Compute image"},
		{"/images/floppy/fd8x", http.StatusBadRequest, `Unknown service "floppy"`},
		{"/images/compute/" + strings.Repeat("x", 51), http.StatusBadRequest, "at most 50 characters"},
	}
	for _, tt := range tests {
		r := e.get(tt.target, nil)
		if r.code != tt.code {
			t.Errorf("GET %s = %d, want %d", tt.target, r.code, tt.code)
		}
		if got := r.text(`[data-testid="error-page"]`); !strings.Contains(got, tt.want) {
			t.Errorf("GET %s: error page %q, want %q", tt.target, got, tt.want)
		}
		r = e.get(tt.target, htmx)
		if got := r.text(`[data-testid="toast"]`); r.code != tt.code || !strings.Contains(got, tt.want) {
			t.Errorf("htmx GET %s = %d %q", tt.target, r.code, got)
		}
	}
}

// cloudEnv is the emulator on a loopback port (operations finish at once),
// a client of it, and the router over a store the real syncer filled from
// it, with a tracker whose watcher tests run by hand (ce.tracker.Step).
type cloudEnv struct {
	*env
	sim     *sim.Sim
	client  *cloud.Client
	tracker *tracker.Tracker
}

func newCloudEnv(t *testing.T, images int) *cloudEnv {
	t.Helper()
	return newCloudEnvWith(t, images, tracker.Config{})
}

// newCloudEnvWith is newCloudEnv with a tracker made with tcfg.
func newCloudEnvWith(t *testing.T, images int, tcfg tracker.Config) *cloudEnv {
	t.Helper()
	return newCloudEnvWatching(t, images, tcfg, nil)
}

// newCloudEnvWatching is newCloudEnvWith on a server that watches only
// folders (--folder), all of them when nil.
func newCloudEnvWatching(t *testing.T, images int, tcfg tracker.Config, folders func(*sim.Sim) []string) *cloudEnv {
	t.Helper()
	ctx := context.Background()
	s, c := cloudtest.Start(t, sim.Options{Images: images})
	// The store as a first sync from the emulator left it: the emulator's
	// data is made from a fixed seed, so one sync per process serves every
	// test (fixture_test.go).
	st := openFixture(t, fmt.Sprintf("cloud %d", images), func(st *store.Store) error {
		_, c := cloudtest.Start(t, sim.Options{Images: images})
		if p := syncer.New(c, st, syncer.Config{}).SyncAll(ctx); p.Err != nil || p.Failures > 0 {
			return fmt.Errorf("sync: %+v", p)
		}
		return nil
	})
	sy := syncer.New(c, st, syncer.Config{})
	e := &env{t: t, store: st, syncer: sy}
	tr := tracker.New(c, st, tcfg)
	var watched []string
	if folders != nil {
		watched = folders(s)
	}
	e.serve(handlers.Config{Store: st, Syncer: sy, Cloud: c, CloudTimeout: 3 * time.Second, Tracker: tr, Ops: st, Folders: watched})
	return &cloudEnv{env: e, sim: s, client: c, tracker: tr}
}

// first is the first cached image of svc that keep accepts.
func (e *cloudEnv) first(svc cloud.Service, keep func(cloud.Image) bool) cloud.Image {
	e.t.Helper()
	p, err := e.store.Images(context.Background(), store.ImageQuery{Service: svc, Limit: store.MaxLimit})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, img := range p.Images {
		if keep == nil || keep(img) {
			return img
		}
	}
	e.t.Fatalf("no %s image to test with", svc)
	return cloud.Image{}
}

func TestImageSectionsFromTheCloud(t *testing.T) {
	t.Parallel()
	e := newCloudEnv(t, 40)
	ctx := context.Background()
	img := e.first(cloud.Compute, func(i cloud.Image) bool { return i.Family != "" && i.Status == "READY" })
	if _, err := e.client.UpdateImage(ctx, "", cloud.Compute, img.ID, cloud.ImageUpdate{Mask: []string{"description"}, Description: "touched by the test"}); err != nil {
		t.Fatal(err)
	}
	base := "/images/compute/" + img.ID

	t.Run("operations", func(t *testing.T) {
		r := e.get(base+"/operations", htmx)
		if r.code != http.StatusOK {
			t.Fatalf("status = %d", r.code)
		}
		if strings.Contains(r.body, "<html") {
			t.Error("the HTMX section came as a whole page")
		}
		ops := r.doc.Find(`#` + views.OperationsID + ` [data-testid="operation"]`)
		if ops.Length() != 1 || !strings.Contains(ops.Text(), "Update image") {
			t.Errorf("operations = %d %q, want the update", ops.Length(), ops.Text())
		}
		// Without JavaScript: the whole page, the section filled in.
		r = e.ok(base + "/operations")
		if got := r.doc.Find(`#` + views.OperationsID + `[data-state="loaded"] [data-testid="operation"]`).Length(); got != 1 {
			t.Errorf("full page operations = %d, want 1", got)
		}
		if got := r.text(`h1[data-testid="name"]`); got != img.Name {
			t.Errorf("full page name = %q", got)
		}
	})

	t.Run("latest in family", func(t *testing.T) {
		latest, err := e.client.LatestByFamily(ctx, img.FolderID, img.Family)
		if err != nil {
			t.Fatal(err)
		}
		r := e.get(base+"/latest", htmx)
		if r.code != http.StatusOK {
			t.Fatalf("status = %d", r.code)
		}
		if latest.ID == img.ID {
			if r.doc.Find(`[data-testid="latest-is-this"]`).Length() != 1 {
				t.Errorf("latest is this image, the section says %q", r.text("#"+views.LatestID))
			}
		} else if href := r.attr(`[data-testid="latest-link"]`, "href"); href != "/images/compute/"+latest.ID {
			t.Errorf("latest link = %q, want /images/compute/%s", href, latest.ID)
		}
		if got := r.text("#" + views.LatestID + " h2"); got != "Latest in "+img.Family {
			t.Errorf("heading = %q", got)
		}
	})

	t.Run("desktop has no history", func(t *testing.T) {
		d := e.first(cloud.Desktop, nil)
		r := e.get("/images/desktop/"+d.ID+"/operations", htmx)
		if r.code != http.StatusOK || r.doc.Find(`[data-testid="operations-unsupported"]`).Length() != 1 {
			t.Errorf("desktop operations = %d %q", r.code, r.text("#"+views.OperationsID))
		}
		if r := e.get("/images/desktop/"+d.ID+"/latest", htmx); r.code != http.StatusNotFound {
			t.Errorf("desktop latest = %d, want 404", r.code)
		}
	})

	t.Run("baremetal history", func(t *testing.T) {
		b := e.first(cloud.BareMetal, nil)
		r := e.get("/images/baremetal/"+b.ID+"/operations", htmx)
		if r.code != http.StatusOK || r.doc.Find(`[data-testid="operations-empty"]`).Length() != 1 {
			t.Errorf("baremetal operations = %d %q", r.code, r.text("#"+views.OperationsID))
		}
	})

	t.Run("cloud down", func(t *testing.T) {
		e.sim.SetFaults(sim.Faults{UnavailableRate: 1})
		defer e.sim.SetFaults(sim.Faults{})
		// The page itself comes from the cache.
		if r := e.ok(base); r.text(`h1[data-testid="name"]`) != img.Name {
			t.Errorf("detail page with the cloud down: %q", r.text(`h1`))
		}
		for _, part := range []string{"/operations", "/latest"} {
			r := e.get(base+part, htmx)
			if r.code != http.StatusOK {
				t.Errorf("%s status = %d, want 200 (the error is inline)", part, r.code)
			}
			got := r.text(`[data-testid="cloud-error"]`)
			if !strings.HasPrefix(got, "Could not reach the cloud: ") || strings.Contains(r.body, "ImageService") {
				t.Errorf("%s inline error = %q", part, got)
			}
			if r.hdr.Get(handlers.HeaderRetarget) != "" {
				t.Errorf("%s was turned into a toast", part)
			}
		}
	})
}
