// Package mirrortest runs ingest's pipeline (mirror.Mirror) in a test, for
// the tests of the mirror and of its sources: on a NATS connection of its
// own, with its metrics in a registry of its own, stopped when the test
// ends.
package mirrortest

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/mirror"
)

// Running is a mirror started by Start.
type Running struct {
	Reg *prometheus.Registry // the mirror's metrics
	// Stop cancels Run and waits for it, failing the test if Run returned
	// an error or did not return in time. It may be called more than once;
	// the test's cleanup calls it too.
	Stop func()
}

// Connect connects to url as the tests' mirrors do: reconnecting forever,
// quickly, with no reconnect buffer (a publish while disconnected fails at
// once, as ingest expects).
func Connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.ReconnectBufSize(-1), nats.MaxReconnects(-1),
		nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return nc
}

// Start builds a mirror of opts on nc and runs it until Stop, which waits
// up to wait for Run to return and then closes nc.
func Start(t testing.TB, opts mirror.Options, nc *nats.Conn, logger *slog.Logger, wait time.Duration) *Running {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := mirror.New(opts, mirror.Deps{NATS: nc, Logger: logger, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	r := &Running{Reg: reg}
	r.Stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("mirror.Run: %v", err)
				}
			case <-time.After(wait):
				t.Errorf("mirror.Run did not return %v after cancel", wait)
			}
			nc.Close()
		})
	}
	t.Cleanup(r.Stop)
	return r
}
