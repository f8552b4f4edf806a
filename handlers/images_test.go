package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/views"
	"github.com/imagedash/imagedash/web"
)

// fakeImages is a test double of handlers.ImageSource.
type fakeImages struct {
	images     []cloud.Image
	next       string
	folders    []cloud.Folder
	listErr    error
	foldersErr error

	mu    sync.Mutex
	calls []listCall
}

type listCall struct {
	svc    cloud.Service
	folder string
	opt    cloud.ListOptions
}

var _ handlers.ImageSource = (*fakeImages)(nil)

func (f *fakeImages) ListImages(_ context.Context, svc cloud.Service, folderID string, opt cloud.ListOptions) ([]cloud.Image, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, listCall{svc, folderID, opt})
	return f.images, f.next, f.listErr
}

func (f *fakeImages) AllFolders(context.Context) ([]cloud.Folder, error) {
	return f.folders, f.foldersErr
}

func (f *fakeImages) lastCall(t *testing.T) listCall {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("ListImages was not called")
	}
	return f.calls[len(f.calls)-1]
}

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func sampleImages(n int) []cloud.Image {
	out := make([]cloud.Image, n)
	for i := range out {
		out[i] = cloud.Image{
			Service: cloud.Compute, ID: fmt.Sprintf("fd8img%04d", i), FolderID: "golden",
			Name: fmt.Sprintf("ubuntu-%d", i), Family: "ubuntu-2404-lts", Status: "READY", OS: "LINUX",
			Size: 5 << 30, MinDiskSize: 10 << 30, Labels: map[string]string{"env": "prod"},
			CreatedAt: now.Add(-time.Hour),
		}
	}
	return out
}

func newServer(t *testing.T, src *fakeImages) http.Handler {
	t.Helper()
	h := handlers.New(handlers.Config{
		Images:        src,
		DefaultFolder: "golden",
		PageSize:      50,
		Now:           func() time.Time { return now },
	})
	return web.New(web.Config{}, web.Deps{Handlers: h})
}

type response struct {
	code int
	hdr  http.Header
	body string
	doc  *goquery.Document
}

func get(t *testing.T, srv http.Handler, target string, hdr map[string]string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	return response{code: rec.Code, hdr: rec.Header(), body: rec.Body.String(), doc: doc}
}

var htmx = map[string]string{handlers.HeaderRequest: "true"}

func TestListImagesRendersRows(t *testing.T) {
	src := &fakeImages{
		images:  sampleImages(3),
		folders: []cloud.Folder{{ID: "golden", Name: "golden-images"}, {ID: "team", Name: "team-a"}},
	}
	r := get(t, newServer(t, src), "/", nil)
	if r.code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body:\n%s", r.code, r.body)
	}
	if got := r.doc.Find(`[data-testid="image-row"]`).Length(); got != 3 {
		t.Errorf("rows = %d, want 3", got)
	}
	if got := r.doc.Find(`[data-testid="image-row"]`).First().Find(`[data-testid="name"]`).Text(); got != "ubuntu-0" {
		t.Errorf("first name = %q, want ubuntu-0", got)
	}
	sel := r.doc.Find(`[data-testid="folder-select"] option[selected]`)
	if v, _ := sel.Attr("value"); v != "golden" {
		t.Errorf("selected folder = %q, want golden", v)
	}
	if got := r.doc.Find(`[data-testid="folder-select"] option`).Length(); got != 2 {
		t.Errorf("folder options = %d, want 2", got)
	}
	if got := r.doc.Find(`[data-testid="banner"] .banner`).Length(); got != 0 {
		t.Errorf("banner shown on success")
	}
	call := src.lastCall(t)
	if call != (listCall{cloud.Compute, "golden", cloud.ListOptions{PageSize: 50}}) {
		t.Errorf("ListImages call = %+v", call)
	}
}

func TestListImagesQuery(t *testing.T) {
	tests := []struct {
		name   string
		target string
		want   listCall
	}{
		{"defaults", "/", listCall{cloud.Compute, "golden", cloud.ListOptions{PageSize: 50}}},
		{"service and folder", "/?service=desktop&folder=team", listCall{cloud.Desktop, "team", cloud.ListOptions{PageSize: 50}}},
		{"page token", "/?service=baremetal&page_token=abc", listCall{cloud.BareMetal, "golden", cloud.ListOptions{PageSize: 50, PageToken: "abc"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeImages{}
			if r := get(t, newServer(t, src), tt.target, nil); r.code != http.StatusOK {
				t.Fatalf("status = %d, want 200", r.code)
			}
			if got := src.lastCall(t); got != tt.want {
				t.Errorf("ListImages call = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestListImagesPaging(t *testing.T) {
	src := &fakeImages{images: sampleImages(2), next: "page-2"}
	r := get(t, newServer(t, src), "/?folder=team&page_token=page-1", nil)
	next, _ := r.doc.Find(`[data-testid="next-page"]`).Attr("href")
	if next != "/?folder=team&page_token=page-2&service=compute" {
		t.Errorf("next href = %q", next)
	}
	first, _ := r.doc.Find(`[data-testid="first-page"]`).Attr("href")
	if first != "/?folder=team&service=compute" {
		t.Errorf("first href = %q", first)
	}
}

func TestListImagesFullPageOrPartial(t *testing.T) {
	tests := []struct {
		name     string
		hdr      map[string]string
		wantFull bool
	}{
		{"browser", nil, true},
		{"htmx", htmx, false},
		{"htmx history restore", map[string]string{handlers.HeaderRequest: "true", handlers.HeaderHistoryRestoreRequest: "true"}, true},
		{"not htmx", map[string]string{handlers.HeaderRequest: "false"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, newServer(t, &fakeImages{images: sampleImages(2)}), "/", tt.hdr)
			if r.code != http.StatusOK {
				t.Fatalf("status = %d, want 200", r.code)
			}
			if got := r.hdr.Values("Vary"); !contains(got, handlers.HeaderRequest) {
				t.Errorf("Vary = %q, want it to hold %s", got, handlers.HeaderRequest)
			}
			isFull := strings.HasPrefix(r.body, "<!doctype html>") && r.doc.Find("head title").Length() == 1
			if isFull != tt.wantFull {
				t.Errorf("full page = %v, want %v; body starts %.80q", isFull, tt.wantFull, r.body)
			}
			if got := r.doc.Find("#" + views.ImageTableID + ` [data-testid="image-row"]`).Length(); got != 2 {
				t.Errorf("rows in #%s = %d, want 2", views.ImageTableID, got)
			}
			if !tt.wantFull {
				if oob, _ := r.doc.Find("#" + views.ServiceTabsID).Attr("hx-swap-oob"); oob != "true" {
					t.Errorf("partial tabs hx-swap-oob = %q, want true", oob)
				}
			}
		})
	}
}

func TestListImagesEscapesCloudText(t *testing.T) {
	const (
		evilName  = `<script>alert("name")</script>`
		evilDesc  = `"><img src=x onerror=alert('desc')>`
		evilLabel = `'"><script>alert(1)</script>`
	)
	img := sampleImages(1)[0]
	img.Name, img.Description = evilName, evilDesc
	img.Labels = map[string]string{evilLabel: evilLabel}
	img.Family = `" onmouseover="alert(1)`
	img.Status = `"><script>x</script>`
	src := &fakeImages{images: []cloud.Image{img}, folders: []cloud.Folder{{ID: "golden", Name: `</option><script>f()</script>`}}}

	for _, hdr := range []map[string]string{nil, htmx} {
		r := get(t, newServer(t, src), "/", hdr)
		if got := r.doc.Find("script:not([src])").Length(); got != 0 {
			t.Errorf("inline <script> elements = %d, want 0", got)
		}
		if got := r.doc.Find("img, [onerror], [onmouseover]").Length(); got != 0 {
			t.Errorf("injected elements or handlers = %d, want 0", got)
		}
		row := r.doc.Find(`[data-testid="image-row"]`)
		if got := row.Find(`[data-testid="name"]`).Text(); got != evilName {
			t.Errorf("name text = %q, want %q", got, evilName)
		}
		if got := row.Find(`[data-testid="description"]`).Text(); got != evilDesc {
			t.Errorf("description text = %q, want %q", got, evilDesc)
		}
		if got := row.Find(`[data-testid="label"]`).Text(); got != evilLabel+"="+evilLabel {
			t.Errorf("label text = %q", got)
		}
	}
}

func TestListImagesUpstreamError(t *testing.T) {
	grpcErr := func(c codes.Code) error {
		return fmt.Errorf("list images: %w", cloud.FromStatus("compute.ImageService.List", status.Error(c, "backend says no")))
	}
	tests := []struct {
		name       string
		src        *fakeImages
		wantStatus int
		wantBanner string
		wantRows   int
	}{
		{"unavailable", &fakeImages{listErr: grpcErr(codes.Unavailable)}, 503, "not answering", 0},
		{"deadline", &fakeImages{listErr: grpcErr(codes.DeadlineExceeded)}, 503, "not answering", 0},
		{"exhausted", &fakeImages{listErr: grpcErr(codes.ResourceExhausted)}, 503, "limiting", 0},
		{"permission", &fakeImages{listErr: grpcErr(codes.PermissionDenied)}, 502, "credentials", 0},
		{"not found", &fakeImages{listErr: grpcErr(codes.NotFound)}, 404, "does not know", 0},
		{"invalid", &fakeImages{listErr: grpcErr(codes.InvalidArgument)}, 400, "backend says no", 0},
		{"unknown error", &fakeImages{listErr: errors.New("boom")}, 502, "call failed", 0},
		{"folders fail, images shown", &fakeImages{images: sampleImages(2), foldersErr: grpcErr(codes.Unavailable)}, 503, "not answering", 2},
	}
	for _, tt := range tests {
		for _, hdr := range []map[string]string{nil, htmx} {
			t.Run(fmt.Sprintf("%s/htmx=%v", tt.name, hdr != nil), func(t *testing.T) {
				r := get(t, newServer(t, tt.src), "/", hdr)
				if hdr != nil && tt.src.foldersErr != nil {
					// A partial has no folder picker and does not list folders.
					if r.code != http.StatusOK {
						t.Errorf("status = %d, want 200", r.code)
					}
					return
				}
				if r.code != tt.wantStatus {
					t.Errorf("status = %d, want %d", r.code, tt.wantStatus)
				}
				banner := r.doc.Find("#" + views.BannerID + " .banner")
				if !strings.Contains(banner.Text(), tt.wantBanner) {
					t.Errorf("banner = %q, want it to contain %q", banner.Text(), tt.wantBanner)
				}
				if got := r.doc.Find(`[data-testid="image-row"]`).Length(); got != tt.wantRows {
					t.Errorf("rows = %d, want %d", got, tt.wantRows)
				}
				if strings.Contains(r.body, "compute.ImageService.List") {
					t.Error("internal error text leaked into the page")
				}
			})
		}
	}
}

func TestListImagesBadInput(t *testing.T) {
	tests := []struct {
		name   string
		target string
		want   string
	}{
		{"unknown service", "/?service=storage", `Unknown service "storage"`},
		{"script service", "/?service=%3Cscript%3E", `Unknown service "<script>"`},
		{"long folder", "/?folder=" + strings.Repeat("f", 51), "folder: must be at most 50 characters"},
		{"long page token", "/?page_token=" + strings.Repeat("t", 101), "page_token: must be at most 100 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeImages{}
			srv := newServer(t, src)

			r := get(t, srv, tt.target, nil)
			if r.code != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", r.code)
			}
			if got := r.doc.Find(`[data-testid="error-page"]`).Text(); !strings.Contains(got, tt.want) {
				t.Errorf("error page = %q, want it to contain %q", got, tt.want)
			}
			if r.doc.Find("script:not([src])").Length() != 0 {
				t.Error("inline script in the error page")
			}

			r = get(t, srv, tt.target, htmx)
			if r.code != http.StatusBadRequest {
				t.Errorf("htmx status = %d, want 400", r.code)
			}
			if got := r.doc.Find(`[data-testid="toast"]`).Text(); !strings.Contains(got, tt.want) {
				t.Errorf("toast = %q, want it to contain %q", got, tt.want)
			}
			if got := r.hdr.Get(handlers.HeaderRetarget); got != "#"+views.ToastsID {
				t.Errorf("HX-Retarget = %q, want #%s", got, views.ToastsID)
			}
			if got := r.hdr.Get(handlers.HeaderPushURL); got != "false" {
				t.Errorf("HX-Push-Url = %q, want false", got)
			}
			if len(src.calls) != 0 {
				t.Errorf("the cloud was called %d times for a bad request", len(src.calls))
			}
		})
	}
}

func TestListImagesNoFolder(t *testing.T) {
	src := &fakeImages{}
	h := handlers.New(handlers.Config{Images: src})
	srv := web.New(web.Config{}, web.Deps{Handlers: h})
	r := get(t, srv, "/", nil)
	if r.code != http.StatusOK {
		t.Fatalf("status = %d, want 200", r.code)
	}
	if got := r.doc.Find(`[data-testid="empty"] strong`).Text(); got != "No folder selected" {
		t.Errorf("empty state = %q", got)
	}
	if len(src.calls) != 0 {
		t.Errorf("ListImages called without a folder")
	}
}

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
