package relay_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/input"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/mirror"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/mirror/mirrortest"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/relay"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/service"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// world is a nats-server with JetStream and the recentchange stream's
// catalog: what a relay writes to.
type world struct {
	t   testing.TB
	ns  *server.Server
	js  jetstream.JetStream
	cat *catalog.Catalog
}

func newWorld(t testing.TB) *world {
	ns, js := inproctest.NATS(t, false)
	full, _ := catalog.Builtin(nil)
	cat, err := full.Narrow([]string{"mediawiki.recentchange"})
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, ns: ns, js: js, cat: cat}
}

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// running is a mirror of relay sources.
type running = mirrortest.Running

// start runs a mirror reading the upstreams, with short timeouts.
func (w *world) start(urls ...string) *running {
	w.t.Helper()
	nc := mirrortest.Connect(w.t, w.ns.ClientURL())
	var sources []input.Opener
	for _, u := range urls {
		up, err := relay.New(relay.Options{URL: u, Catalog: w.cat, UserAgent: "relay-test/1 (https://example.org)",
			Bucket: layout.Default().RelayBucket(), IdleTimeout: 300 * time.Millisecond,
			MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, CommitInterval: 50 * time.Millisecond}, nc)
		if err != nil {
			w.t.Fatal(err)
		}
		sources = append(sources, up)
	}
	d := service.DefaultConfig()
	return mirrortest.Start(w.t, mirror.Options{Layout: layout.Default(), Catalog: w.cat, Sources: sources,
		Limits:      layout.Limits{MaxAge: time.Hour, DuplicateWindow: 10 * time.Minute, Replicas: 1},
		MaxInFlight: d.MaxInFlight, MaxEventBytes: d.MaxEventBytes, RecentIDs: d.RecentIDs, ShutdownTimeout: d.ShutdownTimeout,
	}, nc, testLogger(), 30*time.Second)
}

// msg is a stored message.
type msg struct {
	subject string
	data    string
	header  nats.Header
}

// stored reads every message of the stream.
func (w *world) stored() []msg {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := w.js.Stream(ctx, layout.DefaultStream)
	if err != nil {
		return nil
	}
	info, err := s.Info(ctx)
	if err != nil || info.State.Msgs == 0 {
		return nil
	}
	var out []msg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			w.t.Fatalf("seq %d: %v", seq, err)
		}
		out = append(out, msg{subject: m.Subject, data: string(m.Data), header: m.Header})
	}
	return out
}

// events counts the stored events (not dead letters).
func (w *world) events() int {
	ctx := context.Background()
	s, err := w.js.Stream(ctx, layout.DefaultStream)
	if err != nil {
		return 0
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter("eventstreams.mediawiki_recentchange.>"))
	if err != nil {
		return 0
	}
	n := 0
	for _, c := range info.State.Subjects {
		n += int(c)
	}
	return n
}

// checkOnce checks that the stored events are exactly want (meta.id →
// data), each once and byte for byte as served, with the headers of the
// relay, and returns the dead letters.
func (w *world) checkOnce(want map[string]string, cluster ...string) []msg {
	w.t.Helper()
	var dead []msg
	seen := map[string]bool{}
	for _, m := range w.stored() {
		if strings.Contains(m.subject, layout.DeadLetterToken) {
			dead = append(dead, m)
			continue
		}
		id := m.header.Get(layout.HeaderMsgID)
		data, ok := want[id]
		if !ok {
			continue // not one of the events checked (e.g. one without meta.id)
		}
		if seen[id] {
			w.t.Errorf("event %s stored twice", id)
		}
		seen[id] = true
		if m.data != data {
			w.t.Errorf("event %s: stored\n%s\nserved\n%s", id, m.data, data)
		}
		if got := m.header.Get(layout.HeaderTopic); !strings.HasSuffix(got, ".mediawiki.recentchange") || !strings.Contains(data, `"topic":"`+got+`"`) {
			w.t.Errorf("event %s: Es-Topic %q", id, got)
		}
		if m.header.Get(layout.HeaderOffset) == "" || m.header.Get(layout.HeaderTimestamp) == "" {
			w.t.Errorf("event %s: headers %v", id, m.header)
		}
		if len(cluster) > 0 && !contains(cluster, m.header.Get(layout.HeaderCluster)) {
			w.t.Errorf("event %s: Es-Cluster %q, want one of %v", id, m.header.Get(layout.HeaderCluster), cluster)
		}
	}
	missing := 0
	for id := range want {
		if !seen[id] {
			missing++
		}
	}
	if missing > 0 {
		w.t.Errorf("%d of %d events missing", missing, len(want))
	}
	return dead
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func host(u string) string { return strings.TrimPrefix(u, "http://") }

func TestExactlyOnceThroughCutsRetryAfterAndStalls(t *testing.T) {
	w := newWorld(t)
	f := newFakeES(t, 1)
	// Every connection is cut after 7 events, mid-event (cleanly or not);
	// the first answers 429 with Retry-After: 1, the fourth stalls.
	f.setFaults(7, fault429, faultNone, faultNone, faultStall)
	r := w.start(f.url())
	inproctest.WaitFor(t, 10*time.Second, func() bool { return f.streaming() >= 1 })
	for range 10 {
		f.add(15)
	}
	want := f.all()
	inproctest.WaitFor(t, 60*time.Second, func() bool { return w.events() >= len(want) })
	r.Stop()
	w.checkOnce(want, host(f.url()))
	// What KafkaSSE's resume by timestamp costs: every reconnect sends the
	// rest of the last event's millisecond again, dropped by de-duplication.
	t.Logf("%d events through %d connections; %v repeats dropped by de-duplication", len(want), f.connections(),
		inproctest.Metric(r.Reg, "eventstreams_ingest_duplicates_total")+inproctest.Metric(r.Reg, "eventstreams_ingest_duplicates_skipped_total"))
	for _, reason := range []string{"cut", "network", "status_429", "idle"} {
		if n := inproctest.Metric(r.Reg, "eventstreams_ingest_upstream_reconnects_total", "reason", reason); n < 1 {
			t.Errorf("reconnects for %s: %v", reason, n)
		}
	}
	if inproctest.Metric(r.Reg, "eventstreams_ingest_upstream_bytes_total") <= 0 {
		t.Error("no bytes counted")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ua := range f.agents {
		if ua != "relay-test/1 (https://example.org)" {
			t.Errorf("User-Agent %q", ua)
		}
	}
}

func TestRestartResumesFromTheStoredPosition(t *testing.T) {
	w := newWorld(t)
	f := newFakeES(t, 2)
	r := w.start(f.url())
	inproctest.WaitFor(t, 10*time.Second, func() bool { return f.streaming() >= 1 })
	f.add(20)
	inproctest.WaitFor(t, 30*time.Second, func() bool { return w.events() >= 20 })
	r.Stop()
	f.add(20) // while ingest is down
	r = w.start(f.url())
	inproctest.WaitFor(t, 10*time.Second, func() bool { return f.streaming() >= 2 })
	f.add(20)
	want := f.all()
	inproctest.WaitFor(t, 30*time.Second, func() bool { return w.events() >= len(want) })
	r.Stop()
	w.checkOnce(want)
	f.mu.Lock()
	h := f.headers[len(f.headers)-1]
	f.mu.Unlock()
	if !strings.Contains(h, `"timestamp"`) || strings.Contains(h, `"offset"`) {
		t.Errorf("resumed with Last-Event-ID %s, want timestamps only", h)
	}
}

func TestTwoUpstreamsStoreEachEventOnce(t *testing.T) {
	w := newWorld(t)
	f := newFakeES(t, 1)
	f.setFaults(11)
	other := f.second()
	r := w.start(f.url(), other)
	inproctest.WaitFor(t, 10*time.Second, func() bool { return f.streaming() >= 2 })
	for range 5 {
		f.add(20)
	}
	want := f.all()
	inproctest.WaitFor(t, 30*time.Second, func() bool { return w.events() >= len(want) })
	// Both upstreams delivered everything: stopped only then, so that each
	// had the chance to store a copy.
	inproctest.WaitFor(t, 30*time.Second, func() bool {
		return inproctest.Metric(r.Reg, "eventstreams_ingest_records_consumed_total", "cluster", host(other)) >= float64(len(want)) &&
			inproctest.Metric(r.Reg, "eventstreams_ingest_records_consumed_total", "cluster", host(f.url())) >= float64(len(want))
	})
	r.Stop()
	w.checkOnce(want, host(f.url()), host(other))
}

func TestBadInputIsDeadLetteredOrRetried(t *testing.T) {
	w := newWorld(t)
	f := newFakeES(t, 1)
	r := w.start(f.url())
	inproctest.WaitFor(t, 10*time.Second, func() bool { return f.streaming() >= 1 })
	f.add(3)
	f.addRaw("not json", false)
	f.addRaw(`{"meta":{"stream":"mediawiki.recentchange","dt":"2024-01-01T00:00:00Z"},"wiki":"enwiki","n":1}`, false) // no meta.id
	f.addRaw(`{"meta":"x"}`, false)
	f.addRaw(":a comment\nno colon here\nretry: soon\nid: a\x00b\nevent: message\n\n", true)                   // malformed SSE, no data: nothing
	f.addRaw("event: message\ndata: {\"meta\":{\"stream\":\"mediawiki.page-create\",\"id\":\"y\"}}\n\n", true) // a stream not asked for: skipped
	f.add(3)
	inproctest.WaitFor(t, 30*time.Second, func() bool {
		return inproctest.Metric(r.Reg, "eventstreams_ingest_deadletters_total") >= 2 && w.events() >= 13
	})
	// An HTML page, a 500 and an error event instead of a stream: retried.
	f.setFaults(0, faultHTML, fault500, faultErrorEvent)
	f.mu.Lock()
	f.notify() // nothing new; the next cut reconnects
	f.mu.Unlock()
	f.srv.CloseClientConnections()
	inproctest.WaitFor(t, 30*time.Second, func() bool { return f.streaming() >= 2 })
	f.add(3)
	want := f.all()
	inproctest.WaitFor(t, 30*time.Second, func() bool { return w.events() >= len(want)+1 })
	r.Stop()
	dead := w.checkOnce(want)
	reasons := map[string]int{}
	for _, m := range dead {
		reasons[m.header.Get(layout.HeaderReason)]++
	}
	// At least once each: a reconnect may read a bad record again, and its
	// dead letter's id is the source's offset, not the upstream's.
	if reasons["invalid_json"] < 1 || reasons["meta_not_object"] < 1 || len(reasons) != 2 {
		t.Errorf("dead letters by reason: %v", reasons)
	}
	for _, reason := range []string{"not_sse", "status_5xx", "error_event"} {
		if n := inproctest.Metric(r.Reg, "eventstreams_ingest_upstream_reconnects_total", "reason", reason); n < 1 {
			t.Errorf("reconnects for %s: %v", reason, n)
		}
	}
	if w.events() != len(want)+1 { // and the event without meta.id, by its content hash
		t.Errorf("%d events stored, want %d", w.events(), len(want)+1)
	}
}
