package helmcheck_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc"
	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	ingestservice "github.com/wikimedia-eventstreams-go/eventstreams/ingest/service"
	serveservice "github.com/wikimedia-eventstreams-go/eventstreams/serve/service"
)

// setEnv sets the container's literal variables in the test's environment (those from
// Secrets and the pod have no value here), with over on top.
func setEnv(t *testing.T, c *corev1.Container, over map[string]string) {
	t.Helper()
	for _, e := range c.Env {
		if e.ValueFrom == nil && !fromPod[c.Name][e.Name] {
			t.Setenv(e.Name, e.Value)
		}
	}
	for k, v := range over {
		t.Setenv(k, v)
	}
}

// TestRenderedConfigLoads: each program accepts the environment rendered for it, with every
// value set (its LoadConfig: envconfig, then Validate), less what comes from Secrets and the
// pod. values.yaml leaves INGEST_KAFKA_CLUSTERS empty (the program's default), so that one is
// given where the values do not set it.
func TestRenderedConfigLoads(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			pods := render(t, vs.files, vs.set).pods(t)
			for program, pod := range pods {
				t.Run(program, func(t *testing.T) {
					c := container(t, pod)
					over := map[string]string{}
					if program == "ingest" && effective(t, c, program, "INGEST_KAFKA_CLUSTERS") == "" {
						over["INGEST_KAFKA_CLUSTERS"] = "eqiad=kafka1:9092"
					}
					setEnv(t, c, over)
					var err error
					if program == "serve" {
						_, err = serveservice.LoadConfig()
					} else {
						_, err = ingestservice.LoadConfig()
					}
					if err != nil {
						t.Errorf("%s does not accept its rendered configuration: %v", program, err)
					}
				})
			}
		})
	}
}

// TestProbesAnswer starts serve and ingest in process with the environment rendered from
// values.yaml (NATS_URL pointed at an in-process nats-server, INGEST_KAFKA_CLUSTERS at a
// kfake cluster holding recentchange's topic, ES_ALLOWED_STREAMS narrowed to it), each listening on a free loopback port rather than the rendered one (the
// machine is shared; TestRender checks that the probes' ports are the rendered listen
// addresses' ports), and asks each probe's path until it answers 200. A route the program
// does not have answers 404, which would fail the wait: the check can fail.
func TestProbesAnswer(t *testing.T) {
	pods := render(t, nil, nil).pods(t)
	ns, _ := inproctest.NATS(t, false)
	kafka, err := inproc.StartKafka(inproc.KafkaOptions{Topics: []string{"eqiad.mediawiki.recentchange"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kafka.Close)
	over := map[string]string{"NATS_URL": ns.ClientURL(), "INGEST_KAFKA_CLUSTERS": "eqiad=" + kafka.ListenAddrs()[0],
		"ES_ALLOWED_STREAMS": "recentchange"}

	for _, program := range []string{"ingest", "serve"} {
		t.Run(program, func(t *testing.T) {
			c := container(t, pods[program])
			setEnv(t, c, over)
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			switch program {
			case "ingest":
				cfg, err := ingestservice.LoadConfig()
				if err != nil {
					t.Fatal(err)
				}
				go func() { done <- ingestservice.Run(ctx, cfg, ingestservice.Deps{Logger: log, MetricsListener: lis}) }()
			case "serve":
				cfg, err := serveservice.LoadConfig()
				if err != nil {
					t.Fatal(err)
				}
				go func() { done <- serveservice.Run(ctx, cfg, serveservice.Deps{Logger: log, Listener: lis}) }()
			}
			t.Cleanup(func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("%s: %v", program, err)
				}
			})
			base := "http://" + lis.Addr().String()
			for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
				last := 0
				inproctest.WaitFor(t, 30*time.Second, func() bool {
					last = status(t, base+p.HTTPGet.Path)
					if last == http.StatusNotFound {
						t.Fatalf("%s %s: 404, not a route of the program", program, p.HTTPGet.Path)
					}
					return last == http.StatusOK
				})
			}
			if got := status(t, base+"/no-such-route"); got != http.StatusNotFound {
				t.Errorf("%s: an unknown route answers %d, so a 404 would not be seen", program, got)
			}
		})
	}
}

// status is the status of GET url, or 0 while nothing answers.
func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) || strings.Contains(err.Error(), "connection refused") {
			return 0
		}
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
