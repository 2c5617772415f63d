package relay_test

// An EventStreams-faithful fake upstream, modelled on the recorded bytes of
// stream.wikimedia.org (its events from the project's generator,
// infra/eventgen): KafkaSSE's framing and Kafka-style ids, its resume by timestamp (offsetsForTimes: the first
// offset whose timestamp is ≥ the id's, which skips the rest of a
// millisecond when given the id as sent), entries of partitions that
// delivered nothing kept as they were ({"offset":-1} or the resolved
// offset), topics missing from Last-Event-ID not read, and faults on
// demand: cuts (clean or abrupt, mid-event), 429 with Retry-After, stalls,
// HTML and 500 answers, raw bytes.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/eventgen"
)

// sampleEvents are recentchange events as stream.wikimedia.org sends them
// (meta.topic, partition and offset after meta.stream; the fake rewrites
// them), from the project's own generator, modelled on recorded events.
func sampleEvents(t testing.TB) []string {
	t.Helper()
	g, err := eventgen.New(eventgen.Options{Streams: []string{"mediawiki.recentchange"}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	const stream = `"stream":"mediawiki.recentchange"`
	var out []string
	for len(out) < 20 {
		v := string(g.Next().Value)
		i := strings.Index(v, stream)
		if i < 0 || !strings.Contains(v[:i], `"id":"`) {
			continue // a special event of another shape
		}
		i += len(stream)
		out = append(out, v[:i]+`,"topic":"eqiad.mediawiki.recentchange","partition":0,"offset":0`+v[i:])
	}
	return out
}

type fakeTP struct {
	topic     string
	partition int
}

// fakeEvent is one record of the fake's Kafka log.
type fakeEvent struct {
	ts     int64
	data   string
	metaID string
	raw    string // when set, written instead of a frame (malformed SSE)
}

// fault is what the fake does with the next connections.
type fault int

const (
	faultNone fault = iota
	fault429
	faultStall
	faultHTML
	fault500
	faultErrorEvent // KafkaSSE's error event after the start, then the end
)

type fakeES struct {
	t      testing.TB
	srv    *httptest.Server
	sample []string

	mu      sync.Mutex
	logs    map[fakeTP][]fakeEvent
	tps     []fakeTP
	changed chan struct{}
	faults  []fault // consumed one per connection
	cutAt   int     // events per connection before a cut (0: never)
	conns   int
	streams int      // connections that started streaming
	headers []string // Last-Event-ID of each connection
	agents  []string
	next    int // the next meta.id number
	lastTS  int64
}

func newFakeES(t testing.TB, partitions int) *fakeES {
	f := &fakeES{t: t, sample: sampleEvents(t), logs: map[fakeTP][]fakeEvent{}, changed: make(chan struct{})}
	for _, dc := range []string{"eqiad", "codfw"} {
		for p := range partitions {
			f.tps = append(f.tps, fakeTP{dc + ".mediawiki.recentchange", p})
		}
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeES) url() string { return f.srv.URL }

// add appends n events to each topic-partition, three to a millisecond,
// and returns their meta.ids in order.
func (f *fakeES) add(n int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	base := max(time.Now().UnixMilli(), f.lastTS+1) // Kafka timestamps go forward
	f.lastTS = base + int64(n-1)/3
	var ids []string
	for i := range n {
		for _, tp := range f.tps {
			id := fmt.Sprintf("00000000-0000-4000-8000-%012d", f.next)
			f.next++
			offset := len(f.logs[tp])
			tmpl := f.sample[f.next%len(f.sample)]
			var m struct {
				Meta struct {
					ID string `json:"id"`
				} `json:"meta"`
			}
			_ = json.Unmarshal([]byte(tmpl), &m)
			d := strings.Replace(tmpl, `"id":"`+m.Meta.ID+`"`, `"id":"`+id+`"`, 1)
			d = replaceMeta(d, "topic", strconv.Quote(tp.topic))
			d = replaceMeta(d, "partition", strconv.Itoa(tp.partition))
			d = replaceMeta(d, "offset", strconv.Itoa(offset))
			f.logs[tp] = append(f.logs[tp], fakeEvent{ts: base + int64(i/3), data: d, metaID: id})
			ids = append(ids, id)
		}
	}
	f.notify()
	return ids
}

// addRaw appends one raw record to the first topic-partition: data (a
// frame is built) or, with raw set, bytes written as they are.
func (f *fakeES) addRaw(data string, raw bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := fakeEvent{ts: time.Now().UnixMilli(), data: data}
	if raw {
		e = fakeEvent{ts: e.ts, raw: data}
	}
	f.logs[f.tps[0]] = append(f.logs[f.tps[0]], e)
	f.notify()
}

func (f *fakeES) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// replaceMeta sets the value of meta's key, which the sample has once,
// after "stream".
func replaceMeta(d, key, value string) string {
	i := strings.Index(d, `"stream":`)
	j := strings.Index(d[i:], `"`+key+`":`) + i + len(key) + 3
	k := j + strings.IndexAny(d[j:], ",}")
	return d[:j] + value + d[k:]
}

func (f *fakeES) setFaults(cutAt int, faults ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cutAt, f.faults = cutAt, faults
}

func (f *fakeES) connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns
}

// idEntry is one element of a KafkaSSE id, as KafkaSSE writes them.
type idEntry struct {
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	Timestamp *int64 `json:"timestamp,omitempty"`
	Offset    *int64 `json:"offset,omitempty"`
}

// assignment is where a connection reads a topic-partition from.
type assignment struct {
	tp    fakeTP
	next  int
	entry string // its id entry, JSON
}

func (f *fakeES) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.conns++
	f.headers = append(f.headers, r.Header.Get("Last-Event-ID"))
	f.agents = append(f.agents, r.Header.Get("User-Agent"))
	flt := faultNone
	if len(f.faults) > 0 {
		flt, f.faults = f.faults[0], f.faults[1:]
	}
	cutAt, conn := f.cutAt, f.conns
	f.mu.Unlock()
	switch flt {
	case fault429:
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"status":429,"type":"too_many_requests","title":"Too Many Concurrent Connections From Your Client IP"}`)
		return
	case faultHTML:
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>Our servers are currently under maintenance</body></html>")
		return
	case fault500:
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"message":"Kafka broker down","origin":"KafkaSSE"}`+"\n")
		return
	}
	if flt == faultErrorEvent {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		fmt.Fprint(w, ":ok\n\nevent: error\nid: []\ndata: {\"message\":\"Local: Broker transport failure\",\"origin\":\"KafkaSSE\",\"name\":\"KafkaSSEError\"}\n\n")
		return
	}
	asg, ok := f.assign(r)
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ":ok\n\n")
	fl := w.(http.Flusher)
	fl.Flush()
	sent := 0
	for {
		f.mu.Lock()
		changed := f.changed
		var frames []string
		for i := range asg {
			a := &asg[i]
			log := f.logs[a.tp]
			if a.next >= len(log) {
				continue
			}
			e := log[a.next]
			a.next++
			if e.raw != "" {
				frames = append(frames, e.raw)
				continue
			}
			ts := e.ts + 1
			b, _ := json.Marshal(idEntry{Topic: a.tp.topic, Partition: a.tp.partition, Timestamp: &ts})
			a.entry = string(b)
			entries := make([]string, len(asg))
			for j := range asg {
				entries[j] = asg[j].entry
			}
			frames = append(frames, "event: message\nid: ["+strings.Join(entries, ",")+"]\ndata: "+e.data+"\n\n")
		}
		f.mu.Unlock()
		for _, fr := range frames {
			if cutAt > 0 && sent == cutAt {
				fmt.Fprint(w, fr[:len(fr)/2]) // cut mid-event
				fl.Flush()
				if flt == faultStall {
					<-r.Context().Done() // silent until the client gives up
					return
				}
				if conn%2 == 0 {
					panic(http.ErrAbortHandler) // an abrupt cut: no final chunk
				}
				return
			}
			fmt.Fprint(w, fr)
			sent++
		}
		fl.Flush()
		if len(frames) > 0 {
			continue
		}
		select {
		case <-r.Context().Done():
			return
		case <-changed:
		}
	}
}

// assign resolves a request as KafkaSSE does: the topics of the streams
// asked, replaced by the Last-Event-ID's entries when it is present.
func (f *fakeES) assign(r *http.Request) ([]assignment, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var since int64 = -1
	if s := r.URL.Query().Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, false
		}
		since = t.UnixMilli()
	}
	h, present := r.Header["Last-Event-Id"]
	if !present {
		var out []assignment
		for _, tp := range f.tps {
			if since >= 0 {
				out = append(out, f.byTime(tp, since))
				continue
			}
			b, _ := json.Marshal(idEntry{Topic: tp.topic, Partition: tp.partition, Offset: new(int64(-1))})
			out = append(out, assignment{tp: tp, next: len(f.logs[tp]), entry: string(b)})
		}
		f.streams++
		return out, true
	}
	var items []json.RawMessage
	if json.Unmarshal([]byte(h[0]), &items) != nil || len(items) == 0 {
		return nil, false
	}
	var out []assignment
	for _, it := range items {
		var topic string
		if json.Unmarshal(it, &topic) == nil {
			for _, tp := range f.tps {
				if tp.topic == topic {
					out = append(out, f.byTime(tp, since))
				}
			}
			continue
		}
		var e idEntry
		if json.Unmarshal(it, &e) != nil {
			return nil, false
		}
		tp := fakeTP{e.Topic, e.Partition}
		switch {
		case e.Timestamp != nil:
			out = append(out, f.byTime(tp, *e.Timestamp))
		case e.Offset != nil && *e.Offset >= 0:
			out = append(out, assignment{tp: tp, next: int(*e.Offset), entry: string(it)})
		default:
			out = append(out, assignment{tp: tp, next: len(f.logs[tp]), entry: string(it)})
		}
	}
	f.streams++
	return out, true
}

func (f *fakeES) streaming() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.streams
}

// second is another server reading the same logs: a second upstream
// serving the same events (as EventStreams in the other datacenter would,
// with the same meta.ids).
func (f *fakeES) second() string {
	s := httptest.NewServer(http.HandlerFunc(f.serve))
	f.t.Cleanup(s.Close)
	return s.URL
}

// byTime is offsetsForTimes: the first offset whose timestamp is ≥ ms
// (the end when none is, or ms < 0). Its entry, until it delivers, is
// node-rdkafka's {"offset","partition","topic"}.
func (f *fakeES) byTime(tp fakeTP, ms int64) assignment {
	log := f.logs[tp]
	next := len(log)
	if ms >= 0 {
		for i, e := range log {
			if e.ts >= ms {
				next = i
				break
			}
		}
	}
	off := int64(next)
	if next == len(log) {
		off = -1
	}
	return assignment{tp: tp, next: next,
		entry: fmt.Sprintf(`{"offset":%d,"partition":%d,"topic":%q}`, off, tp.partition, tp.topic)}
}

// served is every event of the log that a reader starting when first
// asked would get: the meta.id of each, and its data.
func (f *fakeES) all() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]string{}
	for _, log := range f.logs {
		for _, e := range log {
			if e.metaID != "" {
				out[e.metaID] = e.data
			}
		}
	}
	return out
}
