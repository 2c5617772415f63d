package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/input"
)

// kafkaShutdownTimeout bounds the final commit and the group leave.
const kafkaShutdownTimeout = 10 * time.Second

// Kafka is one Kafka cluster read with a consumer group: an input.Opener
// whose sources are franz-go group consumers of its topics. The positions
// the pipeline marks are handed to franz-go, which commits them every
// second and before a partition is revoked.
type Kafka struct {
	cluster Cluster
	topics  []string
	group   Group
	start   Start
	sec     Security
}

var _ input.Opener = (*Kafka)(nil)

// NewKafka checks the settings and builds the client's options once, so
// that a bad CA file fails at start. It does not connect.
func NewKafka(c Cluster, topics []string, g Group, start Start, sec Security) (*Kafka, error) {
	if g.Name == "" {
		return nil, errors.New("a consumer group name is required")
	}
	if err := sec.Validate(); err != nil {
		return nil, err
	}
	if _, err := ClientOptions(c, topics, g, start, sec); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	return &Kafka{cluster: c, topics: topics, group: g, start: start, sec: sec}, nil
}

// Name is the cluster's name.
func (k *Kafka) Name() string { return k.cluster.Name }

// Open creates the cluster's client, which joins the group and starts
// fetching at once.
func (k *Kafka) Open(log *slog.Logger, r input.Reporter) (input.Source, error) {
	opts, err := ClientOptions(k.cluster, k.topics, k.group, k.start, k.sec)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w", k.cluster.Name, err)
	}
	s := &kafkaSource{log: log, report: r, marks: map[string]map[int32]kgo.EpochOffset{}}
	opts = append(opts,
		kgo.WithHooks(connectHook{r}),
		kgo.WithLogger(Logger(log)),
		kgo.OnPartitionsAssigned(s.onAssigned),
		kgo.OnPartitionsRevoked(s.onRevoked),
		kgo.OnPartitionsLost(s.onLost),
		kgo.AutoCommitCallback(s.onCommit),
	)
	if s.cl, err = kgo.NewClient(opts...); err != nil {
		return nil, fmt.Errorf("cluster %s: %w", k.cluster.Name, err)
	}
	log.Info("mirroring cluster", slog.Int("topics", len(k.topics)), slog.String("group", k.group.Name),
		slog.String("start", k.start.String()))
	return s, nil
}

// kafkaSource is an open Kafka cluster. Poll, Mark and Close run on the
// pipeline's goroutine; the franz-go callbacks on franz-go's.
type kafkaSource struct {
	cl     *kgo.Client
	log    *slog.Logger
	report input.Reporter
	recs   []input.Record                       // the last poll's records, reused
	marks  map[string]map[int32]kgo.EpochOffset // reused by Mark
}

func (s *kafkaSource) Poll(ctx context.Context, maxRecords int) []input.Record {
	fetches := s.cl.PollRecords(ctx, maxRecords)
	fetches.EachError(s.fetchError)
	clear(s.recs) // let the previous poll's values go
	s.recs = s.recs[:0]
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if len(fp.Records) == 0 {
			return
		}
		for _, r := range fp.Records {
			s.recs = append(s.recs, input.Record{Topic: r.Topic, Partition: r.Partition,
				Position: input.Position{Offset: r.Offset, Epoch: r.LeaderEpoch}, Time: r.Timestamp, Value: r.Value})
		}
		last := fp.Records[len(fp.Records)-1].Offset
		s.report.Lag(fp.Topic, fp.Partition, max(0, fp.HighWatermark-last-1))
	})
	return s.recs
}

// Mark hands the marks to franz-go as the offsets after the marked
// records; franz-go ignores a mark that would move a partition back (after
// it was read again).
func (s *kafkaSource) Mark(marks map[input.Partition]input.Position) {
	if len(marks) == 0 {
		return
	}
	for tp, pos := range marks {
		parts := s.marks[tp.Topic]
		if parts == nil {
			parts = map[int32]kgo.EpochOffset{}
			s.marks[tp.Topic] = parts
		}
		parts[tp.Partition] = kgo.EpochOffset{Epoch: pos.Epoch, Offset: pos.Offset + 1}
	}
	s.cl.MarkCommitOffsets(s.marks)
	for _, parts := range s.marks {
		clear(parts)
	}
}

// Close commits the marked offsets, leaves the group and closes the client.
func (s *kafkaSource) Close(ctx context.Context) {
	// Committing and leaving get their own bound, so that a cluster that
	// cannot be reached delays the exit by seconds, not forever.
	kctx, cancel := context.WithTimeout(ctx, kafkaShutdownTimeout)
	defer cancel()
	if err := s.cl.CommitMarkedOffsets(kctx); err != nil {
		s.report.CommitFailed(err)
		s.log.Warn("final offset commit failed; records since the last commit will be read again",
			slog.String("error", err.Error()))
	}
	if err := s.cl.LeaveGroupContext(kctx); err != nil {
		s.log.Warn("leaving the consumer group failed; the partitions move when the session times out",
			slog.String("error", err.Error()))
	}
	s.cl.Close()
}

func (s *kafkaSource) fetchError(topic string, partition int32, err error) {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return // the pipeline's own poll timeout
	}
	s.log.Warn("fetch error", slog.String("topic", topic), slog.Int("partition", int(partition)), slog.String("error", err.Error()))
	s.report.ReadFailed(err)
}

func (s *kafkaSource) onAssigned(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
	s.report.Assigned(assigned)
}

// onRevoked commits what is marked before partitions move to another
// member (franz-go's default does this too, but it is replaced here).
// Records in flight for them are still resolved; their marks are ignored,
// and the new owner reads them again (JetStream drops the copies).
func (s *kafkaSource) onRevoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	if err := cl.CommitMarkedOffsets(ctx); err != nil {
		s.report.CommitFailed(err)
		s.log.Warn("commit before revoke failed", slog.String("error", err.Error()))
	}
	s.report.Released(revoked)
}

func (s *kafkaSource) onLost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	s.report.Released(lost)
}

func (s *kafkaSource) onCommit(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
	if err == nil && resp != nil {
		for _, t := range resp.Topics {
			for _, part := range t.Partitions {
				if part.ErrorCode != 0 {
					err = errors.New("offset commit refused by the broker (code " + strconv.Itoa(int(part.ErrorCode)) + ")")
				}
			}
		}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		s.report.CommitFailed(err)
		s.log.Warn("offset commit failed; it is retried at the next commit", slog.String("error", err.Error()))
	}
}

// connectHook reports broker connection outcomes.
type connectHook struct{ report input.Reporter }

func (h connectHook) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err != nil {
		h.report.ConnectFailed(fmt.Errorf("%s:%d: %w", meta.Host, meta.Port, err))
		return
	}
	h.report.Connected()
}

var _ input.Rewinder = (*Kafka)(nil)

// Rewind commits, for the group, the offset of each partition's first
// record at or after t (the end of the partition if none). The group must
// have no members: it is called before the source is opened.
func (k *Kafka) Rewind(ctx context.Context, t time.Time) error {
	opts, err := connOptions(k.cluster, k.sec)
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	listed, err := adm.ListOffsetsAfterMilli(ctx, t.UnixMilli(), k.topics...)
	if err != nil {
		return err
	}
	if err := listed.Error(); err != nil {
		return err
	}
	resp, err := adm.CommitOffsets(ctx, k.group.Name, listed.Offsets())
	if err != nil {
		return err
	}
	return resp.Error()
}
