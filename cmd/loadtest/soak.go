package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/imagedash/imagedash/loadtest"
)

// soakCommand starts the app itself and keeps it under load for long.
const soakCommand = "soak"

const soakUsage = `Usage: loadtest soak [flags]

Soaks the whole dashboard: builds cmd/imagedash (or runs -app) with the
embedded emulator seeded with -images Compute images, demo accounts and a
slow emulator (-time-scale multiplies its operation delays, so copies stay
in flight), on a fresh database in a temporary directory; waits for the
first sync; keeps -inflight operations in flight by copying images as the
demo copier (a keeper, topping up every 2 s; the users' own rare copies
count too); measures the same users
against a bare Echo handler (-baseline-duration), then runs -users virtual
users (as 'loadtest mix' does) for -duration; samples the app's /metrics
(heap in use, live heap after GC, resident memory, goroutines), the operations in flight and
the load average every -sample; stops the app, and prints a Markdown
report: per-endpoint figures with ratios to bare Echo, errors, the list
pages' p99 against -list-p99, and memory and goroutines over time, with
whether they stayed flat after warm-up (the measured window's last third
against its first: at most 10% more, or 20 goroutines).
Exits 1 when a request failed, the list p99 missed its target, or memory
or goroutines grew. Not part of 'go test': it takes -duration and more.

Run it from the repository (it builds ./cmd/imagedash with the go tool):
  go run ./cmd/loadtest soak --users 50 --duration 2m                       # a quick check
  go run ./cmd/loadtest soak --users 200 --duration 10m --images 100000 --inflight 100

Flags:
`

type soakFlags struct {
	userFlags
	images       int
	inflight     int
	timeScale    float64
	sampleEvery  time.Duration
	tableEvery   time.Duration
	appBin       string
	dataDir      string
	syncTimeout  time.Duration
	listP99      time.Duration
	appLogLevel  string
	keepData     bool
	syncInterval time.Duration
	cpuProfile   string
}

func serveSoak(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest "+soakCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), soakUsage)
		fs.PrintDefaults()
	}
	var f soakFlags
	f.bind(fs, 200, 10*time.Minute, 30*time.Second, soakWeights())
	fs.IntVar(&f.images, "images", 100_000, "Compute images the emulator seeds (the cache holds about 10% more: Desktop and BareMetal)")
	fs.IntVar(&f.inflight, "inflight", 100, "operations to keep in flight (0 = none)")
	fs.Float64Var(&f.timeScale, "time-scale", 60, "the emulator's operation delays multiplier: 60 makes a copy take 2–20 minutes")
	fs.DurationVar(&f.sampleEvery, "sample", 10*time.Second, "time between two samples of memory, goroutines, operations in flight and load")
	fs.DurationVar(&f.tableEvery, "table-every", time.Minute, "time between two rows of the report's table (the verdict uses every sample)")
	fs.StringVar(&f.appBin, "app", "", "an imagedash binary to run (\"\" = go build ./cmd/imagedash into the temporary directory)")
	fs.StringVar(&f.dataDir, "data", "", "directory for the app's database (\"\" = a temporary one, removed after)")
	fs.BoolVar(&f.keepData, "keep", false, "keep the data directory and the app's log")
	fs.DurationVar(&f.syncTimeout, "sync-timeout", 10*time.Minute, "how long to wait for the first sync")
	fs.DurationVar(&f.syncInterval, "sync-interval", time.Minute, "the app's --sync-interval")
	fs.DurationVar(&f.listP99, "list-p99", 50*time.Millisecond, "target p99 of the list pages")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write the app's CPU profile over the measured window to this file (the app serves --debug-addr on a loopback port)")
	fs.StringVar(&f.appLogLevel, "app-log-level", "info", "the app's --log-level (info logs every request, as in production)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", soakCommand, fs.Args())
	}
	if f.cfg.Password == "" && getenv("LOADTEST_PASSWORD") == "" {
		f.cfg.Password = demoPassword
	}
	if err := f.finish(getenv); err != nil {
		return err
	}
	if f.sampleEvery < time.Second || f.tableEvery < f.sampleEvery {
		return fmt.Errorf("-sample %s, -table-every %s: want sample ≥ 1s and table-every ≥ sample", f.sampleEvery, f.tableEvery)
	}
	s := &soak{f: f, stderr: stderr, began: time.Now(), args: args}
	err := s.run(ctx)
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

// soakWeights are DefaultWeights with copies ten times rarer: 200 users
// copying as often as in a mix would start several copies a second, each
// in flight for minutes with the slow emulator, and swamp the -inflight
// the keeper holds.
func soakWeights() loadtest.Weights {
	w := loadtest.DefaultWeights()
	w.List, w.Search, w.Detail, w.Badge, w.Monitor, w.Counts = 10*w.List, 10*w.Search, 10*w.Detail, 10*w.Badge, 10*w.Monitor, 10*w.Counts
	w.Copy = 1
	return w
}

// demoPassword is the password of the app's --demo accounts.
const demoPassword = "imagedash-demo"

// soak is one soak run.
type soak struct {
	f      soakFlags
	stderr io.Writer
	began  time.Time
	args   []string

	app    *appProcess
	keeper *loadtest.Keeper
	phase  atomic.Value // string
	mu     sync.Mutex
	rows   []sampleRow
	report string
}

// sampleRow is one sample of the app and the machine.
type sampleRow struct {
	at              time.Duration // since the soak began
	phase           string
	heap, live, rss float64
	goroutines      float64
	cache           [8]float64 // cacheMetrics
	inflight        int
	load1           float64
	err             string
}

// Phases of a soak, as the samples are marked.
const (
	phaseSync     = "first sync"
	phaseFill     = "filling ops"
	phaseLoad     = "baseline, sign-ins, warmup"
	phaseMeasured = "measured"
	phaseAfter    = "after"
)

func (s *soak) logf(format string, args ...any) {
	fmt.Fprintf(s.stderr, "soak %s: "+format+"\n", append([]any{time.Since(s.began).Round(time.Second)}, args...)...)
}

func (s *soak) run(ctx context.Context) (err error) {
	dir := s.f.dataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "imagedash-soak-"); err != nil {
			return err
		}
		if !s.f.keepData {
			defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
		}
	}
	bin := s.f.appBin
	if bin == "" {
		bin = filepath.Join(dir, "imagedash")
		s.logf("building ./cmd/imagedash")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/imagedash/imagedash/cmd/imagedash")
		build.Stdout, build.Stderr = s.stderr, s.stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build the app (run from the repository, or give -app): %w", err)
		}
	}
	s.phase.Store(phaseSync)
	appArgs := []string{
		"--demo", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "imagedash.db"),
		"--sim-images", strconv.Itoa(s.f.images), "--sim-time-scale", strconv.FormatFloat(s.f.timeScale, 'g', -1, 64),
		"--sync-interval", s.f.syncInterval.String(), "--log-level", s.f.appLogLevel,
	}
	debugAddr := ""
	if s.f.cpuProfile != "" {
		if debugAddr, err = freeLoopbackAddr(); err != nil {
			return err
		}
		appArgs = append(appArgs, "--debug-addr", debugAddr)
	}
	s.logf("starting the app: %s %s", bin, strings.Join(appArgs, " "))
	s.app, err = startApp(ctx, bin, appArgs, filepath.Join(dir, "imagedash.log"))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.app.stop()) }()
	s.logf("app at %s (pid %d), log %s", s.app.url, s.app.cmd.Process.Pid, s.app.logPath)

	sampleCtx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() { defer close(sampled); s.sample(sampleCtx) }()
	defer func() { stopSampling(); <-sampled }()

	s.logf("waiting for the first sync of about %d images", s.f.images*11/10)
	select {
	case <-s.app.synced:
		s.logf("first sync done")
	case <-s.app.exited:
		return fmt.Errorf("the app exited before its first sync: %v (log: %s)", s.app.waitErr, s.app.logPath)
	case <-time.After(s.f.syncTimeout):
		return fmt.Errorf("no first sync in %s (log: %s)", s.f.syncTimeout, s.app.logPath)
	case <-ctx.Done():
		return ctx.Err()
	}

	keepCtx, stopKeeping := context.WithCancel(ctx)
	defer stopKeeping()
	if s.f.inflight > 0 {
		s.phase.Store(phaseFill)
		s.keeper, err = loadtest.KeepInFlight(keepCtx, loadtest.KeeperConfig{
			BaseURL: s.app.url, Username: s.f.cfg.Username, Password: s.f.cfg.Password, Target: s.f.inflight,
		})
		if err != nil {
			return err
		}
		defer s.keeper.Wait()
		defer stopKeeping()
		s.logf("filling %d operations in flight", s.f.inflight)
		deadline := time.Now().Add(3 * time.Minute)
		for s.keeper.InFlight() < s.f.inflight*9/10 && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(time.Second)
		}
		started, failed, last := s.keeper.Copies()
		s.logf("%d in flight (%d copies started, %d failed %s)", s.keeper.InFlight(), started, failed, last)
	}

	s.phase.Store(phaseLoad)
	var (
		profiled sync.WaitGroup
		profErr  error
	)
	cfg := s.f.cfg
	cfg.BaseURL = s.app.url
	cfg.OnWindow = func(start, end time.Time) {
		s.logf("all users signed in; measuring from %s to %s", start.Format("15:04:05"), end.Format("15:04:05"))
		time.AfterFunc(time.Until(start), func() { s.phase.Store(phaseMeasured) })
		if debugAddr != "" {
			profiled.Add(1)
			time.AfterFunc(time.Until(start), func() {
				defer profiled.Done()
				profErr = fetchProfile(ctx, debugAddr, end.Sub(start), s.f.cpuProfile)
			})
		}
		time.AfterFunc(time.Until(end), func() { s.phase.Store(phaseAfter) })
	}
	s.f.cfg = cfg
	defer func() { profiled.Wait(); err = errors.Join(err, profErr) }()
	s.logf("%d users: baseline %s, then sign-ins, %s warmup, %s measured", cfg.Users, s.f.baselineFor, cfg.Warmup, cfg.Duration)
	rep, runErr := s.f.measureUsers(ctx, io.Discard, s.stderr)
	s.phase.Store(phaseAfter)
	stopKeeping()
	if s.keeper != nil {
		s.keeper.Wait()
	}
	stopSampling()
	<-sampled
	s.report, err = s.markdown(rep)
	return errors.Join(runErr, err)
}

// sample records a row every sampleEvery until ctx ends.
func (s *soak) sample(ctx context.Context) {
	t := time.NewTicker(s.f.sampleEvery)
	defer t.Stop()
	for {
		row := sampleRow{at: time.Since(s.began), phase: s.phase.Load().(string), load1: loadAverage()[0]}
		names := append([]string{"go_goroutines", "go_memstats_heap_inuse_bytes", "go_gc_heap_live_bytes", "process_resident_memory_bytes"}, cacheMetrics[:]...)
		m, err := loadtest.ScrapeMetrics(ctx, s.app.url+"/metrics", names...)
		if err != nil {
			row.err = err.Error()
		}
		row.heap, row.live, row.rss, row.goroutines = m["go_memstats_heap_inuse_bytes"], m["go_gc_heap_live_bytes"],
			m["process_resident_memory_bytes"], m["go_goroutines"]
		for i, name := range cacheMetrics {
			row.cache[i] = m[name]
		}
		if s.keeper != nil {
			row.inflight = s.keeper.InFlight()
		}
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

// cacheMetrics are the app's list cache counters, in sampleRow.cache order.
var cacheMetrics = [8]string{"imagedash_list_cache_hits", "imagedash_list_cache_misses",
	"imagedash_list_cache_kept", "imagedash_list_cache_dropped", "imagedash_list_cache_cleared",
	"imagedash_list_cache_memory_pages", "imagedash_list_cache_memory_retries", "imagedash_list_cache_sql_pages"}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute figures (zeros where
// there is none).
func loadAverage() [3]float64 {
	var out [3]float64
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return out
	}
	for i, f := range strings.Fields(string(b)) {
		if i >= 3 {
			break
		}
		out[i], _ = strconv.ParseFloat(f, 64)
	}
	return out
}

// markdown is the report; its error says which checks failed.
func (s *soak) markdown(rep loadtest.UserReport) (string, error) {
	var b strings.Builder
	f := s.f
	fmt.Fprintf(&b, "#### Soak: %d users × %s, %d Compute images, %d operations kept in flight (%s)\n\n",
		f.cfg.Users, f.cfg.Duration, f.images, f.inflight, s.began.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "`go run ./cmd/loadtest %s`\n\n", strings.Join(s.args, " "))
	b.WriteString(rep.Markdown())

	var problems []string
	b.WriteString("\n")
	for _, name := range []string{loadtest.EndpointList, loadtest.EndpointSearch} {
		st, ok := rep.Stats(name)
		if !ok || st.Requests == 0 {
			continue
		}
		verdict := "met"
		if st.P99 > f.listP99 {
			verdict = "**not met**"
			problems = append(problems, fmt.Sprintf("%s p99 %s over %s", name, st.P99.Round(100*time.Microsecond), f.listP99))
		}
		fmt.Fprintf(&b, "- p99 of %s pages: %s (target ≤ %s: %s).\n", name, st.P99.Round(100*time.Microsecond), f.listP99, verdict)
	}
	if n := rep.Errors(); n > 0 {
		problems = append(problems, fmt.Sprintf("%d requests failed", n))
	}
	fmt.Fprintf(&b, "- Errors: %d in the measured window, %d over the whole run (sign-ins and warmup included).\n",
		rep.Total.Errors, rep.Errors())
	lw := s.app.log
	fmt.Fprintf(&b, "- The app's log: %d lines, %d at ERROR, %d at WARN", lw.lines.Load(), lw.errors.Load(), lw.warns.Load())
	if first := lw.firstProblems(); len(first) > 0 {
		fmt.Fprintf(&b, "; first: `%s`", strings.Join(first, "`, `"))
	}
	b.WriteString(".\n")

	s.mu.Lock()
	rows := slices.Clone(s.rows)
	s.mu.Unlock()
	var measured []sampleRow
	for _, r := range rows {
		if r.phase == phaseMeasured {
			measured = append(measured, r)
		}
	}
	if s.keeper != nil {
		started, failed, last := s.keeper.Copies()
		var inflight []int
		for _, r := range measured {
			inflight = append(inflight, r.inflight)
		}
		slices.Sort(inflight)
		if len(inflight) > 0 {
			fmt.Fprintf(&b, "- Operations in flight during the window (the header's count, every sample): min %d, median %d, max %d; "+
				"the keeper started %d copies (%d failures%s), the users %d.\n",
				inflight[0], inflight[len(inflight)/2], inflight[len(inflight)-1], started, failed, lastText(last), rep.Copies)
		}
	}
	if len(measured) >= 2 {
		first, last := measured[0].cache, measured[len(measured)-1].cache
		var d [len(cacheMetrics)]float64
		for i := range d {
			d[i] = last[i] - first[i]
		}
		if asks := d[0] + d[1]; asks > 0 {
			fmt.Fprintf(&b, "- The list cache during the window (`imagedash_list_cache_*`): %.0f asks, %.1f%% answered from the cache; "+
				"writes of a few images kept %.0f entries and dropped %.0f; everything went stale at once %.0f times.\n",
				asks, 100*d[0]/asks, d[2], d[3], d[4])
		}
		if pages := d[5] + d[7]; pages > 0 {
			fmt.Fprintf(&b, "- Pages computed during the window: %.0f, %.1f%% with the in-memory index and %.0f by SQL; "+
				"%.0f were read again after a write the index lagged.\n", pages, 100*d[5]/pages, d[7], d[6])
		}
	}
	var loads []float64
	for _, r := range measured {
		loads = append(loads, r.load1)
	}
	if len(loads) > 0 {
		fmt.Fprintf(&b, "- Load average (1 min) during the window: %.1f to %.1f, on %d cores shared by the app, the emulator in it, the load generator and other work.\n",
			slices.Min(loads), slices.Max(loads), rep.NumCPU)
	}

	b.WriteString("\n| time | phase | heap in use | live heap | resident | goroutines | ops in flight | load 1 min |\n| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	var last time.Duration = -1
	for i, r := range rows {
		firstOrLastMeasured := r.phase == phaseMeasured && (i == 0 || rows[i-1].phase != phaseMeasured ||
			i == len(rows)-1 || rows[i+1].phase != phaseMeasured)
		if last >= 0 && r.at-last < f.tableEvery-f.sampleEvery/2 && !firstOrLastMeasured && i != len(rows)-1 {
			continue
		}
		last = r.at
		if r.err != "" {
			fmt.Fprintf(&b, "| %s | %s | — | — | — | — | %d | %.1f |\n", clock(r.at), r.phase, r.inflight, r.load1)
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.0f | %d | %.1f |\n",
			clock(r.at), r.phase, mib(r.heap), mib(r.live), mib(r.rss), r.goroutines, r.inflight, r.load1)
	}

	b.WriteString("\n")
	if len(measured) < 3 {
		b.WriteString("Too few samples in the measured window to judge memory and goroutines.\n")
		return b.String(), joinProblems(problems)
	}
	trend := func(label string, pick func(sampleRow) float64, slack float64, unit func(float64) string) {
		var vs []float64
		for _, r := range measured {
			if r.err == "" {
				vs = append(vs, pick(r))
			}
		}
		t := loadtest.TrendOf(vs)
		verdict := "flat"
		if !t.Flat(0.10, slack) {
			verdict = "**growing**"
			problems = append(problems, label+" grew")
		}
		fmt.Fprintf(&b, "- %s: %s → %s (%+.1f%%; min %s, max %s): %s.\n",
			label, unit(t.First), unit(t.Last), t.Growth*100, unit(t.Min), unit(t.Max), verdict)
	}
	fmt.Fprintf(&b, "After warm-up (the %d samples of the measured window, mean of the first third → mean of the last third; "+
		"flat: at most 10%% more, or 20 goroutines, or 16 MiB):\n", len(measured))
	trend("heap in use", func(r sampleRow) float64 { return r.heap }, 16<<20, mib)
	trend("live heap after GC", func(r sampleRow) float64 { return r.live }, 16<<20, mib)
	trend("resident memory", func(r sampleRow) float64 { return r.rss }, 16<<20, mib)
	trend("goroutines", func(r sampleRow) float64 { return r.goroutines }, 20, func(v float64) string { return fmt.Sprintf("%.0f", v) })
	return b.String(), joinProblems(problems)
}

func joinProblems(p []string) error {
	if len(p) == 0 {
		return nil
	}
	return errors.New("soak: " + strings.Join(p, "; "))
}

func lastText(s string) string {
	if s == "" {
		return ""
	}
	return "; last: " + s
}

func mib(v float64) string { return fmt.Sprintf("%.0f MiB", v/(1<<20)) }

func clock(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

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
