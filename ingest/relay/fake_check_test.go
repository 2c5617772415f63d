package relay_test

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/inproc/inproctest"
)

// TestFakeResumesAsKafkaSSE checks the fake against what KafkaSSE does
// with its own ids: a client that resumes with the id as it was sent
// loses the rest of the last event's millisecond, and every event of a
// partition that had delivered nothing ({"offset":-1}, "latest"). This is
// what the relay's resume rule exists for.
func TestFakeResumesAsKafkaSSE(t *testing.T) {
	f := newFakeES(t, 1)
	first := frames(t, f.url(), "", 1, func() {
		inproctest.WaitFor(t, 10*time.Second, func() bool { return f.streaming() >= 1 })
		f.add(3) // three events in one millisecond, in each of two partitions
	})
	id := first[0]
	if !strings.Contains(id, `"timestamp":`) || !strings.Contains(id, `"offset":-1`) {
		t.Fatalf("first id %s: want a timestamp for the partition read and offset -1 for the other", id)
	}
	// Resumed with the id as sent: nothing of the six events is left but
	// what comes after them.
	f.add(1)
	got := frames(t, f.url(), id, 1, nil)
	if want := f.logEntry(t, 3); !strings.Contains(got[1], want) {
		t.Errorf("resumed with the id as sent, the next event is %s, want the one after the millisecond (%s)", got[1], want)
	}
}

// frames reads n events (their id and data lines) of a connection with
// this Last-Event-ID, calling ready once it is open.
func frames(t *testing.T, url, lastEventID string, n int, ready func()) []string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+"/v2/stream/recentchange", nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ready != nil {
		ready()
	}
	var out []string
	r := bufio.NewReader(resp.Body)
	for len(out) < 2*n {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			out = append(out, strings.TrimSpace(v))
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// logEntry is the meta.id of the nth event added to the first partition.
func (f *fakeES) logEntry(t *testing.T, n int) string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	return `"id":"` + f.logs[f.tps[0]][n].metaID + `"`
}
