package standby_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc"
	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/mirror"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/standby"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

func connect(t *testing.T, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	return inproctest.Connect(t, url)
}

// TestMirrorAndPromote: the standby's mirror keeps the primary's sequences
// and epoch; promoted, it keeps them, takes a new epoch with the old one
// valid up to its last sequence, drops the events it already holds as
// duplicates, and stores new ones after them.
func TestMirrorAndPromote(t *testing.T) {
	ctx := context.Background()
	a, err := inproc.StartCluster(inproc.ClusterOptions{Dir: t.TempDir(), Nodes: 1, Name: "dca"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Shutdown)
	b, err := inproc.StartCluster(inproc.ClusterOptions{Dir: t.TempDir(), Nodes: 1, Name: "dcb", LeafOf: a})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Shutdown)
	l := layout.Default()
	lim := layout.Limits{DuplicateWindow: 10 * time.Minute, Replicas: 1}

	_, ajs := connect(t, a.URL())
	origin, err := mirror.EnsureStream(ctx, ajs, l, lim)
	if err != nil {
		t.Fatal(err)
	}
	epoch := layout.Epoch(origin.CachedInfo())
	publish := func(js jetstream.JetStream, i int) *jetstream.PubAck {
		t.Helper()
		m := &nats.Msg{Subject: l.Subject("mediawiki_recentchange", "enwiki"), Data: []byte(`{"n":` + strconv.Itoa(i) + `}`),
			Header: nats.Header{layout.HeaderTimestamp: {strconv.Itoa(1_000_000 + i)}, nats.MsgIdHdr: {"id-" + strconv.Itoa(i)}}}
		ack, err := js.PublishMsg(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		return ack
	}
	for i := range 10 {
		publish(ajs, i)
	}

	bnc, bjs := connect(t, b.URL())
	if _, err := mirror.EnsureStream(ctx, bjs, l, lim); err != nil {
		t.Fatal(err) // nothing there yet: ingest in the standby would create a stream
	}
	if err := bjs.DeleteStream(ctx, l.Stream); err != nil {
		t.Fatal(err)
	}
	var local jetstream.Stream
	inproctest.Recreate(t, func() (err error) {
		local, err = standby.Ensure(ctx, bnc, l, lim, "dca")
		return err
	})
	if got := layout.Epoch(local.CachedInfo()); got != epoch {
		t.Fatalf("mirror's epoch %q, the origin's %q", got, epoch)
	}
	if _, err := standby.Ensure(ctx, bnc, l, lim, "dca"); err != nil {
		t.Fatalf("Ensure on the existing mirror: %v", err)
	}
	if _, err := mirror.EnsureStream(ctx, bjs, l, lim); !errors.Is(err, mirror.ErrStreamIsMirror) {
		t.Fatalf("ingest's EnsureStream on the mirror: %v", err)
	}
	inproctest.WaitFor(t, 30*time.Second, func() bool {
		s, err := bjs.Stream(ctx, l.Stream)
		return err == nil && s.CachedInfo().State.LastSeq == 10
	})

	p, err := standby.Promote(ctx, bjs, l, lim)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Promoted || p.LastSeq != 10 || p.LastEventTime.UnixMilli() != 1_000_009 {
		t.Fatalf("promotion %+v", p)
	}
	s, err := bjs.Stream(ctx, l.Stream)
	if err != nil {
		t.Fatal(err)
	}
	info := s.CachedInfo()
	if info.Config.Mirror != nil || layout.Epoch(info) == epoch {
		t.Fatalf("after promotion: mirror %v, epoch %q (was %q)", info.Config.Mirror, layout.Epoch(info), epoch)
	}
	if prev := layout.PreviousEpochs(info.Config.Metadata); len(prev) != 1 || prev[0] != (layout.EpochRange{Epoch: epoch, Last: 10}) {
		t.Fatalf("previous epochs %+v", prev)
	}
	if ack := publish(bjs, 9); !ack.Duplicate || ack.Sequence != 10 {
		t.Fatalf("an event the mirror holds, published again after the promotion: %+v", ack)
	}
	if ack := publish(bjs, 10); ack.Duplicate || ack.Sequence != 11 {
		t.Fatalf("a new event after the promotion: %+v", ack)
	}
	if p, err := standby.Promote(ctx, bjs, l, lim); err != nil || p.Promoted {
		t.Fatalf("promoting again: %+v %v", p, err)
	}
	if _, err := standby.Ensure(ctx, bnc, l, lim, "dca"); !errors.Is(err, standby.ErrNotMirror) {
		t.Fatalf("Ensure after the promotion: %v", err)
	}
}
