package inproc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ClusterOptions configure StartCluster.
type ClusterOptions struct {
	// Nodes is the number of nats-servers (default 3).
	Nodes int
	// Dir holds each node's configuration file and JetStream store
	// (required).
	Dir string
	// Name is the cluster's name and its JetStream domain (default "dca").
	Name string
	// SyncAlways makes each node sync its store to disk after every write
	// (sync_interval: always) instead of nats-server's default, every 2
	// minutes.
	SyncAlways bool
	// LeafOf, when set, makes every node a leaf node of that cluster (its
	// LeafURLs), so that a JetStream domain of one cluster reaches the
	// other's: a second datacenter mirroring the first.
	LeafOf *Cluster
}

// Cluster is a NATS cluster of nats-servers in this process, connected over
// loopback routes, each with JetStream on its own store. Nodes can be
// stopped and started again on the same ports and stores, to test what a
// node's death does.
type Cluster struct {
	opts   ClusterOptions
	mu     sync.Mutex
	nodes  []*server.Server // nil while stopped
	conf   []string         // each node's configuration file
	client []int            // client ports
	leaf   []int            // leaf node ports
}

// StartCluster writes a configuration file for each node, starts them all
// and waits until JetStream has a meta leader.
func StartCluster(o ClusterOptions) (*Cluster, error) {
	if o.Dir == "" {
		return nil, errors.New("inproc: a cluster directory is required")
	}
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Name == "" {
		o.Name = "dca"
	}
	c := &Cluster{opts: o, nodes: make([]*server.Server, o.Nodes)}
	ports, err := freePorts(3 * o.Nodes)
	if err != nil {
		return nil, err
	}
	routePorts := ports[o.Nodes : 2*o.Nodes]
	c.client, c.leaf = ports[:o.Nodes], ports[2*o.Nodes:]
	var routes []string
	for _, p := range routePorts {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
	}
	for i := range o.Nodes {
		conf := NodeConfig(NodeConfigOptions{
			Name: fmt.Sprintf("%s-n%d", o.Name, i+1), Cluster: o.Name, Domain: o.Name,
			ClientPort: c.client[i], RoutePort: routePorts[i], LeafPort: c.leaf[i],
			Routes:     routes,
			StoreDir:   filepath.Join(o.Dir, fmt.Sprintf("n%d", i+1)),
			SyncAlways: o.SyncAlways,
			LeafRemotes: func() []string {
				if o.LeafOf == nil {
					return nil
				}
				return o.LeafOf.LeafURLs()
			}(),
		})
		path := filepath.Join(o.Dir, fmt.Sprintf("n%d.conf", i+1))
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			return nil, err
		}
		c.conf = append(c.conf, path)
	}
	for i := range o.Nodes {
		if err := c.start(i, false); err != nil {
			c.Shutdown()
			return nil, err
		}
	}
	for i := range o.Nodes {
		if err := c.waitReady(i); err != nil {
			c.Shutdown()
			return nil, err
		}
	}
	// A replicated stream created before the meta leader has heard from
	// every peer is refused ("no suitable peers for placement").
	if o.Nodes > 1 && !waitFor(20*time.Second, func() bool {
		for i := range o.Nodes {
			if len(c.Node(i).JetStreamClusterPeers()) == o.Nodes {
				return true
			}
		}
		return false
	}) {
		c.Shutdown()
		return nil, fmt.Errorf("inproc: the meta leader does not see all %d nodes online after 20s", o.Nodes)
	}
	if o.LeafOf != nil {
		// A mirror created before its leaf connection is up retries only
		// after a backoff of tens of seconds.
		for i := range o.Nodes {
			if !waitFor(10*time.Second, func() bool { return c.Node(i).NumLeafNodes() > 0 }) {
				c.Shutdown()
				return nil, fmt.Errorf("inproc: node %d: no leaf node connection to cluster %s after 10s", i+1, o.LeafOf.Domain())
			}
		}
	}
	return c, nil
}

// NodeConfigOptions describe one node of a cluster for NodeConfig.
type NodeConfigOptions struct {
	Name, Cluster, Domain         string
	ClientPort, RoutePort         int
	LeafPort                      int // 0: no leaf node listener
	Routes, LeafRemotes           []string
	StoreDir                      string
	SyncAlways                    bool
	MonitorPort                   int // 0: no monitoring
	Host                          string
	MaxPayload, MaxFileStore      string
	RouteHost, LeafHost, HTTPHost string
}

// NodeConfig is the nats-server configuration file of one node. The shipped
// configurations (infra/nats) follow the same shape: a JetStream domain per
// datacenter, routes to every node of the cluster, a leaf node listener by
// which the other datacenter's cluster reaches this domain, and the
// store's sync policy.
func NodeConfig(o NodeConfigOptions) string {
	host := o.Host
	if host == "" {
		host = "127.0.0.1"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "server_name: %q\nlisten: \"%s:%d\"\n", o.Name, host, o.ClientPort)
	if o.MaxPayload != "" {
		fmt.Fprintf(&b, "max_payload: %s\n", o.MaxPayload)
	}
	if o.MonitorPort > 0 {
		fmt.Fprintf(&b, "http_port: %d\n", o.MonitorPort)
	}
	fmt.Fprintf(&b, "jetstream {\n  store_dir: %q\n  domain: %q\n", o.StoreDir, o.Domain)
	if o.MaxFileStore != "" {
		fmt.Fprintf(&b, "  max_file_store: %s\n", o.MaxFileStore)
	}
	if o.SyncAlways {
		b.WriteString("  sync_interval: always\n")
	}
	b.WriteString("}\n")
	if len(o.Routes) > 1 {
		fmt.Fprintf(&b, "cluster {\n  name: %q\n  listen: \"%s:%d\"\n  routes: [\n", o.Cluster, host, o.RoutePort)
		for _, r := range o.Routes {
			fmt.Fprintf(&b, "    %q\n", r)
		}
		b.WriteString("  ]\n}\n")
	}
	if o.LeafPort > 0 || len(o.LeafRemotes) > 0 {
		b.WriteString("leafnodes {\n")
		if o.LeafPort > 0 {
			fmt.Fprintf(&b, "  listen: \"%s:%d\"\n", host, o.LeafPort)
		}
		if len(o.LeafRemotes) > 0 {
			b.WriteString("  remotes: [ { urls: [")
			for i, r := range o.LeafRemotes {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "%q", r)
			}
			b.WriteString("] } ]\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

func (c *Cluster) start(i int, wait bool) error {
	opts, err := server.ProcessConfigFile(c.conf[i])
	if err != nil {
		return fmt.Errorf("inproc: node %d: %w", i+1, err)
	}
	opts.NoSigs, opts.NoLog = true, true
	s, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("inproc: node %d: %w", i+1, err)
	}
	s.Start()
	c.mu.Lock()
	c.nodes[i] = s
	c.mu.Unlock()
	if wait {
		return c.waitReady(i)
	}
	return nil
}

func (c *Cluster) waitReady(i int) error {
	s := c.Node(i)
	if !s.ReadyForConnections(10 * time.Second) {
		return fmt.Errorf("inproc: node %d did not become ready in 10s", i+1)
	}
	if !waitFor(20*time.Second, func() bool {
		return s.JetStreamEnabled() && (len(c.nodes) == 1 || s.JetStreamIsClustered() && s.JetStreamIsCurrent())
	}) {
		return fmt.Errorf("inproc: node %d: JetStream has no meta leader after 20s", i+1)
	}
	return nil
}

// waitFor polls cond every 20 ms until it holds or d has passed.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// Node returns node i (from 0), nil while it is stopped.
func (c *Cluster) Node(i int) *server.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

// Nodes is the number of nodes.
func (c *Cluster) Nodes() int { return len(c.conf) }

// Stop shuts node i down (its store stays).
func (c *Cluster) Stop(i int) {
	c.mu.Lock()
	s := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// Restart starts a stopped node i again, on its ports and store, and waits
// until it is ready.
func (c *Cluster) Restart(i int) error {
	if c.Node(i) != nil {
		return fmt.Errorf("inproc: node %d is running", i+1)
	}
	return c.start(i, true)
}

// Shutdown stops every node.
func (c *Cluster) Shutdown() {
	for i := range c.conf {
		c.Stop(i)
	}
}

// URL lists every node's client URL, comma-separated, as NATS_URL takes them.
func (c *Cluster) URL() string {
	var urls []string
	for _, p := range c.client {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	return strings.Join(urls, ",")
}

// NodeURL is node i's client URL.
func (c *Cluster) NodeURL(i int) string { return fmt.Sprintf("nats://127.0.0.1:%d", c.client[i]) }

// LeafURLs are the nodes' leaf node URLs.
func (c *Cluster) LeafURLs() []string {
	var urls []string
	for _, p := range c.leaf {
		urls = append(urls, fmt.Sprintf("nats-leaf://127.0.0.1:%d", p))
	}
	return urls
}

// Domain is the cluster's JetStream domain.
func (c *Cluster) Domain() string { return c.opts.Name }

// StreamLeader returns the index of the node leading the stream of the
// global account, or -1 when none does.
func (c *Cluster) StreamLeader(stream string) int {
	for i := range c.conf {
		if s := c.Node(i); s != nil && s.JetStreamIsStreamLeader(server.DEFAULT_GLOBAL_ACCOUNT, stream) {
			return i
		}
	}
	return -1
}

// freePorts reserves n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
