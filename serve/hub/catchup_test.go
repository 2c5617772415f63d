package hub

import (
	"context"
	"slices"
	"testing"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/filter"
)

// TestCatchUpSourceRestartsAfterLostMessages takes messages from a
// catch-up's consumer behind its back, as a fetch that had already ended
// would have: some in the middle (the next batch starts with a jump in the
// consumer sequence) or all that were left (the next fetch is empty while
// the consumer says it delivered them). Either way the source starts a new
// consumer after the last message it gave, and the client gets every
// message once, in order.
func TestCatchUpSourceRestartsAfterLostMessages(t *testing.T) {
	w := newWorld(t, 16)
	w.publish(300)
	f := filter.Filter{Streams: []string{"mediawiki_recentchange", "mediawiki_page-create"}}
	subjects := f.Subjects(lay)
	ctx := context.Background()

	// read gives the stream sequences of the whole catch-up; steal, after
	// the first batch, takes that many messages from its consumer.
	read := func(t *testing.T, steal int) []uint64 {
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
			drained, err := src.next(ctx, each)
			if err != nil {
				t.Fatal(err)
			}
			if drained {
				return seqs
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

	want := read(t, 0)
	if len(want) != 300 || !slices.IsSorted(want) {
		t.Fatalf("undisturbed catch-up: %d messages (want 300), sorted %v", len(want), slices.IsSorted(want))
	}
	for _, tt := range []struct {
		name  string
		steal int
	}{
		{"messages lost in the middle", 10},
		{"the tail lost", 300 - catchUpBatch},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := read(t, tt.steal); !slices.Equal(got, want) {
				t.Errorf("got %d messages, want the same %d as undisturbed", len(got), len(want))
			}
		})
	}
}
