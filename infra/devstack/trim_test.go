package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc"
)

// TestTrim: inproc.Trim, with the devstack's readers of the eqiad cluster,
// deletes in each partition the records below the smallest offset that
// ingest and (for eqiad's own topics) the mirror have committed, and keeps
// those above it; it leaves alone a partition that one of them has not
// committed.
func TestTrim(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const (
		own     = "eqiad.own"    // read by ingest and the mirror: both committed
		other   = "codfw.other"  // read by ingest only
		unread  = "eqiad.unread" // nobody committed
		behind  = "eqiad.behind" // ingest committed, the mirror not yet
		ingestG = "eventstreams-ingest"
		n       = 100
	)
	c, err := inproc.StartKafka(inproc.KafkaOptions{Topics: []string{own, other, unread, behind}, SegmentBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// One batch a record, so that the partitions have many 1 KiB segments,
	// of which Trim deletes those wholly below the new start.
	for _, topic := range []string{own, other, unread, behind} {
		for i := range n {
			r := &kgo.Record{Topic: topic, Value: []byte(strings.Repeat("x", 100) + strconv.Itoa(i))}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	adm := kadm.NewClient(cl)
	commit := func(group string, offsets map[string]int64) {
		t.Helper()
		var os kadm.Offsets
		for topic, at := range offsets {
			os.AddOffset(topic, 0, at, -1)
		}
		if err := adm.CommitAllOffsets(ctx, group, os); err != nil {
			t.Fatal(err)
		}
	}
	commit(ingestG, map[string]int64{own: 60, other: 30, behind: 50})
	commit(mirrorGroup("eqiad"), map[string]int64{own: 40})

	readers := kafkaReaders("eqiad", ingestG)
	deleted, err := inproc.Trim(ctx, cl, readers)
	if err != nil {
		t.Fatal(err)
	}
	if deleted != 40+30 {
		t.Errorf("deleted %d records, want 70", deleted)
	}
	starts, err := adm.ListStartOffsets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]int64{own: 40, other: 30, unread: 0, behind: 0} {
		if o, _ := starts.Lookup(topic, 0); o.Offset != want {
			t.Errorf("%s: low watermark %d, want %d", topic, o.Offset, want)
		}
	}

	// What is above the committed offsets remains, from the new start to
	// the end, and nothing below it.
	for topic, from := range map[string]int64{own: 40, other: 30, unread: 0} {
		rd, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for len(got) < int(n-from) && ctx.Err() == nil {
			rd.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got = append(got, r.Offset) })
		}
		rd.Close()
		if len(got) != int(n-from) || got[0] != from || got[len(got)-1] != n-1 {
			t.Errorf("%s: read %d records from offset %v, want %d from %d", topic, len(got), got[:min(1, len(got))], n-from, from)
		}
	}

	// Again, nothing new committed: nothing to delete.
	if deleted, err := inproc.Trim(ctx, cl, readers); err != nil || deleted != 0 {
		t.Errorf("second trim: %d deleted, %v; want 0, nil", deleted, err)
	}
}
