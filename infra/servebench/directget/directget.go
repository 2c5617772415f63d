// Package directget reads a JetStream stream in order with batched direct
// gets ($JS.API.DIRECT.GET.<stream> with a batch, nats-server 2.11 and
// later, on a stream with AllowDirect): one request returns up to a batch
// of the messages after a sequence that match one subject (wildcards
// allowed), then an end-of-batch message saying how many are left.
// servebench's raw-replay floor reads this way. Serve's catch-ups do not:
// nats-server answers all the direct gets of one connection one after
// another in its read loop, and serve's storm with them took 1.4–1.9× the
// time it takes with a consumer per catch-up (README "Benchmarks").
//
// Unlike a consumer, a direct get leaves no state on the server: no
// consumer to create, delete or count against the stream's MaxConsumers,
// and an answer is complete when it arrives (a pull consumer may answer a
// fetch before it has delivered).
//
// A Getter is not safe for concurrent use: it holds one reply
// subscription, and one request is in flight at a time.
package directget

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Request selects the messages of one batch.
type Request struct {
	// Seq is the first sequence to consider; with StartTime, 0.
	Seq uint64
	// StartTime, when set, starts at the first message stored at or after
	// it (JetStream's store time).
	StartTime *time.Time
	// Subject filters the messages (wildcards allowed); it must not be empty.
	Subject string
	// Batch is the most messages returned, MaxBytes the most bytes (the
	// server stops after the message that reaches it).
	Batch    int
	MaxBytes int
}

// Msg is one message of a batch.
type Msg struct {
	Seq     uint64
	Subject string
	Header  nats.Header // the stored headers, and the server's Nats-* ones
	Data    []byte
	Time    time.Time // store time
}

// Result ends a batch.
type Result struct {
	// Last is the sequence of the batch's last message (0: none).
	Last uint64
	// Pending is how many messages matching the subject the stream held
	// after Last when the batch ended: 0 means the batch read to the end.
	Pending uint64
}

// numPendingHeader is how many messages matching the request remain after
// this one (nats.go has no constant for it).
const numPendingHeader = "Nats-Num-Pending"

// ErrNotSupported is returned when the server did not answer a direct get (no responders):
// the stream does not allow direct gets, or does not exist.
var ErrNotSupported = errors.New("directget: no direct get responder for the stream")

// Getter makes batched direct gets on one stream.
type Getter struct {
	nc      *nats.Conn
	subject string // the stream's direct get subject
	inbox   string
	ch      chan *nats.Msg
	sub     *nats.Subscription
	batch   int
	req     []byte
}

// New subscribes the Getter's reply subject; Close releases it. batch is
// the largest Batch its requests will ask for: the reply channel holds a
// whole batch, so the connection's reader never waits for the Getter.
func New(nc *nats.Conn, stream string, batch int) (*Getter, error) {
	if batch < 1 {
		return nil, errors.New("directget: batch must be at least 1")
	}
	g := &Getter{nc: nc, subject: jetstream.DefaultAPIPrefix + "DIRECT.GET." + stream,
		inbox: nc.NewInbox(), ch: make(chan *nats.Msg, batch+1), batch: batch}
	sub, err := nc.ChanSubscribe(g.inbox, g.ch)
	if err != nil {
		return nil, fmt.Errorf("directget: %w", err)
	}
	g.sub = sub
	return g, nil
}

// Close unsubscribes. The Getter cannot be used after.
func (g *Getter) Close() { _ = g.sub.Unsubscribe() }

// Get asks for one batch and calls each for its messages, in sequence
// order. On an error, the Getter may hold messages of the failed request:
// close it. ctx bounds the whole batch.
func (g *Getter) Get(ctx context.Context, r Request, each func(*Msg)) (Result, error) {
	if r.Subject == "" || r.Batch < 1 || r.Batch > g.batch {
		return Result{}, fmt.Errorf("directget: invalid request (subject %q, batch %d of at most %d)", r.Subject, r.Batch, g.batch)
	}
	g.req = appendRequest(g.req[:0], r)
	if err := g.nc.PublishRequest(g.subject, g.inbox, g.req); err != nil {
		return Result{}, fmt.Errorf("directget: %w", err)
	}
	var res Result
	for {
		var m *nats.Msg
		select {
		case m = <-g.ch:
		case <-ctx.Done():
			return res, fmt.Errorf("directget: %w", ctx.Err())
		}
		if len(m.Data) == 0 && m.Header != nil && m.Header.Get("Status") != "" {
			return end(m, res)
		}
		msg, err := parse(m)
		if err != nil {
			return res, err
		}
		res.Last = msg.Seq
		each(&msg)
	}
}

// end reads the status message that ends a batch.
func end(m *nats.Msg, res Result) (Result, error) {
	switch status := m.Header.Get("Status"); status {
	case "204": // end of batch
		var err error
		if res.Pending, err = strconv.ParseUint(m.Header.Get(numPendingHeader), 10, 64); err != nil {
			return res, fmt.Errorf("directget: end of batch without %s", numPendingHeader)
		}
		return res, nil
	case "404": // nothing at or after the start matches
		return Result{}, nil
	case "503":
		return res, ErrNotSupported
	default:
		return res, fmt.Errorf("directget: status %s %s", status, m.Header.Get("Description"))
	}
}

func parse(m *nats.Msg) (Msg, error) {
	seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
	if err != nil || seq == 0 {
		return Msg{}, fmt.Errorf("directget: a message without %s", jetstream.SequenceHeader)
	}
	t, _ := time.Parse(time.RFC3339Nano, m.Header.Get(jetstream.TimeStampHeaer))
	return Msg{Seq: seq, Subject: m.Header.Get(jetstream.SubjectHeader), Header: m.Header, Data: m.Data, Time: t}, nil
}

// appendRequest is the request's JSON (nats-server's JSApiMsgGetRequest).
func appendRequest(b []byte, r Request) []byte {
	b = append(b, `{"batch":`...)
	b = strconv.AppendInt(b, int64(r.Batch), 10)
	if r.MaxBytes > 0 {
		b = append(b, `,"max_bytes":`...)
		b = strconv.AppendInt(b, int64(r.MaxBytes), 10)
	}
	if r.StartTime != nil {
		b = append(b, `,"start_time":"`...)
		b = r.StartTime.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	} else if r.Seq > 0 {
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, r.Seq, 10)
	}
	b = append(b, `,"next_by_subj":`...)
	b = strconv.AppendQuote(b, r.Subject)
	return append(b, '}')
}
