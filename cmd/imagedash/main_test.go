package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/imagedash/imagedash/auth"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// env is a fake environment, so the real one cannot leak into a test.
func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

// cheapHash are argon2id costs for the tests' runs: the real ones take
// 64 MiB and, under the race detector on a loaded 2-core machine, seconds
// per sign-in, which a browser test does several times.
var cheapHash = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// testHasher hashes with cheapHash, for the tests that seed accounts.
var testHasher = auth.NewHasher(auth.HasherConfig{Params: cheapHash})

// startRun runs the program on a free port with a temp data directory and
// returns its base URL, the data path, and a stop function that cancels it
// and returns run's error.
func startRun(t *testing.T, extra ...string) (base, data string, stop func() error) {
	t.Helper()
	data = filepath.Join(t.TempDir(), "imagedash.db")
	base, stopRun, err := launch(data, testWriter{t}, extra...)
	if err != nil {
		t.Fatal(err)
	}
	stop = func() error {
		err := stopRun()
		if errors.Is(err, errStuck) {
			t.Fatal(err)
		}
		return err
	}
	return base, data, stop
}

// errStuck is launch's stop when run does not return after its cancel.
var errStuck = errors.New("run did not return within 20 s of cancel")

// launch runs the program on a free port on the database data, its log to
// logs, and returns its base URL and a stop function that cancels it and
// returns run's error (errStuck if it does not return). startRun is
// launch for one test; the shared demo app outlives the test that starts it.
func launch(data string, logs io.Writer, extra ...string) (base string, stop func() error, err error) {
	args := append([]string{"imagedash", "--addr", "127.0.0.1:0", "--data", data, "--sim-images", "120", "--log-level", "warn"}, extra...)

	ctx, cancel := context.WithCancel(context.Background())
	out, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runTuned(ctx, args, env(map[string]string{adminPasswordEnv: testAdminPassword}), outW, logs, cheapHash)
		outW.Close()
	}()

	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				urls <- u
			}
		}
		close(urls)
	}()
	select {
	case u, ok := <-urls:
		if !ok {
			cancel()
			return "", nil, fmt.Errorf("run ended before listening: %w", <-done)
		}
		base = u
	case <-time.After(60 * time.Second):
		cancel()
		return "", nil, errors.New("run did not print its address within 60 s")
	}
	stop = func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			return errStuck
		}
	}
	return base, stop, nil
}

// testWriter sends the program's logs to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// waitHealthy polls /healthz until it answers 200.
func waitHealthy(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz not healthy in 30 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testAdminPassword is the first admin's password in every test run.
const testAdminPassword = "test-admin-password"

// signIn signs in at base as the first admin, through the sign-in form
// (CSRF token and all), and returns a client that keeps the session.
func signIn(t *testing.T, base string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	doc := getPage(t, c, base+"/login")
	tok, _ := doc.Find(`input[name="_csrf"]`).Attr("value")
	resp, err := c.PostForm(base+"/login", url.Values{"username": {"admin"}, "password": {testAdminPassword}, "_csrf": {tok}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		t.Fatalf("sign in: ended at %s with %s", resp.Request.URL, resp.Status)
	}
	return c
}

// getPage GETs a page and parses it; anything but 200 fails the test.
func getPage(t *testing.T, c *http.Client, url string) *goquery.Document {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %s, want 200", url, resp.Status)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// waitRows polls the image list until the first sync has cached some rows.
func waitRows(t *testing.T, c *http.Client, url string) *goquery.Document {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		doc := getPage(t, c, url)
		if doc.Find(`table [data-testid="image-row"]`).Length() > 0 {
			return doc
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s shows no image rows after 60 s: %q", url, doc.Find(`[data-testid="empty"]`).Text())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitCount waits until the list at url counts its images with suffix
// (" of 400": the first sync has cached them all).
func waitCount(t *testing.T, c *http.Client, url, suffix string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got := strings.TrimSpace(getPage(t, c, url).Find(`[data-testid="count"]`).First().Text())
		if strings.HasSuffix(got, suffix) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s counts %q after 2 min, want … %q", url, got, suffix)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRunServesImages(t *testing.T) {
	base, data, stop := startRun(t)
	if !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, ":0") {
		t.Fatalf("address = %q, want the bound loopback port", base)
	}
	waitHealthy(t, base)

	doc := waitRows(t, signIn(t, base), base+"/")
	rows := doc.Find(`table [data-testid="image-row"]`)
	if name := strings.TrimSpace(rows.First().Find(`[data-testid="name"]`).Text()); name == "" || name == "—" {
		t.Errorf("first row has no name: %q", name)
	}
	if doc.Find(`[data-testid="folder-option"]`).Length() < 2 {
		t.Error("folder picker lists fewer than 2 folders")
	}
	if _, err := os.Stat(data); err != nil {
		t.Errorf("no database at --data: %v", err)
	}

	if err := run(context.Background(), []string{"imagedash", "healthcheck", "--addr", strings.TrimPrefix(base, "http://")}, env(nil), io.Discard, io.Discard); err != nil {
		t.Errorf("healthcheck against the running server: %v", err)
	}

	if err := stop(); err != nil {
		t.Fatalf("run returned %v, want nil", err)
	}
	if _, err := os.Stat(data + ".sim"); err != nil {
		t.Errorf("emulator state not saved beside the database: %v", err)
	}
	if err := run(context.Background(), []string{"imagedash", "healthcheck", "--addr", strings.TrimPrefix(base, "http://")}, env(nil), io.Discard, io.Discard); err == nil {
		t.Error("healthcheck passed against a stopped server")
	}
}

// TestRunServesBeforeFirstSync: with many images the first sync takes a
// while, and pages are served from the (empty) cache at once meanwhile.
func TestRunServesBeforeFirstSync(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 20 000 images")
	}
	base, _, stop := startRun(t, "--sim-images", "20000", "--data", filepath.Join(t.TempDir(), "deep", "dir", "imagedash.db"))
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("run: %v", err)
		}
	})
	waitHealthy(t, base)
	c := signIn(t, base)
	start := time.Now()
	doc := getPage(t, c, base+"/")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("GET / took %s during the first sync", took)
	}
	// The first pass over 20 000 images takes seconds: it is still running.
	if doc.Find(`[data-testid="freshness"][data-syncing="true"]`).Length() == 0 {
		t.Errorf("the page does not say it is syncing: %q", doc.Find("main").Text())
	}
	if doc.Find(`[data-testid="empty"][data-state="syncing"], [data-testid="image-row"]`).Length() == 0 {
		t.Errorf("the page shows neither rows nor the first sync: %q", doc.Find("main").Text())
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    func(c config) bool
		wantErr string
	}{
		{
			name: "defaults",
			want: func(c config) bool {
				return c.addr == "127.0.0.1:8080" && c.data == "imagedash.db" && c.simImages == 300 &&
					c.simSeed == 1 && c.simTimeScale == 1 && c.endpoint == "" && c.logLevel == "info" &&
					c.syncInterval == time.Minute && c.folderIDs() == nil
			},
		},
		{
			name: "env twin",
			env:  map[string]string{"IMAGEDASH_SIM_IMAGES": "42", "IMAGEDASH_LOG_JSON": "true", "IMAGEDASH_ENDPOINT": "api.cloud.yandex.net:443"},
			want: func(c config) bool { return c.simImages == 42 && c.logJSON && c.endpoint == "api.cloud.yandex.net:443" },
		},
		{
			name: "flag wins over env",
			args: []string{"--sim-images", "7", "--addr", ":9999"},
			env:  map[string]string{"IMAGEDASH_SIM_IMAGES": "42", "IMAGEDASH_ADDR": ":1"},
			want: func(c config) bool { return c.simImages == 7 && c.addr == ":9999" },
		},
		{
			name: "sync interval and folders",
			args: []string{"--folder", " f1, ,f2 "},
			env:  map[string]string{"IMAGEDASH_SYNC_INTERVAL": "15s"},
			want: func(c config) bool {
				return c.syncInterval == 15*time.Second && strings.Join(c.folderIDs(), "|") == "f1|f2"
			},
		},
		{
			name:    "sync interval too short",
			args:    []string{"--sync-interval", "10ms"},
			wantErr: "--sync-interval 10ms: must be at least 1s",
		},
		{
			name: "audit retention",
			env:  map[string]string{"IMAGEDASH_AUDIT_RETENTION": "720h"},
			want: func(c config) bool { return c.auditRetention == 30*24*time.Hour },
		},
		{
			name:    "audit retention too short",
			args:    []string{"--audit-retention", "24h"},
			wantErr: "--audit-retention 24h0m0s: must be at least 720h0m0s (30 days)",
		},
		{
			name:    "bad env value",
			env:     map[string]string{"IMAGEDASH_SIM_TIME_SCALE": "fast"},
			wantErr: "IMAGEDASH_SIM_TIME_SCALE",
		},
		{
			name:    "bad flag",
			args:    []string{"--sim-images", "many"},
			wantErr: "invalid value",
		},
		{
			name:    "stray argument",
			args:    []string{"serve"},
			wantErr: "unexpected arguments",
		},
		{
			name: "people settings",
			args: []string{"--demo", "--session-idle", "15m", "--secure-cookies", "--trusted-proxies", "10.0.0.0/8"},
			env:  map[string]string{"IMAGEDASH_ADMIN_PASSWORD": "from the env", "IMAGEDASH_SESSION_LIFETIME": "12h"},
			want: func(c config) bool {
				return c.demo && c.sessionIdle == 15*time.Minute && c.sessionLifetime == 12*time.Hour && c.secureCookies &&
					c.trustedProxies == "10.0.0.0/8" && c.adminPassword == "from the env"
			},
		},
		{
			name:    "demo accounts never in cloud mode",
			args:    []string{"--demo", "--endpoint", "api.cloud.yandex.net:443"},
			wantErr: "--demo adds demo accounts and works only with the embedded emulator",
		},
		{name: "public url: unset", want: func(c config) bool { return c.publicHost == "" }},
		{name: "public url: flag", args: []string{"--public-url", "https://Images.Example.com/dash/"}, want: func(c config) bool { return c.publicHost == "Images.Example.com" }},
		{name: "public url: env twin", env: map[string]string{"IMAGEDASH_PUBLIC_URL": "http://10.1.2.3:8080"}, want: func(c config) bool { return c.publicHost == "10.1.2.3" }},
		{name: "public url: IPv6", args: []string{"--public-url", "http://[2001:db8::5]:8080"}, want: func(c config) bool { return c.publicHost == "2001:db8::5" }},
		{name: "public url: no scheme", args: []string{"--public-url", "images.example.com"}, wantErr: "want the address people open"},
		{name: "public url: other scheme", args: []string{"--public-url", "ftp://images.example.com"}, wantErr: "want the address people open"},
		{name: "public url: no host", args: []string{"--public-url", "https:///x"}, wantErr: "want the address people open"},
		{name: "public url: credentials", args: []string{"--public-url", "https://a:b@images.example.com"}, wantErr: "want the address people open"},
		{
			name:    "lifetime shorter than idle",
			args:    []string{"--session-idle", "3h", "--session-lifetime", "1h"},
			wantErr: "want idle ≥ 1m and lifetime ≥ idle",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(append([]string{"imagedash"}, tt.args...), env(tt.env), io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want(got) {
				t.Errorf("config = %+v", got)
			}
		})
	}
}

func TestUsageNamesEnvTwins(t *testing.T) {
	var b strings.Builder
	_, err := parseConfig([]string{"imagedash", "-h"}, env(nil), &b)
	if err == nil {
		t.Fatal("-h: no error")
	}
	for _, want := range []string{"$IMAGEDASH_ADDR", "$IMAGEDASH_SIM_IMAGES", "$IMAGEDASH_METADATA_CREDENTIALS", "$IMAGEDASH_SYNC_INTERVAL"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("usage does not mention %s:\n%s", want, b.String())
		}
	}
}
