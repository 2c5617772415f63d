package hub

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/filter"
)

// TestCatchUpSourceRestartsAfterLostMessages takes messages from a
// catch-up's consumer behind its back, as a fetch that had already ended
// would have: some in the middle (the next batch starts with a jump in the
// consumer sequence) or all that were left (the next fetch is empty while
// the consumer says it delivered them); or the consumer itself is deleted,
// as a NATS node that held it does when it restarts. Each time the source
// starts a new consumer after the last message it gave, and the client
// gets every message once, in order.
func TestCatchUpSourceRestartsAfterLostMessages(t *testing.T) {
	w := newWorld(t, 16)
	w.publish(300)
	f := filter.Filter{Streams: []string{"mediawiki_recentchange", "mediawiki_page-create"}}
	subjects := f.Subjects(lay)
	ctx := context.Background()
	st, err := w.js.Stream(ctx, lay.Stream)
	if err != nil {
		t.Fatal(err)
	}
	end := st.CachedInfo().State.LastSeq // the stream holds other subjects' messages too

	// read gives the stream sequences of the whole catch-up; steal, after
	// the first batch, takes that many messages from its consumer.
	read := func(t *testing.T, steal int, remove bool) []uint64 {
		t.Helper()
		src, err := w.hub.openSource(ctx, subjects, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer src.close()
		var seqs []uint64
		each := func(seq uint64, _ string, _ int64, _ []byte) { seqs = append(seqs, seq) }
		for i := 0; ; i++ {
			if i == 50 {
				t.Fatalf("not drained after %d batches (%d messages)", i, len(seqs))
			}
			scanned, err := src.next(ctx, end, each)
			if err != nil {
				t.Fatal(err)
			}
			if scanned == end {
				return seqs
			}
			if i == 0 && remove {
				if err := st.DeleteConsumer(ctx, src.cons.CachedInfo().Name); err != nil {
					t.Fatal(err)
				}
			}
			if i == 0 && steal > 0 {
				batch, err := src.cons.FetchNoWait(steal)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for range batch.Messages() {
					n++
				}
				if n != steal {
					t.Fatalf("took %d messages from the consumer, want %d", n, steal)
				}
			}
		}
	}

	want := read(t, 0, false)
	if len(want) != 300 || !slices.IsSorted(want) {
		t.Fatalf("undisturbed catch-up: %d messages (want 300), sorted %v", len(want), slices.IsSorted(want))
	}
	for _, tt := range []struct {
		name   string
		steal  int
		remove bool
	}{
		{"messages lost in the middle", 10, false},
		{"the tail lost", 300 - catchUpBatch, false},
		{"the consumer lost", 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := read(t, tt.steal, tt.remove); !slices.Equal(got, want) {
				t.Errorf("got %d messages, want the same %d as undisturbed", len(got), len(want))
			}
		})
	}
}

// TestCatchUpOfQuietSubjectsHandsOver: a reader resuming far behind a
// small ring, whose subjects have no event at all there, moves to the ring
// on what its consumer says it looked through (no message to give), and
// gets the next matching event from the ring.
func TestCatchUpOfQuietSubjectsHandsOver(t *testing.T) {
	w := newWorld(t, 16)
	w.publish(300)
	ctx := context.Background()
	f := filter.Filter{Streams: []string{"mediawiki_recentchange"}, Wikis: []string{"frwiki"}}
	r, err := w.hub.Open(ctx, f, Position{Seq: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.catchUp == nil {
		t.Fatal("the reader started on the ring, not behind it")
	}
	inproctest.WaitFor(t, 10*time.Second, func() bool {
		evs, err := r.Poll(ctx, nil, 100)
		if err != nil || len(evs) > 0 {
			t.Fatalf("catching up on quiet subjects: %d events, %v", len(evs), err)
		}
		return r.catchUp == nil
	})
	inproctest.Publish(t, w.js, inproctest.Event{Stream: "mediawiki_recentchange", Wiki: "frwiki", Data: []byte(`{"n":-1}`), Time: 1e12})
	if got := readN(t, r, 1); string(got[0].JSON()) != `{"n":-1}` {
		t.Fatalf("the first event on the ring is %s", got[0].JSON())
	}
}
