package mirror_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc"
	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/mirror"
)

// BenchmarkIngestCluster measures what the store's sync policy costs ingest
// on a 3-node NATS cluster (in process, routes over loopback, each node's
// store in its own directory of the same disk) with an R3 stream:
// nats-server's default (its stores synced every 2 minutes) against
// sync_interval: always (every write synced before it is acknowledged).
// Each iteration runs both settings, in alternating order, each on a new
// cluster, so that both see the same machine; the ratio always/default
// comes from the same run.
//
// "throughput": 40,000 events of about 1 KB, already in one Kafka cluster
// (4 partitions per topic), stored as fast as ingest can: distinct events
// stored per second. "throughput-both-dcs": the same events in both
// clusters, read at once (each copy held back while the other is in
// flight, or published and dropped as a duplicate).
//
// "rate=500": events produced to Kafka at 500/s for 10 s, as Wikimedia's
// public streams together come (a few hundred a second): the latency from
// the Kafka produce to the event read back from JetStream (exact p50,
// p99), ingest's publish-to-acknowledgement latency (p50, p99 interpolated
// from its publish_seconds histogram), and this process's CPU per event
// (ingest, kfake, the three nats-servers and the reader together).
//
//	go test ./ingest/mirror -run '^$' -bench IngestCluster -benchtime 3x
func BenchmarkIngestCluster(b *testing.B) {
	settings := []struct {
		name   string
		always bool
	}{{"default", false}, {"always", true}}
	for name, clusters := range map[string][]string{"throughput": {"eqiad"}, "throughput-both-dcs": dcs} {
		b.Run(name, func(b *testing.B) {
			rate := map[string]float64{}
			iter := 0
			for b.Loop() {
				for k := range settings {
					s := settings[(k+iter)%2]
					rate[s.name] += clusterThroughput(b, s.always, clusters)
				}
				iter++
			}
			for _, s := range settings {
				b.ReportMetric(rate[s.name]/float64(iter), s.name+"-events/s")
			}
			b.ReportMetric(rate["always"]/rate["default"], "always/default")
			b.ReportMetric(0, "ns/op")
		})
	}
	b.Run("rate=500", func(b *testing.B) {
		sum := map[string]float64{}
		iter := 0
		for b.Loop() {
			for k := range settings {
				s := settings[(k+iter)%2]
				for metric, v := range clusterAtRate(b, s.always, 500, 10*time.Second) {
					sum[s.name+"-"+metric] += v
				}
			}
			iter++
		}
		keys := make([]string, 0, len(sum))
		for k := range sum {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b.ReportMetric(sum[k]/float64(iter), k)
		}
		b.ReportMetric(0, "ns/op")
	})
}

// newClusterHarness is a harness on a new 3-node cluster holding the R3
// stream, created as ingest creates it and with a leader, so that what is
// measured excludes the stream's first election; and the options of a
// mirror writing it. The caller shuts the cluster down.
func newClusterHarness(b *testing.B, syncAlways bool) (*harness, *inproc.Cluster, mirror.Options) {
	b.Helper()
	c, err := inproc.StartCluster(inproc.ClusterOptions{Dir: b.TempDir(), SyncAlways: syncAlways})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Shutdown)
	_, js := inproctest.Connect(b, c.URL())
	h := newHarnessOn(b, js, c.URL(), 4, rc)
	opts := h.options()
	opts.Limits.Replicas = 3
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := js.CreateOrUpdateStream(ctx, h.layout.StreamConfig(opts.Limits))
		if err == nil {
			_, err = js.Stream(ctx, h.layout.Stream)
		}
		cancel()
		if err == nil && c.StreamLeader(h.layout.Stream) >= 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("R3 stream without a leader after a minute: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return h, c, opts
}

// clusterPerPartition × 2 origin DCs × 4 partitions = 40,000 events.
const clusterPerPartition = 5000

// clusterThroughput stores 40,000 events, each in every one of clusters,
// and returns the distinct events stored per second.
func clusterThroughput(b *testing.B, syncAlways bool, clusters []string) float64 {
	b.StopTimer()
	defer b.StartTimer()
	h, c, opts := newClusterHarness(b, syncAlways)
	defer c.Shutdown()
	recs := h.benchEvents(clusterPerPartition, 4)
	for i := 0; i < len(recs); i += 5000 {
		h.write(clusters, recs[i:min(i+5000, len(recs))]...)
	}
	b.StartTimer()
	start := time.Now()
	r := h.start(opts)
	for h.count() < len(recs) {
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	r.Stop()
	if n := h.count(); n != len(recs) {
		b.Fatalf("stored %d, want %d", n, len(recs))
	}
	return float64(len(recs)) / elapsed.Seconds()
}

// clusterAtRate produces events to Kafka at rate per second for d while
// ingest mirrors them, reads them back from JetStream, and returns the
// latencies (ms) and CPU per event (µs).
func clusterAtRate(b *testing.B, syncAlways bool, rate int, d time.Duration) map[string]float64 {
	b.StopTimer()
	defer b.StartTimer()
	h, c, opts := newClusterHarness(b, syncAlways)
	defer c.Shutdown()
	r := h.start(opts)
	defer r.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
	defer cancel()
	cons, err := h.js.OrderedConsumer(ctx, h.layout.Stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		b.Fatal(err)
	}
	total := rate * int(d/time.Second)
	lat := make([]float64, 0, total)
	done := make(chan struct{})
	var got atomic.Int64
	cc, err := cons.Consume(func(m jetstream.Msg) {
		now := time.Now().UnixNano()
		lat = append(lat, float64(now-int64(fieldInt(m.Data(), `"bench_ns":`)))/1e6)
		if got.Add(1) == int64(total) {
			close(done)
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer cc.Stop()

	cpu0 := cpuTime()
	b.StartTimer()
	pad := strings.Repeat("x", 900)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	perTick := rate / 100
	for n := 0; n < total; {
		<-tick.C
		var batch []*kgo.Record
		for range perTick {
			p := int32(n % 4)
			v := fmt.Sprintf(`{"$schema":"/mediawiki/recentchange/1.0.0","meta":{"id":"bench-%d","dt":"2024-04-04T13:20:26Z","domain":"canary","stream":%q},"bench_ns":%d,"wiki":"enwiki","comment":%q}`,
				n, rc, time.Now().UnixNano(), pad)
			batch = append(batch, &kgo.Record{Topic: "eqiad." + rc, Partition: p, Value: []byte(v), Timestamp: time.Now()})
			n++
		}
		if err := h.produce["eqiad"].ProduceSync(ctx, batch...).FirstErr(); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-ctx.Done():
		b.Fatalf("read %d of %d events back", got.Load(), total)
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	cc.Stop()
	slices.Sort(lat)
	return map[string]float64{
		"e2e-p50-ms":     lat[len(lat)/2],
		"e2e-p99-ms":     lat[len(lat)*99/100],
		"publish-p50-ms": 1000 * histQuantile(b, r.Reg, "eventstreams_ingest_publish_seconds", 0.5),
		"publish-p99-ms": 1000 * histQuantile(b, r.Reg, "eventstreams_ingest_publish_seconds", 0.99),
		"cpu-µs/event":   float64(cpu.Microseconds()) / float64(total),
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// histQuantile is quantile q of a histogram in reg (summed over its
// labels), interpolated linearly within its bucket as Prometheus's
// histogram_quantile does.
func histQuantile(b *testing.B, reg *prometheus.Registry, name string, q float64) float64 {
	b.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	counts := map[float64]uint64{}
	var total uint64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			total += m.GetHistogram().GetSampleCount()
			for _, bk := range m.GetHistogram().GetBucket() {
				counts[bk.GetUpperBound()] += bk.GetCumulativeCount()
			}
		}
	}
	bounds := make([]float64, 0, len(counts))
	for ub := range counts {
		bounds = append(bounds, ub)
	}
	slices.Sort(bounds)
	rank := q * float64(total)
	lower, below := 0.0, uint64(0)
	for _, ub := range bounds {
		if float64(counts[ub]) >= rank {
			return lower + (ub-lower)*(rank-float64(below))/float64(counts[ub]-below)
		}
		lower, below = ub, counts[ub]
	}
	return lower
}
