package metrics

import (
	"bytes"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"time"
)

// RegisterProcess registers the process's memory gauges, read at scrape
// time, under the names the Prometheus Go client uses, so dashboards and
// the soak test (cmd/loadtest soak) read them as they would anywhere:
//
//   - go_memstats_heap_inuse_bytes, go_memstats_heap_alloc_bytes,
//     go_memstats_sys_bytes: from runtime.ReadMemStats, read at most once
//     a second however many gauges a scrape writes;
//   - go_gc_heap_live_bytes: the heap the last GC found live (runtime/metrics
//     /gc/heap/live:bytes). Heap in use swings with the GC cycle by up to
//     GOGC; the live heap does not, so it is what shows a leak;
//   - process_resident_memory_bytes: the resident set from /proc/self/statm,
//     on systems that have it (not registered elsewhere).
func RegisterProcess(r *Registry) {
	m := &memStats{}
	r.GaugeFunc("go_memstats_heap_inuse_bytes", "Number of heap bytes that are in use.",
		func() float64 { return float64(m.read().HeapInuse) })
	r.GaugeFunc("go_memstats_heap_alloc_bytes", "Number of heap bytes allocated and still in use.",
		func() float64 { return float64(m.read().HeapAlloc) })
	r.GaugeFunc("go_memstats_sys_bytes", "Number of bytes obtained from the system.",
		func() float64 { return float64(m.read().Sys) })
	r.GaugeFunc("go_gc_heap_live_bytes", "Heap memory occupied by live objects that were marked by the previous GC.", liveHeap)
	if _, ok := residentBytes(); ok {
		r.GaugeFunc("process_resident_memory_bytes", "Resident memory size in bytes.",
			func() float64 { n, _ := residentBytes(); return float64(n) })
	}
}

// memStats is runtime.ReadMemStats, cached for a second: it stops the
// world briefly, once per scrape is enough.
type memStats struct {
	mu   sync.Mutex
	at   time.Time
	last runtime.MemStats
}

func (m *memStats) read() *runtime.MemStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	if time.Since(m.at) > time.Second {
		runtime.ReadMemStats(&m.last)
		m.at = time.Now()
	}
	return &m.last
}

// liveHeap reads /gc/heap/live:bytes; cheap, it does not stop the world.
func liveHeap() float64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0 // a runtime without it
	}
	return float64(s[0].Value.Uint64())
}

// residentBytes is the resident set size from /proc/self/statm (its
// second field, in pages); false where there is no such file.
func residentBytes() (int64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	fields := bytes.Fields(b)
	if len(fields) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseInt(string(fields[1]), 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}
