// Command loadtest drives the dashboard under load with vegeta
// (github.com/tsenart/vegeta/v12) used as a library: an open model, each
// run sending requests at a constant rate whatever the server's answers
// take, so that a slow answer delays no later request and latency is not
// hidden by coordinated omission. Each scenario is a subcommand and prints
// vegeta's text report (requests, rate, throughput, latency mean, p50, p90,
// p95, p99, max, status codes, errors) per endpoint and in total:
//
//	loadtest pages -url URL [-url URL…]   each URL alone, in turn
//	loadtest mix -base URL                signed-in people's realistic mix
//	loadtest soak                         the app started here, under load for long
//	loadtest bare-echo -size N            the ceiling: a bare Echo handler, a static body of N bytes
//	loadtest signin -base URL             sign in; print the Cookie header (for wrk)
//
// Throughput ratios (the app's req/s against the bare-Echo ceiling's) are
// wrk's job (closed loop, as fast as the server answers): BENCHMARKS.md has
// the commands. Only loopback URLs are accepted: the workplace allows load
// on nothing else. Every subcommand exits 1 when a request failed (after
// printing), since a measurement with errors is not one to quote.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

const usage = `Usage: loadtest COMMAND [flags]   (loadtest COMMAND -h for each)

Open-model load (vegeta, constant rate) against the dashboard on loopback:
  pages      each -url alone at -rate for -duration (optionally signed in)
  mix        signed-in users' mix of lists, searches, image pages, badge and
             monitor polls, header counts and copies, at -rate
  soak       start the app on a fresh database with a slow emulator, keep
             operations in flight, run the mix for long, sample memory
  bare-echo  serve a static body of -size bytes with a bare Echo handler:
             the ceiling wrk measures the app's pages against
  signin     sign in through the form, print "Cookie: …" for wrk -H

Examples:
  go run ./cmd/loadtest mix -base http://127.0.0.1:8080 -rate 100 -duration 1m -users 50 -user amir -password imagedash-demo
  go run ./cmd/loadtest soak -rate 100 -duration 10m -images 100000 -inflight 100
  go run ./cmd/loadtest pages -user amir -password imagedash-demo -header 'HX-Request: true' -rate 200 -url 'http://127.0.0.1:8080/?status=READY'
`

// run is the whole program.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return errors.New("give a command")
	}
	switch args[1] {
	case "pages":
		return runPages(ctx, args[1:], getenv, stdout, stderr)
	case "mix":
		return runMix(ctx, args[1:], getenv, stdout, stderr)
	case "soak":
		return runSoak(ctx, args[1:], getenv, stdout, stderr)
	case "bare-echo":
		return runBareEcho(ctx, args[1:], getenv, stdout, stderr)
	case "signin":
		return runSignIn(ctx, args[1:], getenv, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[1])
}
