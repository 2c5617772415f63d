package mirror_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/mirror"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/service"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/source"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// BenchmarkIngest measures ingest's throughput from Kafka (kfake) to
// JetStream with 1 KB events, everything in this process: nats-server,
// both kfake clusters and the mirror share the machine's cores; and, in
// the same iterations, the throughput of a raw mirror (rawMirror) on the
// same records, as the floor ingest's figure is read against.
//
// "both-dcs": every event is in both clusters, as in production, so each is
// read and published twice and JetStream drops one copy. "one-dc": each
// event is in one cluster only. "no-recent-ids" turns off the set of
// acknowledged ids, so that every copy is published and JetStream alone
// drops them. events/s counts distinct events stored; ingest/floor is
// ingest's events/s over the floor's; cpu-µs/event is the CPU this whole
// process (nats-server, kfake, the mirror) used per distinct event, which
// varies less than throughput on a shared machine, and floor-cpu/cpu the
// floor's over ingest's; published/event is how many copies of each event
// ingest sent to JetStream (the floor sends every copy). Each iteration runs both, in
// alternating order, on the same Kafka clusters (a new consumer group each)
// and the same nats-server (the stream deleted in between).
//
//	go test ./ingest/mirror -run '^$' -bench 'Ingest$' -benchtime 3x
func BenchmarkIngest(b *testing.B) {
	recentIDs := service.DefaultConfig().RecentIDs
	for _, bc := range []struct {
		name      string
		clusters  []string
		recentIDs int
	}{{"both-dcs", dcs, recentIDs}, {"both-dcs-no-recent-ids", dcs, -1}, {"one-dc", []string{"eqiad"}, recentIDs}} {
		b.Run(bc.name, func(b *testing.B) {
			const perPartition = 12500 // × 2 origin DCs × 4 partitions = 100,000 events
			h := newHarness(b, 4, rc)
			recs := h.benchEvents(perPartition, 4)
			for i := 0; i < len(recs); i += 5000 {
				h.write(bc.clusters, recs[i:min(i+5000, len(recs))]...)
			}
			var published float64 // copies ingest published (the floor publishes every copy)
			runs := map[string]func() time.Duration{
				"ingest": func() time.Duration {
					opts := h.options()
					opts.RecentIDs = bc.recentIDs
					start := time.Now()
					r := h.start(opts)
					h.waitCount(b, len(recs))
					elapsed := time.Since(start)
					r.Stop()
					published += inproctest.Metric(r.Reg, "eventstreams_ingest_events_published_total") +
						inproctest.Metric(r.Reg, "eventstreams_ingest_duplicates_total")
					return elapsed
				},
				"floor": func() time.Duration {
					start := time.Now()
					stop := h.rawMirror(h.options().MaxInFlight)
					h.waitCount(b, len(recs))
					elapsed := time.Since(start)
					if err := stop(); err != nil {
						b.Fatalf("floor: %v", err)
					}
					return elapsed
				},
			}
			order := []string{"ingest", "floor"}
			total, cpu := map[string]time.Duration{}, map[string]time.Duration{}
			iter := 0
			for b.Loop() {
				for k := range order {
					name := order[(k+iter)%2]
					b.StopTimer()
					h.group = fmt.Sprintf("%s-%d", name, iter) // from the start of the topics
					h.deleteStream(b)
					b.StartTimer()
					cpu0 := cpuTime()
					total[name] += runs[name]()
					cpu[name] += cpuTime() - cpu0
				}
				iter++
			}
			events := float64(iter * len(recs))
			b.ReportMetric(events/total["ingest"].Seconds(), "events/s")
			b.ReportMetric(events/total["floor"].Seconds(), "floor-events/s")
			b.ReportMetric(total["floor"].Seconds()/total["ingest"].Seconds(), "ingest/floor")
			b.ReportMetric(float64(cpu["ingest"].Microseconds())/events, "cpu-µs/event")
			b.ReportMetric(float64(cpu["floor"].Microseconds())/events, "floor-cpu-µs/event")
			b.ReportMetric(cpu["floor"].Seconds()/cpu["ingest"].Seconds(), "floor-cpu/cpu")
			b.ReportMetric(published/events, "published/event")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// waitCount polls the stream until it holds n messages; it fails on more.
func (h *harness) waitCount(b testing.TB, n int) {
	for h.count() < n {
		time.Sleep(5 * time.Millisecond)
	}
	if got := h.count(); got != n {
		b.Fatalf("stored %d, want %d", got, n)
	}
}

// deleteStream deletes the stream, if there is one, and creates it anew
// as ingest does (inproctest.Recreate: past nats-server's own race with
// the deleted stream's files), so that a run starts from an empty stream
// and de-duplication window.
func (h *harness) deleteStream(b testing.TB) {
	ctx := context.Background()
	err := h.js.DeleteStream(ctx, h.layout.Stream)
	if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		b.Fatal(err)
	}
	inproctest.Recreate(b, func() error {
		_, err := mirror.EnsureStream(ctx, h.js, h.layout, h.options().Limits)
		return err
	})
}

// rawMirror starts the floor of BenchmarkIngest: a mirror that only copies
// bytes. It reads every cluster of h with franz-go, with ingest's client
// options (source.ClientOptions: the same fetch sizes and waits, a consumer
// group in h.group), polls as ingest does, and publishes each record's
// bytes as they came, to the subject and with the Nats-Msg-Id that ingest
// would give them, with nats.go's asynchronous publish and at most
// maxInFlight unacknowledged per cluster, on one NATS connection, into the
// stream created as ingest creates it. It does none of ingest's own work:
// no validation or enrichment (the wiki and meta.id are found by searching
// the bytes, which holds for the benchmark's events only), no other
// headers, no recent ids, no ordering, no retries, and it commits no
// offsets. stop ends it and reports whether any publish failed.
func (h *harness) rawMirror(maxInFlight int) (stop func() error) {
	h.t.Helper()
	nc, err := nats.Connect(h.natsURL, nats.ReconnectBufSize(-1), nats.MaxReconnects(-1),
		nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	opts := h.options()
	js, err := jetstream.New(nc)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := mirror.EnsureStream(ctx, js, h.layout, opts.Limits); err != nil {
		h.t.Fatal(err)
	}
	tokens := map[string]string{} // topic → stream token
	for _, t := range h.topics {
		tokens[t] = layout.StreamToken(t[strings.IndexByte(t, '.')+1:])
	}
	start, _ := source.ParseStart("earliest")
	var failed atomic.Int64
	var wg sync.WaitGroup
	for _, dc := range dcs {
		kopts, err := source.ClientOptions(source.Cluster{Name: dc, Brokers: h.kafka[dc].ListenAddrs()}, h.topics,
			h.consumerGroup(), start, source.Security{})
		if err != nil {
			h.t.Fatal(err)
		}
		cl, err := kgo.NewClient(kopts...)
		if err != nil {
			h.t.Fatal(err)
		}
		js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(maxInFlight),
			jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) { failed.Add(1) }))
		if err != nil {
			h.t.Fatal(err)
		}
		wg.Go(func() {
			defer cl.Close()
			for ctx.Err() == nil {
				cl.PollRecords(ctx, 1000).EachRecord(func(r *kgo.Record) {
					msg := &nats.Msg{
						Subject: h.layout.Subject(tokens[r.Topic], layout.WikiToken(rawField(r.Value, `"wiki":"`))),
						Data:    r.Value,
						Header:  nats.Header{layout.HeaderMsgID: {rawField(r.Value, `"id":"`)}},
					}
					if _, err := js.PublishMsgAsync(msg, jetstream.WithRetryAttempts(0), jetstream.WithStallWait(time.Minute)); err != nil {
						failed.Add(1)
					}
				})
			}
		})
	}
	return func() error {
		cancel()
		wg.Wait()
		nc.Close()
		if n := failed.Load(); n > 0 {
			return fmt.Errorf("%d publishes failed", n)
		}
		return nil
	}
}

// rawField is the string value that follows key (which ends with its
// opening quote) in v, by search: no JSON parsing.
func rawField(v []byte, key string) string {
	i := bytes.Index(v, []byte(key))
	if i < 0 {
		return ""
	}
	v = v[i+len(key):]
	return string(v[:bytes.IndexByte(v, '"')])
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
