// Command imagedash serves the image dashboard. With no --endpoint it starts
// the embedded Yandex Cloud emulator and works against it, so it runs with no
// account at all: go run ./cmd/imagedash.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/imagedash/imagedash/auth"
	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/cloud/sim"
	"github.com/imagedash/imagedash/handlers"
	"github.com/imagedash/imagedash/metrics"
	"github.com/imagedash/imagedash/store"
	"github.com/imagedash/imagedash/syncer"
	"github.com/imagedash/imagedash/tracker"
	"github.com/imagedash/imagedash/web"
)

const envPrefix = "IMAGEDASH_"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "imagedash:", err)
		os.Exit(1)
	}
}

// config is the whole configuration, from flags and their env twins.
type config struct {
	// hashParams are the costs of the password hashes made (zero: the
	// defaults). Not a flag: only the tests lower them (runTuned), since
	// a hash under the race detector on a loaded machine took seconds.
	hashParams auth.Params

	addr         string
	data         string
	simImages    int
	simSeed      int64
	simTimeScale float64
	simListen    string
	simFaults    sim.Faults
	endpoint     string
	iamToken     string
	oauthToken   string
	saKeyFile    string
	metadata     bool
	folder       string
	syncInterval time.Duration
	logLevel     string
	logJSON      bool

	demo            bool
	sessionKeys     string
	sessionIdle     time.Duration
	sessionLifetime time.Duration
	secureCookies   bool
	trustedProxies  string
	publicURL       string
	publicHost      string // of publicURL, checked
	debugAddr       string
	maxInFlight     int
	auditRetention  time.Duration
	folderRetention time.Duration
	adminPassword   string // from the environment only
}

// parseConfig reads the flags; a flag not given takes its IMAGEDASH_* twin
// from the environment, and the flag wins when both are set.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to serve HTTP on (port 0 picks a free port)")
	fs.StringVar(&c.data, "data", "imagedash.db", "SQLite database path; the embedded emulator keeps its state beside it in <data>.sim")
	fs.IntVar(&c.simImages, "sim-images", 300, "number of Compute images the embedded emulator seeds (0 = 300, negative = none)")
	fs.Int64Var(&c.simSeed, "sim-seed", 1, "seed of the embedded emulator's demo data")
	fs.Float64Var(&c.simTimeScale, "sim-time-scale", 1, "multiplies the emulator's operation delays (0 = instant)")
	fs.StringVar(&c.simListen, "sim-listen", "", "also serve the embedded emulator's gRPC on this address (\"\" = only a private loopback port)")
	fs.DurationVar(&c.simFaults.Latency, "sim-latency", 0, "latency the embedded emulator adds to every call, e.g. 300ms")
	fs.Float64Var(&c.simFaults.UnavailableRate, "sim-unavailable-rate", 0, "share (0..1) of the embedded emulator's calls that fail with Unavailable")
	fs.Float64Var(&c.simFaults.ExhaustedRate, "sim-exhausted-rate", 0, "share (0..1) of the embedded emulator's calls that fail with ResourceExhausted")
	fs.Float64Var(&c.simFaults.OpErrorRate, "sim-op-error-rate", 0, "share (0..1) of the embedded emulator's new operations that end in an error")
	fs.StringVar(&c.endpoint, "endpoint", "", "a real cloud's discovery endpoint, e.g. "+cloud.DefaultEndpoint+" (\"\" = start the embedded emulator)")
	fs.StringVar(&c.iamToken, "iam-token", "", "IAM token for --endpoint")
	fs.StringVar(&c.oauthToken, "oauth-token", "", "Yandex OAuth token for --endpoint, exchanged for IAM tokens")
	fs.StringVar(&c.saKeyFile, "sa-key-file", "", "service-account authorized key JSON file for --endpoint")
	fs.BoolVar(&c.metadata, "metadata-credentials", false, "take IAM tokens from the VM metadata service")
	fs.StringVar(&c.folder, "folder", "", "folder ids to sync and show, comma-separated (\"\" = every folder the credentials list)")
	fs.DurationVar(&c.syncInterval, "sync-interval", time.Minute, "time between two syncs of the image cache with the cloud")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&c.logJSON, "log-json", false, "log JSON lines instead of text")
	fs.BoolVar(&c.demo, "demo", false, "add demo teams and accounts (password "+demoPassword+"); embedded emulator only")
	fs.StringVar(&c.sessionKeys, "session-keys", "", "session cookie keys, comma-separated hex or base64 (32 or 64 bytes), newest first (\"\" = generate one and keep it in the database)")
	fs.DurationVar(&c.sessionIdle, "session-idle", 2*time.Hour, "sign a person out after this long without a request")
	fs.DurationVar(&c.sessionLifetime, "session-lifetime", 24*time.Hour, "sign a person out this long after they signed in")
	fs.BoolVar(&c.secureCookies, "secure-cookies", false, "mark cookies Secure: set when served over TLS or behind a TLS proxy")
	fs.IntVar(&c.maxInFlight, "max-inflight-per-user", 200, "operations one person may have in flight at once; a copy, edit or delete past it is refused with 429 (0 = no limit)")
	fs.DurationVar(&c.auditRetention, "audit-retention", store.DefaultAuditRetention, "delete audit entries older than this, in hours (9600h = 400 days; at least 720h = 30 days)")
	fs.DurationVar(&c.folderRetention, "folder-retention", store.DefaultFolderRetention, "keep the cached images of a folder no longer synced (out of --folder, gone from the cloud) this long before deleting them, in hours (168h = 7 days); they leave the lists at once")
	fs.StringVar(&c.debugAddr, "debug-addr", "", "serve Go's profiler (/debug/pprof/) on this address, apart from the dashboard; keep it on loopback (\"\" = off)")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", "", "address ranges (CIDR, comma-separated) of reverse proxies whose X-Forwarded-For names the client (\"\" = none: use the peer address)")
	fs.StringVar(&c.publicURL, "public-url", "", "the address people open the dashboard at, e.g. https://images.example.com; requests for other host names than it, --addr's, localhost and loopback are refused (\"\" = none)")
	if err := parseWithEnv(fs, args[1:], envPrefix, getenv); err != nil {
		return c, err
	}
	var err error
	if c.publicHost, err = publicHost(c.publicURL); err != nil {
		return c, err
	}
	c.adminPassword = getenv(adminPasswordEnv)
	if c.demo && c.endpoint != "" {
		return c, errors.New("--demo adds demo accounts and works only with the embedded emulator, not with --endpoint")
	}
	if c.sessionIdle < time.Minute || c.sessionLifetime < c.sessionIdle {
		return c, fmt.Errorf("--session-idle %s, --session-lifetime %s: want idle ≥ 1m and lifetime ≥ idle", c.sessionIdle, c.sessionLifetime)
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q (subcommands: healthcheck)", fs.Args())
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"--sim-unavailable-rate", c.simFaults.UnavailableRate}, {"--sim-exhausted-rate", c.simFaults.ExhaustedRate}, {"--sim-op-error-rate", c.simFaults.OpErrorRate}} {
		if r.v < 0 || r.v > 1 {
			return c, fmt.Errorf("%s must be between 0 and 1, got %v", r.name, r.v)
		}
	}
	if c.maxInFlight < 0 {
		return c, fmt.Errorf("--max-inflight-per-user %d: must be 0 (no limit) or more", c.maxInFlight)
	}
	if c.auditRetention < store.MinAuditRetention {
		return c, fmt.Errorf("--audit-retention %s: must be at least %s (30 days)", c.auditRetention, store.MinAuditRetention)
	}
	if c.folderRetention < 0 {
		return c, fmt.Errorf("--folder-retention %s: must not be negative", c.folderRetention)
	}
	if c.syncInterval < time.Second {
		return c, fmt.Errorf("--sync-interval %s: must be at least 1s", c.syncInterval)
	}
	return c, nil
}

// folderIDs splits --folder into ids, dropping blanks.
func (c config) folderIDs() []string { return splitList(c.folder) }

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// parseWithEnv parses args, then sets every flag that was not given from its
// environment twin: prefix + the name in upper case with '-' as '_'
// (--sim-images ↔ IMAGEDASH_SIM_IMAGES). The twin's name is shown in -h.
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

func newLogger(c config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.logJSON {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// run is the whole program. It serves until ctx is cancelled, then shuts
// down in order: HTTP server, syncer, store, cloud client, emulator. It prints
// "listening on http://ADDR" to stdout once the port is bound (with the real
// port when --addr asks for port 0).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runTuned(ctx, args, getenv, stdout, stderr, auth.Params{})
}

// runTuned is run with password hashes of the costs hash (zero: the
// defaults).
func runTuned(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, hash auth.Params) (err error) {
	if len(args) > 1 && args[1] == "healthcheck" {
		return healthcheck(ctx, args[1:], getenv, stderr)
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	cfg.hashParams = hash
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}

	if cfg.debugAddr != "" {
		_, stopDebug, err := startDebug(cfg.debugAddr, log.With("component", "debug"))
		if err != nil {
			return err
		}
		defer stopDebug()
	}

	// The cloud: the embedded emulator, or a real endpoint.
	endpoint, insecure := cfg.endpoint, false
	var simFolders map[string]string // name → id, for --demo
	if endpoint == "" {
		var stopSim func() error
		endpoint, simFolders, stopSim, err = startSim(cfg, log.With("component", "sim"))
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, stopSim()) }()
		insecure = true
	} else {
		// A loopback endpoint is a local emulator (ycsim), which speaks plaintext.
		insecure = isLoopback(endpoint)
	}

	// The first discovery: when the cloud does not answer within this,
	// the dashboard starts anyway on its cache and the client keeps trying
	// in the background (cloud.Dial), so a restart during an outage serves
	// pages instead of crash-looping.
	dialCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	client, err := cloud.Dial(dialCtx, cloud.Config{
		Endpoint: endpoint,
		Insecure: insecure,
		Auth: cloud.Auth{
			IAMToken:              cfg.iamToken,
			OAuthToken:            cfg.oauthToken,
			ServiceAccountKeyFile: cfg.saKeyFile,
			Metadata:              cfg.metadata,
		},
		Logger: log.With("component", "cloud"),
	})
	if err != nil {
		return fmt.Errorf("connect to the cloud at %s: %w", endpoint, err)
	}
	defer func() {
		if cerr := client.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close cloud client: %w", cerr))
		}
	}()

	// The cache: pages read only from it; the syncer fills it in the
	// background, so the first page is served before the first sync ends.
	if err := os.MkdirAll(filepath.Dir(cfg.data), 0o755); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	st, err := store.Open(ctx, cfg.data)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	people, stopPeople, err := startPeople(ctx, cfg, st, simFolders, log.With("component", "auth"))
	if err != nil {
		return err
	}
	defer stopPeople()

	folders := cfg.folderIDs()
	sy := syncer.New(client, st, syncer.Config{
		Interval: cfg.syncInterval,
		Folders:  folders,
		Logger:   log.With("component", "syncer"),
	})
	// Stopped (by its context) and waited for before the store closes: the
	// defers run in reverse.
	syncCtx, stopSync := context.WithCancel(ctx)
	synced := make(chan struct{})
	go func() {
		defer close(synced)
		_ = sy.Run(syncCtx) // returns nil when its context ends
	}()
	defer func() {
		stopSync()
		<-synced
	}()

	// The watcher: resumes what a previous process left unfinished, then
	// polls every open operation until it ends. Stopped before the store
	// closes, like the syncer.
	tr := tracker.New(client, st, tracker.Config{Logger: log.With("component", "tracker"), MaxOpenPerUser: cfg.maxInFlight})
	trackCtx, stopTrack := context.WithCancel(ctx)
	tracked := make(chan struct{})
	go func() {
		defer close(tracked)
		_ = tr.Run(trackCtx) // returns nil when its context ends
	}()
	defer func() {
		stopTrack()
		<-tracked
	}()

	// Audit entries past the retention, deleted in the background.
	pruner, err := store.NewAuditPruner(st, store.AuditPrunerConfig{Retention: cfg.auditRetention,
		Logger: log.With("component", "audit")})
	if err != nil {
		return err
	}
	pruneCtx, stopPrune := context.WithCancel(ctx)
	pruned := make(chan struct{})
	go func() {
		defer close(pruned)
		_ = pruner.Run(pruneCtx) // returns nil when its context ends
	}()
	defer func() {
		stopPrune()
		<-pruned
	}()

	// Images of folders no longer synced, deleted past their retention.
	folderPruner, err := store.NewFolderPruner(st, store.FolderPrunerConfig{Retention: cfg.folderRetention,
		Logger: log.With("component", "folders")})
	if err != nil {
		return err
	}
	folderPruneCtx, stopFolderPrune := context.WithCancel(ctx)
	folderPruned := make(chan struct{})
	go func() {
		defer close(folderPruned)
		_ = folderPruner.Run(folderPruneCtx) // returns nil when its context ends
	}()
	defer func() {
		stopFolderPrune()
		<-folderPruned
	}()

	h := handlers.New(handlers.Config{
		Logger:   log.With("component", "handlers"),
		Store:    st,
		Syncer:   sy,
		Cloud:    client,
		Folders:  folders,
		People:   st,
		Sessions: people.sessions,
		Hasher:   people.hasher,
		Limiter:  auth.NewRateLimiter(auth.RateLimitConfig{}),
		Tracker:  tr,
		Ops:      st,

		AuditRetention: cfg.auditRetention,
	})
	reg := metrics.NewRegistry()
	registerCacheMetrics(reg, st)
	e, err := web.New(web.Config{
		SecureCookies:  cfg.secureCookies,
		TrustedProxies: splitList(cfg.trustedProxies),
		AllowedHosts:   allowedHosts(cfg.addr, cfg.publicHost, net.InterfaceAddrs, log.With("component", "http")),
	}, web.Deps{
		Metrics:   reg,
		Logger:    log.With("component", "http"),
		Handlers:  h,
		Sessions:  people.sessions,
		Directory: auth.NewDirectory(st),
		// Ready while the database answers: every page is served from it,
		// so a cloud outage (shown on the pages as a banner) must not take
		// the dashboard out of a load balancer's rotation.
		Ready: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			return st.Ping(ctx)
		},
	})
	if err != nil {
		return err
	}

	lis, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second, // pages read the cache; the lazy cloud sections stop after 10 s
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()

	bound := lis.Addr().String()
	log.Info("listening", "addr", bound, "url", "http://"+bound, "cloud", endpoint, "data", cfg.data, "folders", folders)
	fmt.Fprintf(stdout, "listening on http://%s\n", bound)

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-served:
		return fmt.Errorf("serve HTTP: %w", err)
	}
	shutCtx, cancelShut := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancelShut()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shut down HTTP server: %w", err)
	}
	return nil
}

// startSim starts the embedded emulator on a private loopback port (and on
// --sim-listen too, when set). It returns the address the client dials and a
// stop function.
func startSim(cfg config, log *slog.Logger) (string, map[string]string, func() error, error) {
	statePath := cfg.data + ".sim"
	if err := os.MkdirAll(filepath.Dir(statePath), 0o755); err != nil {
		return "", nil, nil, fmt.Errorf("data directory: %w", err)
	}
	emu, err := sim.New(sim.Options{
		Seed:      cfg.simSeed,
		Images:    cfg.simImages,
		StatePath: statePath,
		TimeScale: cfg.simTimeScale,
		Faults:    cfg.simFaults,
		Logger:    log,
	})
	if err != nil {
		return "", nil, nil, fmt.Errorf("start emulator: %w", err)
	}
	// The private listener is always loopback, so plaintext to it is safe
	// whatever --sim-listen says; discovery answers with this address.
	addr, err := emu.Start("127.0.0.1:0")
	if err != nil {
		return "", nil, nil, errors.Join(fmt.Errorf("start emulator: %w", err), emu.Close())
	}
	log.Info("emulator started", "addr", addr, "state", statePath, "faults", fmt.Sprintf("%+v", cfg.simFaults))

	var public *grpc.Server
	if cfg.simListen != "" {
		lis, err := net.Listen("tcp", cfg.simListen)
		if err != nil {
			return "", nil, nil, errors.Join(fmt.Errorf("--sim-listen: %w", err), emu.Close())
		}
		public = emu.NewGRPCServer()
		go func() {
			if err := public.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				log.Error("emulator: serve --sim-listen", "err", err)
			}
		}()
		log.Info("emulator exposed", "addr", lis.Addr().String())
	}
	stop := func() error {
		if public != nil {
			public.Stop()
		}
		if err := emu.Close(); err != nil {
			return fmt.Errorf("close emulator: %w", err)
		}
		return nil
	}
	folders := map[string]string{}
	for _, f := range emu.Folders() {
		folders[f.GetName()] = f.GetId()
	}
	return addr, folders, stop, nil
}

func isLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// healthcheck is `imagedash healthcheck [--addr]`: GET /healthz and fail
// unless it answers 200. The distroless image has no curl, so its Docker
// HEALTHCHECK runs this.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("imagedash healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address the server listens on")
	if err := parseWithEnv(fs, args[1:], envPrefix, getenv); err != nil {
		return err
	}
	// A server bound to all interfaces is reached on loopback.
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", *addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, port) + "/healthz"

	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", url, resp.Status)
	}
	return nil
}

// registerCacheMetrics exports the state of the read model the lists are
// answered from (store.ModelStats): imagedash_read_model_{version,rows,
// ready,last_publish_seconds,load_seconds}, so an operator can tell a model
// still loading, or slow to take the writes, from a slow page.
func registerCacheMetrics(reg prometheus.Registerer, st *store.Store) {
	for _, m := range []struct {
		name, help string
		pick       func(store.ModelStats) float64
	}{
		{"version", "Read model: snapshots published since it was loaded.", func(m store.ModelStats) float64 { return float64(m.Version) }},
		{"rows", "Read model: images in the current snapshot.", func(m store.ModelStats) float64 { return float64(m.Rows) }},
		{"ready", "Read model: 1 once loaded from the database, 0 while loading.", func(m store.ModelStats) float64 {
			if m.Ready {
				return 1
			}
			return 0
		}},
		{"last_publish_seconds", "Read model: how long the last write took to apply to a new snapshot.", func(m store.ModelStats) float64 { return m.LastPublish.Seconds() }},
		{"load_seconds", "Read model: how long the load from the database took.", func(m store.ModelStats) float64 { return m.LoadTime.Seconds() }},
	} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "imagedash_read_model_" + m.name, Help: m.help},
			func() float64 { return m.pick(st.ModelStats()) }))
	}
}
