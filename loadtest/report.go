package loadtest

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Markdown renders the report as a Markdown table, one row per target, with
// a total row after each run of more than one target, and the baseline
// first with a "% of bare Echo" column when there is one; then the run's
// configuration and machine, and the errors, if any, by target.
func (r Report) Markdown() string {
	var b strings.Builder
	base := r.Baseline != nil && r.Baseline.RPS > 0
	b.WriteString("| target | requests | req/s | p50 | p95 | p99 | max | errors |")
	if base {
		b.WriteString(" % of bare Echo |")
	}
	b.WriteString("\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	if base {
		b.WriteString(" ---: |")
	}
	b.WriteString("\n")

	row := func(label string, s Stats, ratio string) {
		fmt.Fprintf(&b, "| %s | %d | %.0f | %s | %s | %s | %s | %s |",
			escape(label), s.Requests, s.RPS, ms(s, s.P50), ms(s, s.P95), ms(s, s.P99), ms(s, s.Max), errorsCell(s))
		if base {
			fmt.Fprintf(&b, " %s |", ratio)
		}
		b.WriteString("\n")
	}
	percent := func(s Stats) string {
		if !base {
			return ""
		}
		return pct(s.RPS / r.Baseline.RPS)
	}
	if base {
		row(r.Baseline.Name+" (baseline)", *r.Baseline, "100%")
	}
	for _, run := range r.Runs {
		if len(run.Targets) == 1 {
			row(run.Targets[0].Name, run.Targets[0], percent(run.Targets[0]))
			continue
		}
		for _, s := range run.Targets {
			row(s.Name+" (in mix)", s, "—")
		}
		row("**mix: "+run.Total.Name+"**", run.Total, percent(run.Total))
	}

	b.WriteString("\n")
	b.WriteString(r.configLine())
	b.WriteString("\n")
	if notes := r.errorNotes(); notes != "" {
		b.WriteString("\nErrors:\n")
		b.WriteString(notes)
	}
	return b.String()
}

func (r Report) configLine() string {
	c := r.Config
	var b strings.Builder
	fmt.Fprintf(&b, "Concurrency %d, %s measured per run", c.Concurrency, c.Duration)
	if c.Requests > 0 {
		fmt.Fprintf(&b, " (or %d requests, whichever came first)", c.Requests)
	}
	if c.Warmup > 0 {
		fmt.Fprintf(&b, " after a %s warmup", c.Warmup)
	}
	fmt.Fprintf(&b, "; GOMAXPROCS %d on %d CPUs, %s %s; %s.\n",
		r.GOMAXPROCS, r.NumCPU, r.GoVersion, r.Platform, r.Date.UTC().Format("2006-01-02 15:04 MST"))
	b.WriteString("Requests: completed in the measured window. Latency: to the last byte of the body, errors included. " +
		"Errors: transport failures and statuses other than 2xx (286 counts as success).")
	if r.Baseline != nil {
		b.WriteString(" \"% of bare Echo\": req/s relative to a hello-world Echo handler without middleware, measured just before")
		if r.BaselineWhere != "" {
			b.WriteString(" " + r.BaselineWhere)
		}
		b.WriteString("; in a mix, for the mix as a whole.")
	}
	b.WriteString("\n")
	return b.String()
}

// errorNotes lists, per target with errors, the statuses that were not
// successes and the first transport error.
func (r Report) errorNotes() string {
	var all []Stats
	if r.Baseline != nil {
		all = append(all, *r.Baseline)
	}
	for _, run := range r.Runs {
		all = append(all, run.Targets...)
	}
	var b strings.Builder
	for _, s := range all {
		if s.Errors == 0 {
			continue
		}
		var parts []string
		codes := make([]int, 0, len(s.Statuses))
		for code := range s.Statuses {
			if !success(code) {
				codes = append(codes, code)
			}
		}
		slices.Sort(codes)
		for _, code := range codes {
			parts = append(parts, fmt.Sprintf("%d ×%d", code, s.Statuses[code]))
		}
		if s.TransportErrors > 0 {
			parts = append(parts, fmt.Sprintf("transport ×%d (first: %s)", s.TransportErrors, s.FirstError))
		}
		fmt.Fprintf(&b, "- %s: %s\n", escape(s.Name), strings.Join(parts, ", "))
	}
	return b.String()
}

// ms formats a latency in milliseconds with three significant digits or
// more; "—" when nothing completed.
func ms(s Stats, d time.Duration) string {
	if s.Requests == 0 {
		return "—"
	}
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 1:
		return fmt.Sprintf("%.3f ms", v)
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 100:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.0f ms", v)
	}
}

func pct(ratio float64) string {
	if ratio*100 >= 10 {
		return fmt.Sprintf("%.0f%%", ratio*100)
	}
	return fmt.Sprintf("%.1f%%", ratio*100)
}

func errorsCell(s Stats) string {
	if s.Errors == 0 || s.Requests == 0 {
		return fmt.Sprint(s.Errors)
	}
	return fmt.Sprintf("%d (%s)", s.Errors, pct(float64(s.Errors)/float64(s.Requests)))
}

// escape keeps a name from breaking the table.
func escape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
