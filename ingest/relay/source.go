package relay

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/input"
)

// closeTimeout bounds the reader's stop and the final position write.
const closeTimeout = 10 * time.Second

// source is an open Upstream.
type source struct {
	u      *Upstream
	log    *slog.Logger
	report input.Reporter
	kv     jetstream.KeyValue
	recs   chan item // from the reader to Poll
	stop   context.CancelFunc
	done   sync.WaitGroup

	// The pipeline's goroutine only.
	polled  []input.Record
	pending []handed // handed to the pipeline, not yet known to be stored, in order
	marked  map[input.Partition]int64

	// Shared with the committer.
	mu      sync.Mutex
	acked   *cursor // the position after the longest stored prefix
	lastID  string  // the upstream id of that prefix's last event
	dirty   bool
	written map[string]string // key → value last written
}

// handed is a record given to the pipeline.
type handed struct {
	part   input.Partition
	offset int64
	id     string // its upstream id
}

func (u *Upstream) open(log *slog.Logger, r input.Reporter, kv jetstream.KeyValue, cur *cursor, fresh bool) *source {
	ctx, cancel := context.WithCancel(context.Background())
	s := &source{u: u, log: log, report: r, kv: kv, recs: make(chan item, 256), stop: cancel,
		marked: map[input.Partition]int64{}, acked: cur.clone(), written: map[string]string{}, dirty: fresh}
	rd := &reader{u: u, log: log, report: r, out: s.recs, cur: cur}
	s.done.Add(2)
	go func() { defer s.done.Done(); rd.run(ctx) }()
	go func() { defer s.done.Done(); s.commitLoop(ctx) }()
	return s
}

// Poll waits for a record, then takes what else is ready, up to maxRecords.
func (s *source) Poll(ctx context.Context, maxRecords int) []input.Record {
	clear(s.polled)
	s.polled = s.polled[:0]
	select {
	case <-ctx.Done():
		return s.polled
	case it := <-s.recs:
		s.take(it)
	}
	for len(s.polled) < maxRecords {
		select {
		case it := <-s.recs:
			s.take(it)
			continue
		default:
		}
		break
	}
	return s.polled
}

func (s *source) take(it item) {
	s.polled = append(s.polled, it.rec)
	s.pending = append(s.pending, handed{input.Partition{Topic: it.rec.Topic, Partition: it.rec.Partition}, it.rec.Offset, it.id})
}

// Mark moves the acknowledged position to the end of the longest prefix of
// the records handed out that is stored: marks are per partition, and the
// upstream id is cumulative over all of them.
func (s *source) Mark(marks map[input.Partition]input.Position) {
	for p, pos := range marks {
		s.marked[p] = pos.Offset
	}
	n := 0
	for n < len(s.pending) {
		h := s.pending[n]
		if off, ok := s.marked[h.part]; !ok || off < h.offset {
			break
		}
		n++
	}
	if n == 0 {
		return
	}
	last := s.pending[n-1].id
	s.pending = append(s.pending[:0], s.pending[n:]...)
	if last == "" {
		return
	}
	s.mu.Lock()
	if s.acked.update(last) {
		s.lastID, s.dirty = last, true
	}
	s.mu.Unlock()
}

// Close stops reading, then writes the acknowledged position.
func (s *source) Close(ctx context.Context) {
	s.stop()
	s.done.Wait()
	cctx, cancel := context.WithTimeout(ctx, closeTimeout)
	defer cancel()
	s.commit(cctx)
	s.log.Info("upstream closed")
}

func (s *source) commitLoop(ctx context.Context) {
	t := time.NewTicker(s.u.opts.CommitInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.commit(ctx)
		}
	}
}

// commit writes each stream's position that changed since it was last
// written. A failure is reported and retried at the next commit.
func (s *source) commit(ctx context.Context) {
	s.mu.Lock()
	if !s.dirty {
		s.mu.Unlock()
		return
	}
	vals := map[string]string{}
	for _, st := range s.u.opts.Catalog.Streams() {
		b, _ := json.Marshal(s.acked.forStream(s.lastID, st.Topics))
		if k := s.u.key(st.Name); s.written[k] != string(b) {
			vals[k] = string(b)
		}
	}
	s.dirty = false
	s.mu.Unlock()
	for k, v := range vals {
		if _, err := s.kv.PutString(ctx, k, v); err != nil {
			if ctx.Err() == nil {
				s.report.CommitFailed(err)
				s.log.Warn("writing the upstream position failed; retried at the next commit", slog.String("key", k),
					slog.String("error", err.Error()))
			}
			s.mu.Lock()
			s.dirty = true
			s.mu.Unlock()
			continue
		}
		s.mu.Lock()
		s.written[k] = v
		s.mu.Unlock()
	}
}

// loadPosition reads one key of the bucket; nil when it is absent.
func loadPosition(ctx context.Context, kv jetstream.KeyValue, key string) (*stored, error) {
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st stored
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return nil, err
	}
	return &st, nil
}
