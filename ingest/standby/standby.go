// Package standby keeps a standby datacenter's copy of the stream, and
// promotes it when the primary datacenter is lost.
//
// In the standby datacenter, ingest runs with INGEST_MIRROR_FROM naming the
// primary's JetStream domain, reached over leaf nodes: it reads no Kafka;
// it creates the local stream as a JetStream mirror of the primary's
// (layout.MirrorConfig: the same sequences, the same es_epoch), keeps its
// limits, and reports how far behind it is (metrics and /healthz). The
// standby's serve replicas read the mirror, so that a client moving between
// datacenters resumes exactly by its id.
//
// Promote turns the mirror into the stream ingest writes (nats-server
// allows removing a stream's mirror configuration, and nothing else of it),
// keeping its sequences: see its documentation for the epochs and for the
// Kafka positions ingest then starts from.
package standby

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// ErrNotMirror is returned when the local stream exists and is not a mirror (this
// datacenter was promoted, or writes its own stream).
var ErrNotMirror = errors.New("the local stream exists and is not a mirror: this datacenter writes its own stream (was it promoted?); unset INGEST_MIRROR_FROM to run ingest on it")

// Ensure creates the local stream as a mirror of the stream of the same
// name in the JetStream domain origin, with the origin's epoch, or updates
// an existing mirror's limits.
func Ensure(ctx context.Context, nc *nats.Conn, l layout.Layout, lim layout.Limits, origin string) (jetstream.Stream, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	local, err := js.Stream(ctx, l.Stream)
	if err == nil {
		info := local.CachedInfo()
		if info.Config.Mirror == nil {
			return nil, ErrNotMirror
		}
		cfg := l.MirrorConfig(lim, origin, info.Config.Metadata)
		cfg.Mirror = info.Config.Mirror // not updatable
		cfg.Metadata = layout.WithEpoch(info.Config.Metadata, layout.Epoch(info))
		return js.UpdateStream(ctx, cfg)
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, err
	}
	ojs, err := jetstream.NewWithDomain(nc, origin)
	if err != nil {
		return nil, err
	}
	o, err := ojs.Stream(ctx, l.Stream)
	if err != nil {
		return nil, fmt.Errorf("the origin stream %s in JetStream domain %s: %w", l.Stream, origin, err)
	}
	oinfo := o.CachedInfo()
	md := layout.WithEpoch(oinfo.Config.Metadata, layout.Epoch(oinfo))
	return js.CreateStream(ctx, l.MirrorConfig(lim, origin, md))
}

// Promotion is what Promote did.
type Promotion struct {
	// Promoted is false when the stream was not a mirror (already
	// promoted, or never one): nothing was changed.
	Promoted bool
	// LastSeq is the mirror's last sequence when promoted: ids of its
	// epoch up to it stay exact.
	LastSeq uint64
	// LastEventTime is the Kafka time (Es-Timestamp) of the mirror's last
	// event; ingest re-reads Kafka from a margin before it (ResumeMargin).
	LastEventTime time.Time
}

// ResumeMargin is how long before the promoted mirror's last event ingest
// starts reading Kafka again: the primary stored events out of Kafka-time
// order (two clusters, partitions interleaved), so some older than the last
// one the mirror received may be missing from it. What is read twice is
// dropped by the duplicate window, which must be longer
// (INGEST_DUPLICATE_WINDOW, 15 minutes by default).
const ResumeMargin = 2 * time.Minute

// Promote makes the local mirror the stream ingest writes: it removes the
// mirror configuration and sets the stream's subjects, duplicate window and
// limits, keeping every message and sequence. The epoch changes, and the
// mirror's epoch is kept as a previous one up to its last sequence
// (layout.Promoted): up to there the mirror held what the primary held, so
// ids of either datacenter resume exactly; after it, the lost primary may
// have stored events the mirror never received, so an id of the old epoch
// beyond it resumes by time (nothing lost, a few events again).
//
// Promote is for when the primary is lost: with both writing, the two
// streams would diverge. Ingest writes the promoted stream only after
// twice layout.EpochCheckInterval, when every serve reads the new epoch.
func Promote(ctx context.Context, js jetstream.JetStream, l layout.Layout, lim layout.Limits) (Promotion, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, l.Stream)
	if err != nil {
		return Promotion{}, err
	}
	info := s.CachedInfo()
	if info.Config.Mirror == nil {
		return Promotion{}, nil
	}
	p := Promotion{Promoted: true, LastSeq: info.State.LastSeq}
	if p.LastSeq > 0 {
		m, err := s.GetMsg(ctx, p.LastSeq)
		if err != nil {
			return Promotion{}, fmt.Errorf("the mirror's last event: %w", err)
		}
		ms, err := strconv.ParseInt(m.Header.Get(layout.HeaderTimestamp), 10, 64)
		if err != nil {
			return Promotion{}, fmt.Errorf("the mirror's last event has no valid %s header", layout.HeaderTimestamp)
		}
		p.LastEventTime = time.UnixMilli(ms)
	}
	cfg := l.StreamConfig(lim)
	cfg.Metadata = layout.Promoted(info.Config.Metadata, layout.Epoch(info), p.LastSeq)
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		return Promotion{}, fmt.Errorf("promoting the mirror: %w", err)
	}
	return p, nil
}

// Watch reports, every interval until ctx ends, how far the local mirror is
// behind its origin, through report. It first creates or updates the
// mirror (Ensure), retrying while NATS or the origin cannot be reached.
func Watch(ctx context.Context, nc *nats.Conn, l layout.Layout, lim layout.Limits, origin string, interval time.Duration,
	report func(Status)) error {
	backoff := 100 * time.Millisecond
	var s jetstream.Stream
	for {
		var err error
		if s, err = Ensure(ctx, nc, l, lim, origin); err == nil {
			break
		}
		if errors.Is(err, ErrNotMirror) {
			return err
		}
		report(Status{Err: err})
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ictx, cancel := context.WithTimeout(ctx, interval)
		info, err := s.Info(ictx)
		cancel()
		switch {
		case err != nil:
			report(Status{Err: err})
		case info.Mirror == nil:
			report(Status{Err: errors.New("the stream has no mirror state (promoted?)")})
		default:
			report(Status{OK: true, Lag: info.Mirror.Lag, Active: info.Mirror.Active, LastSeq: info.State.LastSeq,
				Epoch: layout.Epoch(info)})
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Status is the mirror as last seen.
type Status struct {
	OK bool
	// Lag is how many of the origin's messages the mirror does not have
	// yet, as the origin last told it.
	Lag uint64
	// Active is how long ago the mirror last heard from the origin.
	Active  time.Duration
	LastSeq uint64
	Epoch   string
	Err     error
}
