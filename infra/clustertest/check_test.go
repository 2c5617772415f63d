package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// storedEvent is one message of the stream.
type storedEvent struct {
	seq    uint64
	id     string
	stored time.Time
}

// readStream reads the whole stream in sequence order, by direct gets
// (answered by any replica, with no consumer to create: after a quorum
// loss, the cluster may take a while to place one), eight at a time.
func (s *stack) readStream(t *testing.T, js jetstream.JetStream, name string) []storedEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	var st jetstream.Stream
	var err error
	for st == nil {
		if st, err = js.Stream(ctx, name); err != nil {
			if ctx.Err() != nil {
				t.Fatal(err)
			}
			st = nil
			time.Sleep(100 * time.Millisecond)
		}
	}
	last := st.CachedInfo().State.LastSeq
	out := make([]storedEvent, last)
	var next atomic.Uint64
	var failed atomic.Value
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := next.Add(1); seq <= last; seq = next.Add(1) {
				m, err := st.GetMsg(ctx, seq)
				for err != nil && ctx.Err() == nil {
					time.Sleep(50 * time.Millisecond) // a follower that has not applied it yet
					m, err = st.GetMsg(ctx, seq)
				}
				if err != nil {
					failed.Store(fmt.Errorf("reading seq %d of %d: %w", seq, last, err))
					return
				}
				var ev struct {
					Meta struct {
						ID string `json:"id"`
					} `json:"meta"`
				}
				if strings.Contains(m.Subject, "._deadletter.") || json.Unmarshal(m.Data, &ev) != nil {
					failed.Store(fmt.Errorf("seq %d: not an event (subject %s): %.200s", seq, m.Subject, m.Data))
					return
				}
				out[seq-1] = storedEvent{seq: seq, id: ev.Meta.ID, stored: m.Time}
			}
		}()
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		t.Fatal(err)
	}
	return out
}

// checkStored checks that the stream holds every produced event exactly
// once, and each partition's events in their order.
func checkStored(t *testing.T, stored []storedEvent, produced map[string]key) {
	t.Helper()
	seen := map[string]bool{}
	last := map[key]int{} // per partition (n unset), the last n stored
	reorders := 0
	for _, e := range stored {
		k, ok := produced[e.id]
		switch {
		case !ok:
			t.Errorf("seq %d: event %q was never produced", e.seq, e.id)
			continue
		case seen[e.id]:
			t.Errorf("seq %d: event %q stored twice", e.seq, e.id)
			continue
		}
		seen[e.id] = true
		p := key{topic: k.topic, partition: k.partition}
		if n, ok := last[p]; ok && k.n < n {
			reorders++
			if reorders <= 5 {
				t.Errorf("seq %d: event %d of %s/%d stored after event %d", e.seq, k.n, k.topic, k.partition, n)
			}
		}
		last[p] = max(last[p], k.n)
	}
	if reorders > 0 {
		t.Errorf("%d events stored out of their partition's order", reorders)
	}
	missing := 0
	for id := range produced {
		if !seen[id] {
			missing++
			if missing <= 5 {
				t.Errorf("event %q was produced and not stored", id)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d events lost", missing, len(produced))
	}
}

// checkClient checks that a client got every stored event from its first
// one on, exactly once: consecutive sequences, each the stored event.
func checkClient(t *testing.T, name string, c *client, stored []storedEvent) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	bySeq := map[uint64]string{}
	for _, e := range stored {
		bySeq[e.seq] = e.id
	}
	if len(c.events) == 0 {
		t.Errorf("%s: no events", name)
		return
	}
	gaps, dups := 0, 0
	for i, e := range c.events {
		if bySeq[e.seq] != e.id {
			t.Errorf("%s: seq %d is %q, the stream holds %q there", name, e.seq, e.id, bySeq[e.seq])
			return
		}
		if i == 0 {
			continue
		}
		switch prev := c.events[i-1].seq; {
		case e.seq <= prev:
			dups++
		case e.seq > prev+1:
			gaps++
			if gaps <= 3 {
				t.Errorf("%s: after seq %d came %d", name, prev, e.seq)
			}
		}
	}
	if end := c.events[len(c.events)-1].seq; end != stored[len(stored)-1].seq {
		t.Errorf("%s: last event seq %d, the stream ends at %d", name, end, stored[len(stored)-1].seq)
	}
	if gaps > 0 || dups > 0 {
		t.Errorf("%s: %d gaps, %d duplicates in %d events", name, gaps, dups, len(c.events))
	}
}

// committed returns ingest's committed offset of each partition in each
// Kafka cluster.
func (s *stack) committed(t *testing.T) map[string]kadm.OffsetResponses {
	t.Helper()
	out := map[string]kadm.OffsetResponses{}
	for _, dc := range dcs {
		cl, err := kgo.NewClient(kgo.SeedBrokers(s.kafka[dc].ListenAddrs()...))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		offs, err := kadm.NewClient(cl).FetchOffsets(ctx, "eventstreams-ingest")
		cancel()
		cl.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[dc] = offs
	}
	return out
}

// checkCommittedStoredBy checks that every event below an offset committed
// in Kafka was stored at or before the time by: ingest commits only what
// JetStream acknowledged. In each cluster, a partition's offset is the
// event's number n (the producer wrote the same records to both).
func checkCommittedStoredBy(t *testing.T, offs map[string]kadm.OffsetResponses, stored []storedEvent, produced map[string]key, by time.Time) {
	t.Helper()
	storedAt := map[key]time.Time{}
	for _, e := range stored {
		if k, ok := produced[e.id]; ok {
			storedAt[k] = e.stored
		}
	}
	checked := 0
	for dc, o := range offs {
		o.Each(func(r kadm.OffsetResponse) {
			if r.Err != nil || r.At <= 0 {
				return
			}
			k := key{topic: r.Topic, partition: r.Partition, n: int(r.At - 1)}
			at, ok := storedAt[k]
			switch {
			case !ok:
				t.Errorf("%s: offset %d of %s/%d committed, event %d never stored", dc, r.At, r.Topic, r.Partition, k.n)
			case at.After(by):
				t.Errorf("%s: offset %d of %s/%d committed before %v; event %d stored after, at %v", dc, r.At, r.Topic, r.Partition, by, k.n, at)
			}
			checked++
		})
	}
	if checked == 0 {
		t.Error("no committed offsets to check")
	}
}
