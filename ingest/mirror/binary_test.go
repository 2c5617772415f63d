package mirror_test

// End-to-end tests of the built ingest binary (go run ./ingest), against
// the same in-process NATS and Kafka clusters as the package tests, whose
// harness and checks they share.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
)

// ingestBinary builds ./ingest once per test run.
func ingestBinary(t *testing.T) string {
	return inproctest.Binary(t, "github.com/wikimedia-eventstreams-go/eventstreams/ingest")
}

// proc is a running ingest binary.
type proc struct {
	cmd     *exec.Cmd
	stderr  *inproctest.Buffer
	metrics string        // base URL of /metrics and /healthz
	done    chan struct{} // closed when the process has exited
}

// env is the environment that points the binary at the harness.
func (h *harness) env(t *testing.T, metricsAddr string) []string {
	return []string{
		"NATS_URL=" + h.ns.ClientURL(),
		"ES_ALLOWED_STREAMS=" + strings.Join(h.streamNames(), ","),
		"INGEST_KAFKA_CLUSTERS=eqiad=" + strings.Join(h.kafka["eqiad"].ListenAddrs(), ",") +
			";codfw=" + strings.Join(h.kafka["codfw"].ListenAddrs(), ","),
		"INGEST_START=earliest",
		"INGEST_SESSION_TIMEOUT=6s",
		"INGEST_METRICS_ADDR=" + metricsAddr,
		"INGEST_DUPLICATE_WINDOW=10m",
		"PATH=" + os.Getenv("PATH"),
	}
}

func (h *harness) streamNames() []string {
	var names []string
	for _, s := range h.cat.Streams() {
		names = append(names, s.Name)
	}
	return names
}

func startBinary(t *testing.T, env []string, metricsAddr string) *proc {
	t.Helper()
	cmd := exec.Command(ingestBinary(t))
	cmd.Env = env
	p := &proc{cmd: cmd, stderr: &inproctest.Buffer{}, metrics: "http://" + metricsAddr, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if testing.Verbose() {
		cmd.Stderr = io.MultiWriter(p.stderr, os.Stderr)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("ingest did not exit within %v; stderr:\n%s", timeout, p.stderr.String())
		return -1
	}
}

func TestBinaryConfigurationErrors(t *testing.T) {
	base := map[string]string{"INGEST_KAFKA_CLUSTERS": "eqiad=127.0.0.1:1;codfw=127.0.0.1:2", "INGEST_METRICS_ADDR": "127.0.0.1:0"}
	tests := []struct {
		name, key, value, want string
	}{
		{"missing clusters", "INGEST_KAFKA_CLUSTERS", "", "INGEST_KAFKA_CLUSTERS: no clusters given"},
		{"malformed clusters", "INGEST_KAFKA_CLUSTERS", "eqiad=host-without-port", "INGEST_KAFKA_CLUSTERS: cluster \"eqiad\": broker \"host-without-port\" is not host:port"},
		{"cluster without name", "INGEST_KAFKA_CLUSTERS", "127.0.0.1:9092", "INGEST_KAFKA_CLUSTERS: \"127.0.0.1:9092\": want name=host:port"},
		{"cluster twice", "INGEST_KAFKA_CLUSTERS", "a=h:1;a=h:2", "INGEST_KAFKA_CLUSTERS: cluster \"a\" is given twice"},
		{"unknown stream", "ES_ALLOWED_STREAMS", "recentchange,no.such.stream", "ES_ALLOWED_STREAMS: unknown streams: no.such.stream"},
		{"bad start", "INGEST_START", "yesterday", "INGEST_START: \"yesterday\": want latest, earliest or an RFC 3339 time"},
		{"bad duration", "INGEST_MAX_AGE", "7 days", "INGEST_MAX_AGE: invalid value \"7 days\""},
		{"bad number", "INGEST_REPLICAS", "three", "INGEST_REPLICAS: invalid value \"three\""},
		{"replicas out of range", "INGEST_REPLICAS", "7", "INGEST_REPLICAS: must be between 1 and 5"},
		{"window over age", "INGEST_DUPLICATE_WINDOW", "200h", "INGEST_DUPLICATE_WINDOW: must not exceed INGEST_MAX_AGE"},
		{"bad sasl", "INGEST_KAFKA_SASL_MECHANISM", "PLAIN", "INGEST_KAFKA_SASL_MECHANISM: SASL mechanism \"PLAIN\""},
		{"missing CA", "NATS_TLS_CA", "/no/such/ca.pem", "NATS_TLS_CA: stat /no/such/ca.pem"},
		{"missing Kafka CA", "INGEST_KAFKA_TLS_CA", "/no/such/ca.pem", "INGEST_KAFKA_TLS_CA: cluster "},
		{"missing stream config", "ES_STREAM_CONFIG", "/no/such/streams.json", "ES_STREAM_CONFIG: catalog: open /no/such/streams.json"},
		{"bad prefix", "ES_SUBJECT_PREFIX", "a.>", "ES_SUBJECT_PREFIX: subject prefix"},
		{"bad log level", "LOG_LEVEL", "loud", "LOG_LEVEL: \"loud\""},
		{"negative recent ids", "INGEST_RECENT_IDS", "-5", "INGEST_RECENT_IDS: must be between 0 (off)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := []string{}
			for k, v := range base {
				if k != tt.key {
					env = append(env, k+"="+v)
				}
			}
			env = append(env, tt.key+"="+tt.value)
			cmd := exec.Command(ingestBinary(t))
			cmd.Env = env
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			code := -1
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			out := strings.TrimRight(stderr.String(), "\n")
			if code != 2 {
				t.Errorf("exit code %d, want 2; stderr: %s", code, out)
			}
			if strings.Contains(out, "\n") || strings.Contains(out, "panic") {
				t.Errorf("want one line, got:\n%s", out)
			}
			if !strings.HasPrefix(out, "ingest: configuration: "+tt.want) {
				t.Errorf("stderr %q\nwant prefix %q", out, "ingest: configuration: "+tt.want)
			}
		})
	}
}

// TestBinaryKilledAndRestarted kills ingest with SIGKILL in the middle of a
// stream, restarts it, and checks that nothing was lost or doubled. Then it
// stops it with SIGTERM and checks the clean exit.
func TestBinaryKilledAndRestarted(t *testing.T) {
	const partitions = 2
	h := newHarness(t, partitions, rc, "mediawiki.revision-create")
	streams := []string{rc, "mediawiki.revision-create"}
	addr := inproctest.FreeAddr(t)
	env := h.env(t, addr)

	var mu sync.Mutex
	var all []record
	stop := make(chan struct{})
	producerDone := make(chan struct{})
	go func() {
		defer close(producerDone)
		for batch := 0; ; batch++ {
			select {
			case <-stop:
				return
			default:
			}
			recs := h.events(streams, partitions, batch*5, 5, false)
			h.write(dcs, recs...)
			mu.Lock()
			all = append(all, recs...)
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	}()

	p := startBinary(t, env, addr)
	h.waitStored(1000, 60*time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 10*time.Second)
	time.Sleep(300 * time.Millisecond) // events keep coming while ingest is down
	atKill := h.count()

	p = startBinary(t, env, addr)
	h.waitStored(atKill+1000, 60*time.Second)
	close(stop)
	<-producerDone
	msgs := h.waitStored(len(all), 60*time.Second)
	h.checkExactlyOnce(msgs, all)
	if len(msgs) != len(all) {
		t.Errorf("%d messages stored, want %d", len(msgs), len(all))
	}

	// Operators' endpoints.
	resp, err := http.Get(p.metrics + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Status string `json:"status"`
		Stream bool   `json:"stream"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if resp.StatusCode != 200 || health.Status != "ok" || !health.Stream {
		t.Errorf("/healthz: %d %+v", resp.StatusCode, health)
	}
	resp, err = http.Get(p.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, name := range []string{"eventstreams_ingest_records_consumed_total{cluster=\"eqiad\",topic=\"eqiad.mediawiki.recentchange\"}",
		"eventstreams_ingest_events_published_total", "eventstreams_ingest_duplicates_total", "eventstreams_ingest_publish_seconds_bucket",
		"eventstreams_ingest_consumer_lag{cluster=\"codfw\"", "go_goroutines"} {
		if !bytes.Contains(body, []byte(name)) {
			t.Errorf("/metrics lacks %s", name)
		}
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0; stderr:\n%s", code, p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), `"msg":"ingest stopped"`) {
		t.Errorf("no clean stop logged:\n%s", p.stderr.String())
	}
}

// TestBinaryStaticMemberRejoinsAtOnce: with INGEST_INSTANCE_ID, an ingest
// killed without leaving its group and restarted takes its partitions back
// at once, although the group would otherwise wait for the dead member's
// session (60 s here) to expire before anyone reads them again.
func TestBinaryStaticMemberRejoinsAtOnce(t *testing.T) {
	h := newHarness(t, 1, rc)
	addr := inproctest.FreeAddr(t)
	env := append(h.env(t, addr), "INGEST_INSTANCE_ID=ingest-0", "INGEST_SESSION_TIMEOUT=60s") // later values win

	var all []record
	batch := func() { // 10 events originating in each DC, each in both clusters
		recs := h.events([]string{rc}, 1, len(all)/2, 10, false)
		h.write(dcs, recs...)
		all = append(all, recs...)
	}
	batch()
	p := startBinary(t, env, addr)
	h.waitStored(len(all), 60*time.Second)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 10*time.Second)

	batch()
	p = startBinary(t, env, addr)
	h.checkExactlyOnce(h.waitStored(len(all), 20*time.Second), all) // well inside the 60 s session
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM; stderr:\n%s", code, p.stderr.String())
	}
}
