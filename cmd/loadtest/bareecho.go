package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/imagedash/imagedash/loadtest"
)

// bareEchoCommand is the subcommand serving the baseline alone.
const bareEchoCommand = "bare-echo"

// listening starts the line bare-echo prints once bound, as imagedash does.
const listening = "listening on "

// serveBareEcho is `loadtest bare-echo [-addr] [-exit-on-eof]`: serve
// loadtest.BareEchoHandler on a loopback address until interrupted (or, with
// -exit-on-eof, until stdin closes, so that a child of a killed loadtest does
// not outlive it).
func serveBareEcho(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest "+bareEchoCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to serve on (port 0 picks a free port)")
	exitOnEOF := fs.Bool("exit-on-eof", false, "exit when stdin closes (how loadtest ties the child to itself)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", bareEchoCommand, fs.Args())
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", *addr, err)
	}
	if err := loadtest.CheckLoopback("http://" + net.JoinHostPort(host, "80")); err != nil {
		return fmt.Errorf("-addr %q: %w", *addr, err)
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if *exitOnEOF {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			cancel()
		}()
	}
	fmt.Fprintf(stdout, "%shttp://%s/\n", listening, lis.Addr())
	return loadtest.ServeBareEcho(ctx, lis)
}

// startBareEcho runs this program as `bare-echo` in a child process and
// returns its URL and a function that stops it.
func startBareEcho(ctx context.Context, stderr io.Writer) (url string, stop func() error, err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, fmt.Errorf("baseline: %w", err)
	}
	cmd := exec.Command(exe, bareEchoCommand, "-addr", "127.0.0.1:0", "-exit-on-eof")
	cmd.Stderr = stderr
	cmd.WaitDelay = 5 * time.Second
	first := &firstLine{line: make(chan string, 1)}
	cmd.Stdout = first
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, fmt.Errorf("baseline: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("baseline: start %s: %w", bareEchoCommand, err)
	}
	stop = func() error {
		stdin.Close() // the child exits at EOF
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("baseline: %s: %w", bareEchoCommand, err)
			}
			return nil
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			return errors.Join(fmt.Errorf("baseline: %s did not stop in 10 s; killed", bareEchoCommand), <-done)
		}
	}

	select {
	case s := <-first.line:
		if url, ok := strings.CutPrefix(strings.TrimSpace(s), listening); ok {
			return url, stop, nil
		}
		err = fmt.Errorf("baseline: %s printed %q, want %q", bareEchoCommand, s, listening+"URL")
	case <-time.After(10 * time.Second):
		err = fmt.Errorf("baseline: %s did not start in 10 s", bareEchoCommand)
	case <-ctx.Done():
		err = ctx.Err()
	}
	_ = cmd.Process.Kill()
	_ = stop() // reaps the child; its "killed" is no news
	return "", nil, err
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
