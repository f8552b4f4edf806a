package metrics

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestRegisterProcess(t *testing.T) {
	reg := NewRegistry()
	RegisterProcess(reg)
	runtime.GC() // the live heap is what the last GC found
	var b strings.Builder
	if err := reg.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, line := range strings.Split(b.String(), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		got[name] = v
	}
	want := []string{"go_memstats_heap_inuse_bytes", "go_memstats_heap_alloc_bytes", "go_memstats_sys_bytes", "go_gc_heap_live_bytes"}
	if runtime.GOOS == "linux" {
		want = append(want, "process_resident_memory_bytes")
	}
	for _, name := range want {
		// A Go process holds at least a few hundred kilobytes of each.
		if v := got[name]; v < 100<<10 || v > 1<<40 {
			t.Errorf("%s = %v, want a plausible size in bytes\n%s", name, v, b.String())
		}
	}
	if !strings.Contains(b.String(), "# TYPE go_memstats_heap_inuse_bytes gauge\n") {
		t.Errorf("no gauge TYPE line:\n%s", b.String())
	}
}
