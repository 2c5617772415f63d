package ui_test

// The kit of the browser tests: one headless Chromium per test binary, a
// tab per test, and a stack per test: nats-server with the EventStreams
// stream, realistic live events (infra/eventgen, stored as ingest stores
// them) and serve, in process, through service.Run.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/eventgen"
	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/serve/service"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/envelope"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// requireBrowser makes a missing Chromium a failure rather than a skip
// (CI sets it: .ci/run installs Debian's chromium).
const requireBrowser = "ES_REQUIRE_BROWSER"

var browser struct {
	once   sync.Once
	ctx    context.Context // the browser's chromedp context: tabs derive from it
	cancel func()
	dir    string // its profile
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
	}
	if browser.dir != "" {
		os.RemoveAll(browser.dir)
	}
	os.Exit(code)
}

// chromium finds the browser: $ES_CHROMIUM, else chromium on the PATH.
func chromium() (string, error) {
	if p := os.Getenv("ES_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium on the PATH (apt-get install chromium, or set ES_CHROMIUM)")
}

func startBrowser() {
	path, err := chromium()
	if err != nil {
		browser.err = err
		return
	}
	if browser.dir, err = os.MkdirTemp("", "eventstreams-chromium"); err != nil {
		browser.err = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.UserDataDir(browser.dir), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	browser.ctx, browser.cancel = ctx, func() { cancel(); cancelAlloc() }
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		browser.err = fmt.Errorf("starting %s: %w", path, err)
	}
}

// tab is a new tab of the shared browser, closed at the test's end. Its
// console is recorded from the start: problems lists the errors and
// warnings it got (CSP violations among them).
type tab struct {
	ctx      context.Context
	mu       sync.Mutex
	messages []string
}

func newTab(t *testing.T) *tab {
	t.Helper()
	browser.once.Do(startBrowser)
	if browser.err != nil {
		if os.Getenv(requireBrowser) == "1" {
			t.Fatalf("the browser tests need Chromium (%s=1): %v", requireBrowser, browser.err)
		}
		t.Skipf("no browser, skipped (set %s=1 to fail instead): %v", requireBrowser, browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx)
	t.Cleanup(cancel)
	tb := &tab{}
	messages := chromedp.Console(ctx)
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		t.Fatal(err)
	}
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning || m.IsException() {
				tb.mu.Lock()
				tb.messages = append(tb.messages, fmt.Sprintf("%s %s (%s:%d)", m.Type, m, m.URL, m.Line+1))
				tb.mu.Unlock()
			}
		}
	}()
	timeout, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelTimeout)
	tb.ctx = timeout
	return tb
}

func (tb *tab) problems() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.messages...)
}

// do runs steps, failing the test on an error.
func (tb *tab) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// eval evaluates a JavaScript expression into T.
func eval[T any](t *testing.T, tb *tab, expr string) T {
	t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitJS waits until expr is truthy in the page.
func (tb *tab) waitJS(t *testing.T, timeout time.Duration, expr string) {
	t.Helper()
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(timeout))); err != nil {
		status, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.getElementById('status')?.textContent ?? ''`))
		t.Fatalf("waiting for %s: %v (the page's status: %q; its console: %q)", expr, err, status, tb.problems())
	}
}

// shownSeqs are the sequences of the events on the page, oldest first.
func shownSeqs(t *testing.T, tb *tab) []int64 {
	t.Helper()
	return eval[[]int64](t, tb, `[...document.querySelectorAll('#events > li')].map((li) => Number(li.dataset.seq)).reverse()`)
}

// stack is one in-process system with live events.
type stack struct {
	url     string
	reg     *prometheus.Registry
	addr    string
	natsURL string
	cfg     service.Config

	mu   sync.Mutex
	stop func() // stops serve
}

// streams the stack produces (and the UI tests pick from).
var produced = []string{"mediawiki.recentchange", "mediawiki.page-create", "mediawiki.revision-create"}

// newStack starts NATS, a producer of rate events/s and serve; mod
// changes serve's configuration (by default streams end after 3 s, and
// clients are told to reconnect after 200 ms, so every test crosses the
// maximum duration a few times).
func newStack(t *testing.T, rate float64, mod func(*service.Config)) *stack {
	t.Helper()
	ns, js := inproctest.NATS(t, true)
	cfg := service.DefaultConfig()
	cfg.NATSURL = ns.ClientURL()
	cfg.MaxDuration = 3 * time.Second
	cfg.Retry = 200 * time.Millisecond
	cfg.Heartbeat = time.Second
	cfg.RingSize = 4096
	cfg.ShutdownTimeout = 2 * time.Second
	if mod != nil {
		mod(&cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{addr: ln.Addr().String(), natsURL: ns.ClientURL(), cfg: cfg}
	s.url = "http://" + s.addr
	s.start(t, ln)
	t.Cleanup(s.stopServe)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	gen, err := eventgen.New(eventgen.Options{Rate: rate, Streams: produced, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(done)
		var offset int64
		_ = gen.Run(ctx, func(e eventgen.Event) error {
			offset++
			return store(ctx, js, e, offset)
		})
	}()
	return s
}

// store stores a generated Kafka record as ingest would.
func store(ctx context.Context, js jetstream.JetStream, e eventgen.Event, offset int64) error {
	_, stream, _ := strings.Cut(e.Topic, ".")
	p, err := envelope.Prepare(nil, e.Value, stream, envelope.Coordinates{Topic: e.Topic, Offset: offset})
	if err != nil {
		return err
	}
	m := &nats.Msg{Subject: layout.Default().Subject(layout.StreamToken(stream), p.WikiToken), Data: p.Data,
		Header: nats.Header{layout.HeaderMsgID: {p.ID}, layout.HeaderTimestamp: {strconv.FormatInt(e.Time.UnixMilli(), 10)}}}
	if _, err := js.PublishMsg(ctx, m); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}

// start runs serve on ln until stopServe, and waits until it serves.
func (s *stack) start(t *testing.T, ln net.Listener) {
	t.Helper()
	s.reg = prometheus.NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() {
		done <- service.Run(ctx, s.cfg, service.Deps{Logger: log, Registry: s.reg, Listener: ln, Version: "test",
			Ready: func(net.Addr) { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("serve not ready after 20 s")
	}
	s.mu.Lock()
	s.stop = func() { cancel(); <-done }
	s.mu.Unlock()
}

func (s *stack) stopServe() {
	s.mu.Lock()
	stop := s.stop
	s.stop = nil
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// restart stops serve (its streams end, as on SIGTERM) and starts it again
// on the same address.
func (s *stack) restart(t *testing.T, down func()) {
	t.Helper()
	s.stopServe()
	down()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	s.start(t, ln)
}

// serverSeqs are the sequences of the first n events the server sends for
// url (a stream URL without a start) from sequence from: the server's own
// answer, to compare the page with.
func serverSeqs(t *testing.T, url string, from int64, n int) []int64 {
	t.Helper()
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+sep+"seq="+strconv.FormatInt(from, 10), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: %d %s", req.URL, resp.StatusCode, body)
	}
	var out []int64
	r := bufio.NewReader(resp.Body)
	for len(out) < n {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading %s after %d events: %v", req.URL, len(out), err)
		}
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			var id []struct{ Seq int64 }
			if err := json.Unmarshal([]byte(v), &id); err != nil || len(id) != 1 {
				t.Fatalf("id %q: %v", v, err)
			}
			out = append(out, id[0].Seq)
		}
	}
	return out
}

// sameAsServer checks that the page showed seqs (oldest first), exactly
// what the server sends for streamURL from the first of them: no gap, no
// duplicate, in order.
func sameAsServer(t *testing.T, streamURL string, seqs []int64) {
	t.Helper()
	if len(seqs) == 0 {
		t.Fatal("no events on the page")
	}
	want := serverSeqs(t, streamURL, seqs[0], len(seqs))
	for i := range seqs {
		if seqs[i] != want[i] {
			t.Fatalf("event %d on the page is seq %d, the server sends %d there\npage:   %v\nserver: %v", i, seqs[i], want[i], seqs, want)
		}
	}
}
