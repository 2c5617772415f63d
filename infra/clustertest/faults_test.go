package clustertest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// TestClusterFaults runs ingest (R3 stream) and two serves, each first
// connected to another node, on a 3-node cluster, with 1,000 events/s from
// two Kafka clusters and SSE clients resuming by id on either serve; then,
// in turn: the stream leader is stopped and brought back; the node the
// first serve is connected to is stopped and brought back; every node is
// restarted in turn; two nodes are stopped (quorum lost) and brought back.
// After each fault the flow must resume; at the end, every event is
// stored exactly once in its partition's order, no Kafka offset was
// committed past what was stored, and every client got every event once.
func TestClusterFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("a system test of a minute or more")
	}
	s := newStack(t)
	s.startIngest()
	prod := s.produce(1000)
	inproctest.WaitFor(t, 60*time.Second, func() bool { return s.storedCount() >= 500 })
	a := s.startServe("serve-a", s.nats.NodeURL(0))
	b := s.startServe("serve-b", s.nats.NodeURL(1))
	bases := []string{"http://" + a.addr, "http://" + b.addr}

	clients, stopClients := startClients(10, bases, "/v2/stream/recentchange?seq=1")
	defer stopClients()

	// flowing waits until the stream stored n more events and every client
	// received them.
	flowing := func(n uint64) {
		t.Helper()
		var target uint64
		inproctest.WaitFor(t, 3*time.Minute, func() bool {
			if target == 0 {
				if c := s.storedCount(); c > 0 {
					target = c + n
				}
				return false
			}
			return s.storedCount() >= target
		})
		inproctest.WaitFor(t, 3*time.Minute, func() bool {
			for _, c := range clients {
				if _, last := c.snapshot(); last < target {
					return false
				}
			}
			return true
		})
	}
	phase := func(name string, fault func()) {
		t.Helper()
		before := s.ingestMetrics(t)
		for _, c := range clients {
			c.pause()
		}
		start := time.Now()
		fault()
		flowing(1000)
		after := s.ingestMetrics(t)
		var pause time.Duration
		for _, c := range clients {
			pause = max(pause, c.pause())
		}
		t.Logf("%-22s %5.1fs; longest delivery pause %v; ingest publish retries %v, stalls %v, reorders %v",
			name, time.Since(start).Seconds(), pause.Round(time.Millisecond),
			after["publish_retries_total"]-before["publish_retries_total"],
			after["publish_stalls_total"]-before["publish_stalls_total"],
			after["partition_reorders_total"])
	}
	flowing(1000)

	phase("stream leader stopped", func() {
		leader := s.leader(t)
		s.nats.Stop(leader)
		flowing(2000)
		if err := s.nats.Restart(leader); err != nil {
			t.Fatal(err)
		}
	})
	phase("serve-a's node stopped", func() {
		s.nats.Stop(0)
		flowing(2000)
		if err := s.nats.Restart(0); err != nil {
			t.Fatal(err)
		}
	})
	phase("rolling restart", func() {
		for i := range s.nats.Nodes() {
			s.waitReplicasCurrent(t)
			s.nats.Stop(i)
			flowing(500)
			if err := s.nats.Restart(i); err != nil {
				t.Fatal(err)
			}
		}
	})
	var lost time.Time
	var offsets = s.committed(t)
	phase("quorum lost", func() {
		s.waitReplicasCurrent(t)
		leader := s.leader(t)
		down := []int{(leader + 1) % 3, (leader + 2) % 3}
		s.nats.Stop(down[0])
		s.nats.Stop(down[1])
		lost = time.Now()
		// Ingest cannot store: it retries, and commits nothing new.
		before := s.ingestMetrics(t)["publish_retries_total"]
		inproctest.WaitFor(t, 30*time.Second, func() bool {
			return s.ingestMetrics(t)["publish_retries_total"] >= before+3
		})
		offsets = s.committed(t)
		for _, i := range down {
			if err := s.nats.Restart(i); err != nil {
				t.Fatal(err)
			}
		}
	})

	produced := prod.halt(t)
	// Progress is logged every 30 s, so that a failure tells a stall from
	// a slow catch-up: under -race with other work on the machine, ingest
	// catches up at about 200 events/s, one record per partition in flight.
	for deadline, report := time.Now().Add(8*time.Minute), time.Now().Add(30*time.Second); s.storedCount() < uint64(len(produced)); time.Sleep(20 * time.Millisecond) {
		if now := time.Now(); now.After(report) || now.After(deadline) {
			m := s.ingestMetrics(t)
			t.Logf("stored %d of %d; ingest: published %v, duplicates %v, skipped %v, in flight %v, retries %v, stalls %v",
				s.storedCount(), len(produced), m["events_published_total"], m["duplicates_total"], m["duplicates_skipped_total"],
				m["in_flight"], m["publish_retries_total"], m["publish_stalls_total"])
			if now.After(deadline) {
				t.Fatalf("not everything produced was stored in 8 minutes")
			}
			report = now.Add(30 * time.Second)
		}
	}
	stored := s.readStream(t, s.js, layout.Default().Stream)
	checkStored(t, stored, produced)
	checkCommittedStoredBy(t, offsets, stored, produced, lost)
	end := stored[len(stored)-1].seq
	inproctest.WaitFor(t, 60*time.Second, func() bool {
		for _, c := range clients {
			if _, last := c.snapshot(); last < end {
				return false
			}
		}
		return true
	})
	stopClients()
	connects := 0
	for i, c := range clients {
		checkClient(t, fmt.Sprintf("client %d", i), c, stored)
		connects += c.connections()
	}
	t.Logf("%d events produced, %d stored; %d clients, %d connections", len(produced), len(stored), len(clients), connects)
}

// leader returns the node leading the stream, waiting for one.
func (s *stack) leader(t *testing.T) int {
	t.Helper()
	leader := -1
	inproctest.WaitFor(t, 30*time.Second, func() bool {
		leader = s.nats.StreamLeader(layout.Default().Stream)
		return leader >= 0
	})
	return leader
}

// waitReplicasCurrent waits until every replica of the stream is current,
// so that stopping a node does not leave the stream without a quorum.
func (s *stack) waitReplicasCurrent(t *testing.T) {
	t.Helper()
	inproctest.WaitFor(t, 60*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		st, err := s.js.Stream(ctx, layout.Default().Stream)
		if err != nil {
			return false
		}
		ci := st.CachedInfo().Cluster
		if ci == nil || ci.Leader == "" || len(ci.Replicas) != 2 {
			return false
		}
		for _, r := range ci.Replicas {
			if !r.Current || r.Offline {
				return false
			}
		}
		return true
	})
}

var metricLine = regexp.MustCompile(`(?m)^eventstreams_ingest_([a-z_]+)\{[^}]*\} ([0-9.e+-]+)$`)

// ingestMetrics sums ingest's counters over their labels.
func (s *stack) ingestMetrics(t *testing.T) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + s.ingest.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for _, m := range metricLine.FindAllStringSubmatch(string(b), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		out[m[1]] += v
	}
	return out
}
