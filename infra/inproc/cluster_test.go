package inproc

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestClusterAndMirror starts a 3-node cluster (domain dca) with an R3
// stream, and a one-node cluster (domain dcb) joined to it as a leaf node,
// holding a mirror of the stream: the mirror keeps the origin's sequences,
// and the stream survives its leader's death.
func TestClusterAndMirror(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := StartCluster(ClusterOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Shutdown()

	nc, err := nats.Connect(a.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := js.Publish(ctx, "s.x", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	leader := a.StreamLeader("S")
	if leader < 0 {
		t.Fatal("no stream leader")
	}
	a.Stop(leader)
	for i := range 10 {
		for {
			pctx, pcancel := context.WithTimeout(ctx, time.Second)
			_, err := js.Publish(pctx, "s.x", []byte{byte(10 + i)}, jetstream.WithMsgID(string(rune('a'+i))))
			pcancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := a.Restart(leader); err != nil {
		t.Fatal(err)
	}

	b, err := StartCluster(ClusterOptions{Dir: t.TempDir(), Nodes: 1, Name: "dcb", LeafOf: a})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Shutdown()
	bnc, err := nats.Connect(b.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer bnc.Close()
	bjs, _ := jetstream.New(bnc)
	if _, err := bjs.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Replicas: 1,
		Mirror: &jetstream.StreamSource{Name: "S", Domain: a.Domain()}}); err != nil {
		t.Fatal(err)
	}
	for {
		s, err := bjs.Stream(ctx, "S")
		if err != nil {
			t.Fatal(err)
		}
		if s.CachedInfo().State.LastSeq == 20 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("mirror holds %d messages, want 20", s.CachedInfo().State.Msgs)
		case <-time.After(50 * time.Millisecond):
		}
	}
	m, err := bjs.Stream(ctx, "S")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := m.GetMsg(ctx, 15)
	if err != nil || msg.Data[0] != 14 {
		t.Fatalf("mirror's message 15: %v %v", msg, err)
	}
}
