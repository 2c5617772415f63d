package relay_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
)

// BenchmarkRelay relays a backlog of recorded events (20,000: 10,000 per
// partition of the two recentchange topics) from the fake upstream into
// JetStream, everything in this process: the fake's framing, the relay,
// the pipeline and nats-server. It reports events relayed per second and
// the process's CPU time per 1,000 events (user + system, all of it).
//
//	go test ./ingest/relay -run '^$' -bench Relay -benchtime 3x
func BenchmarkRelay(b *testing.B) {
	const perPartition = 10_000
	var events, cpu, wall float64
	for range b.N {
		b.StopTimer()
		w := newWorld(b)
		f := newFakeES(b, 1)
		for range perPartition / 1000 {
			f.add(1000)
		}
		n := len(f.all())
		before := cpuTime()
		start := time.Now()
		b.StartTimer()
		r := w.start(f.url()) // a first start replays the upstream's last minute: all of it
		inproctest.WaitFor(b, 5*time.Minute, func() bool { return w.events() >= n })
		b.StopTimer()
		wall += time.Since(start).Seconds()
		cpu += (cpuTime() - before).Seconds()
		events += float64(n)
		r.Stop()
		b.StartTimer()
	}
	b.ReportMetric(events/wall, "events/s")
	b.ReportMetric(cpu/events*1000*1000, "cpu-ms/1k-events")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
