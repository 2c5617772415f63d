// Package inproc runs the services around ingest and serve inside the
// process: a nats-server with JetStream, and Kafka clusters (franz-go's
// kfake) holding both datacenters' topics. The tests and the devstack use
// it, so that nothing has to be installed to run the system.
//
// The servers it returns are safe for concurrent use; Close them when done.
package inproc

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/twmb/franz-go/pkg/kfake"
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
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("inproc: kafka: %w", err)
	}
	return c, nil
}
