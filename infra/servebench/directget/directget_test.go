package directget_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/infra/servebench/directget"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

var lay = layout.Default()

// publish stores n events alternating two wikis of recentchange; event i
// (from 1) has data {"n":i} and Kafka time 1e12+i.
func publish(t *testing.T, js jetstream.JetStream, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		inproctest.Publish(t, js, inproctest.Event{Stream: "mediawiki_recentchange", Wiki: []string{"enwiki", "dewiki"}[i%2],
			Data: fmt.Appendf(nil, `{"n":%d}`, i), Time: 1e12 + int64(i)})
	}
}

// readAll pages through the stream from seq as a catch-up does and returns
// the sequences read, and the number of requests.
func readAll(t *testing.T, g *directget.Getter, req directget.Request) (seqs []uint64, requests int) {
	t.Helper()
	for {
		requests++
		res, err := g.Get(context.Background(), req, func(m *directget.Msg) {
			if want := fmt.Sprintf(`{"n":%d}`, m.Seq); string(m.Data) != want || m.Header.Get(layout.HeaderTimestamp) == "" || m.Time.IsZero() {
				t.Errorf("seq %d: data %s, headers %v, time %v", m.Seq, m.Data, m.Header, m.Time)
			}
			seqs = append(seqs, m.Seq)
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Last == 0 || res.Pending == 0 {
			return seqs, requests
		}
		req.Seq, req.StartTime = res.Last+1, nil
	}
}

func TestGetPagesThroughInOrder(t *testing.T) {
	_, js := inproctest.NATS(t, true)
	publish(t, js, 100)
	all := lay.StreamFilter("mediawiki_recentchange")
	tests := []struct {
		name     string
		req      directget.Request
		want     []uint64
		requests int
	}{
		{"all from 1, 16 at a time", directget.Request{Seq: 1, Subject: all, Batch: 16}, seqRange(1, 100, 1), 7},
		{"from 91", directget.Request{Seq: 91, Subject: all, Batch: 16}, seqRange(91, 100, 1), 1},
		{"one wiki", directget.Request{Seq: 1, Subject: lay.Subject("mediawiki_recentchange", "dewiki"), Batch: 16}, seqRange(1, 100, 2), 4},
		{"by bytes", directget.Request{Seq: 1, Subject: all, Batch: 64, MaxBytes: 1}, seqRange(1, 100, 1), 100},
		{"past the end", directget.Request{Seq: 101, Subject: all, Batch: 16}, nil, 1},
		{"no subject matches", directget.Request{Seq: 1, Subject: lay.StreamFilter("mediawiki_page-create"), Batch: 16}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := directget.New(js.Conn(), lay.Stream, 64)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			seqs, requests := readAll(t, g, tt.req)
			if fmt.Sprint(seqs) != fmt.Sprint(tt.want) || requests != tt.requests {
				t.Errorf("read %v in %d requests, want %v in %d", seqs, requests, tt.want, tt.requests)
			}
		})
	}
}

func TestGetByStartTime(t *testing.T) {
	_, js := inproctest.NATS(t, true)
	publish(t, js, 10)
	s, err := js.Stream(context.Background(), lay.Stream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetMsg(context.Background(), 6)
	if err != nil {
		t.Fatal(err)
	}
	g, err := directget.New(js.Conn(), lay.Stream, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	from := m.Time
	seqs, _ := readAll(t, g, directget.Request{StartTime: &from, Subject: lay.StreamFilter("mediawiki_recentchange"), Batch: 4})
	if fmt.Sprint(seqs) != fmt.Sprint(seqRange(6, 10, 1)) {
		t.Errorf("from the store time of seq 6: %v", seqs)
	}
	far := time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC) // JetStream's times end in 2262 (int64 ns)
	if seqs, _ := readAll(t, g, directget.Request{StartTime: &far, Subject: lay.StreamFilter("mediawiki_recentchange"), Batch: 4}); len(seqs) != 0 {
		t.Errorf("from year 2262: %v", seqs)
	}
}

func TestGetErrors(t *testing.T) {
	_, js := inproctest.NATS(t, false) // no stream: nobody answers
	g, err := directget.New(js.Conn(), lay.Stream, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if _, err := g.Get(context.Background(), directget.Request{Seq: 1, Subject: "x", Batch: 4}, func(*directget.Msg) {}); !errors.Is(err, directget.ErrNotSupported) {
		t.Errorf("without the stream: %v, want ErrNotSupported", err)
	}
	for _, req := range []directget.Request{{Seq: 1, Batch: 4}, {Seq: 1, Subject: "x", Batch: 5}, {Seq: 1, Subject: "x"}} {
		if _, err := g.Get(context.Background(), req, func(*directget.Msg) {}); err == nil {
			t.Errorf("%+v: no error", req)
		}
	}
}

func seqRange(from, to, step uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s += step {
		out = append(out, s)
	}
	return out
}
