package tracker

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/imagedash/imagedash/cloud"
	"github.com/imagedash/imagedash/cloud/cloudtest"
	"github.com/imagedash/imagedash/cloud/sim"
	"github.com/imagedash/imagedash/store"
)

// BenchmarkWatcher1000 starts 1 000 copies at once (the emulator takes
// seconds to tens of seconds over each, by image size) and runs the real
// watcher loop on the real clock until all are done. It reports how far
// behind the emulator the dashboard learnt of each end: the lag from the
// operation's end in the emulator to the dashboard writing it, against the
// poll interval the operation was at. The target: no operation more than
// one poll interval behind.
//
//	go test -run '^$' -bench Watcher1000 -benchtime 1x ./tracker/
func BenchmarkWatcher1000(b *testing.B) {
	const n = 1000
	for b.Loop() {
		s, c := cloudtest.Start(b, sim.Options{Images: 40, TimeScale: 2})
		st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "imagedash.db"))
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		imgs, _, err := c.ListImages(ctx, cloud.Compute, s.DefaultFolderID(), cloud.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		var target string
		for _, f := range s.Folders() {
			if f.GetName() == "team-alpha" {
				target = f.GetId()
			}
		}
		tr := New(c, st, Config{})
		started := time.Now()
		for i := range n {
			src := imgs[i%len(imgs)]
			if _, err := tr.Start(ctx, Who{}, "bench", Copy(src, cloud.CreateImageSpec{FolderID: target, Name: fmt.Sprintf("bench-%04d", i)})); err != nil {
				b.Fatal(err)
			}
		}
		startTook := time.Since(started)
		done := make(chan error)
		go func() { done <- tr.Run(ctx) }()

		var ops []store.Operation
		for {
			ops, err = st.Operations(ctx, store.OperationQuery{Batch: "bench", Limit: n})
			if err != nil {
				b.Fatal(err)
			}
			if !slices.ContainsFunc(ops, func(o store.Operation) bool { return o.State.Open() }) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		total := time.Since(started)
		cancel()
		<-done
		st.Close()

		var lags, over []time.Duration
		for _, o := range ops {
			if o.State != store.OpDone {
				b.Fatalf("operation %d ended %s: %s", o.ID, o.State, o.ErrorMessage)
			}
			lag := o.DoneAt.Sub(o.CloudModifiedAt)
			lags = append(lags, lag)
			over = append(over, lag-o.PollEvery)
		}
		slices.Sort(lags)
		slices.Sort(over)
		b.ReportMetric(startTook.Seconds()*1000/n, "ms/start")
		b.ReportMetric(total.Seconds(), "s-all-done")
		b.ReportMetric(lags[n/2].Seconds()*1000, "lag-p50-ms")
		b.ReportMetric(lags[n*99/100].Seconds()*1000, "lag-p99-ms")
		b.ReportMetric(lags[n-1].Seconds()*1000, "lag-max-ms")
		b.ReportMetric(over[n-1].Seconds()*1000, "worst-lag-minus-interval-ms")
		if over[n-1] > 0 {
			b.Logf("an operation was %s more than one poll interval behind", over[n-1])
		}
	}
}
