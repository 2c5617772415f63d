package mirror_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc"
	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/mirror"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/mirror/mirrortest"
)

// TestStartsWhileQuorumIsLost starts ingest on the one node left of a
// 3-node cluster whose other two are down: JetStream answers its stream
// set-up with 503 ("JetStream system temporarily unavailable"), a server's
// error and not a refusal, so ingest waits for the cluster instead of
// exiting, and stores what Kafka holds once the nodes are back.
func TestStartsWhileQuorumIsLost(t *testing.T) {
	c, err := inproc.StartCluster(inproc.ClusterOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown)
	_, js := inproctest.Connect(t, c.NodeURL(0))
	h := newHarnessOn(t, js, c.NodeURL(0), 1, rc)
	opts := h.options()
	opts.Limits.Replicas = 3

	c.Stop(1)
	c.Stop(2)
	// nats-server answers 503 once its meta group has been leaderless
	// long enough (10 s after the group's start); before, it does not
	// answer at all, which ingest already waits through.
	inproctest.WaitFor(t, time.Minute, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := js.CreateOrUpdateStream(ctx, h.layout.StreamConfig(opts.Limits))
		var apiErr *jetstream.APIError
		return errors.As(err, &apiErr) && apiErr.Code == 503
	})

	want := h.events([]string{rc}, 1, 0, 10, false)
	h.write(dcs, want...)
	var log inproctest.Buffer
	mirrortest.Start(t, opts, mirrortest.Connect(t, c.NodeURL(0)), slog.New(slog.NewTextHandler(&log, nil)), time.Minute)
	inproctest.WaitFor(t, 30*time.Second, func() bool {
		s := log.String()
		return strings.Contains(s, "JetStream not available yet") && strings.Contains(s, "temporarily unavailable")
	})
	if err := c.Restart(1); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(2); err != nil {
		t.Fatal(err)
	}
	h.checkExactlyOnce(h.waitStored(len(want), 2*time.Minute), want)
}

// TestReplicasOnASingleServerStopIngest: a stream with replicas asked of
// a NATS server that is not in a cluster is a configuration error, though
// JetStream answers it with a 500: ingest stops with it instead of waiting.
func TestReplicasOnASingleServerStopIngest(t *testing.T) {
	h := newHarness(t, 1, rc)
	opts := h.options()
	opts.Limits.Replicas = 3
	nc := mirrortest.Connect(t, h.natsURL)
	defer nc.Close()
	m, err := mirror.New(opts, mirror.Deps{NATS: nc, Logger: testLogger(t), Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = m.Run(ctx)
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "replicas") {
		t.Fatalf("Run with 3 replicas on one server: %v (context: %v)", err, ctx.Err())
	}
}
