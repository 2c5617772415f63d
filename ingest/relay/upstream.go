package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/input"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// Options configure an Upstream. Tuning fields have defaults, documented on
// each, when zero; ingest's configuration does not expose them.
type Options struct {
	// URL is the upstream's base URL, e.g. https://stream.wikimedia.org.
	URL string
	// Catalog are the streams to read (all of them, on one connection).
	Catalog *catalog.Catalog
	// UserAgent is sent with every request (required).
	UserAgent string
	// Bucket is the NATS KV bucket of positions (required), created with
	// Replicas replicas (default 1; INGEST_REPLICAS, as the stream).
	Bucket   string
	Replicas int
	// Start is where a first start (no position stored) reads from: the
	// zero time is the upstream's last minute; an earlier time replays
	// what the upstream still keeps since then (its retention bounds it).
	Start time.Time
	// MaxEventBytes bounds an SSE event; a longer one ends the connection
	// as malformed (default 2 MiB).
	MaxEventBytes int
	// IdleTimeout: a connection with no byte for this long is dead
	// (default 30 s; the upstream sends no heartbeats, but recentchange is
	// never quiet that long).
	IdleTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait before reconnecting after an
	// error (defaults 1 s and 60 s); a clean cut after events reconnects
	// at once. Retry-After is honoured up to MaxRetryAfter (default 10 m).
	MinBackoff, MaxBackoff, MaxRetryAfter time.Duration
	// CommitInterval is how often acknowledged positions are written to
	// the bucket (default 1 s).
	CommitInterval time.Duration
	// Client makes the requests (default: a client with no overall timeout,
	// whose transport waits IdleTimeout for response headers).
	Client *http.Client
}

// Upstream is one upstream EventStreams service: an input.Opener whose
// sources read its allowed streams over one SSE connection.
type Upstream struct {
	opts   Options
	base   *url.URL
	name   string
	token  string
	nc     *nats.Conn
	topics []string
}

var _ input.Opener = (*Upstream)(nil)

// ParseURLs reads INGEST_UPSTREAM_URLS: a comma-separated list of http(s)
// base URLs, with hosts that differ (a host names its source).
func ParseURLs(list string) ([]*url.URL, error) {
	var out []*url.URL
	seen := map[string]bool{}
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%q: want an http or https base URL such as https://stream.wikimedia.org", s)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("%q: a base URL has no query, fragment or user", s)
		}
		if seen[u.Host] {
			return nil, fmt.Errorf("%q: host %s is given twice", s, u.Host)
		}
		seen[u.Host] = true
		out = append(out, u)
	}
	if len(out) == 0 {
		return nil, errors.New("no upstream given (want e.g. https://stream.wikimedia.org)")
	}
	return out, nil
}

// New checks the options. It does not connect.
func New(opts Options, nc *nats.Conn) (*Upstream, error) {
	us, err := ParseURLs(opts.URL)
	if err != nil {
		return nil, err
	}
	if len(us) != 1 {
		return nil, errors.New("relay: one URL per Upstream")
	}
	if opts.Catalog == nil || len(opts.Catalog.Streams()) == 0 || opts.UserAgent == "" || opts.Bucket == "" || nc == nil {
		return nil, errors.New("relay: a catalog, a User-Agent, a bucket and a NATS connection are required")
	}
	setDefault(&opts.MaxEventBytes, 2<<20)
	setDefault(&opts.IdleTimeout, 30*time.Second)
	setDefault(&opts.MinBackoff, time.Second)
	setDefault(&opts.MaxBackoff, 60*time.Second)
	setDefault(&opts.MaxRetryAfter, 10*time.Minute)
	setDefault(&opts.CommitInterval, time.Second)
	if opts.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.ResponseHeaderTimeout = opts.IdleTimeout
		tr.DisableCompression = true // EventStreams never compresses; a gzip reader would buffer
		opts.Client = &http.Client{Transport: tr}
	}
	u := us[0]
	return &Upstream{opts: opts, base: u, name: u.Host, token: layout.WikiToken(u.Host), nc: nc, topics: opts.Catalog.Topics()}, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Name is the upstream's host (with its port, if the URL has one): the
// Es-Cluster header of its events.
func (u *Upstream) Name() string { return u.name }

// streamURL is the request URL for every stream, with since when given.
func (u *Upstream) streamURL(since int64) string {
	var names []string
	for _, s := range u.opts.Catalog.Streams() {
		names = append(names, s.Name)
	}
	v := *u.base
	v.Path = strings.TrimSuffix(v.Path, "/") + "/v2/stream/" + strings.Join(names, ",")
	if since > 0 {
		v.RawQuery = "since=" + url.QueryEscape(sinceParam(since))
	}
	return v.String()
}

// key is the bucket key of this upstream's position for a stream.
func (u *Upstream) key(stream string) string { return u.token + "." + layout.StreamToken(stream) }

// Open binds the position bucket (creating it if needed), loads this
// upstream's positions and starts reading.
func (u *Upstream) Open(log *slog.Logger, r input.Reporter) (input.Source, error) {
	js, err := jetstream.New(u.nc)
	if err != nil {
		return nil, fmt.Errorf("relay %s: %w", u.name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: u.opts.Bucket,
		Description: "EventStreams relay: the last upstream id acknowledged, per upstream and stream", History: 1,
		Storage: jetstream.FileStorage, Replicas: max(u.opts.Replicas, 1)})
	if err != nil {
		return nil, fmt.Errorf("relay %s: position bucket %s: %w", u.name, u.opts.Bucket, err)
	}
	cur := newCursor()
	for _, s := range u.opts.Catalog.Streams() {
		st, err := loadPosition(ctx, kv, u.key(s.Name))
		if err != nil {
			return nil, fmt.Errorf("relay %s: position of %s: %w", u.name, s.Name, err)
		}
		if st != nil {
			cur.merge(*st)
		}
	}
	fresh := cur.empty() && cur.floor == 0
	if fresh {
		cur.started(time.Now()) // written at the first commit
		if !u.opts.Start.IsZero() {
			cur.floor = max(u.opts.Start.UnixMilli(), 1)
		}
	}
	h, since := cur.header(u.topics)
	from := "the upstream's newest events"
	if since > 0 {
		from = sinceParam(since)
	}
	log.Info("relaying upstream", slog.String("url", u.base.String()), slog.Int("streams", len(u.opts.Catalog.Streams())),
		slog.String("last_event_id", h), slog.String("since", from))
	return u.open(log, r, kv, cur, fresh), nil
}
