package service

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc"
	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
)

// TestRunInProcess runs ingest as the devstack does: its own NATS
// connection, registry and metrics listener, against two in-process Kafka
// clusters, until the context ends. The connection given stays open.
func TestRunInProcess(t *testing.T) {
	ns, js := inproctest.NATS(t, false)
	const topic = "eqiad.mediawiki.recentchange"
	var brokers []string
	for _, dc := range []string{"eqiad", "codfw"} {
		c, err := inproc.StartKafka(inproc.KafkaOptions{Topics: []string{"eqiad.mediawiki.recentchange", "codfw.mediawiki.recentchange"}, Partitions: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		brokers = append(brokers, dc+"="+strings.Join(c.ListenAddrs(), ","))
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 { // the same events in both clusters
			v := fmt.Sprintf(`{"meta":{"id":"id-%d","stream":"mediawiki.recentchange"},"wiki":"enwiki","n":%d}`, i, i)
			if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		cl.Close()
	}

	cfg := DefaultConfig()
	cfg.KafkaClusters = strings.Join(brokers, ";")
	cfg.AllowedStreams = []string{"recentchange"}
	cfg.Start = "earliest"
	cfg.SessionTimeout = 6 * time.Second
	cfg.MaxAge = 24 * time.Hour
	nc, err := nats.Connect(ns.ClientURL(), nats.ReconnectBufSize(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, Deps{Logger: slog.New(slog.DiscardHandler), Registry: reg, MetricsListener: lis, NATS: nc})
	}()

	inproctest.WaitFor(t, 30*time.Second, func() bool { // the 10 events stored
		s, err := js.Stream(context.Background(), "EVENTSTREAMS")
		if err != nil {
			return false
		}
		info, err := s.Info(context.Background())
		return err == nil && info.State.Msgs == 10
	})
	resp, err := http.Get("http://" + lis.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health struct{ Status string }
	_ = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if resp.StatusCode != 200 || health.Status != "ok" {
		t.Errorf("/healthz: %d %+v", resp.StatusCode, health)
	}
	if mfs, _ := reg.Gather(); len(mfs) == 0 {
		t.Error("no metrics registered in the registry given")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return 30s after cancel")
	}
	if !nc.IsConnected() {
		t.Error("Run closed the NATS connection it was given")
	}
	if _, err := http.Get("http://" + lis.Addr().String() + "/healthz"); err == nil {
		t.Error("the metrics server still answers after Run returned")
	}
}
