package iplimit

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc"
	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

func TestKeyOf(t *testing.T) {
	same := [][2]string{
		{"192.0.2.1", "::ffff:192.0.2.1"},
		{"2001:db8::1", "2001:DB8:0:0:0:0:0:1"},
		{"fe80::1%eth0", "fe80::1"},
	}
	for _, p := range same {
		if keyOf(p[0]) != keyOf(p[1]) {
			t.Errorf("%s and %s count apart", p[0], p[1])
		}
	}
	if keyOf("192.0.2.1") == keyOf("192.0.2.2") {
		t.Error("two addresses count together")
	}
	// Whatever a trusted X-Client-IP holds, the slot key is a valid KV key
	// of bounded length.
	for _, ip := range []string{"2001:db8::1", "not an ip", strings.Repeat("x", 8<<10), "a.b>*", ""} {
		k := keyOf(ip)
		name := hex.EncodeToString(k[:]) + ".99"
		if len(name) != 35 || strings.ContainsAny(name, ":*> ") {
			t.Errorf("%.20q: slot key %q", ip, name)
		}
	}
}

func TestProcess(t *testing.T) {
	p := NewProcess(2)
	r1, ok1 := p.Acquire(context.Background(), "192.0.2.1")
	_, ok2 := p.Acquire(context.Background(), "::ffff:192.0.2.1")
	_, ok3 := p.Acquire(context.Background(), "192.0.2.1")
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("acquired %v %v %v, want true true false", ok1, ok2, ok3)
	}
	r1()
	r1() // a second release counts nothing
	if _, ok := p.Acquire(context.Background(), "192.0.2.1"); !ok {
		t.Fatal("a released slot was not free")
	}
	if _, ok := p.Acquire(context.Background(), "192.0.2.1"); ok {
		t.Fatal("a double release freed two slots")
	}
}

// serves is a NATS server (or cluster) with the EventStreams stream and
// any number of Cluster limiters, each on its own connection as separate
// serve processes would be; the i-th connects to urls[i%len(urls)].
type serves struct {
	t    *testing.T
	url  string
	urls []string
	n    int
	js   jetstream.JetStream
}

func newServes(t *testing.T) *serves {
	ns, js := inproctest.NATS(t, true)
	return &serves{t: t, url: ns.ClientURL(), js: js}
}

type limiter struct {
	*Cluster
	reg  *prometheus.Registry
	nc   *nats.Conn
	stop func() // ends Run
}

// start runs a Cluster of limit with ttl on a connection of its own, and
// waits until its bucket is in use.
func (s *serves) start(limit int, ttl time.Duration) *limiter {
	s.t.Helper()
	url := s.url
	if len(s.urls) > 0 {
		url = s.urls[s.n%len(s.urls)]
	}
	s.n++
	nc, js := inproctest.Connect(s.t, url)
	reg := prometheus.NewRegistry()
	c, err := NewCluster(js, ClusterOptions{Limit: limit, Stream: layout.Default().Stream, TTL: ttl,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registerer: reg})
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	s.t.Cleanup(stop)
	inproctest.WaitFor(s.t, 10*time.Second, func() bool { return metric(reg, "client_ip_limit_bucket_ready") == 1 })
	return &limiter{Cluster: c, reg: reg, nc: nc, stop: stop}
}

func metric(reg *prometheus.Registry, name string, labels ...string) float64 {
	return inproctest.Metric(reg, "eventstreams_"+name, labels...)
}

func (l *limiter) try(t *testing.T, ip string) (func(), bool) {
	t.Helper()
	return l.Acquire(context.Background(), ip)
}

func TestClusterLimitAcrossServes(t *testing.T) {
	s := newServes(t)
	a, b := s.start(2, time.Minute), s.start(2, time.Minute)
	a.fullFor, b.fullFor = 0, 0 // every answer from the bucket
	const ip = "2001:db8::7"
	ra, ok := a.try(t, ip)
	if !ok {
		t.Fatal("first slot refused")
	}
	if _, ok := b.try(t, "::ffff:192.0.2.9"); !ok {
		t.Fatal("another IP refused")
	}
	if _, ok := b.try(t, ip); !ok {
		t.Fatal("second slot refused")
	}
	if _, ok := a.try(t, ip); ok {
		t.Fatal("a third stream on A was admitted")
	}
	if _, ok := b.try(t, ip); ok {
		t.Fatal("a third stream on B was admitted")
	}
	ra()
	ra()
	if _, ok := b.try(t, ip); !ok {
		t.Fatal("the slot A released is not free on B")
	}
	if _, ok := a.try(t, ip); ok {
		t.Fatal("a double release freed two slots")
	}
	if metric(a.reg, "client_ip_limit_kv_errors_total")+metric(b.reg, "client_ip_limit_kv_errors_total") != 0 ||
		metric(a.reg, "client_ip_limit_fail_open_total")+metric(b.reg, "client_ip_limit_fail_open_total") != 0 {
		t.Error("KV errors or fail-open admissions on a healthy bucket")
	}
	if got := metric(b.reg, "client_ip_limit_slots"); got != 3 {
		t.Errorf("B holds %v slots, want 3", got)
	}
}

// TestClusterRemembersFull: a serve that found an IP at its limit
// refuses it again without asking the bucket for a while, unless it
// freed one of the IP's slots itself.
func TestClusterRemembersFull(t *testing.T) {
	s := newServes(t)
	a, b, c := s.start(2, time.Minute), s.start(2, time.Minute), s.start(2, time.Minute)
	b.fullFor = time.Hour
	const ip = "192.0.2.77"
	ra, _ := a.try(t, ip)
	rb, _ := b.try(t, ip)
	if _, ok := b.try(t, ip); ok {
		t.Fatal("admitted past the limit")
	}
	ra() // freed on A: B does not know
	if _, ok := b.try(t, ip); ok {
		t.Error("B asked the bucket again at once")
	}
	if _, ok := c.try(t, ip); !ok {
		t.Fatal("the slot A freed is not free on C")
	}
	rb() // freed on B: B knows
	if _, ok := b.try(t, ip); !ok {
		t.Error("B still refuses after freeing a slot itself")
	}
}

// TestClusterConcurrent: many concurrent requests of one IP across three
// serves never hold more than the limit, and no slot is lost.
func TestClusterConcurrent(t *testing.T) {
	s := newServes(t)
	const limit, perServe = 3, 20
	ls := []*limiter{s.start(limit, time.Minute), s.start(limit, time.Minute), s.start(limit, time.Minute)}
	for _, l := range ls {
		l.fullFor = 0 // every answer from the bucket
	}
	var holding, most, admitted atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, l := range ls {
		for i := range perServe {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				release, ok := l.Acquire(context.Background(), "192.0.2.50")
				if !ok {
					return
				}
				admitted.Add(1)
				n := holding.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				if i%2 == 0 { // half hold on, half give back and make room
					holding.Add(-1)
					release()
				}
			}()
		}
	}
	close(start)
	wg.Wait()
	if most.Load() > limit {
		t.Errorf("%d streams held at once, limit %d", most.Load(), limit)
	}
	// Every slot given back is free again, on any serve; no more.
	extra := 0
	for _, l := range ls {
		for {
			if _, ok := l.Acquire(context.Background(), "192.0.2.50"); !ok {
				break
			}
			extra++
		}
	}
	if int(holding.Load())+extra != limit {
		t.Errorf("%d slots held at the end and %d more taken, want %d in all", holding.Load(), extra, limit)
	}
	for i, l := range ls {
		if e := metric(l.reg, "client_ip_limit_kv_errors_total") + metric(l.reg, "client_ip_limit_fail_open_total"); e != 0 {
			t.Errorf("serve %d: %v KV errors or fail-open admissions", i, e)
		}
	}
	t.Logf("%d of %d requests admitted", admitted.Load(), len(ls)*perServe)
}

// TestClusterSlotsExpire: the slots of a serve that stops refreshing them
// (it died) are free within the TTL; those of a live serve are kept past
// it by its refreshes.
func TestClusterSlotsExpire(t *testing.T) {
	s := newServes(t)
	const ttl = 1500 * time.Millisecond
	alive, dead, other := s.start(2, ttl), s.start(2, ttl), s.start(2, ttl)
	other.fullFor = 0 // every answer from the bucket
	for range 2 {
		if _, ok := alive.try(t, "192.0.2.1"); !ok {
			t.Fatal("refused")
		}
		if _, ok := dead.try(t, "192.0.2.2"); !ok {
			t.Fatal("refused")
		}
	}
	held := time.Now()
	dead.stop() // no refresh, no release: as after kill -9
	dead.nc.Close()
	died := time.Now()
	if _, ok := other.try(t, "192.0.2.2"); ok {
		t.Fatal("admitted at once: the dead serve's slots were not counted")
	}
	inproctest.WaitFor(t, ttl+5*time.Second, func() bool {
		release, ok := other.try(t, "192.0.2.2")
		if ok {
			release()
		}
		return ok
	})
	took := time.Since(died)
	t.Logf("a dead serve's slots were free after %v (TTL %v)", took.Round(time.Millisecond), ttl)
	if took < ttl/2 {
		t.Errorf("free after %v, before the TTL %v could have passed", took, ttl)
	}
	// The live serve's slots, older than the TTL by now, still count.
	inproctest.WaitFor(t, 2*ttl, func() bool { return time.Since(held) > 2*ttl })
	if _, ok := other.try(t, "192.0.2.1"); ok {
		t.Error("a live serve's slot expired")
	}
	if metric(alive.reg, "client_ip_limit_slots_lost_total") != 0 {
		t.Error("the live serve lost its slot")
	}
}

// TestClusterFailsOpenToProcess: with NATS gone, a serve counts in its
// own process (the limit still holds per serve), counts the failure, and
// when NATS comes back without the bucket (a memory bucket does not
// survive its only server), makes it again and writes its slots back.
func TestClusterFailsOpenToProcess(t *testing.T) {
	dir := t.TempDir()
	ns, err := inproc.StartNATS(inproc.NATSOptions{StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	port := ns.Addr().(*net.TCPAddr).Port
	_, js := inproctest.Connect(t, ns.ClientURL())
	inproctest.CreateStream(t, js)
	s := &serves{t: t, url: ns.ClientURL(), js: js}
	l := s.start(2, 3*time.Second)
	const ip = "192.0.2.1"
	if _, ok := l.try(t, ip); !ok {
		t.Fatal("refused")
	}

	ns.Shutdown()
	ns.WaitForShutdown()
	began := time.Now()
	if _, ok := l.try(t, ip); !ok {
		t.Fatal("refused while the bucket is out of reach: want fail open")
	}
	if _, ok := l.try(t, ip); ok {
		t.Fatal("admitted past the limit in one process")
	}
	if waited := time.Since(began); waited > 3*opTimeout {
		t.Errorf("requests waited %v for an unreachable bucket", waited)
	}
	if metric(l.reg, "client_ip_limit_kv_errors_total", "op", "acquire") != 1 || metric(l.reg, "client_ip_limit_fail_open_total") != 1 {
		t.Errorf("errors %v, fail-open %v; want 1 and 1 (one timeout, then no more asking)",
			metric(l.reg, "client_ip_limit_kv_errors_total", "op", "acquire"), metric(l.reg, "client_ip_limit_fail_open_total"))
	}

	ns2, err := inproc.StartNATS(inproc.NATSOptions{StoreDir: dir, Port: port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns2.Shutdown)
	k := keyOf(ip)
	slot := hex.EncodeToString(k[:]) + ".0"
	inproctest.WaitFor(t, 15*time.Second, func() bool {
		kv, err := js.KeyValue(context.Background(), BucketName(layout.Default().Stream))
		if err != nil {
			return false
		}
		_, err = kv.Get(context.Background(), slot)
		return err == nil
	})
	if metric(l.reg, "client_ip_limit_bucket_ready") != 1 || metric(l.reg, "client_ip_limit_slots") != 1 {
		t.Errorf("after NATS came back: ready %v, slots %v; want 1 and 1",
			metric(l.reg, "client_ip_limit_bucket_ready"), metric(l.reg, "client_ip_limit_slots"))
	}
	// The stream admitted while NATS was down is counted by its process
	// only: another serve sees one slot taken.
	other := s.start(2, 3*time.Second)
	if _, ok := other.try(t, ip); !ok {
		t.Error("refused: the fail-open stream was counted in the bucket")
	}
	if _, ok := other.try(t, ip); ok {
		t.Error("admitted: the slot written back was not counted")
	}
}

// TestClusterOnR3: on a 3-node NATS cluster with an R3 stream, the bucket
// is R3 too, and serves connected to different nodes share the count; a
// lost compare-and-set on a replicated stream (error 10164, not 10071)
// is a taken slot, not a KV failure.
func TestClusterOnR3(t *testing.T) {
	urls := startCluster(t, 3)
	_, js := inproctest.Connect(t, urls[0])
	inproctest.WaitFor(t, 20*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := js.CreateStream(ctx, layout.Default().StreamConfig(layout.Limits{DuplicateWindow: time.Minute, Replicas: 3}))
		return err == nil
	})
	s := &serves{t: t, urls: urls, js: js}
	const limit, perServe = 2, 10
	ls := []*limiter{s.start(limit, time.Minute), s.start(limit, time.Minute), s.start(limit, time.Minute)}
	for _, l := range ls {
		l.fullFor = 0 // every answer from the bucket
	}
	kv, err := js.KeyValue(context.Background(), BucketName(layout.Default().Stream))
	if err != nil {
		t.Fatal(err)
	}
	st, err := kv.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Replicas != 3 {
		t.Errorf("bucket replicas %d, want the stream's 3", st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Replicas)
	}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, l := range ls {
		for range perServe {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if _, ok := l.Acquire(context.Background(), "2001:db8::9"); ok {
					admitted.Add(1)
				}
			}()
		}
	}
	close(start)
	wg.Wait()
	if admitted.Load() != limit {
		t.Errorf("%d streams admitted across three serves on three nodes, limit %d", admitted.Load(), limit)
	}
	for i, l := range ls {
		if e := metric(l.reg, "client_ip_limit_kv_errors_total") + metric(l.reg, "client_ip_limit_fail_open_total"); e != 0 {
			t.Errorf("serve %d: %v KV errors or fail-open admissions", i, e)
		}
	}
}

// startCluster starts n nats-servers with JetStream clustered over
// loopback routes and returns their client URLs.
func startCluster(t *testing.T, n int) []string {
	t.Helper()
	routes := make([]string, n)
	ports := make([]int, n)
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		routes[i] = fmt.Sprintf("nats://127.0.0.1:%d", ports[i])
	}
	urls := make([]string, n)
	for i := range n {
		ns, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("n%d", i), Host: "127.0.0.1", Port: server.RANDOM_PORT,
			JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true,
			Cluster: server.ClusterOpts{Name: "es", Host: "127.0.0.1", Port: ports[i]},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		})
		if err != nil {
			t.Fatal(err)
		}
		ns.Start()
		t.Cleanup(ns.Shutdown)
		if !ns.ReadyForConnections(10 * time.Second) {
			t.Fatal("nats-server not ready")
		}
		urls[i] = ns.ClientURL()
	}
	return urls
}
