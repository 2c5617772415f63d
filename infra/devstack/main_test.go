package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
)

// TestDevstack builds and starts the devstack on free ports, reads events
// of several streams over HTTP within 30 s, resumes one by its id, and
// stops it with Ctrl-C (SIGINT): it must exit 0.
func TestDevstack(t *testing.T) {
	bin := inproctest.Binary(t, "github.com/wikimedia-eventstreams-go/eventstreams/infra/devstack")
	addr := inproctest.FreeAddr(t)
	cmd := exec.Command(bin, "-addr", addr, "-nats-port", "0", "-kafka-ports", "0,0", "-rate", "200")
	cmd.Env = append(os.Environ(), "SERVE_ADDR=")
	var stdout, stderr inproctest.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}) // closed when the process has exited
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(done) }()
	defer func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
			<-done
		}
	}()

	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stdout.String(), "devstack is running") {
		if time.Now().After(deadline) {
			t.Fatalf("not running after 30s; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(stdout.String(), "curl -N "+base+"/v2/stream/recentchange") || !strings.Contains(stdout.String(), "nats://") {
		t.Errorf("the welcome text does not say where to look:\n%s", stdout.String())
	}
	if i := strings.Index(stdout.String(), "http://"); i < 0 || !strings.HasPrefix(stdout.String()[i:], base+"/v2/ui\n") {
		t.Errorf("the first URL of the welcome text is not the web UI's:\n%s", stdout.String())
	}

	// Several streams, from the start of what is stored (seq=1).
	streams := map[string]bool{}
	var ids []string
	resp2, err := http.Get(base + "/v2/stream/recentchange,revision-create,page-create,mediawiki.page_change.v1?seq=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	if resp2.StatusCode != 200 {
		body, _ := io.ReadAll(resp2.Body)
		t.Fatalf("%d %s", resp2.StatusCode, body)
	}
	r := bufio.NewReader(resp2.Body)
	var id string
	for len(streams) < 3 && time.Now().Before(deadline) {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			id = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok {
			var e struct{ Meta struct{ Stream string } }
			if err := json.Unmarshal([]byte(v), &e); err != nil {
				t.Fatalf("data is not JSON: %v", err)
			}
			streams[e.Meta.Stream] = true
			ids = append(ids, id)
		}
	}
	if len(streams) < 3 {
		t.Fatalf("events of %d streams within 30s, want 3: %v", len(streams), streams)
	}
	resp2.Body.Close()

	// Resume after the second event read: the next one is the third.
	req, _ := http.NewRequest(http.MethodGet, base+"/v2/stream/recentchange,revision-create,page-create,mediawiki.page_change.v1", nil)
	req.Header.Set("Last-Event-ID", ids[1])
	resp3, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp3.Body.Close()
	r3 := bufio.NewReader(resp3.Body)
	for {
		line, err := r3.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			if got := strings.TrimSpace(v); got != ids[2] {
				t.Errorf("resumed at %s, want %s", got, ids[2])
			}
			break
		}
	}
	resp3.Body.Close()

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		if waitErr != nil {
			t.Errorf("exit: %v; stderr:\n%s", waitErr, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("did not stop 30s after Ctrl-C; stderr:\n%s", stderr.String())
	}
}

// TestPortInUse: a port the devstack needs that is taken is reported at
// once (not after a wait for a server that cannot start), naming the port
// and the flag that changes it.
func TestPortInUse(t *testing.T) {
	bin := inproctest.Binary(t, "github.com/wikimedia-eventstreams-go/eventstreams/infra/devstack")
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, port, _ := net.SplitHostPort(taken.Addr().String())
	free := inproctest.FreeAddr(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-addr", free, "-nats-port", port, "-kafka-ports", "0,0"}, "port " + port + " (NATS) is in use; choose another with -nats-port"},
		{[]string{"-addr", free, "-nats-port", "0", "-kafka-ports", "0," + port}, "port " + port + " (Kafka codfw) is in use; choose another with -kafka-ports"},
		{[]string{"-addr", taken.Addr().String(), "-nats-port", "0", "-kafka-ports", "0,0"}, "serve's address " + taken.Addr().String() + " cannot be used"},
	} {
		cmd := exec.Command(bin, tc.args...)
		cmd.Env = append(os.Environ(), "SERVE_ADDR=")
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("%v: %v, want exit status 1; output %s", tc.args, err, out)
		}
		if !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: output %q, want it to say %q", tc.args, out, tc.want)
		}
	}
}

// TestDevstackRelay runs two devstacks: an upstream (Kafka, producer,
// ingest, serve) and a relay reading it (-upstream). Every event the
// upstream served first is relayed once, byte for byte: this project's
// own serve as the upstream, its ids resumed exactly.
func TestDevstackRelay(t *testing.T) {
	upstream := startDevstack(t, "-rate", "200")
	relayed := startDevstack(t, "-upstream", upstream)

	// The upstream's first 300 events, then the relay's until it has them.
	want := readEvents(t, upstream+"/v2/stream/recentchange,revision-create,page-create?seq=1", 300, nil)
	got := map[string]string{}
	readEvents(t, relayed+"/v2/stream/recentchange,revision-create,page-create?seq=1", 0, func(id, data string) bool {
		if _, dup := got[id]; dup {
			t.Errorf("event %s relayed twice", id)
		}
		got[id] = data
		for id := range want {
			if _, ok := got[id]; !ok {
				return true
			}
		}
		return false
	})
	for id, data := range want {
		if got[id] != data {
			t.Errorf("event %s: relayed\n%s\nupstream\n%s", id, got[id], data)
		}
	}
}

// startDevstack starts a devstack on free ports and returns serve's base URL.
func startDevstack(t *testing.T, args ...string) string {
	t.Helper()
	bin := inproctest.Binary(t, "github.com/wikimedia-eventstreams-go/eventstreams/infra/devstack")
	addr := inproctest.FreeAddr(t)
	cmd := exec.Command(bin, append([]string{"-addr", addr, "-nats-port", "0", "-kafka-ports", "0,0"}, args...)...)
	cmd.Env = append(os.Environ(), "SERVE_ADDR=")
	var stdout, stderr inproctest.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	inproctest.WaitFor(t, 60*time.Second, func() bool { return strings.Contains(stdout.String(), "devstack is running") })
	return "http://" + addr
}

// readEvents reads a stream: n events (meta.id → data), or, with n 0,
// until more returns false. It fails the test after 60 s.
func readEvents(t *testing.T, url string, n int, more func(id, data string) bool) map[string]string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: %d %s", url, resp.StatusCode, body)
	}
	timer := time.AfterFunc(60*time.Second, func() { resp.Body.Close() })
	defer timer.Stop()
	out := map[string]string{}
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("%s: after %d events: %v", url, len(out), err)
		}
		v, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		v = strings.TrimSuffix(v, "\n")
		var e struct{ Meta struct{ ID string } }
		if err := json.Unmarshal([]byte(v), &e); err != nil {
			t.Fatalf("data is not JSON: %v", err)
		}
		out[e.Meta.ID] = v
		if n > 0 && len(out) >= n || more != nil && !more(e.Meta.ID, v) {
			return out
		}
	}
}

// TestUpstreamFlag: a bad -upstream is refused at once, naming the flag.
func TestUpstreamFlag(t *testing.T) {
	if _, err := parseFlags([]string{"-upstream", "stream.wikimedia.org"}); err == nil || !strings.HasPrefix(err.Error(), "-upstream: ") {
		t.Errorf("parseFlags: %v, want an error about -upstream", err)
	}
	c, err := parseFlags([]string{"-upstream", "https://stream.wikimedia.org"})
	if err != nil || c.upstream != "https://stream.wikimedia.org" {
		t.Errorf("parseFlags: %+v, %v", c, err)
	}
}
