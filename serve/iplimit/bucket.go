package iplimit

// The bucket's life: made (again when lost) by Run, its slots rewritten
// every TTL/3, and each KV error judged in one place (classify). The
// counting itself is in cluster.go.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Run makes the bucket (again whenever it is lost) and rewrites this
// process's slots every TTL/3, until ctx ends. Streams that end after
// that still delete their slots; the others expire.
func (c *Cluster) Run(ctx context.Context) error {
	tick := time.NewTicker(c.opts.TTL / 3)
	defer tick.Stop()
	backoff := 100 * time.Millisecond
	for {
		var retry <-chan time.Time
		if c.kv.Load() == nil {
			// At start NATS may not be connected yet, or the stream
			// not made: retry soon, then less often.
			if err := c.ensure(ctx); err != nil && ctx.Err() == nil {
				c.failed(opBucket, err)
				retry = time.After(backoff)
				backoff = min(2*backoff, c.opts.TTL/3)
			} else {
				backoff = 100 * time.Millisecond
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-retry:
		case <-c.lost:
			c.kv.Store(nil)
			c.m.ready.Set(0)
		case <-tick.C:
			// Refreshes also probe a bucket that failed: one that
			// succeeds ends the per-process counting at once.
			if b := c.kv.Load(); b != nil && c.refresh(ctx, b.kv) {
				c.degraded.Store(0)
			}
		}
	}
}

// ensure makes the bucket, with the stream's replicas, or updates it.
func (c *Cluster) ensure(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := c.js.Stream(ctx, c.opts.Stream)
	if err != nil {
		return fmt.Errorf("stream %s: %w", c.opts.Stream, err)
	}
	replicas := max(s.CachedInfo().Config.Replicas, 1)
	kv, err := c.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:       BucketName(c.opts.Stream),
		Description:  "EventStreams serve: streams open per client IP (SERVE_CLIENT_IP_LIMIT_SCOPE=cluster)",
		History:      1,
		TTL:          c.opts.TTL,
		MaxValueSize: 128,
		Storage:      jetstream.MemoryStorage, // slots live for seconds; replicas keep them through a node's loss
		Replicas:     replicas,
	})
	if err != nil {
		return fmt.Errorf("bucket: %w", err)
	}
	c.kv.Store(&bucket{kv})
	c.degraded.Store(0)
	c.m.ready.Set(1)
	c.log.Info("client IP limit counted in the cluster", slog.String("bucket", BucketName(c.opts.Stream)),
		slog.Int("replicas", replicas), slog.Duration("ttl", c.opts.TTL), slog.Int("limit", c.opts.Limit))
	return nil
}

func (c *Cluster) bucket() *bucket {
	b := c.kv.Load()
	if b == nil || time.Now().UnixNano() < c.degraded.Load() {
		return nil
	}
	return b
}

// refresh rewrites every slot this process holds, so that none expires
// while its stream runs. It stops at the first failure to reach the
// bucket rather than wait out a timeout per slot; the next round retries.
// It reports whether it rewrote at least one slot and failed none.
func (c *Cluster) refresh(ctx context.Context, kv jetstream.KeyValue) bool {
	c.mu.Lock()
	leases := make([]*lease, 0, len(c.leases))
	for l := range c.leases {
		leases = append(leases, l)
	}
	c.mu.Unlock()
	var (
		stop atomic.Bool
		wg   sync.WaitGroup
		sem  = make(chan struct{}, refreshWorkers)
	)
	for _, l := range leases {
		if stop.Load() || ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if !stop.Load() && !c.refreshOne(ctx, kv, l) {
				stop.Store(true)
			}
		}()
	}
	wg.Wait()
	return len(leases) > 0 && !stop.Load()
}

// refreshOne rewrites l's slot; false when the bucket could not be
// reached.
func (c *Cluster) refreshOne(ctx context.Context, kv jetstream.KeyValue, l *lease) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done || l.rev == 0 {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	rev, err := kv.Update(ctx, l.name, c.owner, l.rev)
	if classify(err) == taken {
		// The slot expired before this rewrite (the bucket was out of
		// reach for a TTL): take it again if no other serve did.
		rev, err = kv.Create(ctx, l.name, c.owner)
	}
	switch classify(err) {
	case written:
		l.rev = rev
		return true
	case taken:
		l.rev = 0
		c.m.slots.Dec()
		c.m.lost.Inc()
		return true
	case bucketGone:
		c.bucketLost()
	}
	c.failed(opRefresh, err)
	return false
}

// outcome is what a KV write came to.
type outcome int

const (
	written    outcome = iota
	taken              // the key holds a value this process did not write last: another serve's slot
	bucketGone         // the bucket does not exist: Run makes it again
	unreachable
)

// classify judges a KV error; it is the one place that does. A
// wrong-last-sequence answer (10071, or 10164 from a replicated stream) is
// the compare-and-set refusing the write: the slot is someone else's.
// No stream, or no responder on the bucket's subjects (deleted by an
// operator, or a memory bucket lost with every server that held it; also
// a stream between leaders, for which making it again is harmless) makes
// Run make the bucket again. Anything else (a timeout, a closed
// connection) means the bucket is out of reach for now: fail open.
func classify(err error) outcome {
	var apiErr *jetstream.APIError
	switch {
	case err == nil:
		return written
	case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return taken
	case errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant):
		return taken
	case errors.Is(err, jetstream.ErrStreamNotFound), errors.Is(err, jetstream.ErrBucketNotFound),
		errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrNoResponders):
		return bucketGone
	}
	return unreachable
}

func (c *Cluster) bucketLost() {
	select {
	case c.lost <- struct{}{}:
	default:
	}
}

// failed counts a KV failure and stops asking the bucket until the next
// refresh round, so that an outage costs one timeout per TTL/3, not one
// per request. It logs when it starts doing so.
func (c *Cluster) failed(op string, err error) {
	c.m.kvErrors.WithLabelValues(op).Inc()
	now := time.Now().UnixNano()
	was := c.degraded.Swap(now + int64(c.opts.TTL/3))
	if was < now {
		c.log.Warn("client IP limit: the KV bucket is out of reach; counting per process meanwhile",
			slog.String("op", op), slog.String("error", clip(err.Error(), 256)))
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
