package inproctest

import (
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// WaitFor waits until cond holds, checking every few milliseconds, and
// fails the test, naming the caller's line, when it does not within
// timeout. Tests wait on conditions, not on sleeps.
func WaitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			_, file, line, _ := runtime.Caller(1)
			t.Fatalf("condition at %s:%d not met after %v", filepath.Base(file), line, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Metric is the sum of the values of the counters and gauges called name
// in reg whose labels include every name/value pair of labels (none: all
// of them).
func Metric(reg prometheus.Gatherer, name string, labels ...string) float64 {
	mfs, _ := reg.Gather()
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metrics
				}
			}
			total += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return total
}
