// Command ycsim serves the Yandex Cloud image API emulator (package
// cloud/sim) as a standalone gRPC server, for clients other than the
// dashboard: grpcurl, the Yandex SDK, Terraform. Reflection is on:
//
//	go run ./cmd/ycsim
//	grpcurl -plaintext 127.0.0.1:9090 list
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/imagedash/imagedash/cloud/sim"
)

const envPrefix = "YCSIM_"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "ycsim:", err)
		os.Exit(1)
	}
}

// config is the whole configuration, from flags and their YCSIM_* twins.
type config struct {
	listen      string
	images      int
	seed        int64
	state       string
	timeScale   float64
	requireAuth bool
	faults      sim.Faults
	logLevel    string
	logJSON     bool
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:9090", "address to serve gRPC on (port 0 picks a free port)")
	fs.IntVar(&c.images, "images", 300, "number of Compute images to seed (0 = 300, negative = none); Desktop and BareMetal get fewer")
	fs.Int64Var(&c.seed, "seed", 1, "seed of the demo data and of every id the emulator makes")
	fs.StringVar(&c.state, "state", "", "file to keep state in across restarts (\"\" = memory only)")
	fs.Float64Var(&c.timeScale, "time-scale", 1, "multiplies operation delays (1 = a few seconds per image, 0 = instant)")
	fs.BoolVar(&c.requireAuth, "require-auth", false, "require an IAM token the emulator issued (IamTokenService.Create) on every call")
	fs.DurationVar(&c.faults.Latency, "latency", 0, "latency added to every call, e.g. 200ms")
	fs.Float64Var(&c.faults.UnavailableRate, "unavailable-rate", 0, "share (0..1) of calls that fail with Unavailable")
	fs.Float64Var(&c.faults.ExhaustedRate, "exhausted-rate", 0, "share (0..1) of calls that fail with ResourceExhausted")
	fs.Float64Var(&c.faults.OpErrorRate, "op-error-rate", 0, "share (0..1) of new operations that end in an error")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&c.logJSON, "log-json", false, "log JSON lines instead of text")
	if err := parseWithEnv(fs, args[1:], envPrefix, getenv); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for name, r := range map[string]float64{
		"--unavailable-rate": c.faults.UnavailableRate,
		"--exhausted-rate":   c.faults.ExhaustedRate,
		"--op-error-rate":    c.faults.OpErrorRate,
	} {
		if r < 0 || r > 1 {
			return c, fmt.Errorf("%s must be between 0 and 1, got %v", name, r)
		}
	}
	return c, nil
}

// parseWithEnv parses args, then sets every flag that was not given from its
// environment twin: prefix + the name in upper case with '-' as '_'
// (--time-scale ↔ YCSIM_TIME_SCALE). The twin's name is shown in -h.
func parseWithEnv(fs *flag.FlagSet, args []string, prefix string, getenv func(string) string) error {
	envName := func(f *flag.Flag) string {
		return prefix + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
	}
	fs.VisitAll(func(f *flag.Flag) { f.Usage += " [$" + envName(f) + "]" })
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] {
			return
		}
		if v := getenv(envName(f)); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", envName(f), v, err))
			}
		}
	})
	return errors.Join(errs...)
}

// run serves the emulator until ctx is cancelled. It prints
// "listening on ADDR" to stdout once bound (with the real port for port 0).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	log := slog.New(slog.NewTextHandler(stderr, opts))
	if cfg.logJSON {
		log = slog.New(slog.NewJSONHandler(stderr, opts))
	}

	start := time.Now()
	s, err := sim.New(sim.Options{
		Seed:        cfg.seed,
		Images:      cfg.images,
		StatePath:   cfg.state,
		TimeScale:   cfg.timeScale,
		Faults:      cfg.faults,
		RequireAuth: cfg.requireAuth,
		Logger:      log,
	})
	if err != nil {
		return fmt.Errorf("start emulator: %w", err)
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close emulator: %w", cerr))
		}
	}()
	addr, err := s.Start(cfg.listen)
	if err != nil {
		return err
	}
	log.Info("listening", "addr", addr, "default_folder", s.DefaultFolderID(),
		"state", cfg.state, "require_auth", cfg.requireAuth, "startup", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "listening on %s\n", addr)

	<-ctx.Done()
	log.Info("shutting down")
	return nil
}
