package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

// startRun runs ycsim on a free port and returns its address and a stop
// function that cancels it and returns run's error.
func startRun(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"ycsim", "--listen", "127.0.0.1:0", "--log-level", "warn"}, args...), env(nil), outW, io.Discard)
		outW.Close()
	}()
	addrs := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				addrs <- a
			}
		}
		close(addrs)
	}()
	var addr string
	select {
	case a, ok := <-addrs:
		if !ok {
			cancel()
			t.Fatalf("run ended before listening: %v", <-done)
		}
		addr = a
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("ycsim did not print its address within 30 s")
	}
	return addr, func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("run did not return within 10 s of cancel")
			return nil
		}
	}
}

func TestRunServesTheAPI(t *testing.T) {
	state := filepath.Join(t.TempDir(), "sim.state")
	addr, stop := startRun(t, "--images", "20", "--state", state)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := cloud.Dial(ctx, cloud.Config{Endpoint: addr, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	folders, err := c.AllFolders(ctx)
	if err != nil || len(folders) == 0 {
		t.Fatalf("AllFolders = %d folders, %v", len(folders), err)
	}
	total := 0
	for _, f := range folders {
		imgs, _, err := c.ListImages(ctx, cloud.Compute, f.ID, cloud.ListOptions{PageSize: 1000})
		if err != nil {
			t.Fatal(err)
		}
		total += len(imgs)
	}
	if total != 20 {
		t.Errorf("Compute images = %d, want 20 (--images)", total)
	}
	if err := stop(); err != nil {
		t.Fatalf("run returned %v, want nil", err)
	}
}

func TestRunInjectsFaults(t *testing.T) {
	addr, stop := startRun(t, "--images", "5", "--unavailable-rate", "1")
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Every call fails, discovery included, so Dial itself reports it.
	c, err := cloud.Dial(ctx, cloud.Config{Endpoint: addr, Insecure: true})
	if err == nil {
		defer c.Close()
		_, err = c.AllFolders(ctx)
	}
	if !errors.Is(err, cloud.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
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
				return c.listen == "127.0.0.1:9090" && c.images == 300 && c.seed == 1 && c.timeScale == 1 && !c.requireAuth
			},
		},
		{
			name: "env twins",
			env:  map[string]string{"YCSIM_LATENCY": "250ms", "YCSIM_REQUIRE_AUTH": "true", "YCSIM_OP_ERROR_RATE": "0.5"},
			want: func(c config) bool {
				return c.faults.Latency == 250*time.Millisecond && c.requireAuth && c.faults.OpErrorRate == 0.5
			},
		},
		{
			name: "flag wins over env",
			args: []string{"--images", "10"},
			env:  map[string]string{"YCSIM_IMAGES": "99"},
			want: func(c config) bool { return c.images == 10 },
		},
		{name: "rate out of range", args: []string{"--exhausted-rate", "1.5"}, wantErr: "between 0 and 1"},
		{name: "bad env", env: map[string]string{"YCSIM_LATENCY": "soon"}, wantErr: "YCSIM_LATENCY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(append([]string{"ycsim"}, tt.args...), env(tt.env), io.Discard)
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
