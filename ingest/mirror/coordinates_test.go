package mirror

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/input"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// BenchmarkSetCoordinates sets the headers of reused entries, as prepare
// does for each event, cycling through as many entries as ingest keeps in
// flight by default (so mostly out of the CPU's caches, as in ingest).
func BenchmarkSetCoordinates(b *testing.B) {
	p := &pipeline{cluster: "eqiad"}
	entries := make([]*entry, 2048)
	for i := range entries {
		entries[i] = p.newEntry()
		entries[i].tp = input.Partition{Topic: "eqiad.mediawiki.recentchange", Partition: 3}
	}
	ts := time.UnixMilli(1712236826000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e := entries[i%len(entries)]
		e.pos.Offset = int64(i)
		p.setCoordinates(e, ts.Add(time.Duration(i)*time.Millisecond), "69e29d65-8110-40b7-a82f-3c3010061a3b")
		i++
	}
}

// TestReusedEntriesAreFresh prepares a sequence of records (events, dead
// letters, relayed events with and without each origin coordinate) with
// one entry reused throughout, as ingest reuses entries, and checks that
// each message is exactly the one a new entry would have carried: the
// headers that setCoordinates sets in place must never be stale or missing.
func TestReusedEntriesAreFresh(t *testing.T) {
	newPipeline := func() *pipeline {
		met, err := newMetrics(prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		si := &streamInfo{name: "mediawiki.recentchange", token: layout.StreamToken("mediawiki.recentchange")}
		m := &Mirror{opts: Options{Layout: layout.Default(), MaxInFlight: 1, DeadLetterBytes: 16},
			metrics: met, streams: map[string]*streamInfo{"eqiad.mediawiki.recentchange": si, "codfw.mediawiki.recentchange": si}}
		return &pipeline{m: m, cluster: "eqiad", log: slog.New(slog.DiscardHandler), maxEvent: 200, counts: make([]streamCounters, 1)}
	}
	event := func(id string) []byte { return []byte(`{"meta":{"id":"` + id + `"},"wiki":"enwiki"}`) }
	origin := func(topic, partition, offset string) *input.Origin {
		return &input.Origin{Topic: topic, Partition: partition, Offset: offset}
	}
	recs := []input.Record{
		{Topic: "eqiad.mediawiki.recentchange", Partition: 1, Position: input.Position{Offset: 10}, Value: event("a")},
		{Topic: "eqiad.mediawiki.recentchange", Partition: 2, Position: input.Position{Offset: 11}, Value: []byte(`not json`)},
		{Topic: "codfw.mediawiki.recentchange", Partition: 3, Position: input.Position{Offset: 12}, Value: event("b")},
		{Topic: "eqiad.mediawiki.recentchange", Partition: 0, Position: input.Position{Offset: 13}, Value: event("c"),
			Origin: origin("eqiad.mediawiki.recentchange", "7", "99")},
		{Topic: "eqiad.mediawiki.recentchange", Partition: 0, Position: input.Position{Offset: 14}, Value: event("d"),
			Origin: origin("eqiad.mediawiki.recentchange", "", "100")},
		{Topic: "eqiad.mediawiki.recentchange", Partition: 4, Position: input.Position{Offset: 15}, Value: event("e")},
		{Topic: "eqiad.mediawiki.recentchange", Partition: 0, Position: input.Position{Offset: 16}, Value: event("f"),
			Origin: origin("", "1", "")},
		{Topic: "eqiad.mediawiki.recentchange", Partition: 5, Position: input.Position{Offset: 17}, Value: []byte(strings.Repeat(" ", 300))},
		{Topic: "eqiad.mediawiki.recentchange", Partition: 6, Position: input.Position{Offset: 1 << 40}, Value: event("g")},
	}
	reused := newPipeline()
	for i := range recs {
		r := &recs[i]
		r.Time = time.UnixMilli(1712236826000 + int64(i))
		got := reused.prepare(r)
		want := newPipeline().prepare(r)
		if got.msg.Subject != want.msg.Subject || string(got.msg.Data) != string(want.msg.Data) || !reflect.DeepEqual(got.msg.Header, want.msg.Header) {
			t.Fatalf("record %d: reused entry's message\n%s %q %v\nwant\n%s %q %v", i,
				got.msg.Subject, got.msg.Data, got.msg.Header, want.msg.Subject, want.msg.Data, want.msg.Header)
		}
		reused.recycle(got)
		if len(reused.spare) != 1 {
			t.Fatal("the entry was not kept for reuse")
		}
	}
}
