// Package inproctest gives tests the pieces they all need: a nats-server
// with JetStream on a temporary directory (and, if asked, the EventStreams
// stream, as ingest creates it), and built binaries of the commands for
// end-to-end tests, started until they answer (Start). Everything started
// is stopped at the test's cleanup.
//
// Safe for concurrent use by parallel tests.
package inproctest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// NATS starts a nats-server with JetStream and returns it with a
// JetStream client on its own connection. With stream set, it also creates
// the EventStreams stream as ingest would (layout.StreamConfig: file
// storage, subjects eventstreams.>, direct gets, a 15-minute duplicate
// window), without an age limit.
func NATS(t testing.TB, stream bool) (*server.Server, jetstream.JetStream) {
	t.Helper()
	ns, err := inproc.StartNATS(inproc.NATSOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	_, js := Connect(t, ns.ClientURL())
	if stream {
		CreateStream(t, js)
	}
	return ns, js
}

// Connect connects a test's client to the NATS servers of url, reconnecting
// forever and quickly (a test may stop and restart servers under it), and
// returns the connection, closed when the test ends, with its JetStream
// client.
func Connect(t testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// CreateStream creates the EventStreams stream of the default layout as
// ingest does, with ingest's default limits but no age limit.
func CreateStream(t testing.TB, js jetstream.JetStream) {
	t.Helper()
	if _, err := js.CreateStream(context.Background(), layout.Default().StreamConfig(layout.Limits{
		DuplicateWindow: 15 * time.Minute, Replicas: 1,
	})); err != nil {
		t.Fatal(err)
	}
}

var (
	buildMu sync.Mutex
	built   = map[string]string{} // package → binary
)

// Binary builds the command at pkg (an import path) once per test process
// and returns the binary's path.
func Binary(t testing.TB, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if bin, ok := built[pkg]; ok {
		return bin
	}
	dir, err := os.MkdirTemp("", "eventstreams-bin")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, filepath.Base(pkg))
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatal(fmt.Errorf("go build %s: %v\n%s", pkg, err, out))
	}
	built[pkg] = bin
	return bin
}

// FreeAddr is a loopback address whose port was free a moment ago, for a
// child process to listen on.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Buffer collects a child process's output; it may be read while written.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Event is an event to store as ingest stores it: on the subject of its
// stream and wiki tokens, with its Kafka time (ms) in the Es-Timestamp
// header.
type Event struct {
	Stream, Wiki string
	Data         []byte
	Time         int64
}

// Publish stores events in the stream of the default layout, in order.
func Publish(t testing.TB, js jetstream.JetStream, events ...Event) {
	t.Helper()
	for _, e := range events {
		m := &nats.Msg{Subject: layout.Default().Subject(e.Stream, e.Wiki), Data: e.Data,
			Header: nats.Header{layout.HeaderTimestamp: {strconv.FormatInt(e.Time, 10)}}}
		if _, err := js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}
