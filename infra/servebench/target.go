package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// start runs the server under test: serve (the built binary, against the
// in-process nats-server) or a floor (this program re-executed with
// -floor-server, fed over a unix socket), with a publisher for it.
func (b *bench) start(ctx context.Context, name string) error {
	port, err := freePort()
	if err != nil {
		return fmt.Errorf("finding a free port: %w", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	b.target = name
	if name != "serve" {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		sock := filepath.Join(b.tmp, "floor-"+strconv.Itoa(port)+".sock")
		if b.serve, err = startProc(ctx, exec.Command(self, "-floor-server", name, "-floor-addr", addr, "-floor-feed", sock), addr, nil); err != nil {
			return err
		}
		if b.feed, err = dialFloorFeed(sock); err != nil {
			b.stop()
			return err
		}
		b.pub = newFloorPublisher(b.feed)
		logf("%s pid %d on %s", name, b.serve.pid(), addr)
		return nil
	}
	env := []string{
		"NATS_URL=" + b.natsURL,
		"SERVE_ADDR=" + addr,
		"ES_ALLOWED_STREAMS=mediawiki.recentchange",
		"SERVE_MAX_CONNECTION_DURATION=0",
		"LOG_LEVEL=warn",
	}
	if b.cfg.ringSize > 0 {
		env = append(env, "SERVE_RING_SIZE="+strconv.Itoa(b.cfg.ringSize))
	}
	env = append(env, b.cfg.serveEnv...)
	if b.serve, err = startProc(ctx, exec.Command(b.serveBin), addr, env); err != nil {
		return err
	}
	b.pub = newPublisher(b.js)
	logf("serve pid %d on %s (RLIMIT_NOFILE %d here, %s in serve; %d CPUs)", b.serve.pid(), b.serve.addr, b.nofile, openFilesLimit(b.serve.pid()), numCPU())
	return nil
}

// stop ends the server under test (serve first, so that it does not see
// NATS go away).
func (b *bench) stop() {
	if b.feed != nil {
		b.feed.close()
		b.feed = nil
	}
	d, serr := b.serve.stop()
	if serr != nil {
		logf("%s shutdown after %v: %v", b.target, d.Round(time.Millisecond), serr)
	} else {
		logf("%s stopped cleanly in %v", b.target, d.Round(time.Millisecond))
	}
	if n := b.serve.log.Lines(); n > 0 {
		out := b.serve.log.String()
		if len(out) > 3000 {
			out = "…" + out[len(out)-3000:]
		}
		logf("%s wrote %d log lines; the last ones:\n%s", b.target, n, out)
	}
}
