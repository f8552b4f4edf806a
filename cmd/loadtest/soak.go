package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const soakUsage = `Usage: loadtest soak [flags]

Soaks the whole dashboard. Unless -base points at a running one, builds
cmd/imagedash (or runs -app) with the embedded emulator seeded with -images
Compute images, the demo accounts and a slow emulator (-time-scale
multiplies its operation delays, so copies stay in flight for minutes), on
a fresh database in a temporary directory, and waits for its first sync.
Then signs the sessions in, fills -inflight operations in flight with
copies (vegeta, -fill-rate copies a second), and runs the mix (as
'loadtest mix') at -rate for -duration, while sampling the app's /metrics
(heap in use, live heap after GC, resident memory, goroutines), the
operations in flight and the load average every -sample. Prints vegeta's
reports, the list pages' p99 against -list-p99, the app's ERROR and WARN
lines, and memory and goroutines over time, with whether they stayed flat
(the measured window's last third against its first: at most 10% more, or
20 goroutines, or 16 MiB). Exits 1 when a request failed, the list p99
missed its target, or memory or goroutines grew. Not part of 'go test'.

Run it from the repository (it builds ./cmd/imagedash with the go tool):
  go run ./cmd/loadtest soak -rate 50 -duration 2m                       # a quick check
  go run ./cmd/loadtest soak -rate 100 -duration 10m -images 100000 -inflight 100

Flags:
`

type soakFlags struct {
	mixFlags
	images       int
	inflight     int
	fillRate     int
	timeScale    float64
	sampleEvery  time.Duration
	appBin       string
	dataDir      string
	keepData     bool
	syncTimeout  time.Duration
	syncInterval time.Duration
	listP99      time.Duration
	appLogLevel  string
	cpuProfile   string
	mdPath       string
}

// soakWeights are the mix's with copies ten times rarer: at 100 req/s a
// copy in fifty would start two copies a second, each in flight for
// minutes with the slow emulator, and swamp the -inflight the fill set.
func soakWeights() weights {
	w := defaultWeights()
	w.list, w.search, w.detail, w.badge, w.monitor, w.counts = 10*w.list, 10*w.search, 10*w.detail, 10*w.badge, 10*w.monitor, 10*w.counts
	w.copy = 2
	return w
}

// demoPassword is the password of the app's --demo accounts.
const demoPassword = "imagedash-demo"

// runSoak is loadtest soak.
func runSoak(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet(args[0], soakUsage, stderr)
	var f soakFlags
	f.bind(fs, 100, 10*time.Minute, soakWeights())
	base := fs.Lookup("base")
	f.base, base.DefValue, base.Usage = "", "", "a running dashboard to soak (\"\" = build and start one here)"
	fs.IntVar(&f.images, "images", 100_000, "Compute images the emulator seeds (the cache holds about 10% more: Desktop and BareMetal)")
	fs.IntVar(&f.inflight, "inflight", 100, "operations to have in flight before the measured window (0 = none)")
	fs.IntVar(&f.fillRate, "fill-rate", 5, "copies a second while filling -inflight")
	fs.Float64Var(&f.timeScale, "time-scale", 60, "the emulator's operation delays multiplier: 60 makes a copy take 2–20 minutes")
	fs.DurationVar(&f.sampleEvery, "sample", 10*time.Second, "time between two samples of memory, goroutines, operations in flight and load")
	fs.StringVar(&f.appBin, "app", "", "an imagedash binary to run (\"\" = go build ./cmd/imagedash into the temporary directory)")
	fs.StringVar(&f.dataDir, "data", "", "directory for the app's database (\"\" = a temporary one, removed after)")
	fs.BoolVar(&f.keepData, "keep", false, "keep the data directory and the app's log")
	fs.DurationVar(&f.syncTimeout, "sync-timeout", 10*time.Minute, "how long to wait for the first sync")
	fs.DurationVar(&f.syncInterval, "sync-interval", time.Minute, "the app's --sync-interval")
	fs.DurationVar(&f.listP99, "list-p99", 50*time.Millisecond, "target p99 of the list and search pages")
	fs.StringVar(&f.appLogLevel, "app-log-level", "info", "the app's --log-level (info logs every request, as in production)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write the app's CPU profile over the measured window to this file (the app serves --debug-addr on a loopback port)")
	fs.StringVar(&f.mdPath, "md", "", "also write the report to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if f.password == "" && getenv("LOADTEST_PASSWORD") == "" {
		f.password = demoPassword
	}
	started := f.base == ""
	if started {
		f.base = "http://127.0.0.1:1" // checked below; replaced by the app's
	}
	if err := f.check(getenv); err != nil {
		return err
	}
	if f.sampleEvery <= 0 || f.fillRate < 1 || f.inflight < 0 {
		return fmt.Errorf("-sample %s, -fill-rate %d, -inflight %d: want positive, positive, ≥ 0", f.sampleEvery, f.fillRate, f.inflight)
	}
	s := &soak{f: f, stderr: stderr, began: time.Now(), args: args}
	err := s.run(ctx, started)
	if s.report != "" {
		fmt.Fprint(stdout, s.report)
		if f.mdPath != "" {
			if werr := os.WriteFile(f.mdPath, []byte(s.report), 0o644); werr != nil {
				err = errors.Join(err, fmt.Errorf("-md: %w", werr))
			}
		}
	}
	return err
}

// soak is one soak run.
type soak struct {
	f      soakFlags
	stderr io.Writer
	began  time.Time
	args   []string

	app    *appProcess // nil with -base
	mixer  *mixer
	mu     sync.Mutex
	phase  string
	rows   []sampleRow
	report string
}

// sampleRow is one sample of the app and the machine.
type sampleRow struct {
	at              time.Duration // since the soak began
	phase           string
	heap, live, rss float64
	goroutines      float64
	inflight        int
	load1           float64
	err             string
}

// Phases of a soak, as the samples are marked.
const (
	phaseSync     = "first sync"
	phaseSignIn   = "sign-ins"
	phaseFill     = "filling ops"
	phaseMeasured = "measured"
	phaseAfter    = "after"
)

func (s *soak) setPhase(p string) {
	s.mu.Lock()
	s.phase = p
	s.mu.Unlock()
}

func (s *soak) logf(format string, args ...any) {
	fmt.Fprintf(s.stderr, "soak %s: "+format+"\n", append([]any{time.Since(s.began).Round(time.Second)}, args...)...)
}

func (s *soak) run(ctx context.Context, start bool) (err error) {
	debugAddr := ""
	if start {
		var stop func() error
		if debugAddr, stop, err = s.startApp(ctx); err != nil {
			return err
		}
		defer func() { err = errors.Join(err, stop()) }()
		s.f.base = s.app.url
	}

	s.setPhase(phaseSignIn)
	if s.mixer, err = newMixer(ctx, s.f.mixFlags, s.stderr); err != nil {
		return err
	}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() { defer close(sampled); s.sample(sampleCtx) }()
	stopped := false
	defer func() {
		if !stopped {
			stopSampling()
			<-sampled
		}
	}()

	var reports []*report
	if need := s.f.inflight - s.inflight(ctx); need > 0 && len(s.mixer.cat.targets) > 0 {
		s.setPhase(phaseFill)
		m := s.mixer
		// Copies only, one per tick; the monitor shows the mix their
		// operations.
		fill := &mixer{base: m.base, sessions: m.sessions, w: weights{copy: 1}, copyName: m.copyName,
			tag: m.tag + "f", cat: m.cat, rng: m.rng, noResults: true}
		d := time.Duration(need) * time.Second / time.Duration(s.f.fillRate)
		s.logf("filling %d operations in flight: %d copies a second for %s", need, s.f.fillRate, d)
		rep := newReport(fmt.Sprintf("fill: %d copies a second for %s", s.f.fillRate, d))
		attack(ctx, attacker(s.f.timeout), rep, fill.next, s.f.fillRate, max(d, time.Second), fill.classify)
		rep.close()
		reports = append(reports, rep)
		s.logf("%d operations in flight", s.inflight(ctx))
	}

	s.setPhase(phaseMeasured)
	var (
		profiled sync.WaitGroup
		profErr  error
	)
	if debugAddr != "" {
		profiled.Go(func() { profErr = fetchProfile(ctx, debugAddr, s.f.duration, s.f.cpuProfile) })
	}
	s.logf("the mix: %d req/s for %s", s.f.rate, s.f.duration)
	rep := newReport(fmt.Sprintf("mix: %d req/s for %s over %d sessions (%s)", s.f.rate, s.f.duration, s.f.users, s.f.weights))
	attack(ctx, attacker(s.f.timeout), rep, s.mixer.next, s.f.rate, s.f.duration, s.mixer.classify)
	rep.close()
	reports = append(reports, rep)
	s.setPhase(phaseAfter)
	profiled.Wait()
	stopSampling()
	<-sampled
	stopped = true

	var problems []error
	for _, r := range reports {
		problems = append(problems, r.err())
	}
	s.report, err = s.markdown(reports)
	return errors.Join(append(problems, err, profErr, ctx.Err())...)
}

// startApp builds (unless -app) and starts the app on a fresh database,
// and waits for its first sync. It returns the app's debug address (with
// -cpuprofile) and how to stop it.
func (s *soak) startApp(ctx context.Context) (debugAddr string, stop func() error, err error) {
	dir := s.f.dataDir
	cleanup := func() error { return nil }
	if dir == "" {
		if dir, err = os.MkdirTemp("", "imagedash-soak-"); err != nil {
			return "", nil, err
		}
		if !s.f.keepData {
			cleanup = func() error { return os.RemoveAll(dir) }
		}
	}
	fail := func(err error) (string, func() error, error) { return "", nil, errors.Join(err, cleanup()) }
	bin := s.f.appBin
	if bin == "" {
		bin = filepath.Join(dir, "imagedash")
		s.logf("building ./cmd/imagedash")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/imagedash/imagedash/cmd/imagedash")
		build.Stdout, build.Stderr = s.stderr, s.stderr
		if err := build.Run(); err != nil {
			return fail(fmt.Errorf("build the app (run from the repository, or give -app): %w", err))
		}
	}
	s.setPhase(phaseSync)
	appArgs := []string{
		"--demo", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "imagedash.db"),
		"--sim-images", strconv.Itoa(s.f.images), "--sim-time-scale", strconv.FormatFloat(s.f.timeScale, 'g', -1, 64),
		"--sync-interval", s.f.syncInterval.String(), "--log-level", s.f.appLogLevel,
	}
	if s.f.cpuProfile != "" {
		if debugAddr, err = freeLoopbackAddr(); err != nil {
			return fail(err)
		}
		appArgs = append(appArgs, "--debug-addr", debugAddr)
	}
	s.logf("starting the app: %s %s", bin, strings.Join(appArgs, " "))
	if s.app, err = startApp(ctx, bin, appArgs, filepath.Join(dir, "imagedash.log")); err != nil {
		return fail(err)
	}
	stop = func() error { return errors.Join(s.app.stop(), cleanup()) }
	s.logf("app at %s (pid %d), log %s; waiting for the first sync of about %d images",
		s.app.url, s.app.cmd.Process.Pid, s.app.logPath, s.f.images*11/10)
	select {
	case <-s.app.synced:
		s.logf("first sync done")
		return debugAddr, stop, nil
	case <-s.app.exited:
		err = fmt.Errorf("the app exited before its first sync: %v (log: %s)", s.app.waitErr, s.app.logPath)
	case <-time.After(s.f.syncTimeout):
		err = fmt.Errorf("no first sync in %s (log: %s)", s.f.syncTimeout, s.app.logPath)
	case <-ctx.Done():
		err = ctx.Err()
	}
	return "", nil, errors.Join(err, stop())
}

// inflight is the number of operations the monitor's in-flight section
// lists now (0 when it cannot be read; the sample says why).
func (s *soak) inflight(ctx context.Context) int {
	n, _ := s.countInFlight(ctx)
	return n
}

func (s *soak) countInFlight(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.f.base+"/operations?part=inflight", nil)
	if err != nil {
		return 0, err
	}
	req.Header = s.mixer.sessions[0].header(htmx)
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	return len(runningOp.FindAllIndex(b, -1)), nil
}

// sample records a row every sampleEvery until ctx ends.
func (s *soak) sample(ctx context.Context) {
	t := time.NewTicker(s.f.sampleEvery)
	defer t.Stop()
	for {
		s.mu.Lock()
		phase := s.phase
		s.mu.Unlock()
		row := sampleRow{at: time.Since(s.began), phase: phase, load1: loadAverage()}
		m, err := scrapeMetrics(ctx, s.f.base+"/metrics")
		if err == nil {
			row.inflight, err = s.countInFlight(ctx)
		}
		if err != nil {
			row.err = err.Error()
		}
		row.heap, row.live, row.rss, row.goroutines = m["go_memstats_heap_inuse_bytes"], m["go_gc_heap_live_bytes"],
			m["process_resident_memory_bytes"], m["go_goroutines"]
		if ctx.Err() == nil {
			s.mu.Lock()
			s.rows = append(s.rows, row)
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// scrapeMetrics reads the unlabelled series of a Prometheus scrape.
func scrapeMetrics(ctx context.Context, rawURL string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	client := &http.Client{}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", rawURL, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		value, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}

// loadAverage is /proc/loadavg's 1-minute figure (0 where there is none).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(b), " ")
	v, _ := strconv.ParseFloat(f, 64)
	return v
}

// markdown is the report; its error says which checks failed.
func (s *soak) markdown(reports []*report) (string, error) {
	var b strings.Builder
	f := s.f
	fmt.Fprintf(&b, "# Soak: %d req/s × %s, %d sessions, %d Compute images, %d operations in flight at the start (%s)\n\n",
		f.rate, f.duration, f.users, f.images, f.inflight, s.began.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "`go run ./cmd/loadtest %s` (vegeta, open model)\n\n", strings.Join(s.args, " "))
	for _, r := range reports {
		r.print(&b)
	}
	var problems []string
	mix := reports[len(reports)-1]
	for _, name := range []string{epList, epSearch} {
		m := mix.endpoints[name]
		if m == nil || m.Requests == 0 {
			continue
		}
		verdict := "met"
		if m.Latencies.P99 > f.listP99 {
			verdict = "**not met**"
			problems = append(problems, fmt.Sprintf("%s p99 %s over %s", name, m.Latencies.P99.Round(100*time.Microsecond), f.listP99))
		}
		fmt.Fprintf(&b, "- p99 of %s pages: %s (target ≤ %s: %s).\n", name, m.Latencies.P99.Round(100*time.Microsecond), f.listP99, verdict)
	}
	if s.app != nil {
		lw := s.app.log
		fmt.Fprintf(&b, "- The app's log: %d lines, %d at ERROR, %d at WARN", lw.lines.Load(), lw.errors.Load(), lw.warns.Load())
		if first := lw.firstProblems(); len(first) > 0 {
			fmt.Fprintf(&b, "; first: `%s`", strings.Join(first, "`, `"))
		}
		b.WriteString(".\n")
	}

	s.mu.Lock()
	rows := slices.Clone(s.rows)
	s.mu.Unlock()
	b.WriteString("\n| time | phase | heap in use | live heap | resident | goroutines | ops in flight | load 1 min |\n| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	var measured []sampleRow
	for _, r := range rows {
		if r.phase == phaseMeasured && r.err == "" {
			measured = append(measured, r)
		}
		if r.err != "" {
			fmt.Fprintf(&b, "| %s | %s | — | — | — | — | — | %.1f |\n", clock(r.at), r.phase, r.load1)
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.0f | %d | %.1f |\n",
			clock(r.at), r.phase, mib(r.heap), mib(r.live), mib(r.rss), r.goroutines, r.inflight, r.load1)
	}
	b.WriteString("\n")
	if len(measured) < 6 {
		b.WriteString("Too few samples in the measured window to judge memory and goroutines.\n")
		return b.String(), joinProblems(problems)
	}
	fmt.Fprintf(&b, "After warm-up (the %d samples of the measured window, mean of the first third → mean of the last third; "+
		"flat: at most 10%% more, or 20 goroutines, or 16 MiB):\n", len(measured))
	for _, tr := range []struct {
		label string
		pick  func(sampleRow) float64
		slack float64
		unit  func(float64) string
	}{
		{"heap in use", func(r sampleRow) float64 { return r.heap }, 16 << 20, mib},
		{"live heap after GC", func(r sampleRow) float64 { return r.live }, 16 << 20, mib},
		{"resident memory", func(r sampleRow) float64 { return r.rss }, 16 << 20, mib},
		{"goroutines", func(r sampleRow) float64 { return r.goroutines }, 20, func(v float64) string { return fmt.Sprintf("%.0f", v) }},
	} {
		third := len(measured) / 3
		first, last := meanOf(measured[:third], tr.pick), meanOf(measured[len(measured)-third:], tr.pick)
		verdict := "flat"
		if last > first*1.10 && last-first > tr.slack {
			verdict = "**growing**"
			problems = append(problems, tr.label+" grew")
		}
		fmt.Fprintf(&b, "- %s: %s → %s: %s.\n", tr.label, tr.unit(first), tr.unit(last), verdict)
	}
	return b.String(), joinProblems(problems)
}

func meanOf(rows []sampleRow, pick func(sampleRow) float64) float64 {
	sum := 0.0
	for _, r := range rows {
		sum += pick(r)
	}
	return sum / float64(len(rows))
}

func joinProblems(p []string) error {
	if len(p) == 0 {
		return nil
	}
	return errors.New("soak: " + strings.Join(p, "; "))
}

func mib(v float64) string { return fmt.Sprintf("%.0f MiB", v/(1<<20)) }

func clock(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}
