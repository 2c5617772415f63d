package clustertest

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// client reads a stream as EventSource does: on any end or error it
// reconnects with its last id, here to the next serve in turn, after a
// short pause. It records every event it is given.
type client struct {
	serves []string // base URLs, used in turn
	path   string

	mu       sync.Mutex
	events   []delivered
	lastID   string
	lastAt   time.Time
	maxPause time.Duration // longest time between two events
	connects int
}

// delivered is one event as a client got it.
type delivered struct {
	seq uint64
	id  string // meta.id
}

func newClient(serves []string, path string) *client {
	return &client{serves: serves, path: path}
}

// startClients starts n clients of path, client i beginning with serve i
// of bases (two) and taking them in turn. stop ends them and waits; it may
// be called more than once.
func startClients(n int, bases []string, path string) (clients []*client, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range n {
		c := newClient([]string{bases[i%2], bases[(i+1)%2]}, path)
		clients = append(clients, c)
		wg.Go(func() { c.run(ctx) })
	}
	return clients, func() { cancel(); wg.Wait() }
}

// run reads until ctx ends.
func (c *client) run(ctx context.Context) {
	for i := 0; ctx.Err() == nil; i++ {
		c.read(ctx, c.serves[i%len(c.serves)])
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond): // EventSource's retry, shortened
		}
	}
}

func (c *client) read(ctx context.Context, base string) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+c.path, nil)
	c.mu.Lock()
	if c.lastID != "" {
		req.Header.Set("Last-Event-ID", c.lastID)
	}
	c.connects++
	c.mu.Unlock()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var id, data, event string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if event == "message" && data != "" {
				c.deliver(id, data)
			}
			id, data, event = "", "", ""
		case strings.HasPrefix(line, "id: "):
			id = line[4:]
		case strings.HasPrefix(line, "data: "):
			data = line[6:]
		case strings.HasPrefix(line, "event: "):
			event = line[7:]
		}
	}
}

func (c *client) deliver(id, data string) {
	var ids []struct {
		Seq uint64 `json:"seq"`
	}
	var ev struct {
		Meta struct {
			ID string `json:"id"`
		} `json:"meta"`
	}
	if json.Unmarshal([]byte(id), &ids) != nil || len(ids) != 1 || json.Unmarshal([]byte(data), &ev) != nil {
		return
	}
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.lastAt.IsZero() {
		c.maxPause = max(c.maxPause, now.Sub(c.lastAt))
	}
	c.lastAt = now
	c.lastID = id
	c.events = append(c.events, delivered{seq: ids[0].Seq, id: ev.Meta.ID})
}

// snapshot returns how many events the client has and the last one's
// sequence.
func (c *client) snapshot() (n int, last uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.events) == 0 {
		return 0, 0
	}
	return len(c.events), c.events[len(c.events)-1].seq
}

// connections returns how many times the client has connected.
func (c *client) connections() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connects
}

// pause returns the longest pause so far and starts a new measure.
func (c *client) pause() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.maxPause
	c.maxPause = 0
	return p
}
