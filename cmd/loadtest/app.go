package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// listening starts the line the app prints once bound.
const listening = "listening on "

// appProcess is the app started by the soak.
type appProcess struct {
	cmd     *exec.Cmd
	url     string
	logPath string
	log     *logWatch
	synced  <-chan struct{}
	exited  chan struct{}
	waitErr error
}

// startApp runs bin with args, its log (stderr) into logPath, and waits
// for the "listening on" line.
func startApp(ctx context.Context, bin string, args []string, logPath string) (*appProcess, error) {
	file, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	var pw [12]byte
	_, _ = rand.Read(pw[:])
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "IMAGEDASH_ADMIN_PASSWORD="+hex.EncodeToString(pw[:]))
	tieToParent(cmd)
	synced := make(chan struct{})
	lw := &logWatch{w: file, synced: synced}
	cmd.Stderr = lw
	first := &firstLine{line: make(chan string, 1)}
	cmd.Stdout = first
	if err := cmd.Start(); err != nil {
		file.Close()
		return nil, fmt.Errorf("start the app: %w", err)
	}
	a := &appProcess{cmd: cmd, logPath: logPath, log: lw, synced: synced, exited: make(chan struct{})}
	go func() {
		a.waitErr = cmd.Wait()
		file.Close()
		close(a.exited)
	}()
	select {
	case line := <-first.line:
		url, ok := strings.CutPrefix(strings.TrimSpace(line), listening)
		if ok {
			a.url = strings.TrimRight(url, "/")
			return a, nil
		}
		err = fmt.Errorf("the app printed %q, want %q", line, listening+"URL")
	case <-a.exited:
		err = fmt.Errorf("the app exited at start: %v (log: %s)", a.waitErr, logPath)
	case <-time.After(2 * time.Minute):
		err = errors.New("the app did not start listening in 2 minutes")
	case <-ctx.Done():
		err = ctx.Err()
	}
	return nil, errors.Join(err, a.stop())
}

// stop sends SIGTERM and waits 30 s for a clean exit, then kills.
func (a *appProcess) stop() error {
	select {
	case <-a.exited:
		return nil
	default:
	}
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.exited:
		var exit *exec.ExitError
		if a.waitErr != nil && !errors.As(a.waitErr, &exit) {
			return fmt.Errorf("the app: %w", a.waitErr)
		}
		if exit != nil {
			return fmt.Errorf("the app exited with %v after SIGTERM (log: %s)", a.waitErr, a.logPath)
		}
		return nil
	case <-time.After(30 * time.Second):
		_ = a.cmd.Process.Kill()
		<-a.exited
		return fmt.Errorf("the app did not stop in 30 s after SIGTERM; killed (log: %s)", a.logPath)
	}
}

// logWatch writes the app's log through and reads it on the way: the
// first "sync: pass done" closes synced; ERROR and WARN lines are counted.
type logWatch struct {
	w      io.Writer
	synced chan struct{}
	once   sync.Once

	mu       sync.Mutex
	partial  []byte
	problems []string
	lines    atomic.Int64
	errors   atomic.Int64
	warns    atomic.Int64
}

func (l *logWatch) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.line(l.partial[:i])
		l.partial = l.partial[i+1:]
	}
	if len(l.partial) > 1<<20 { // a runaway line: keep counting, not holding
		l.partial = l.partial[:0]
	}
	return l.w.Write(p)
}

// line reads one line of the app's text (or JSON) log.
func (l *logWatch) line(b []byte) {
	l.lines.Add(1)
	switch {
	case bytes.Contains(b, []byte("level=ERROR")) || bytes.Contains(b, []byte(`"level":"ERROR"`)):
		l.errors.Add(1)
		if len(l.problems) < 3 {
			l.problems = append(l.problems, string(b[:min(len(b), 300)]))
		}
	case bytes.Contains(b, []byte("level=WARN")) || bytes.Contains(b, []byte(`"level":"WARN"`)):
		l.warns.Add(1)
	}
	if bytes.Contains(b, []byte("sync: pass done")) {
		l.once.Do(func() { close(l.synced) })
	}
}

func (l *logWatch) firstProblems() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.problems)
}

// freeLoopbackAddr is a loopback address with a port free a moment ago.
func freeLoopbackAddr() (string, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer lis.Close()
	return lis.Addr().String(), nil
}

// fetchProfile writes the app's CPU profile over d into path.
func fetchProfile(ctx context.Context, addr string, d time.Duration, path string) error {
	secs := max(1, int(d.Seconds()))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs), nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: d + time.Minute}).Do(req)
	if err != nil {
		return fmt.Errorf("-cpuprofile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("-cpuprofile: %s", resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("-cpuprofile: %w", err)
	}
	return os.WriteFile(path, b, 0o644)
}

// firstLine is the child's stdout: it hands over the first line and drops
// the rest.
type firstLine struct {
	mu   sync.Mutex
	buf  []byte
	done bool
	line chan string // buffered, 1
}

func (w *firstLine) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.buf = append(w.buf, p...)
		if i := bytes.IndexByte(w.buf, '\n'); i >= 0 {
			w.line <- string(w.buf[:i])
			w.done, w.buf = true, nil
		}
	}
	return len(p), nil
}
