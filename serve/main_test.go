package main

// End-to-end tests of the built serve binary (go run ./serve).

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

func serveBinary(t *testing.T) string {
	return inproctest.Binary(t, "github.com/wikimedia-eventstreams-go/eventstreams/serve")
}

func TestConfigurationErrors(t *testing.T) {
	tests := []struct{ key, value, want string }{
		{"SERVE_HEARTBEAT", "0s", "SERVE_HEARTBEAT: must be between 100ms and 10m"},
		{"SERVE_HEARTBEAT", "soon", `SERVE_HEARTBEAT: invalid value "soon"`},
		{"SERVE_MAX_CONNECTION_DURATION", "-1m", "SERVE_MAX_CONNECTION_DURATION: must not be negative"},
		{"SERVE_CLIENT_IP_CONNECTION_LIMIT", "-2", "SERVE_CLIENT_IP_CONNECTION_LIMIT: must not be negative"},
		{"SERVE_TRUST_CLIENT_IP_HEADER", "maybe", `SERVE_TRUST_CLIENT_IP_HEADER: invalid value "maybe"`},
		{"SERVE_CLIENT_IP_LIMIT_SCOPE", "region", "SERVE_CLIENT_IP_LIMIT_SCOPE: must be process or cluster"},
		{"SERVE_CLIENT_IP_LIMIT_TTL", "100ms", "SERVE_CLIENT_IP_LIMIT_TTL: must be between 1s and 10m"},
		{"SERVE_RING_SIZE", "3", "SERVE_RING_SIZE: must be between 16"},
		{"ES_ALLOWED_STREAMS", "recentchange,nope", "ES_ALLOWED_STREAMS: unknown streams: nope"},
		{"SERVE_ADDR", "127.0.0.1:99999", "SERVE_ADDR: listen tcp: address 99999: invalid port"},
		{"LOG_LEVEL", "loud", `LOG_LEVEL: "loud"`},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			cmd := exec.Command(serveBinary(t))
			cmd.Env = []string{tt.key + "=" + tt.value, "SERVE_ADDR=127.0.0.1:0"}
			if tt.key == "SERVE_ADDR" {
				cmd.Env = cmd.Env[:1]
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			code := -1
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			out := strings.TrimRight(stderr.String(), "\n")
			if code != 2 || strings.Contains(out, "\n") || !strings.HasPrefix(out, "serve: configuration: "+tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and one line starting %q", code, out, "serve: configuration: "+tt.want)
			}
		})
	}
}

// TestSIGTERMEndsStreamsCleanly: SIGTERM ends an open stream cleanly and
// serve exits 0; events stored meanwhile reach the client when it resumes
// with its last id on another serve process, from exactly the next one.
func TestSIGTERMEndsStreamsCleanly(t *testing.T) {
	ns, js := inproctest.NATS(t, true)
	lay := layout.Default()
	publish := func(from, to int) {
		for i := from; i < to; i++ {
			m := &nats.Msg{Subject: lay.Subject("mediawiki_recentchange", "enwiki"), Data: []byte(fmt.Sprintf(`{"n":%d}`, i)),
				Header: nats.Header{layout.HeaderTimestamp: {"1712236826000"}}}
			if _, err := js.PublishMsg(context.Background(), m); err != nil {
				t.Fatal(err)
			}
		}
	}
	addr, cmd, stderr := startServe(t, ns.ClientURL())
	resp, err := http.Get("http://" + addr + "/v2/stream/recentchange")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	publish(0, 3)
	r := bufio.NewReader(resp.Body)
	var lastID string
	for events := 0; events < 3; {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if id, ok := strings.CutPrefix(line, "id: "); ok {
			lastID = strings.TrimSpace(id)
			events++
		}
	}
	if !strings.Contains(lastID, `"seq":3`) {
		t.Errorf("last id %s, want seq 3", lastID)
	}
	if err := cmd.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	publish(3, 5) // while serve stops
	if _, err := io.ReadAll(r); err != nil {
		t.Errorf("the stream did not end cleanly at SIGTERM: %v", err)
	}
	select {
	case <-cmd.Done():
		if err := cmd.Wait(); err != nil {
			t.Errorf("exit: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not exit 20s after SIGTERM; stderr:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), `"msg":"serve stopped"`) || !strings.Contains(stderr.String(), `"reason":"shutdown"`) {
		t.Errorf("no clean shutdown in the log:\n%s", stderr.String())
	}

	publish(5, 6) // after serve stopped
	addr2, _, _ := startServe(t, ns.ClientURL())
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr2+"/v2/stream/recentchange", nil)
	req.Header.Set("Last-Event-ID", lastID)
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	r2 := bufio.NewReader(resp2.Body)
	for want := 3; want < 6; {
		line, err := r2.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			if got := strings.TrimSpace(data); got != fmt.Sprintf(`{"n":%d}`, want) {
				t.Fatalf("after resuming: %s, want n=%d", got, want)
			}
			want++
		}
	}
}

// startServe runs the serve binary against natsURL, allowing recentchange,
// with env added to its environment, and waits until it is ready. It is killed at the test's end.
func startServe(t *testing.T, natsURL string, env ...string) (addr string, p *inproctest.Process, stderr *inproctest.Buffer) {
	t.Helper()
	addr = inproctest.FreeAddr(t)
	p = inproctest.Start(t, "github.com/wikimedia-eventstreams-go/eventstreams/serve",
		append([]string{"NATS_URL=" + natsURL, "SERVE_ADDR=" + addr, "ES_ALLOWED_STREAMS=recentchange"}, env...),
		"http://"+addr+"/readyz")
	return addr, p, p.Stderr
}

// TestClusterIPLimit: with SERVE_CLIENT_IP_LIMIT_SCOPE=cluster, the
// per-IP limit holds across two serve processes on the same NATS; a
// stream that ends frees its slot for the other serve; and the slots of a
// serve killed with SIGKILL are free again within the TTL.
func TestClusterIPLimit(t *testing.T) {
	const ttl = 2 * time.Second
	ns, _ := inproctest.NATS(t, true)
	env := []string{"SERVE_CLIENT_IP_CONNECTION_LIMIT=2", "SERVE_TRUST_CLIENT_IP_HEADER=true",
		"SERVE_CLIENT_IP_LIMIT_SCOPE=cluster", "SERVE_CLIENT_IP_LIMIT_TTL=" + ttl.String(), "SERVE_HEARTBEAT=100ms"}
	addrA, cmdA, _ := startServe(t, ns.ClientURL(), env...)
	addrB, _, _ := startServe(t, ns.ClientURL(), env...)
	for _, addr := range []string{addrA, addrB} {
		inproctest.WaitFor(t, 10*time.Second, func() bool {
			return strings.Contains(scrape(t, addr), "\neventstreams_client_ip_limit_bucket_ready 1\n")
		})
	}
	const ip = "2001:db8::42"
	streamOf := func(addr string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v2/stream/recentchange", nil)
		req.Header.Set("X-Client-IP", ip)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	// openOn waits until a stream of ip is admitted on addr.
	openOn := func(addr string, within time.Duration) *http.Response {
		t.Helper()
		var resp *http.Response
		inproctest.WaitFor(t, within, func() bool {
			if resp = streamOf(addr); resp.StatusCode != http.StatusOK {
				resp.Body.Close()
				return false
			}
			return true
		})
		return resp
	}

	a1, a2 := streamOf(addrA), streamOf(addrA)
	if a1.StatusCode != http.StatusOK || a2.StatusCode != http.StatusOK {
		t.Fatalf("two streams on A: %d %d", a1.StatusCode, a2.StatusCode)
	}
	resp := streamOf(addrB)
	raw, _ := io.ReadAll(resp.Body)
	want := `{"status":429,"type":"too_many_requests","title":"Too Many Concurrent Connections From Your Client IP","detail":"Your HTTP client is likely opening too many concurrent connections.","method":"GET","uri":"/v2/stream/recentchange"}`
	if resp.StatusCode != http.StatusTooManyRequests || string(raw) != want {
		t.Fatalf("a third stream on B: %d %s", resp.StatusCode, raw)
	}
	if !strings.Contains(scrape(t, addrB), "\neventstreams_client_ip_rejections_total 1\n") {
		t.Error("the 429 is not counted in eventstreams_client_ip_rejections_total")
	}

	// A stream that ends gives its slot back: B gets it.
	a1.Body.Close()
	openOn(addrB, 10*time.Second)
	if r := streamOf(addrB); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a third stream after the move: %d", r.StatusCode)
	}

	// A dies without releasing its slot: B gets it back within the TTL.
	if err := cmdA.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmdA.Wait()
	killed := time.Now()
	openOn(addrB, ttl+10*time.Second)
	took := time.Since(killed)
	t.Logf("the killed serve's slot was free after %v (SERVE_CLIENT_IP_LIMIT_TTL %v)", took.Round(time.Millisecond), ttl)
	if took > ttl+2*time.Second {
		t.Errorf("free after %v, TTL %v", took, ttl)
	}
	if r := streamOf(addrB); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a third stream on B after the kill: %d", r.StatusCode)
	}
}

// scrape returns the /metrics text of the serve at addr.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return string(raw)
}
