package loadtest

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ratioCells are an endpoint's figures as multiples of the baseline's
// same endpoint: req/s as a percentage, p50 and p99 as "×n".
func ratioCells(s, b Stats) (rps, p50, p99 string) {
	if b.Requests == 0 || s.Requests == 0 {
		return "—", "—", "—"
	}
	times := func(a, b time.Duration) string {
		if b <= 0 {
			return "—"
		}
		x := float64(a) / float64(b)
		if x >= 10 {
			return fmt.Sprintf("×%.0f", x)
		}
		return fmt.Sprintf("×%.1f", x)
	}
	return pct(s.RPS / b.RPS), times(s.P50, b.P50), times(s.P99, b.P99)
}

// Markdown renders the run: one row per endpoint and a total, with, when
// there is a baseline, each figure as a ratio to the bare Echo handler's
// under the same users; then the sign-ins, the configuration, the errors.
func (r UserReport) Markdown() string {
	var b strings.Builder
	base := r.Baseline
	b.WriteString("| endpoint | requests | req/s | p50 | p95 | p99 | max | errors |")
	if base != nil {
		b.WriteString(" req/s % of bare Echo | p50 × bare Echo | p99 × bare Echo |")
	}
	b.WriteString("\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	if base != nil {
		b.WriteString(" ---: | ---: | ---: |")
	}
	b.WriteString("\n")
	row := func(label string, s Stats) {
		fmt.Fprintf(&b, "| %s | %d | %.1f | %s | %s | %s | %s | %s |",
			escape(label), s.Requests, s.RPS, ms(s, s.P50), ms(s, s.P95), ms(s, s.P99), ms(s, s.Max), errorsCell(s))
		if base != nil {
			bs, _ := base.Stats(s.Name)
			rps, p50, p99 := ratioCells(s, bs)
			fmt.Fprintf(&b, " %s | %s | %s |", rps, p50, p99)
		}
		b.WriteString("\n")
	}
	if base != nil {
		bt := base.Total
		bt.Name = BaselineName + " (same users, every request to it)"
		fmt.Fprintf(&b, "| %s | %d | %.1f | %s | %s | %s | %s | %s | 100%% | ×1 | ×1 |\n",
			escape(bt.Name), bt.Requests, bt.RPS, ms(bt, bt.P50), ms(bt, bt.P95), ms(bt, bt.P99), ms(bt, bt.Max), errorsCell(bt))
	}
	for _, s := range r.Endpoints {
		row(s.Name, s)
	}
	row("**total**", r.Total)

	c := r.Config
	fmt.Fprintf(&b, "\n%d virtual users signed in as %s (%d of %d; the sign-ins took %s, %s each at p50, %s at p99, %d at a time",
		r.SignedIn, c.Username, r.SignedIn, c.Users, r.SignInTook.Round(time.Millisecond),
		ms(r.SignIn, r.SignIn.P50), ms(r.SignIn, r.SignIn.P99), c.SignInConcurrency)
	if r.SignIn.Errors > 0 {
		fmt.Fprintf(&b, "; %d failed", r.SignIn.Errors)
	}
	fmt.Fprintf(&b, "), then %s measured after a %s warmup; think time %s mean (exponential, capped at 4×)",
		c.Duration, c.Warmup, thinkText(c.Think))
	fmt.Fprintf(&b, "; weights %s; %d copies started. GOMAXPROCS %d on %d CPUs, %s %s; %s.\n",
		c.Weights, r.Copies, r.GOMAXPROCS, r.NumCPU, r.GoVersion, r.Platform, r.Date.UTC().Format("2006-01-02 15:04 MST"))
	b.WriteString("Latency: to the last byte of the body. Errors: transport failures and unexpected statuses " +
		"(200 for pages, 200 or 286 for the polled partials: badge, monitor, op counts; 303 for the sign-in and the copy post).")
	if base != nil {
		fmt.Fprintf(&b, " Ratios: against a bare Echo hello-world handler (%s) driven by the same users, weights and "+
			"think time for %s just before, every request of an endpoint sent to it instead; "+
			"a req/s under 100%% means the app did not keep up with the users.", r.BaselineWhere, base.Config.Duration)
	}
	b.WriteString("\n")
	all, allErrors := 0, 0
	for _, s := range r.Everything {
		all += s.Requests
		allErrors += s.Errors
	}
	fmt.Fprintf(&b, "Over the whole run after the sign-ins, warmup included: %d requests, %d errors.\n", all, allErrors)
	var notes strings.Builder
	for _, s := range append([]Stats{r.SignIn}, r.Everything...) {
		if s.Errors == 0 {
			continue
		}
		fmt.Fprintf(&notes, "- %s: %s\n", escape(s.Name), errorParts(s))
	}
	if notes.Len() > 0 {
		b.WriteString("\nErrors:\n")
		b.WriteString(notes.String())
	}
	return b.String()
}

func thinkText(d time.Duration) string {
	if d <= 0 {
		return "0 (closed loop)"
	}
	return d.String()
}

// errorParts lists a target's failures: unexpected statuses, then the
// first transport error.
func errorParts(s Stats) string {
	var parts []string
	codes := make([]int, 0, len(s.Statuses))
	for code := range s.Statuses {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
		if expected(s.Name, code) {
			continue
		}
		parts = append(parts, fmt.Sprintf("%d ×%d", code, s.Statuses[code]))
	}
	if s.TransportErrors > 0 {
		parts = append(parts, fmt.Sprintf("transport ×%d (first: %s)", s.TransportErrors, s.FirstError))
	}
	return strings.Join(parts, ", ")
}

// expected says whether code is a success for the endpoint called name.
func expected(name string, code int) bool {
	switch name {
	case EndpointSignIn, EndpointCopy:
		return isSeeOther(code)
	case EndpointBadge, EndpointMonitor, EndpointCounts:
		return isPoll(code)
	}
	return is200(code)
}
