package mirror_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/service"
)

// BenchmarkIngest measures ingest's throughput from Kafka (kfake) to
// JetStream with 1 KB events, everything in this process: nats-server,
// both kfake clusters and the mirror share the machine's cores.
//
// "both-dcs": every event is in both clusters, as in production, so each is
// read and published twice and JetStream drops one copy. "one-dc": each
// event is in one cluster only. "no-recent-ids" turns off the set of
// acknowledged ids, so that every copy is published and JetStream alone
// drops them. events/s counts distinct events stored.
//
//	go test ./ingest/mirror -run '^$' -bench Ingest -benchtime 3x
func BenchmarkIngest(b *testing.B) {
	recentIDs := service.DefaultConfig().RecentIDs
	for _, bc := range []struct {
		name      string
		clusters  []string
		recentIDs int
	}{{"both-dcs", dcs, recentIDs}, {"both-dcs-no-recent-ids", dcs, -1}, {"one-dc", []string{"eqiad"}, recentIDs}} {
		b.Run(bc.name, func(b *testing.B) {
			const perPartition = 12500 // × 2 origin DCs × 4 partitions = 100,000 events
			var total time.Duration
			var events int
			for b.Loop() {
				b.StopTimer()
				h := newHarness(b, 4, rc)
				recs := h.benchEvents(perPartition, 4)
				for i := 0; i < len(recs); i += 5000 {
					h.write(bc.clusters, recs[i:min(i+5000, len(recs))]...)
				}
				opts := h.options()
				opts.RecentIDs = bc.recentIDs
				b.StartTimer()
				start := time.Now()
				r := h.start(opts)
				for h.count() < len(recs) {
					time.Sleep(5 * time.Millisecond)
				}
				elapsed := time.Since(start)
				b.StopTimer()
				r.stop()
				if n := h.count(); n != len(recs) {
					b.Fatalf("stored %d, want %d", n, len(recs))
				}
				total += elapsed
				events += len(recs)
				b.StartTimer()
			}
			b.ReportMetric(float64(events)/total.Seconds(), "events/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// benchEvents makes ~1 KB events, n per partition and origin DC.
func (h *harness) benchEvents(n int, partitions int32) []record {
	pad := strings.Repeat("x", 700)
	var out []record
	for _, dc := range dcs {
		for p := range partitions {
			for i := range n {
				r := h.event(rc, dc, p, i, false)
				r.value = []byte(strings.Replace(string(r.value), `"parsedcomment":`, fmt.Sprintf(`"comment":%q,"parsedcomment":`, pad), 1))
				out = append(out, r)
			}
		}
	}
	return out
}
