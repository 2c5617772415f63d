// Package inproc runs the services around ingest and serve inside the
// process: a nats-server with JetStream, and Kafka clusters (franz-go's
// kfake) holding both datacenters' topics. The tests and the devstack use
// it, so that nothing has to be installed to run the system.
//
// The servers it returns are safe for concurrent use; Close them when done.
package inproc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// NATSOptions configure StartNATS.
type NATSOptions struct {
	// StoreDir is JetStream's directory (required).
	StoreDir string
	// Host and Port to listen on; Port 0 picks a free port.
	Host string
	Port int
	// MaxPayload overrides the server's max_payload when positive.
	MaxPayload int32
}

// StartNATS starts a nats-server with JetStream and waits until it accepts
// connections. Its URL is ClientURL().
func StartNATS(o NATSOptions) (*server.Server, error) {
	if o.StoreDir == "" {
		return nil, errors.New("inproc: a JetStream store directory is required")
	}
	host := o.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port := o.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName: "inproc", Host: host, Port: port,
		JetStream: true, StoreDir: o.StoreDir,
		NoSigs: true, NoLog: true,
	}
	if o.MaxPayload > 0 {
		opts.MaxPayload = o.MaxPayload
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("inproc: nats-server: %w", err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, errors.New("inproc: nats-server did not become ready in 10s")
	}
	return s, nil
}

// KafkaOptions configure StartKafka.
type KafkaOptions struct {
	// Topics are created with Partitions partitions each (default 1).
	Topics     []string
	Partitions int32
	// Port to listen on (0: a free port).
	Port int
	// DataDir keeps the cluster's data across a Close and a new start on
	// the same directory and port (empty: in memory only).
	DataDir string
	// SegmentBytes is the size at which a partition's log rolls to a new
	// segment (0: kfake's default, 100 MiB). Deleted records (Trim) are
	// freed a whole segment at a time, so a cluster that runs for long
	// and is trimmed wants small segments.
	SegmentBytes int
}

// StartKafka starts a one-broker Kafka cluster.
func StartKafka(o KafkaOptions) (*kfake.Cluster, error) {
	partitions := o.Partitions
	if partitions == 0 {
		partitions = 1
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.SeedTopics(partitions, o.Topics...),
		kfake.Ports(o.Port),
	}
	if o.DataDir != "" {
		opts = append(opts, kfake.DataDir(o.DataDir))
	}
	if o.SegmentBytes > 0 {
		opts = append(opts, kfake.BrokerConfigs(map[string]string{"log.segment.bytes": strconv.Itoa(o.SegmentBytes)}))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("inproc: kafka: %w", err)
	}
	return c, nil
}

// Trim deletes the records that every consumer group reading them is done
// with, so that a cluster fed for hours does not keep them all: kfake keeps
// every record, in memory when it has no DataDir, until it is deleted. In
// each partition, it deletes the records below the smallest offset that
// the groups readers names for its topic have committed. It leaves alone a
// partition that one of these groups has not committed yet (it may not
// have read it), and a topic for which readers names no group. cl is a
// client of the cluster. It returns the number of records deleted.
func Trim(ctx context.Context, cl *kgo.Client, readers func(topic string) []string) (int64, error) {
	adm := kadm.NewClient(cl)
	starts, err := adm.ListStartOffsets(ctx)
	if err != nil {
		return 0, fmt.Errorf("inproc: trim: listing start offsets: %w", err)
	}
	committed := map[string]kadm.OffsetResponses{}
	del := kadm.Offsets{}
	var n int64
	for topic, ps := range starts {
		groups := readers(topic)
		if len(groups) == 0 {
			continue
		}
		for _, g := range groups {
			if _, ok := committed[g]; ok {
				continue
			}
			offs, err := adm.FetchOffsets(ctx, g)
			if err != nil {
				return 0, fmt.Errorf("inproc: trim: offsets of group %s: %w", g, err)
			}
			committed[g] = offs
		}
	partitions:
		for p, start := range ps {
			if start.Err != nil {
				continue
			}
			to := int64(-1)
			for _, g := range groups {
				o, ok := committed[g].Lookup(topic, p)
				if !ok || o.Err != nil || o.At < 0 {
					continue partitions
				}
				if to < 0 || o.At < to {
					to = o.At
				}
			}
			if to > start.Offset {
				del.AddOffset(topic, p, to, -1)
				n += to - start.Offset
			}
		}
	}
	if len(del) == 0 {
		return 0, nil
	}
	resps, err := adm.DeleteRecords(ctx, del)
	if err == nil {
		err = resps.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("inproc: trim: deleting records: %w", err)
	}
	return n, nil
}
