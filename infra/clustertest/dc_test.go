package clustertest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc"
	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// TestSecondDatacenter runs DC A (a 3-node cluster, ingest, a serve) and
// DC B (one node joined to A by a leaf node, ingest as a standby keeping a
// mirror of A's stream, a serve reading the mirror), with 500 events/s and
// SSE clients whose connections end every 3 s and resume by id, in turn in
// A and in B. Then DC A is lost (its ingest killed, its nodes stopped, its
// Kafka cluster no longer read) and DC B is promoted while the clients
// read on: B's ingest writes the former mirror, re-reading Kafka from before
// the mirror's last event. Every event ends up in B's stream exactly once,
// in its partition's order, and every client gets every event once.
func TestSecondDatacenter(t *testing.T) {
	if testing.Short() {
		t.Skip("a system test of a minute or more")
	}
	a := newStack(t)
	a.startIngest()
	prod := a.produce(500)
	inproctest.WaitFor(t, 60*time.Second, func() bool { return a.storedCount() >= 200 })

	b, err := inproc.StartCluster(inproc.ClusterOptions{Dir: t.TempDir(), Nodes: 1, Name: "dcb", LeafOf: a.nats})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Shutdown)
	_, bjs := inproctest.Connect(t, b.URL())
	standbyAddr := inproctest.FreeAddr(t)
	standby := a.start("ingest-b-standby", module+"/ingest", standbyAddr, []string{
		"NATS_URL=" + b.URL(), "INGEST_MIRROR_FROM=dca", "INGEST_METRICS_ADDR=" + standbyAddr,
		"ES_ALLOWED_STREAMS=" + stream, "INGEST_DUPLICATE_WINDOW=10m",
	})
	inproctest.WaitFor(t, 60*time.Second, func() bool { return get("http://"+standbyAddr+"/healthz") == 200 })

	serveA := a.startServe("serve-a", a.nats.NodeURL(0), "SERVE_MAX_CONNECTION_DURATION=3s")
	serveB := a.startServe("serve-b", b.URL(), "SERVE_MAX_CONNECTION_DURATION=3s")
	var mirrorLagSeen bool
	inproctest.WaitFor(t, 30*time.Second, func() bool {
		var r struct {
			Stream struct {
				Mirror *struct{} `json:"mirror"`
			} `json:"stream"`
		}
		resp, err := http.Get("http://" + serveB.addr + "/readyz")
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
		}
		mirrorLagSeen = r.Stream.Mirror != nil
		return mirrorLagSeen
	})

	clients, stopClients := startClients(6, []string{"http://" + serveA.addr, "http://" + serveB.addr}, "/v2/stream/recentchange?seq=1")
	defer stopClients()
	caughtUp := func(target uint64) func() bool {
		return func() bool {
			for _, c := range clients {
				if _, last := c.snapshot(); last < target {
					return false
				}
			}
			return true
		}
	}
	// Clients move between the datacenters every 3 s, for 10 s of events.
	start := a.storedCount()
	// The bounds below are generous: under -race on a busy machine, ingest
	// in an R3 stream stores little faster than the 500 events/s produced.
	inproctest.WaitFor(t, 120*time.Second, func() bool { return a.storedCount() >= start+5000 })
	inproctest.WaitFor(t, 120*time.Second, caughtUp(start+5000))
	moves := 0
	for _, c := range clients {
		moves += c.connections()
	}
	t.Logf("before the loss: %d connections, alternating between the datacenters", moves)

	// DC A is lost: its ingest first, then, once the mirror has all A
	// stored, its nodes. The producer goes on writing to Kafka.
	_ = a.ingest.Cmd.Process.Kill()
	<-a.ingest.Done()
	// Publishes the killed ingest had already written may still be stored
	// after it died, so A's last sequence is read again on every poll: the
	// mirror has all of A once the two agree.
	var aLast, bLast uint64
	mirrored := func() bool {
		aLast, bLast = lastSeq(t, a.js), lastSeq(t, bjs)
		return aLast > 0 && bLast == aLast
	}
	for deadline := time.Now().Add(120 * time.Second); !mirrored(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("DC B's mirror did not reach DC A's last sequence in 120s: A %d, B %d", aLast, bLast)
		}
	}
	a.nats.Shutdown()
	_ = standby.Cmd.Process.Kill()
	<-standby.Done()
	lostAt := time.Now()

	promotedAddr := inproctest.FreeAddr(t)
	a.start("ingest-b", module+"/ingest", promotedAddr, []string{
		"NATS_URL=" + b.URL(), "INGEST_PROMOTE=true", "INGEST_METRICS_ADDR=" + promotedAddr,
		"ES_ALLOWED_STREAMS=" + stream, "INGEST_DUPLICATE_WINDOW=10m",
		"INGEST_KAFKA_CLUSTERS=codfw=" + a.kafka["codfw"].ListenAddrs()[0],
		"INGEST_CONSUMER_GROUP=eventstreams-ingest-dcb", "INGEST_SESSION_TIMEOUT=6s",
	})
	inproctest.WaitFor(t, 120*time.Second, func() bool { return lastSeq(t, bjs) >= aLast+2000 })
	t.Logf("DC B writes %.1fs after DC A was lost", time.Since(lostAt).Seconds())
	produced := prod.halt(t)
	inproctest.WaitFor(t, 120*time.Second, func() bool {
		st, err := bjs.Stream(context.Background(), layout.Default().Stream)
		return err == nil && st.CachedInfo().State.Msgs >= uint64(len(produced))
	})
	stored := a.readStream(t, bjs, layout.Default().Stream)
	checkStored(t, stored, produced)
	end := stored[len(stored)-1].seq
	deadline := time.Now().Add(120 * time.Second)
	for !caughtUp(end)() {
		if time.Now().After(deadline) {
			for i, c := range clients {
				n, last := c.snapshot()
				c.mu.Lock()
				t.Logf("client %d: %d events, last seq %d, last id %s, %d connections", i, n, last, c.lastID, c.connects)
				c.mu.Unlock()
			}
			for _, p := range []*process{serveA, serveB} {
				if resp, err := http.Get("http://" + p.addr + "/readyz"); err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					t.Logf("%s /readyz: %s", p.name, b)
				}
			}
			if info, err := bjs.Stream(context.Background(), layout.Default().Stream); err == nil {
				t.Logf("DC B's stream metadata: %v", info.CachedInfo().Config.Metadata)
			}
			clients[0].mu.Lock()
			id := clients[0].lastID
			clients[0].mu.Unlock()
			req, _ := http.NewRequest(http.MethodGet, "http://"+serveB.addr+"/v2/stream/recentchange", nil)
			req.Header.Set("Last-Event-ID", id)
			rctx, rcancel := context.WithTimeout(context.Background(), 3*time.Second)
			if resp, err := http.DefaultClient.Do(req.WithContext(rctx)); err == nil {
				b, _ := io.ReadAll(resp.Body)
				t.Logf("serve-b for client 0's id: %d %.600s", resp.StatusCode, b)
			}
			rcancel()
			t.Fatalf("clients did not reach seq %d", end)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopClients()
	for i, c := range clients {
		checkClient(t, fmt.Sprintf("client %d", i), c, stored)
	}
	info, err := bjs.Stream(context.Background(), layout.Default().Stream)
	if err != nil {
		t.Fatal(err)
	}
	md := info.CachedInfo().Config.Metadata
	t.Logf("%d events produced, %d in DC B's stream (A's last seq %d); epochs: %s, before: %s",
		len(produced), len(stored), aLast, md[layout.MetadataEpoch], md[layout.MetadataPreviousEpochs])
}

func lastSeq(t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, layout.Default().Stream)
	if err != nil {
		return 0
	}
	return st.CachedInfo().State.LastSeq
}
