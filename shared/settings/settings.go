// Package settings holds the configuration both services read:
// where NATS is, the JetStream layout, and the stream catalog with its
// allow-list (shared/ARCHITECTURE.md "Configuration"). Each service's
// Config (ingest/service, serve/service) embeds Common in its envconfig
// struct and reads the environment there, through Process; Defaults gives
// the same values without reading it.
//
// Values are set once at start; after that they are only read.
package settings

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
	"github.com/nats-io/nats.go"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// Common are the variables both ingest and serve read.
type Common struct {
	NATSURL        string   `envconfig:"NATS_URL" default:"nats://127.0.0.1:4222"`
	NATSCreds      string   `envconfig:"NATS_CREDS"`
	NATSTLSCA      string   `envconfig:"NATS_TLS_CA"`
	Stream         string   `envconfig:"ES_JETSTREAM_STREAM" default:"EVENTSTREAMS"`
	SubjectPrefix  string   `envconfig:"ES_SUBJECT_PREFIX" default:"eventstreams"`
	StreamConfig   string   `envconfig:"ES_STREAM_CONFIG"`
	AllowedStreams []string `envconfig:"ES_ALLOWED_STREAMS"`
	DCPrefixes     []string `envconfig:"ES_DC_PREFIXES" default:"eqiad.,codfw."`
}

// VarError is a configuration error about one environment variable.
type VarError struct {
	Var string
	Err error
}

func (e *VarError) Error() string { return e.Var + ": " + e.Err.Error() }
func (e *VarError) Unwrap() error { return e.Err }

// Process reads the environment into spec (a pointer to a struct with
// envconfig tags) and turns envconfig's errors into a *VarError.
func Process(spec any) error {
	err := envconfig.Process("", spec)
	var pe *envconfig.ParseError
	if errors.As(err, &pe) {
		return &VarError{Var: pe.KeyName, Err: fmt.Errorf("invalid value %q: %w", pe.Value, unwrapAll(pe.Err))}
	}
	return err
}

func unwrapAll(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// Validate checks the values that can be checked without the network. It
// trims spaces around list items ("a, b") and drops empty ones.
func (c *Common) Validate() error {
	c.AllowedStreams = trimList(c.AllowedStreams)
	c.DCPrefixes = trimList(c.DCPrefixes)
	if c.NATSURL == "" {
		return &VarError{"NATS_URL", errors.New("must not be empty")}
	}
	for _, u := range strings.Split(c.NATSURL, ",") {
		if strings.TrimSpace(u) == "" {
			return &VarError{"NATS_URL", errors.New("has an empty server in its list")}
		}
	}
	for _, f := range []struct{ name, path string }{{"NATS_CREDS", c.NATSCreds}, {"NATS_TLS_CA", c.NATSTLSCA}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return &VarError{f.name, err}
		}
	}
	l := c.Layout()
	if err := (layout.Layout{Stream: l.Stream, Prefix: layout.DefaultPrefix}).Validate(); err != nil {
		return &VarError{"ES_JETSTREAM_STREAM", err}
	}
	if err := l.Validate(); err != nil {
		return &VarError{"ES_SUBJECT_PREFIX", err}
	}
	if len(c.DCPrefixes) == 0 {
		return &VarError{"ES_DC_PREFIXES", errors.New("must list at least one topic prefix")}
	}
	seen := map[string]bool{}
	for _, p := range c.DCPrefixes {
		if seen[p] {
			return &VarError{"ES_DC_PREFIXES", fmt.Errorf("prefix %q is given twice", p)}
		}
		seen[p] = true
	}
	return nil
}

func trimList(items []string) []string {
	out := items[:0:0]
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// Layout is the JetStream stream name and subject prefix.
func (c *Common) Layout() layout.Layout {
	return layout.Layout{Stream: c.Stream, Prefix: c.SubjectPrefix}
}

// Catalog loads the stream catalog and narrows it to the allowed streams.
// Errors name the variable at fault.
func (c *Common) Catalog(ctx context.Context) (*catalog.Catalog, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	cat, err := catalog.Load(ctx, c.StreamConfig, c.DCPrefixes, client)
	if err != nil {
		return nil, &VarError{"ES_STREAM_CONFIG", err}
	}
	cat, err = cat.Narrow(c.AllowedStreams)
	if err != nil {
		return nil, &VarError{"ES_ALLOWED_STREAMS", err}
	}
	return cat, nil
}

// Connect connects to NATS with the credentials and CA configured. It
// returns at once when NATS is unreachable and keeps trying in the
// background, reconnecting forever after a loss; opts come last and can
// override these defaults.
func (c *Common) Connect(name string, log *slog.Logger, opts ...nats.Option) (*nats.Conn, error) {
	base := []nats.Option{
		nats.Name(name),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("NATS disconnected", slog.String("error", err.Error()))
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("NATS reconnected", slog.String("server", nc.ConnectedUrlRedacted()))
		}),
		nats.ConnectHandler(func(nc *nats.Conn) {
			log.Info("NATS connected", slog.String("server", nc.ConnectedUrlRedacted()))
		}),
	}
	if c.NATSCreds != "" {
		base = append(base, nats.UserCredentials(c.NATSCreds))
	}
	if c.NATSTLSCA != "" {
		pem, err := os.ReadFile(c.NATSTLSCA)
		if err != nil {
			return nil, &VarError{"NATS_TLS_CA", err}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &VarError{"NATS_TLS_CA", errors.New("no PEM certificate in the file")}
		}
		base = append(base, nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}
	nc, err := nats.Connect(c.NATSURL, append(base, opts...)...)
	if err != nil {
		return nil, &VarError{"NATS_URL", err}
	}
	return nc, nil
}

// LogValue shows the settings in the start-up log. NATS_URL may carry a
// user and password, which are hidden.
func (c Common) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("NATS_URL", RedactURL(c.NATSURL)),
		slog.String("NATS_CREDS", c.NATSCreds),
		slog.String("NATS_TLS_CA", c.NATSTLSCA),
		slog.String("ES_JETSTREAM_STREAM", c.Stream),
		slog.String("ES_SUBJECT_PREFIX", c.SubjectPrefix),
		slog.String("ES_STREAM_CONFIG", RedactURL(c.StreamConfig)),
		slog.Any("ES_ALLOWED_STREAMS", c.AllowedStreams),
		slog.Any("ES_DC_PREFIXES", c.DCPrefixes),
	)
}

// RedactURL replaces the password of every user:password@ in a URL list.
func RedactURL(list string) string {
	parts := strings.Split(list, ",")
	for i, u := range parts {
		scheme, rest, ok := strings.Cut(u, "://")
		if !ok {
			continue
		}
		userinfo, host, ok := strings.Cut(rest, "@")
		if !ok {
			continue
		}
		if user, _, hasPass := strings.Cut(userinfo, ":"); hasPass {
			parts[i] = scheme + "://" + user + ":REDACTED@" + host
		} else {
			parts[i] = scheme + "://REDACTED@" + host // a token
		}
	}
	return strings.Join(parts, ",")
}

// ParseLevel reads LOG_LEVEL: debug, info, warn or error.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q: want debug, info, warn or error", s)
	}
	return l, nil
}
