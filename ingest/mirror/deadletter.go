package mirror

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/envelope"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// badRecordLogs is how many bad records per second are logged one by one;
// the rest are counted in the next log line.
const badRecordLogs = 10

// deadLetter makes e the dead letter of a record: its payload (truncated)
// under the stream's dead-letter subject, with its coordinates and the
// reason. Its id makes a re-read of the same record from the same source a
// duplicate.
func (p *pipeline) deadLetter(e *entry, value []byte, ts time.Time, reason envelope.Reason) *entry {
	e.dead = reason
	keep := value
	if len(keep) > p.m.opts.DeadLetterBytes {
		keep = keep[:p.m.opts.DeadLetterBytes]
	}
	id := "deadletter:" + p.cluster + ":" + e.tp.Topic + ":" + strconv.FormatInt(int64(e.tp.Partition), 10) + ":" + strconv.FormatInt(e.pos.Offset, 10)
	p.setCoordinates(e, ts, id)
	h := e.msg.Header
	h.Set(layout.HeaderReason, string(reason))
	h.Set(layout.HeaderSize, strconv.Itoa(len(value)))
	if len(keep) < len(value) {
		h.Set(layout.HeaderTruncated, "true")
	}
	e.msg.Subject = p.m.opts.Layout.DeadLetterSubject(e.stream.token)
	data := append(p.buffer(len(keep)), keep...)
	if e.msg.Data != nil && len(p.free) < 2*p.m.opts.MaxInFlight {
		p.free = append(p.free, e.msg.Data[:0]) // a rejected event's: keep was copied out of it
	}
	e.msg.Data = data
	p.m.metrics.deadletters.WithLabelValues(p.cluster, e.tp.Topic, string(reason)).Inc()
	p.logBad(e, len(value))
	return e
}

// logBad logs a bad record once, with its coordinates, at most
// badRecordLogs times a second.
func (p *pipeline) logBad(e *entry, size int) {
	now := time.Now().Unix()
	if now != p.badLogSecond {
		p.badLogSecond, p.badLogged = now, 0
	}
	if p.badLogged >= badRecordLogs {
		p.badSuppress++
		return
	}
	p.badLogged++
	p.log.LogAttrs(context.Background(), slog.LevelWarn, "bad record skipped and dead-lettered",
		slog.String("topic", e.tp.Topic), slog.Int("partition", int(e.tp.Partition)), slog.Int64("offset", e.pos.Offset),
		slog.String("reason", string(e.dead)), slog.Int("size", size), slog.Int("not_logged_before", p.badSuppress))
	p.badSuppress = 0
}

// reject turns an event JetStream will never store into a dead letter; a
// dead letter that is still too large is cut to 1 KiB.
func (p *pipeline) reject(e *entry, cause error) {
	if e.dead == "" {
		p.log.Warn("JetStream refused an event for good; keeping it as a dead letter",
			slog.String("topic", e.tp.Topic), slog.Int("partition", int(e.tp.Partition)), slog.Int64("offset", e.pos.Offset),
			slog.String("error", cause.Error()))
		ts, _ := strconv.ParseInt(e.msg.Header.Get(layout.HeaderTimestamp), 10, 64)
		p.deadLetter(e, e.msg.Data, time.UnixMilli(ts), envelope.ReasonRejected)
		return
	}
	if len(e.msg.Data) > 1024 {
		e.msg.Data = e.msg.Data[:1024]
		e.msg.Header.Set(layout.HeaderTruncated, "true")
	}
}
