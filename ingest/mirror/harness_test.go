package mirror_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc"
	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/input"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/mirror"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/mirror/mirrortest"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/service"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/source"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/envelope"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

var dcs = []string{"eqiad", "codfw"}

// harness is an in-process world: a nats-server with JetStream and two
// Kafka clusters, eqiad and codfw, each holding both DCs' topics of the
// streams under test, as MirrorMaker leaves them.
type harness struct {
	t       testing.TB
	ns      *server.Server // nil when the harness runs on a cluster
	natsURL string
	js      jetstream.JetStream
	kafka   map[string]*kfake.Cluster
	produce map[string]*kgo.Client
	down    map[string]*downSwitch
	cat     *catalog.Catalog
	layout  layout.Layout
	topics  []string
	epochMs int64
	group   string // the consumer group of options ("ingest-test" when empty)
}

func newHarness(t testing.TB, partitions int32, streams ...string) *harness {
	t.Helper()
	ns, js := inproctest.NATS(t, false) // ingest creates the stream
	h := newHarnessOn(t, js, ns.ClientURL(), partitions, streams...)
	h.ns = ns
	return h
}

// newHarnessOn is newHarness on NATS servers that the caller started: js
// reads the stream back, natsURL is what the mirror connects to.
func newHarnessOn(t testing.TB, js jetstream.JetStream, natsURL string, partitions int32, streams ...string) *harness {
	t.Helper()
	full, _ := catalog.Builtin(nil)
	cat, err := full.Narrow(streams)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{
		t: t, natsURL: natsURL, js: js, cat: cat,
		kafka: map[string]*kfake.Cluster{}, produce: map[string]*kgo.Client{}, down: map[string]*downSwitch{},
		layout: layout.Default(),
		topics: cat.Topics(), epochMs: time.Date(2024, 4, 4, 13, 20, 26, 0, time.UTC).UnixMilli(),
	}
	for _, dc := range dcs {
		c, err := inproc.StartKafka(inproc.KafkaOptions{Topics: h.topics, Partitions: partitions})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		sw := &downSwitch{c: c}
		c.Control(sw.control)
		h.kafka[dc], h.down[dc] = c, sw
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
			kgo.ProducerLinger(0))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		h.produce[dc] = cl
	}
	return h
}

// restartNATS shuts the NATS server down, waits, and starts a new one on
// the same port and store.
func (h *harness) restartNATS(pause time.Duration) {
	opts := h.ns.JetStreamConfig()
	port := h.ns.Addr().(*net.TCPAddr).Port
	h.ns.Shutdown()
	h.ns.WaitForShutdown()
	time.Sleep(pause)
	ns, err := inproc.StartNATS(inproc.NATSOptions{StoreDir: opts.StoreDir, Port: port})
	if err != nil {
		h.t.Error(err)
		return
	}
	h.ns = ns
	h.t.Cleanup(ns.Shutdown)
}

// downSwitch makes a kfake cluster drop every connection while it is down.
type downSwitch struct {
	c    *kfake.Cluster
	mu   sync.Mutex
	isDn bool
}

func (s *downSwitch) set(down bool) { s.mu.Lock(); s.isDn = down; s.mu.Unlock() }

func (s *downSwitch) control(kmsg.Request) (kmsg.Response, error, bool) {
	s.c.KeepControl()
	s.mu.Lock()
	down := s.isDn
	s.mu.Unlock()
	if down {
		return nil, errors.New("cluster down"), true
	}
	return nil, nil, false
}

// options are the mirror's options for this world, reading both clusters
// from the start, with ingest's default tuning.
func (h *harness) options() mirror.Options {
	h.t.Helper()
	start, _ := source.ParseStart("earliest")
	var sources []input.Opener
	for _, dc := range dcs {
		k, err := source.NewKafka(source.Cluster{Name: dc, Brokers: h.kafka[dc].ListenAddrs()}, h.topics,
			h.consumerGroup(), start, source.Security{})
		if err != nil {
			h.t.Fatal(err)
		}
		sources = append(sources, k)
	}
	d := service.DefaultConfig()
	return mirror.Options{
		Layout: h.layout, Catalog: h.cat, Sources: sources,
		Limits:      layout.Limits{MaxAge: time.Hour, DuplicateWindow: 10 * time.Minute, Replicas: 1},
		MaxInFlight: d.MaxInFlight, MaxEventBytes: d.MaxEventBytes, RecentIDs: d.RecentIDs, ShutdownTimeout: d.ShutdownTimeout,
	}
}

// consumerGroup is the group the mirror of options reads with.
func (h *harness) consumerGroup() source.Group {
	name := h.group
	if name == "" {
		name = "ingest-test"
	}
	return source.Group{Name: name, SessionTimeout: 6 * time.Second}
}

// running is a mirror started by start.
type running = mirrortest.Running

func (h *harness) start(opts mirror.Options) *running {
	h.t.Helper()
	return mirrortest.Start(h.t, opts, mirrortest.Connect(h.t, h.natsURL), testLogger(h.t), 60*time.Second)
}

func testLogger(testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// record is one produced Kafka record, and where it was produced.
type record struct {
	topic     string
	partition int32
	value     []byte
	ts        int64 // ms
}

// event builds an event of stream, originating in dc, numbered n within its
// partition, with meta.id unless noID.
func (h *harness) event(stream, dc string, partition int32, n int, noID bool) record {
	id := ""
	if !noID {
		id = fmt.Sprintf(`"id":"%s-%s-%d-%06d",`, dc, stream, partition, n)
	}
	wiki := []string{"enwiki", "dewiki", "wikidatawiki", "commonswiki"}[n%4]
	v := fmt.Sprintf(`{"$schema":"/mediawiki/recentchange/1.0.0","meta":{%s"dt":"2024-04-04T13:20:26Z","domain":"canary","stream":%q},"n":%d,"p":%d,"dc":%q,"wiki":%q,"parsedcomment":"<span dir=\"auto\">x &amp; y</span>"}`,
		id, stream, n, partition, dc, wiki)
	return record{topic: dc + "." + stream, partition: partition, value: []byte(v), ts: h.epochMs + int64(n)}
}

// write produces records to the given clusters, in order, synchronously.
func (h *harness) write(clusters []string, recs ...record) {
	h.t.Helper()
	for _, dc := range clusters {
		krs := make([]*kgo.Record, len(recs))
		for i, r := range recs {
			krs[i] = &kgo.Record{Topic: r.topic, Partition: r.partition, Value: r.value, Timestamp: time.UnixMilli(r.ts)}
		}
		if err := h.produce[dc].ProduceSync(context.Background(), krs...).FirstErr(); err != nil {
			h.t.Fatalf("produce to %s: %v", dc, err)
		}
	}
}

// stored is one message read back from JetStream.
type stored struct {
	seq     uint64
	subject string
	data    []byte
	header  nats.Header
}

// storedMsgs reads every message of the stream, in sequence order.
func (h *harness) storedMsgs() []stored {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := h.js.Stream(ctx, h.layout.Stream)
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []stored
	if info.State.Msgs == 0 {
		return out
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		h.t.Fatal(err)
	}
	for len(out) == 0 || out[len(out)-1].seq < info.State.LastSeq {
		want := min(1000, int(info.State.Msgs)-len(out)) // Fetch waits until it has this many
		batch, err := cons.Fetch(max(want, 1), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			h.t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			md, _ := m.Metadata()
			out = append(out, stored{seq: md.Sequence.Stream, subject: m.Subject(), data: m.Data(), header: m.Headers()})
			n++
		}
		if batch.Error() != nil || n == 0 {
			h.t.Fatalf("reading the stream after %d messages: %v", len(out), batch.Error())
		}
	}
	return out
}

// count is the number of messages in the stream (0 when it does not exist).
func (h *harness) count() int {
	ctx := context.Background()
	s, err := h.js.Stream(ctx, h.layout.Stream)
	if err != nil {
		return 0
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0
	}
	return int(info.State.Msgs)
}

// waitStored waits until the stream holds at least n messages, then a
// little longer, and returns them all: the caller checks for extras.
func (h *harness) waitStored(n int, timeout time.Duration) []stored {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for h.count() < n {
		if time.Now().After(deadline) {
			h.t.Fatalf("JetStream holds %d messages after %v, want %d", h.count(), timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // let duplicates, if any, arrive
	return h.storedMsgs()
}

// checkExactlyOnce checks that msgs are exactly the events in want (by
// meta.id), each enriched correctly, and that each partition's events are
// in order.
func (h *harness) checkExactlyOnce(msgs []stored, want []record) {
	h.t.Helper()
	byID := map[string]record{}
	for _, r := range want {
		byID[dedupID(r)] = r
	}
	seen := map[string]bool{}
	lastN := map[string]int{}
	for _, m := range msgs {
		if strings.Contains(m.subject, layout.DeadLetterToken) {
			continue
		}
		id := m.header.Get(layout.HeaderMsgID)
		r, ok := byID[id]
		if !ok {
			h.t.Errorf("seq %d: unexpected message id %q on %s", m.seq, id, m.subject)
			continue
		}
		if seen[id] {
			h.t.Errorf("seq %d: event %s stored twice", m.seq, id)
			continue
		}
		seen[id] = true
		h.checkEnriched(m, r)
		key := r.topic + "/" + strconv.Itoa(int(r.partition))
		n := fieldInt(r.value, `"n":`)
		if prev, ok := lastN[key]; ok && n <= prev {
			h.t.Errorf("seq %d: partition %s out of order: event %d after %d", m.seq, key, n, prev)
		}
		lastN[key] = n
	}
	if len(seen) != len(byID) {
		missing := 0
		for id := range byID {
			if !seen[id] {
				missing++
				if missing <= 5 {
					h.t.Errorf("event %s is missing", id)
				}
			}
		}
		h.t.Errorf("%d of %d events missing", missing, len(byID))
	}
}

// checkEnriched checks one stored event: subject, headers, and the payload
// equal to the produced bytes with exactly meta.topic, meta.partition and
// meta.offset added at the end of meta.
func (h *harness) checkEnriched(m stored, r record) {
	h.t.Helper()
	stream := r.topic[strings.Index(r.topic, ".")+1:]
	wiki := fieldString(r.value, `"wiki":`)
	if want := h.layout.Subject(layout.StreamToken(stream), wiki); m.subject != want {
		h.t.Errorf("seq %d: subject %s, want %s", m.seq, m.subject, want)
	}
	cluster := m.header.Get(layout.HeaderCluster)
	if cluster != "eqiad" && cluster != "codfw" {
		h.t.Errorf("seq %d: cluster header %q", m.seq, cluster)
	}
	if got := m.header.Get(layout.HeaderTopic); got != r.topic {
		h.t.Errorf("seq %d: topic header %q, want %q", m.seq, got, r.topic)
	}
	if got := m.header.Get(layout.HeaderPartition); got != strconv.Itoa(int(r.partition)) {
		h.t.Errorf("seq %d: partition header %q, want %d", m.seq, got, r.partition)
	}
	if got := m.header.Get(layout.HeaderTimestamp); got != strconv.FormatInt(r.ts, 10) {
		h.t.Errorf("seq %d: timestamp header %q, want %d", m.seq, got, r.ts)
	}
	offset := m.header.Get(layout.HeaderOffset)
	streamMember := fmt.Sprintf(`"stream":%q}`, stream)
	want := strings.Replace(string(r.value), streamMember,
		fmt.Sprintf(`"stream":%q,"topic":%q,"partition":%d,"offset":%s}`, stream, r.topic, r.partition, offset), 1)
	if string(m.data) != want {
		h.t.Errorf("seq %d: payload\n got %s\nwant %s", m.seq, m.data, want)
	}
}

// dedupID is the id JetStream should de-duplicate r by: meta.id, or the
// content hash of the contract for events without one.
func dedupID(r record) string {
	stream := r.topic[strings.Index(r.topic, ".")+1:]
	return envelope.DedupID(stream, r.value, envelope.Fields{MetaID: fieldString(r.value, `"id":`)})
}

func fieldString(v []byte, key string) string {
	s := string(v)
	i := strings.Index(s, key)
	if i < 0 {
		return ""
	}
	s = s[i+len(key)+1:]
	return s[:strings.IndexByte(s, '"')]
}

func fieldInt(v []byte, key string) int {
	s := string(v)
	i := strings.Index(s, key)
	s = s[i+len(key):]
	j := strings.IndexAny(s, ",}")
	n, _ := strconv.Atoi(s[:j])
	return n
}
