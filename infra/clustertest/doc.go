// Package clustertest holds the system tests of ingest and serve on a
// 3-node NATS cluster and across two datacenters: the built binaries, in
// process nats-servers clustered over loopback routes (package inproc), two
// kfake Kafka clusters, and SSE clients that reconnect with their last id
// to either serve. It has no code besides its tests.
//
// What the tests prove, after each fault (a stream leader stopped, the node
// a serve is connected to stopped, a rolling restart, quorum lost and
// regained, a client moving to the other datacenter, the other datacenter
// promoted): every Kafka event stored exactly once and in its partition's
// order, Kafka offsets never committed past what is stored, and every
// client, resuming by id, receiving every event exactly once.
package clustertest
