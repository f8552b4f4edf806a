package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/store"
)

// TestCrashLoop is issue 6's crash loop: the cloud runs as its own process
// (ycsim, never killed); the dashboard, as a real process, is asked for a
// bulk copy of 100 golden images and is killed with SIGKILL at random
// points five times — the first while the copy is being asked for — and
// restarted on the same database each time. In the end exactly 100 images
// were created in the cloud, every operation is recorded as done, and the
// database passes PRAGMA integrity_check.
func TestCrashLoop(t *testing.T) {
	t.Parallel() // its own app, browser and data: most of its time is waiting
	if testing.Short() {
		t.Skip("builds and runs the binaries")
	}
	dir := t.TempDir()
	for _, name := range []string{"imagedash", "ycsim"} {
		build := exec.Command("go", "build", "-o", filepath.Join(dir, name), "./cmd/"+name)
		build.Dir = filepath.Join("..", "..")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", name, err, out)
		}
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 6))
	simAddr, appAddr := freeAddr(t), freeAddr(t)
	base := "http://" + appAddr
	data := filepath.Join(dir, "imagedash.db")

	// The cloud: a few seconds per copy, so kills land while they run.
	sim := exec.Command(filepath.Join(dir, "ycsim"), "--listen", simAddr, "--images", "300", "--time-scale", "1", "--log-level", "warn")
	sim.Stderr = testWriter{t}
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Process.Kill(); _ = sim.Wait() })
	// The app dials the cloud once at start and gives up on a refused
	// connection: wait until ycsim listens (slow to start on a busy CI
	// machine, with other packages' tests running beside this one).
	waitListening(t, simAddr)

	var app *exec.Cmd
	start := func() {
		t.Helper()
		app = exec.Command(filepath.Join(dir, "imagedash"), "--endpoint", simAddr, "--addr", appAddr, "--data", data,
			"--log-level", "warn", "--sync-interval", "5s")
		app.Env = append(os.Environ(), adminPasswordEnv+"="+testAdminPassword)
		app.Stderr = testWriter{t}
		if err := app.Start(); err != nil {
			t.Fatal(err)
		}
		waitHealthy(t, base)
	}
	kill := func() {
		t.Helper()
		if err := app.Process.Kill(); err != nil { // SIGKILL: no shutdown at all
			t.Fatal(err)
		}
		_ = app.Wait()
	}
	t.Cleanup(func() {
		if app != nil && app.ProcessState == nil {
			kill()
		}
	})

	start()
	c := signIn(t, base)
	golden, alpha := folderIDs(t, c, base)
	ids := readyImages(t, c, base, golden, 100)
	form := url.Values{"service": {"compute"}, "id": ids, "folder": {alpha}, "name": {"{name}-crash"}}

	// Kill 1: at a random point of asking (the request may or may not get
	// through; the batch is written whole or not at all).
	asked := make(chan error, 1)
	go func() { asked <- postForm(c, base, "/images/bulk-copy", form) }()
	time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
	kill()
	<-asked
	recorded := len(operations(t, data))
	t.Logf("kill 1: %d operations recorded", recorded)
	if recorded != 0 && recorded != 100 {
		t.Fatalf("%d operations recorded: a bulk copy must be written whole or not at all", recorded)
	}

	// Kills 2–5: while the copies run (and, when the first kill came before
	// the batch was written, the person asks again after the restart).
	for k := 2; k <= 5; k++ {
		start()
		if recorded == 0 {
			c = signIn(t, base)
			if err := postForm(c, base, "/images/bulk-copy", form); err != nil {
				t.Fatalf("asking again: %v", err)
			}
			recorded = 100
		}
		time.Sleep(time.Duration(200+rng.IntN(2300)) * time.Millisecond)
		kill()
		t.Logf("kill %d: %s", k, states(operations(t, data)))
	}

	// The last start finishes the work.
	start()
	deadline := time.Now().Add(90 * time.Second)
	for {
		ops := operations(t, data)
		open := 0
		for _, o := range ops {
			if o.State.Open() {
				open++
			}
		}
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("operations still open after 90 s: %s", states(ops))
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err := app.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := app.Wait(); err != nil {
		t.Errorf("the last run did not stop cleanly: %v", err)
	}

	ops := operations(t, data)
	cloudIDs := map[string]bool{}
	for _, o := range ops {
		if o.State != store.OpDone || o.CloudID == "" {
			t.Errorf("operation %d ended %s (%s: %s)", o.ID, o.State, o.ErrorCode, o.ErrorMessage)
		}
		if cloudIDs[o.CloudID] {
			t.Errorf("two operations share cloud operation %s", o.CloudID)
		}
		cloudIDs[o.CloudID] = true
	}
	if len(ops) != 100 {
		t.Errorf("%d operations recorded, want 100", len(ops))
	}

	// The cloud made exactly 100 copies, each once.
	cl, err := cloud.Dial(context.Background(), cloud.Config{Endpoint: simAddr, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	names := map[string]int{}
	for token := ""; ; {
		imgs, next, err := cl.ListImages(context.Background(), cloud.Compute, alpha, cloud.ListOptions{PageSize: 1000, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, img := range imgs {
			if strings.HasSuffix(img.Name, "-crash") {
				names[img.Name]++
			}
		}
		if token = next; token == "" {
			break
		}
	}
	total := 0
	for name, n := range names {
		total += n
		if n != 1 {
			t.Errorf("%s was created %d times", name, n)
		}
	}
	if total != 100 {
		t.Errorf("the cloud holds %d copies, want exactly 100", total)
	}

	// No corruption.
	db, err := sql.Open("sqlite", "file:"+data+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check = %q, %v", check, err)
	}
}

// freeAddr is a loopback address with a port free a moment ago.
// waitListening waits up to 30 s for addr to accept TCP connections.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening in 30 s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// folderIDs are the golden-images and team-alpha folder ids, from the
// folder picker once the first sync has listed them.
func folderIDs(t *testing.T, c *http.Client, base string) (golden, alpha string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for golden == "" || alpha == "" {
		doc := getPage(t, c, base+"/")
		doc.Find(`#folder-picker label`).Each(func(_ int, s *goquery.Selection) {
			id, _ := s.Find("input").Attr("value")
			switch strings.TrimSpace(s.Text()) {
			case "golden-images":
				golden = id
			case "team-alpha":
				alpha = id
			}
		})
		if time.Now().After(deadline) {
			t.Fatal("no golden-images and team-alpha folders after 60 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return golden, alpha
}

// readyImages are the ids of n READY images of folder, from the list.
func readyImages(t *testing.T, c *http.Client, base, folder string, n int) []string {
	t.Helper()
	doc := waitRows(t, c, fmt.Sprintf("%s/?status=READY&limit=200&folder=%s", base, folder))
	var ids []string
	doc.Find(`[data-testid="image-row"]`).Each(func(_ int, s *goquery.Selection) {
		if id, ok := s.Attr("data-id"); ok && len(ids) < n {
			ids = append(ids, id)
		}
	})
	if len(ids) < n {
		t.Fatalf("%d READY images in the golden folder, want %d", len(ids), n)
	}
	return ids
}

// postForm posts form with the CSRF token of the client's _csrf cookie.
func postForm(c *http.Client, base, path string, form url.Values) error {
	u, _ := url.Parse(base)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "_csrf" {
			form.Set("_csrf", ck.Value)
		}
	}
	resp, err := c.PostForm(base+path, form)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s", path, resp.Status)
	}
	return nil
}

// operations reads the operations from the database of a stopped app.
func operations(t *testing.T, data string) []store.Operation {
	t.Helper()
	st, err := store.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ops, err := st.Operations(context.Background(), store.OperationQuery{Limit: store.MaxOperationLimit})
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

// states counts operations by state, for the log.
func states(ops []store.Operation) string {
	n := map[store.OpState]int{}
	for _, o := range ops {
		n[o.State]++
	}
	return fmt.Sprint(n)
}
