package monitorcheck

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc"
	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
)

// fromPrometheus are series Prometheus makes itself, not the programs.
var fromPrometheus = map[string]bool{"up": true}

// queried returns every metric name the alerts and the dashboard select,
// with where it is used.
func queried(t *testing.T) map[string][]string {
	t.Helper()
	uses := map[string][]string{}
	for _, g := range rules(t).Groups {
		for _, r := range g.Rules {
			for _, n := range metricNames(t, r.Expr) {
				uses[n] = append(uses[n], "alert "+r.Alert)
			}
		}
	}
	for panel, q := range dashboardQueries(t) {
		for _, n := range metricNames(t, q) {
			uses[n] = append(uses[n], "panel "+panel)
		}
	}
	return uses
}

// start runs the binary of pkg with env until the test ends, and waits
// until ready (a URL) answers 200.
func start(t *testing.T, pkg string, env []string, ready string) {
	t.Helper()
	inproctest.Start(t, pkg, append(env, "PATH="+os.Getenv("PATH")), ready)
}

// exposed returns the names of the series at a /metrics URL: a histogram's
// _bucket, _sum and _count, a summary's quantiles, _sum and _count.
func exposed(t *testing.T, url string) map[string]bool {
	t.Helper()
	families := inproctest.Scrape(t, url)
	names := map[string]bool{}
	for name, f := range families {
		if len(f.GetMetric()) == 0 {
			continue // a vector with no label values yet: nothing to query
		}
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			names[name], names[name+"_sum"], names[name+"_count"] = true, true, true
		default:
			names[name] = true
		}
	}
	return names
}

// TestQueriesUseExposedMetrics runs the built ingest and serve, and a relay
// ingest reading that serve, on in-process NATS and Kafka, feeds them
// events, and checks that every metric the alerts and the dashboard query
// is in their /metrics.
func TestQueriesUseExposedMetrics(t *testing.T) {
	uses := queried(t)
	_, js := inproctest.NATS(t, false)
	natsURL := js.Conn().ConnectedUrl()
	clusters := map[string]*kgo.Client{}
	var brokers []string
	for _, dc := range []string{"eqiad", "codfw"} {
		k, err := inproc.StartKafka(inproc.KafkaOptions{Topics: []string{"eqiad.mediawiki.recentchange", "codfw.mediawiki.recentchange"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(k.Close)
		cl, err := kgo.NewClient(kgo.SeedBrokers(k.ListenAddrs()...))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		clusters[dc] = cl
		brokers = append(brokers, dc+"="+strings.Join(k.ListenAddrs(), ","))
	}

	ingestAddr, serveAddr, relayAddr := inproctest.FreeAddr(t), inproctest.FreeAddr(t), inproctest.FreeAddr(t)
	const ingest, serve = "github.com/wikimedia-eventstreams-go/eventstreams/ingest", "github.com/wikimedia-eventstreams-go/eventstreams/serve"
	common := []string{"NATS_URL=" + natsURL, "ES_ALLOWED_STREAMS=recentchange"}
	start(t, ingest, append(common, "INGEST_KAFKA_CLUSTERS="+strings.Join(brokers, ";"), "INGEST_START=earliest",
		"INGEST_METRICS_ADDR="+ingestAddr), "http://"+ingestAddr+"/healthz")
	start(t, serve, append(common, "SERVE_ADDR="+serveAddr), "http://"+serveAddr+"/readyz")
	// The relay source's series (upstream lag, bytes) come from an ingest
	// that reads serve as its upstream EventStreams.
	start(t, ingest, append(common, "INGEST_SOURCE=eventstreams", "INGEST_UPSTREAM_URLS=http://"+serveAddr,
		"ES_JETSTREAM_STREAM=RELAY", "ES_SUBJECT_PREFIX=relay", "INGEST_METRICS_ADDR="+relayAddr), "http://"+relayAddr+"/healthz")

	var missing []string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("queried but not exposed: %v", missing)
		}
	})
	n := 0
	next := time.Now()
	inproctest.WaitFor(t, 60*time.Second, func() bool {
		if time.Now().Before(next) {
			return false
		}
		next = time.Now().Add(200 * time.Millisecond)
		n++ // an event in each datacenter, as long as series are missing
		for dc, cl := range clusters {
			v := fmt.Sprintf(`{"$schema":"/mediawiki/recentchange/1.0.0","meta":{"id":"%s-%d","dt":%q,"domain":"canary","stream":"mediawiki.recentchange"},"wiki":"enwiki","type":"edit"}`,
				dc, n, time.Now().UTC().Format(time.RFC3339))
			if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: dc + ".mediawiki.recentchange", Value: []byte(v)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		have := map[string]bool{}
		for _, addr := range []string{ingestAddr, serveAddr, relayAddr} {
			for name := range exposed(t, "http://"+addr+"/metrics") {
				have[name] = true
			}
		}
		missing = missing[:0]
		for name, where := range uses {
			if !have[name] && !fromPrometheus[name] {
				missing = append(missing, fmt.Sprintf("%s (%s)", name, strings.Join(where, "; ")))
			}
		}
		slices.Sort(missing)
		return len(missing) == 0
	})
	if len(uses) < 30 {
		t.Errorf("only %d metrics queried: the extraction lost some", len(uses))
	}
}
