package mirror_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/service"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

const rc = "mediawiki.recentchange"

// events makes n events per partition for each stream originating in each DC.
func (h *harness) events(streams []string, partitions int32, from, n int, noID bool) []record {
	var out []record
	for _, s := range streams {
		for _, dc := range dcs {
			for p := int32(0); p < partitions; p++ {
				for i := from; i < from+n; i++ {
					out = append(out, h.event(s, dc, p, i, noID))
				}
			}
		}
	}
	return out
}

func TestExactlyOnceAcrossDatacenters(t *testing.T) {
	for _, tc := range []struct {
		name      string
		recentIDs int
	}{{"skipping known copies", service.DefaultConfig().RecentIDs}, {"JetStream de-dup alone", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			streams := []string{rc, "mediawiki.page-create"}
			h := newHarness(t, 2, streams...)
			want := h.events(streams, 2, 0, 50, false)
			h.write(dcs, want...) // every event in both clusters, as MirrorMaker leaves it
			opts := h.options()
			opts.RecentIDs = tc.recentIDs
			r := h.start(opts)
			msgs := h.waitStored(len(want), 30*time.Second)
			h.checkExactlyOnce(msgs, want)
			if len(msgs) != len(want) {
				t.Errorf("%d messages stored, want %d", len(msgs), len(want))
			}
			r.Stop()
			if got := inproctest.Metric(r.Reg, "eventstreams_ingest_records_consumed_total"); got != float64(2*len(want)) {
				t.Errorf("records consumed %v, want %d (each event from both clusters)", got, 2*len(want))
			}
			published := inproctest.Metric(r.Reg, "eventstreams_ingest_events_published_total")
			skipped := inproctest.Metric(r.Reg, "eventstreams_ingest_duplicates_skipped_total")
			dups := inproctest.Metric(r.Reg, "eventstreams_ingest_duplicates_total") + skipped
			if published != float64(len(want)) || dups != float64(len(want)) {
				t.Errorf("published %v duplicates (dropped by JetStream or skipped) %v, want %d each", published, dups, len(want))
			}
			if tc.recentIDs < 0 && skipped != 0 {
				t.Errorf("%v copies skipped with the recent-id set disabled", skipped)
			}
		})
	}
}

func TestEventsWithoutMetaIDAreDeduplicatedByContent(t *testing.T) {
	h := newHarness(t, 1, rc)
	want := h.events([]string{rc}, 1, 0, 30, true)
	h.write(dcs, want...)
	h.start(h.options())
	msgs := h.waitStored(len(want), 30*time.Second)
	h.checkExactlyOnce(msgs, want)
	if len(msgs) != len(want) {
		t.Errorf("%d messages stored, want %d", len(msgs), len(want))
	}
}

func TestBadRecordsAreDeadLettered(t *testing.T) {
	h := newHarness(t, 1, rc)
	opts := h.options()
	opts.MaxEventBytes = 4096
	opts.DeadLetterBytes = 100
	bad := []struct {
		reason string
		value  []byte
	}{
		{"invalid_json", []byte(`{"meta":{"id":"x"`)},
		{"not_object", []byte(`12345`)},
		{"not_object", []byte(`["a"]`)},
		{"invalid_utf8", []byte("{\"wiki\":\"\xc3\x28\"}")},
		{"empty", []byte{}},
		{"too_large", []byte(`{"big":"` + strings.Repeat("x", 5000) + `"}`)},
		{"meta_not_object", []byte(`{"meta":"x"}`)},
	}
	var want []record
	var recs []record
	for i, b := range bad {
		recs = append(recs, record{topic: "eqiad." + rc, value: b.value, ts: h.epochMs + int64(i)})
		good := h.event(rc, "eqiad", 0, i, false)
		recs = append(recs, good)
		want = append(want, good)
	}
	h.write([]string{"eqiad"}, recs...) // only in eqiad: each bad record is read once
	r := h.start(opts)
	msgs := h.waitStored(len(recs), 30*time.Second)
	h.checkExactlyOnce(msgs, want)

	var dead []stored
	for _, m := range msgs {
		if strings.HasPrefix(m.subject, "eventstreams._deadletter.") {
			dead = append(dead, m)
		}
	}
	if len(dead) != len(bad) {
		t.Fatalf("%d dead letters, want %d", len(dead), len(bad))
	}
	for i, d := range dead {
		b := bad[i]
		if d.subject != "eventstreams._deadletter.mediawiki_recentchange" {
			t.Errorf("dead letter %d: subject %s", i, d.subject)
		}
		if got := d.header.Get(layout.HeaderReason); got != b.reason {
			t.Errorf("dead letter %d: reason %q, want %q", i, got, b.reason)
		}
		wantData := b.value
		if len(wantData) > 100 {
			wantData = wantData[:100]
			if d.header.Get(layout.HeaderTruncated) != "true" {
				t.Errorf("dead letter %d: truncation not flagged", i)
			}
		}
		if !bytes.Equal(d.data, wantData) {
			t.Errorf("dead letter %d: payload %q, want %q", i, d.data, wantData)
		}
		if d.header.Get(layout.HeaderSize) != strconv.Itoa(len(b.value)) || d.header.Get(layout.HeaderTopic) != "eqiad."+rc ||
			d.header.Get(layout.HeaderOffset) != strconv.Itoa(2*i) || d.header.Get(layout.HeaderCluster) != "eqiad" {
			t.Errorf("dead letter %d: coordinates %v", i, d.header)
		}
	}
	r.Stop()
	for _, reason := range []string{"invalid_json", "not_object", "invalid_utf8", "empty", "too_large", "meta_not_object"} {
		want := 1.0
		if reason == "not_object" {
			want = 2
		}
		if got := inproctest.Metric(r.Reg, "eventstreams_ingest_deadletters_total", "reason", reason, "cluster", "eqiad"); got != want {
			t.Errorf("deadletters_total{reason=%s} = %v, want %v", reason, got, want)
		}
	}
}

func TestOneClusterDown(t *testing.T) {
	h := newHarness(t, 2, rc)
	before := h.events([]string{rc}, 2, 0, 20, false)
	h.write(dcs, before...)
	r := h.start(h.options())
	h.checkExactlyOnce(h.waitStored(len(before), 30*time.Second), before)
	eqiadRead := func() float64 {
		return inproctest.Metric(r.Reg, "eventstreams_ingest_records_consumed_total", "cluster", "eqiad")
	}
	inproctest.WaitFor(t, 10*time.Second, func() bool { return eqiadRead() == float64(len(before)) })

	// eqiad becomes unreachable. Events produced in codfw meanwhile are
	// read from codfw alone.
	h.down["eqiad"].set(true)
	var during []record
	for p := int32(0); p < 2; p++ {
		for i := 100; i < 120; i++ {
			during = append(during, h.event(rc, "codfw", p, i, false))
		}
	}
	h.write([]string{"codfw"}, during...)
	all := append(append([]record{}, before...), during...)
	h.checkExactlyOnce(h.waitStored(len(all), 30*time.Second), all)
	if got := eqiadRead(); got != float64(len(before)) {
		t.Fatalf("eqiad read %v records while down", got)
	}

	// eqiad returns; MirrorMaker copies the codfw events it missed, and new
	// events flow in both clusters. Nothing lost, nothing doubled.
	h.down["eqiad"].set(false)
	h.write([]string{"eqiad"}, during...)
	after := h.events([]string{rc}, 2, 200, 20, false)
	h.write(dcs, after...)
	all = append(all, after...)
	h.waitStored(len(all), 60*time.Second)
	// The eqiad consumer catches up on what it missed: all duplicates.
	// (At least: what it read before going down may not all be committed.)
	inproctest.WaitFor(t, 60*time.Second, func() bool { return eqiadRead() >= float64(len(before)+len(during)+len(after)) })
	msgs := h.storedMsgs()
	h.checkExactlyOnce(msgs, all)
	if len(msgs) != len(all) {
		t.Errorf("%d messages stored, want %d", len(msgs), len(all))
	}
}

func TestRestartResumesFromCommittedOffsets(t *testing.T) {
	h := newHarness(t, 2, rc)
	first := h.events([]string{rc}, 2, 0, 40, false)
	h.write(dcs, first...)
	r := h.start(h.options())
	h.waitStored(len(first), 30*time.Second)
	r.Stop() // clean: drains, commits, leaves the group

	second := h.events([]string{rc}, 2, 100, 40, false)
	h.write(dcs, second...)
	r = h.start(h.options())
	all := append(append([]record{}, first...), second...)
	msgs := h.waitStored(len(all), 30*time.Second)
	h.checkExactlyOnce(msgs, all)
	r.Stop()
	if got := inproctest.Metric(r.Reg, "eventstreams_ingest_records_consumed_total"); got != float64(2*len(second)) {
		t.Errorf("after a clean restart %v records were read, want %d: the shutdown did not commit", got, 2*len(second))
	}
}

// TestTwoIngestsAtOnce runs a rolling restart while events flow: a second
// ingest joins the group, the first leaves, a third joins. Every event is
// stored once and each partition keeps its order.
func TestTwoIngestsAtOnce(t *testing.T) {
	const partitions = 4
	h := newHarness(t, partitions, rc)
	opts := h.options()
	var all []record
	batch := 0
	produce := func(n int) {
		for range n {
			recs := h.events([]string{rc}, partitions, batch*10, 10, false)
			h.write(dcs, recs...)
			all = append(all, recs...)
			batch++
			time.Sleep(10 * time.Millisecond)
		}
	}
	consumed := func(r *running) float64 {
		return inproctest.Metric(r.Reg, "eventstreams_ingest_records_consumed_total")
	}
	// produceUntil keeps events flowing until cond holds (a rebalance done).
	produceUntil := func(what string, cond func() bool) {
		t.Helper()
		for i := 0; !cond(); i++ {
			if i == 1000 {
				t.Fatalf("%s: not after 1000 batches", what)
			}
			produce(1)
		}
	}
	a := h.start(opts)
	produce(5)
	b := h.start(opts)
	produceUntil("the second ingest shares the partitions", func() bool { return consumed(b) > 0 })
	produce(5)
	a.Stop()
	produce(5)
	c := h.start(opts)
	produceUntil("the third ingest shares the partitions", func() bool { return consumed(c) > 0 })
	produce(5)
	h.waitStored(len(all), 60*time.Second)
	time.Sleep(time.Second)
	msgs := h.storedMsgs()
	h.checkExactlyOnce(msgs, all)
	if len(msgs) != len(all) {
		t.Errorf("%d messages stored, want %d", len(msgs), len(all))
	}
	b.Stop()
	c.Stop()
}

// TestNATSRestartMidStream restarts the NATS server (same port, same store)
// while events flow: publishes fail, are retried in order, and every event
// is stored once, in partition order.
func TestNATSRestartMidStream(t *testing.T) {
	const partitions = 2
	h := newHarness(t, partitions, rc)
	r := h.start(h.options())
	var all []record
	batch := 0
	produce := func(n int) {
		for range n {
			recs := h.events([]string{rc}, partitions, batch*20, 20, false)
			h.write(dcs, recs...)
			all = append(all, recs...)
			batch++
			time.Sleep(5 * time.Millisecond)
		}
	}
	produce(10)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		time.Sleep(30 * time.Millisecond)
		h.restartNATS(300 * time.Millisecond)
	}()
	produce(30)
	<-stopped
	produce(10)
	h.waitStored(len(all), 60*time.Second)
	time.Sleep(time.Second)
	msgs := h.storedMsgs()
	h.checkExactlyOnce(msgs, all)
	if len(msgs) != len(all) {
		t.Errorf("%d messages stored, want %d", len(msgs), len(all))
	}
	r.Stop()
	if retries := inproctest.Metric(r.Reg, "eventstreams_ingest_publish_retries_total"); retries == 0 {
		t.Error("no publish was retried: the restart did not interrupt publishing, so this test proved nothing")
	}
}

func TestDeletedStreamIsRecreated(t *testing.T) {
	h := newHarness(t, 1, rc)
	first := h.events([]string{rc}, 1, 0, 10, false)
	h.write(dcs, first...)
	h.start(h.options())
	h.waitStored(len(first), 30*time.Second)
	if err := h.js.DeleteStream(context.Background(), h.layout.Stream); err != nil {
		t.Fatal(err)
	}
	second := h.events([]string{rc}, 1, 100, 10, false)
	h.write(dcs, second...)
	msgs := h.waitStored(len(second), 30*time.Second)
	h.checkExactlyOnce(msgs, second)
}

// TestStopWhileClusterDown checks that a shutdown does not hang on a
// cluster that cannot be reached to commit or leave the group.
func TestStopWhileClusterDown(t *testing.T) {
	h := newHarness(t, 1, rc)
	want := h.events([]string{rc}, 1, 0, 10, false)
	h.write(dcs, want...)
	opts := h.options()
	opts.ShutdownTimeout = 3 * time.Second
	r := h.start(opts)
	h.waitStored(len(want), 30*time.Second)
	h.down["eqiad"].set(true)
	start := time.Now()
	r.Stop()
	t.Logf("stopped in %v with eqiad down", time.Since(start))
}
