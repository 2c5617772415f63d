package iplimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// The cluster-wide count, in a NATS KV bucket shared by every serve of a
// stream (BucketName).
//
// Key layout: a client IP has Limit slots, one key each,
// "<hash>.<slot>" with hash the hex of its 16-byte key (so IPv6 colons
// never reach a subject) and slot 0 … Limit−1. Taking a slot is KV Create,
// a write that JetStream accepts only if the key has no live value (an
// expected-last-subject-sequence check on the server): two serves racing
// for the last free slot race for the same key, and exactly one wins. The
// count can therefore never exceed Limit, whatever the interleaving.
//
// Expiry: the bucket's TTL (a stream max age) drops every value that was
// not rewritten for TTL. Each serve rewrites the slots it holds every
// TTL/3 (KV Update with the revision it holds, so that it never overwrites
// a slot that expired and was taken by another serve meanwhile); a serve
// that dies stops rewriting, and its slots are free TTL later at most
// (plus the server's expiry pass). A stream that ends deletes its slot,
// again only at the revision it holds.
//
// Fail mode: open, to the process count. Every Cluster also counts its own
// streams per IP like Process, before asking the bucket: while the bucket
// is unreachable (NATS down, no quorum, the bucket being made), a client
// is still limited to Limit streams per serve process and never gets a 5xx
// for it; the KV errors are counted and logged. The limit protects a
// public service from one greedy client; refusing every client because
// the bucket is out of reach would turn a NATS hiccup into an outage of
// the whole service, for a bound that the process count keeps within
// (serve processes × Limit) meanwhile. A stream admitted so is counted by
// its process only, until it ends.

// DefaultTTL is how long the slots of a serve that died stay taken, at
// most; a serve rewrites its slots every TTL/3.
const DefaultTTL = 30 * time.Second

// MaxClusterLimit bounds Limit: a request that finds its IP at the limit
// has tried each slot in turn (a KV round trip or two each).
const MaxClusterLimit = 100

// opTimeout bounds one KV operation: a stream request waits at most this
// long for its slot before it is admitted with the process count only.
const opTimeout = time.Second

// refreshWorkers is how many slots a serve rewrites at once.
const refreshWorkers = 8

// A request that found its IP at the limit costs the bucket two round
// trips per slot; for fullFor after, the IP's requests to this serve are
// refused without asking (sooner if this serve frees one of its slots),
// so that a client hammering at its limit costs the bucket at most
// 2 × Limit operations per fullFor and serve. At most fullMax IPs are
// remembered.
const (
	fullFor = time.Second
	fullMax = 4096
)

// BucketName is the KV bucket of the serves of stream.
func BucketName(stream string) string {
	b := []byte(stream)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b) + "_client_ips"
}

// ClusterOptions configure a Cluster.
type ClusterOptions struct {
	// Limit is the streams allowed per client IP, 1 to MaxClusterLimit.
	Limit int
	// Stream is the JetStream stream the serves read: the bucket is named
	// after it and has its replicas (R3 in a 3-node cluster).
	Stream string
	// TTL (0: DefaultTTL, at least 1s).
	TTL        time.Duration
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// Cluster counts the streams of each client IP across every serve
// process of a stream, in a NATS KV bucket. Run keeps its slots alive.
type Cluster struct {
	js    jetstream.JetStream
	opts  ClusterOptions
	log   *slog.Logger
	m     clusterMetrics
	owner []byte // the value of this process's slots, for an operator who reads the bucket
	local *Process

	kv       atomic.Pointer[bucket] // nil until Run made the bucket, or after it was lost
	lost     chan struct{}          // (1) Run makes the bucket again
	degraded atomic.Int64           // unix ns until which the bucket is not asked

	mu     sync.Mutex
	leases map[*lease]struct{}
	held   map[string]bool   // slot keys held, not asked for again by this process
	full   map[key]time.Time // IPs found at the limit, refused without asking until then
	// fullFor is the constant fullFor; tests that count KV answers set 0.
	fullFor time.Duration
}

type bucket struct{ kv jetstream.KeyValue }

// lease is a slot held by one stream of this process.
type lease struct {
	mu   sync.Mutex
	ip   key
	name string // the slot's key
	rev  uint64 // its revision as last written; 0: lost to another serve
	done bool
}

type clusterMetrics struct {
	kvErrors *prometheus.CounterVec // op
	failOpen prometheus.Counter
	slots    prometheus.Gauge
	lost     prometheus.Counter
	ready    prometheus.Gauge
}

// KV operations, as the kv_errors_total label.
const (
	opAcquire = "acquire"
	opRefresh = "refresh"
	opRelease = "release"
	opBucket  = "bucket"
)

// NewCluster returns a Cluster counting in js's KV bucket for
// opts.Stream. It asks nothing of NATS; Run makes the bucket.
func NewCluster(js jetstream.JetStream, opts ClusterOptions) (*Cluster, error) {
	if js == nil || opts.Logger == nil || opts.Registerer == nil || opts.Stream == "" {
		return nil, errors.New("iplimit: jetstream, stream, logger and registerer are required")
	}
	if opts.Limit < 1 || opts.Limit > MaxClusterLimit {
		return nil, fmt.Errorf("iplimit: limit %d: want 1 to %d", opts.Limit, MaxClusterLimit)
	}
	if opts.TTL == 0 {
		opts.TTL = DefaultTTL
	}
	if opts.TTL < time.Second {
		return nil, fmt.Errorf("iplimit: TTL %v: want at least 1s", opts.TTL)
	}
	const ns = "eventstreams"
	m := clusterMetrics{
		kvErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "client_ip_limit_kv_errors_total",
			Help: "Failed operations on the client IP limit's KV bucket, by operation (acquire, refresh, release, bucket)."}, []string{"op"}),
		failOpen: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "client_ip_limit_fail_open_total",
			Help: "Streams admitted with the process count only, the KV bucket being unreachable."}),
		slots: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "client_ip_limit_slots",
			Help: "Client IP slots this process holds in the KV bucket."}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "client_ip_limit_slots_lost_total",
			Help: "Slots that expired before this process rewrote them and were taken by another serve."}),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "client_ip_limit_bucket_ready",
			Help: "1 once the KV bucket is made or found, 0 before or after it was lost (outages show in client_ip_limit_kv_errors_total)."}),
	}
	for _, c := range []prometheus.Collector{m.kvErrors, m.failOpen, m.slots, m.lost, m.ready} {
		if err := opts.Registerer.Register(c); err != nil {
			return nil, fmt.Errorf("iplimit: %w", err)
		}
	}
	for _, op := range []string{opAcquire, opRefresh, opRelease, opBucket} {
		m.kvErrors.WithLabelValues(op)
	}
	return &Cluster{js: js, opts: opts, log: opts.Logger, m: m, owner: ownerID(), local: NewProcess(opts.Limit),
		lost: make(chan struct{}, 1), leases: map[*lease]struct{}{}, held: map[string]bool{},
		full: map[key]time.Time{}, fullFor: fullFor}, nil
}

// ownerID names this process in the values of its slots: host and a
// random part.
func ownerID() []byte {
	host, _ := os.Hostname()
	if len(host) > 64 {
		host = host[:64]
	}
	var r [8]byte
	_, _ = rand.Read(r[:])
	return []byte(host + "/" + hex.EncodeToString(r[:]))
}

// Acquire takes a slot of ip, unless ip holds Limit streams across the
// serves (or in this process). release gives the slot back; calls after
// the first do nothing. With the bucket unreachable it counts in this
// process only (the package doc says why).
func (c *Cluster) Acquire(ctx context.Context, ip string) (release func(), ok bool) {
	k := keyOf(ip)
	if !c.local.take(k) {
		return nil, false
	}
	giveLocal := func() { c.local.give(k) }
	if c.knownFull(k) {
		giveLocal()
		return nil, false
	}
	b := c.bucket()
	if b == nil {
		c.m.failOpen.Inc()
		return sync.OnceFunc(giveLocal), true
	}
	prefix := hex.EncodeToString(k[:]) + "."
	for slot := range c.opts.Limit {
		name := prefix + strconv.Itoa(slot)
		if c.holds(name) {
			continue
		}
		octx, cancel := context.WithTimeout(ctx, opTimeout)
		rev, err := b.kv.Create(octx, name, c.owner)
		cancel()
		switch classify(err) {
		case written:
			l := c.add(k, name, rev)
			return sync.OnceFunc(func() { c.release(l); giveLocal() }), true
		case taken:
			continue
		case bucketGone:
			c.bucketLost()
		}
		c.failed(opAcquire, err)
		c.m.failOpen.Inc()
		return sync.OnceFunc(giveLocal), true
	}
	giveLocal()
	c.markFull(k)
	return nil, false
}

func (c *Cluster) knownFull(k key) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.full[k]
	if ok && time.Now().After(until) {
		delete(c.full, k)
		return false
	}
	return ok
}

func (c *Cluster) markFull(k key) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.full) >= fullMax {
		for f, until := range c.full {
			if now.After(until) {
				delete(c.full, f)
			}
		}
		if len(c.full) >= fullMax {
			return
		}
	}
	c.full[k] = now.Add(c.fullFor)
}

func (c *Cluster) holds(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held[name]
}

func (c *Cluster) add(k key, name string, rev uint64) *lease {
	l := &lease{ip: k, name: name, rev: rev}
	c.mu.Lock()
	c.leases[l] = struct{}{}
	c.held[name] = true
	c.mu.Unlock()
	c.m.slots.Inc()
	return l
}

// release deletes l's slot, if it is still the revision this process
// wrote; if the delete fails, the slot expires within the TTL.
func (c *Cluster) release(l *lease) {
	c.mu.Lock()
	delete(c.leases, l)
	delete(c.held, l.name)
	c.mu.Unlock()
	defer func() { // after the delete: this serve knows a slot is free
		c.mu.Lock()
		delete(c.full, l.ip)
		c.mu.Unlock()
	}()
	l.mu.Lock() // after a refresh in flight, whose revision it deletes
	defer l.mu.Unlock()
	l.done = true
	if l.rev == 0 {
		return
	}
	c.m.slots.Dec()
	b := c.kv.Load()
	if b == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	err := b.kv.Delete(ctx, l.name, jetstream.LastRevision(l.rev))
	switch classify(err) {
	case written, taken: // taken: it had expired and is another serve's now
	case bucketGone:
		c.bucketLost()
	default:
		c.failed(opRelease, err)
	}
}
