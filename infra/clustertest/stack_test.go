package clustertest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc"
	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

const (
	module     = "github.com/wikimedia-eventstreams-go/eventstreams"
	stream     = "mediawiki.recentchange"
	partitions = 16
)

var dcs = []string{"eqiad", "codfw"}

// stack is one datacenter's system: a NATS cluster, two Kafka clusters
// each holding both DCs' topics, and the built ingest and serves.
type stack struct {
	t      *testing.T
	nats   *inproc.Cluster
	kafka  map[string]*kfake.Cluster
	js     jetstream.JetStream // the test's own client of the cluster
	ingest *process
	serves []*process
}

// process is a running binary.
type process struct {
	*inproctest.Process
	name string
	addr string // its HTTP address
}

func newStack(t *testing.T) *stack {
	t.Helper()
	c, err := inproc.StartCluster(inproc.ClusterOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Shutdown)
	s := &stack{t: t, nats: c, kafka: map[string]*kfake.Cluster{}}
	var topics []string
	for _, dc := range dcs {
		topics = append(topics, dc+"."+stream)
	}
	for _, dc := range dcs {
		k, err := inproc.StartKafka(inproc.KafkaOptions{Topics: topics, Partitions: partitions})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(k.Close)
		s.kafka[dc] = k
	}
	_, s.js = inproctest.Connect(t, c.URL())
	return s
}

func (s *stack) kafkaEnv() string {
	var parts []string
	for _, dc := range dcs {
		parts = append(parts, dc+"="+strings.Join(s.kafka[dc].ListenAddrs(), ","))
	}
	return strings.Join(parts, ";")
}

// startIngest runs ingest against every node, writing an R3 stream.
func (s *stack) startIngest(env ...string) *process {
	s.t.Helper()
	addr := inproctest.FreeAddr(s.t)
	p := s.start("ingest", module+"/ingest", addr, append([]string{
		"NATS_URL=" + s.nats.URL(),
		"INGEST_REPLICAS=3",
		"ES_ALLOWED_STREAMS=" + stream,
		"INGEST_KAFKA_CLUSTERS=" + s.kafkaEnv(),
		"INGEST_START=earliest",
		"INGEST_SESSION_TIMEOUT=6s",
		"INGEST_METRICS_ADDR=" + addr,
		"INGEST_DUPLICATE_WINDOW=10m",
	}, env...))
	s.ingest = p
	return p
}

// startServe runs a serve given natsURL (a node first: nats.go learns the
// others from the cluster) and waits until it is ready.
func (s *stack) startServe(name, natsURL string, env ...string) *process {
	s.t.Helper()
	addr := inproctest.FreeAddr(s.t)
	p := s.start(name, module+"/serve", addr, append([]string{
		"NATS_URL=" + natsURL, "SERVE_ADDR=" + addr, "ES_ALLOWED_STREAMS=" + stream,
		"SERVE_SHUTDOWN_TIMEOUT=2s",
	}, env...))
	inproctest.WaitFor(s.t, 30*time.Second, func() bool { return get("http://"+addr+"/readyz") == 200 })
	s.serves = append(s.serves, p)
	return p
}

func (s *stack) start(name, pkg, addr string, env []string) *process {
	s.t.Helper()
	var log io.Writer
	if os.Getenv("CLUSTERTEST_LOGS") != "" {
		log = prefixed{name}
	}
	return &process{Process: inproctest.StartLogged(s.t, pkg, append(env, "PATH="+os.Getenv("PATH")), "", log), name: name, addr: addr}
}

// prefixed writes a child's log lines to stderr, named.
type prefixed struct{ name string }

func (w prefixed) Write(b []byte) (int, error) {
	fmt.Fprintf(os.Stderr, "[%s] %s", w.name, b)
	return len(b), nil
}

func get(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// producer writes events at a steady rate to both Kafka clusters (as
// MirrorMaker would: every event of a DC's topic also in the other
// cluster), numbered in each partition.
type producer struct {
	mu       sync.Mutex
	produced map[string]key // meta.id → where
	next     map[key]int
	stop     chan struct{}
	done     chan struct{}
	err      error // the first failed write: its events may not be in Kafka
}

// key names a partition of a DC's topic, and an event's number in it.
type key struct {
	topic     string
	partition int32
	n         int
}

func (s *stack) produce(rate int) *producer {
	s.t.Helper()
	clients := map[string]*kgo.Client{}
	for _, dc := range dcs {
		cl, err := kgo.NewClient(kgo.SeedBrokers(s.kafka[dc].ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		if err != nil {
			s.t.Fatal(err)
		}
		s.t.Cleanup(cl.Close)
		clients[dc] = cl
	}
	p := &producer{produced: map[string]key{}, next: map[key]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	const tick = 10 * time.Millisecond
	perTick := max(1, rate/100)
	go func() {
		defer close(p.done)
		t := time.NewTicker(tick)
		defer t.Stop()
		i := 0
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
			var recs []*kgo.Record
			p.mu.Lock()
			for range perTick {
				dc := dcs[i%2]
				k := key{topic: dc + "." + stream, partition: int32(i/2) % partitions}
				n := p.next[k]
				p.next[k] = n + 1
				id := fmt.Sprintf("%s-%d-%07d", dc, k.partition, n)
				p.produced[id] = key{topic: k.topic, partition: k.partition, n: n}
				now := time.Now()
				v := fmt.Sprintf(`{"$schema":"/mediawiki/recentchange/1.0.0","meta":{"id":%q,"dt":%q,"domain":"en.wikipedia.org","stream":%q},"wiki":"enwiki","type":"edit","n":%d}`,
					id, now.UTC().Format(time.RFC3339Nano), stream, n)
				recs = append(recs, &kgo.Record{Topic: k.topic, Partition: k.partition, Value: []byte(v), Timestamp: now})
				i++
			}
			p.mu.Unlock()
			for _, dc := range dcs {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				copies := make([]*kgo.Record, len(recs)) // a client keeps state in the records it produces
				for i, r := range recs {
					copies[i] = &kgo.Record{Topic: r.Topic, Partition: r.Partition, Value: r.Value, Timestamp: r.Timestamp}
				}
				if err := clients[dc].ProduceSync(ctx, copies...).FirstErr(); err != nil && p.err == nil {
					p.mu.Lock()
					p.err = err
					p.mu.Unlock()
				}
				cancel()
			}
		}
	}()
	return p
}

// halt stops producing and returns what was produced.
func (p *producer) halt(t *testing.T) map[string]key {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		t.Fatalf("producing to Kafka: %v", p.err)
	}
	return p.produced
}

// storedCount is the number of events the stream holds, asked of whichever
// node answers.
func (s *stack) storedCount() uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := s.js.Stream(ctx, layout.Default().Stream)
	if err != nil {
		return 0
	}
	return st.CachedInfo().State.Msgs
}
