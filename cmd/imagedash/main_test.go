package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
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

// startRun runs the program on a free port with a temp data directory and
// returns its base URL, the data path, and a stop function that cancels it
// and returns run's error.
func startRun(t *testing.T, extra ...string) (base, data string, stop func() error) {
	t.Helper()
	data = filepath.Join(t.TempDir(), "imagedash.db")
	args := append([]string{"imagedash", "--addr", "127.0.0.1:0", "--data", data, "--sim-images", "120", "--log-level", "warn"}, extra...)

	ctx, cancel := context.WithCancel(context.Background())
	out, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, env(nil), outW, testWriter{t})
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
			t.Fatalf("run ended before listening: %v", <-done)
		}
		base = u
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("run did not print its address within 60 s")
	}
	stop = func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			t.Fatal("run did not return within 20 s of cancel")
			return nil
		}
	}
	return base, data, stop
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

func TestRunServesImages(t *testing.T) {
	base, data, stop := startRun(t)
	if !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, ":0") {
		t.Fatalf("address = %q, want the bound loopback port", base)
	}
	waitHealthy(t, base)

	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %s, want 200", resp.Status)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	rows := doc.Find(`table [data-testid="image-row"]`)
	if rows.Length() == 0 {
		t.Fatal("GET / shows no image rows")
	}
	if name := strings.TrimSpace(rows.First().Find(`[data-testid="name"]`).Text()); name == "" || name == "—" {
		t.Errorf("first row has no name: %q", name)
	}
	if doc.Find(`[data-testid="folder-select"] option`).Length() < 2 {
		t.Error("folder picker lists fewer than 2 folders")
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
					c.simSeed == 1 && c.simTimeScale == 1 && c.endpoint == "" && c.logLevel == "info"
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
	for _, want := range []string{"$IMAGEDASH_ADDR", "$IMAGEDASH_SIM_IMAGES", "$IMAGEDASH_METADATA_CREDENTIALS"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("usage does not mention %s:\n%s", want, b.String())
		}
	}
}
