package relay_test

// The built ingest binary in relay mode, killed with SIGKILL mid-stream
// and started again: it resumes from the position in NATS KV, and every
// event of the upstream is stored once.

import (
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

func startIngest(t *testing.T, env []string) *exec.Cmd {
	t.Helper()
	var log io.Writer
	if testing.Verbose() {
		log = os.Stderr
	}
	return inproctest.StartLogged(t, "github.com/wikimedia-eventstreams-go/eventstreams/ingest", env, "", log).Cmd
}

func TestBinaryKilledMidStreamAndRestarted(t *testing.T) {
	w := newWorld(t)
	f := newFakeES(t, 1)
	env := []string{
		"NATS_URL=" + w.ns.ClientURL(),
		"ES_ALLOWED_STREAMS=mediawiki.recentchange",
		"INGEST_SOURCE=eventstreams",
		"INGEST_UPSTREAM_URLS=" + f.url(),
		"INGEST_METRICS_ADDR=" + inproctest.FreeAddr(t),
		"INGEST_DUPLICATE_WINDOW=10m",
		"PATH=" + os.Getenv("PATH"),
	}
	cmd := startIngest(t, env)
	inproctest.WaitFor(t, 60*time.Second, func() bool { return f.streaming() >= 1 })

	// A steady upstream, 2 events every 2 ms per partition, while ingest
	// is killed and started again.
	stop := make(chan struct{})
	var producing sync.WaitGroup
	producing.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				f.add(2)
			}
		}
	})
	defer func() { close(stop); producing.Wait() }()
	inproctest.WaitFor(t, 30*time.Second, func() bool { return w.events() >= 300 && w.positionStored() })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	env[4] = "INGEST_METRICS_ADDR=" + inproctest.FreeAddr(t)
	startIngest(t, env)
	inproctest.WaitFor(t, 60*time.Second, func() bool { return f.streaming() >= 2 })
	inproctest.WaitFor(t, 30*time.Second, func() bool { return w.events() >= 600 })
	close(stop)
	producing.Wait()
	stop = make(chan struct{})
	want := f.all()
	inproctest.WaitFor(t, 60*time.Second, func() bool { return w.events() >= len(want) })
	w.checkOnce(want)
}

// positionStored: the relay has written a position with an upstream id.
func (w *world) positionStored() bool {
	ctx := context.Background()
	kv, err := w.js.KeyValue(ctx, layout.Default().RelayBucket())
	if err != nil {
		return false
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		return false
	}
	for k := range keys.Keys() {
		if e, err := kv.Get(ctx, k); err == nil && strings.Contains(string(e.Value()), `"resume"`) {
			return true
		}
	}
	return false
}
