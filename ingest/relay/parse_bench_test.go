package relay

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	sse "github.com/tmaxmax/go-sse"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/eventgen"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
)

// BenchmarkReadRecorded measures the relay's own work per event on bytes
// framed as stream.wikimedia.org frames them (events from infra/eventgen): SSE parsing, the id and meta
// read, the cursor moved, the record built (what the pipeline then does is
// the Kafka source's cost too).
//
//	go test ./ingest/relay -run '^$' -bench ReadRecorded
func BenchmarkReadRecorded(b *testing.B) {
	g, err := eventgen.New(eventgen.Options{Streams: []string{"mediawiki.recentchange"}, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	var frames bytes.Buffer
	for i := range 3 {
		d := string(g.Next().Value)
		fmt.Fprintf(&frames, "event: message\nid: [{\"topic\":\"eqiad.mediawiki.recentchange\",\"partition\":0,\"timestamp\":%d},{\"topic\":\"codfw.mediawiki.recentchange\",\"partition\":0,\"offset\":-1}]\ndata: %s\n\n", 1670732822001+i, d)
	}
	body := bytes.Repeat(frames.Bytes(), 1000) // 3,000 events
	full, _ := catalog.Builtin(nil)
	cat, _ := full.Narrow([]string{"mediawiki.recentchange"})
	r := &reader{u: &Upstream{opts: Options{Catalog: cat}}, report: nopReporter{}, cur: newCursor()}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	events := 0
	for b.Loop() {
		for ev, err := range sse.Read(bytes.NewReader(body), &sse.ReadConfig{MaxEventSize: 2 << 20}) {
			if err != nil {
				b.Fatal(err)
			}
			if _, ok := r.record(ev); !ok {
				b.Fatal("event skipped")
			}
			events++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events)/1000, "µs/event")
}

type nopReporter struct{}

func (nopReporter) Assigned(map[string][]int32) {}
func (nopReporter) Released(map[string][]int32) {}
func (nopReporter) Lag(string, int32, int64)    {}
func (nopReporter) Connected()                  {}
func (nopReporter) ConnectFailed(error)         {}
func (nopReporter) ReadFailed(error)            {}
func (nopReporter) CommitFailed(error)          {}
func (nopReporter) Reconnected(string)          {}
func (nopReporter) Received(int)                {}
func (nopReporter) Behind(time.Duration)        {}
