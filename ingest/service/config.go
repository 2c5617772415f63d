package service

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/relay"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/source"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/standby"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/settings"
)

// Config is ingest's environment (README "Configuration", whose table lists
// the same variables and defaults). The default tags are the one place
// where its defaults are written.
type Config struct {
	settings.Common

	Source            string        `envconfig:"INGEST_SOURCE" default:"kafka"`
	UpstreamURLs      string        `envconfig:"INGEST_UPSTREAM_URLS"`
	UpstreamUserAgent string        `envconfig:"INGEST_UPSTREAM_USER_AGENT" default:"eventstreams-go-relay/1 (https://github.com/wikimedia-eventstreams-go/eventstreams)"`
	KafkaClusters     string        `envconfig:"INGEST_KAFKA_CLUSTERS"`
	KafkaTLS          bool          `envconfig:"INGEST_KAFKA_TLS"`
	KafkaTLSCA        string        `envconfig:"INGEST_KAFKA_TLS_CA"`
	KafkaSASLMech     string        `envconfig:"INGEST_KAFKA_SASL_MECHANISM"`
	KafkaSASLUser     string        `envconfig:"INGEST_KAFKA_SASL_USERNAME"`
	KafkaSASLPassword string        `envconfig:"INGEST_KAFKA_SASL_PASSWORD"`
	ConsumerGroup     string        `envconfig:"INGEST_CONSUMER_GROUP" default:"eventstreams-ingest"`
	InstanceID        string        `envconfig:"INGEST_INSTANCE_ID"`
	SessionTimeout    time.Duration `envconfig:"INGEST_SESSION_TIMEOUT" default:"10s"`
	Start             string        `envconfig:"INGEST_START" default:"latest"`
	MaxAge            time.Duration `envconfig:"INGEST_MAX_AGE" default:"168h"`
	MaxBytes          int64         `envconfig:"INGEST_MAX_BYTES" default:"0"`
	DuplicateWindow   time.Duration `envconfig:"INGEST_DUPLICATE_WINDOW" default:"15m"`
	Replicas          int           `envconfig:"INGEST_REPLICAS" default:"1"`
	MetricsAddr       string        `envconfig:"INGEST_METRICS_ADDR" default:":9102"`
	MaxInFlight       int           `envconfig:"INGEST_MAX_IN_FLIGHT" default:"2048"`
	MaxEventBytes     int           `envconfig:"INGEST_MAX_EVENT_BYTES" default:"1048576"`
	RecentIDs         int           `envconfig:"INGEST_RECENT_IDS" default:"100000"`
	ShutdownTimeout   time.Duration `envconfig:"INGEST_SHUTDOWN_TIMEOUT" default:"30s"`
	MirrorFrom        string        `envconfig:"INGEST_MIRROR_FROM"`
	Promote           bool          `envconfig:"INGEST_PROMOTE" default:"false"`
	LogLevel          string        `envconfig:"LOG_LEVEL" default:"info"`
}

// LoadConfig reads the environment and validates it. Its errors are
// *settings.VarError, naming the variable.
func LoadConfig() (Config, error) { return settings.Load[Config]() }

// DefaultConfig is the configuration of an empty environment, for callers
// that build one in code (the devstack, tests). It does not validate:
// INGEST_KAFKA_CLUSTERS (or, for a relay, INGEST_UPSTREAM_URLS) has no
// default.
func DefaultConfig() Config { return settings.DefaultsOf[Config]() }

// Validate checks what can be checked without the network (it does not
// load the stream catalog). Every error is a *settings.VarError. It trims
// spaces around the items of list variables.
func (c *Config) Validate() error {
	if c.MirrorFrom != "" {
		return c.validateStandby()
	}
	_, err := c.kafka()
	return err
}

// Sources of INGEST_SOURCE.
const (
	SourceKafka        = "kafka"
	SourceEventStreams = "eventstreams"
)

// kafkaSettings are the parsed source variables: Kafka's, or the
// upstreams of a relay.
type kafkaSettings struct {
	clusters   []source.Cluster
	start      source.Start
	security   source.Security
	upstreams  []*url.URL
	relayStart time.Time // INGEST_START for a relay: zero for latest
}

// kafka validates the configuration and parses its source variables.
func (c *Config) kafka() (kafkaSettings, error) {
	var k kafkaSettings
	if err := c.Common.Validate(); err != nil {
		return k, err
	}
	var err error
	switch c.Source {
	case SourceKafka:
	case SourceEventStreams:
		if k.upstreams, err = relay.ParseURLs(c.UpstreamURLs); err != nil {
			return k, &settings.VarError{Var: "INGEST_UPSTREAM_URLS", Err: err}
		}
		if ua := strings.TrimSpace(c.UpstreamUserAgent); ua == "" || strings.ContainsAny(ua, "\r\n") {
			return k, &settings.VarError{Var: "INGEST_UPSTREAM_USER_AGENT", Err: errors.New("must name the relay and how to reach its operator (Wikimedia's User-Agent policy)")}
		}
		switch c.Start {
		case "", "latest":
		case "earliest":
			k.relayStart = time.UnixMilli(1)
		default:
			if k.relayStart, err = time.Parse(time.RFC3339, c.Start); err != nil {
				return k, &settings.VarError{Var: "INGEST_START", Err: fmt.Errorf("%q: want latest, earliest or an RFC 3339 time", c.Start)}
			}
		}
		return k, c.checkCommon()
	default:
		return k, &settings.VarError{Var: "INGEST_SOURCE", Err: fmt.Errorf("%q: want kafka or eventstreams", c.Source)}
	}
	if k.clusters, err = source.ParseClusters(c.KafkaClusters); err != nil {
		return k, &settings.VarError{Var: "INGEST_KAFKA_CLUSTERS", Err: err}
	}
	if k.start, err = source.ParseStart(c.Start); err != nil {
		return k, &settings.VarError{Var: "INGEST_START", Err: err}
	}
	k.security = source.Security{TLS: c.KafkaTLS, CAFile: c.KafkaTLSCA, SASLMechanism: c.KafkaSASLMech,
		SASLUser: c.KafkaSASLUser, SASLPassword: c.KafkaSASLPassword}
	if err := k.security.Validate(); err != nil {
		return k, &settings.VarError{Var: "INGEST_KAFKA_SASL_MECHANISM", Err: err}
	}
	if err := settings.Checks([]settings.Check{
		{Var: "INGEST_CONSUMER_GROUP", Bad: strings.TrimSpace(c.ConsumerGroup) == "", Msg: "must not be empty"},
		{Var: "INGEST_SESSION_TIMEOUT", Bad: c.SessionTimeout < 6*time.Second || c.SessionTimeout > 5*time.Minute, Msg: "must be between 6s and 5m (the brokers' default bounds)"},
	}); err != nil {
		return k, err
	}
	return k, c.checkCommon()
}

// checkCommon checks the variables of every source.
func (c *Config) checkCommon() error {
	if err := settings.Checks(append(c.streamChecks(),
		settings.Check{Var: "INGEST_PROMOTE", Bad: c.Promote && c.DuplicateWindow <= standby.ResumeMargin, Msg: "needs INGEST_DUPLICATE_WINDOW longer than the 2m that a promotion re-reads"},
		settings.Check{Var: "INGEST_MAX_IN_FLIGHT", Bad: c.MaxInFlight < 1 || c.MaxInFlight > 1<<20, Msg: "must be between 1 and 1048576"},
		settings.Check{Var: "INGEST_MAX_EVENT_BYTES", Bad: c.MaxEventBytes < 1024 || c.MaxEventBytes > 64<<20, Msg: "must be between 1024 and 67108864"},
		settings.Check{Var: "INGEST_RECENT_IDS", Bad: c.RecentIDs < 0 || c.RecentIDs > 10_000_000, Msg: "must be between 0 (off) and 10000000"},
		settings.Check{Var: "INGEST_SHUTDOWN_TIMEOUT", Bad: c.ShutdownTimeout <= 0, Msg: "must be positive"},
	)); err != nil {
		return err
	}
	if _, err := settings.ParseLevel(c.LogLevel); err != nil {
		return &settings.VarError{Var: "LOG_LEVEL", Err: err}
	}
	return nil
}

// streamChecks are the checks of the stream's limits and of what every
// mode serves.
func (c *Config) streamChecks() []settings.Check {
	return []settings.Check{
		{Var: "INGEST_MAX_AGE", Bad: c.MaxAge < 0, Msg: "must not be negative (0: no age limit)"},
		{Var: "INGEST_MAX_BYTES", Bad: c.MaxBytes < 0, Msg: "must not be negative (0: no size limit)"},
		{Var: "INGEST_DUPLICATE_WINDOW", Bad: c.DuplicateWindow <= 0, Msg: "must be positive"},
		{Var: "INGEST_DUPLICATE_WINDOW", Bad: c.MaxAge > 0 && c.DuplicateWindow > c.MaxAge, Msg: "must not exceed INGEST_MAX_AGE"},
		{Var: "INGEST_REPLICAS", Bad: c.Replicas < 1 || c.Replicas > 5, Msg: "must be between 1 and 5"},
		{Var: "INGEST_METRICS_ADDR", Bad: c.MetricsAddr == "", Msg: "must not be empty"},
	}
}

// limits are the stream's limits.
func (c *Config) limits() layout.Limits {
	return layout.Limits{MaxAge: c.MaxAge, MaxBytes: c.MaxBytes, DuplicateWindow: c.DuplicateWindow, Replicas: c.Replicas}
}

// LogValue is the configuration as logged at start, without secrets.
func (c Config) LogValue() slog.Value {
	pass := ""
	if c.KafkaSASLPassword != "" {
		pass = "REDACTED"
	}
	return slog.GroupValue(
		slog.Any("common", c.Common),
		slog.String("INGEST_SOURCE", c.Source),
		slog.String("INGEST_UPSTREAM_URLS", c.UpstreamURLs),
		slog.String("INGEST_UPSTREAM_USER_AGENT", c.UpstreamUserAgent),
		slog.String("INGEST_KAFKA_CLUSTERS", c.KafkaClusters),
		slog.Bool("INGEST_KAFKA_TLS", c.KafkaTLS),
		slog.String("INGEST_KAFKA_TLS_CA", c.KafkaTLSCA),
		slog.String("INGEST_KAFKA_SASL_MECHANISM", c.KafkaSASLMech),
		slog.String("INGEST_KAFKA_SASL_USERNAME", c.KafkaSASLUser),
		slog.String("INGEST_KAFKA_SASL_PASSWORD", pass),
		slog.String("INGEST_CONSUMER_GROUP", c.ConsumerGroup),
		slog.String("INGEST_INSTANCE_ID", c.InstanceID),
		slog.Duration("INGEST_SESSION_TIMEOUT", c.SessionTimeout),
		slog.String("INGEST_START", c.Start),
		slog.Duration("INGEST_MAX_AGE", c.MaxAge),
		slog.Int64("INGEST_MAX_BYTES", c.MaxBytes),
		slog.Duration("INGEST_DUPLICATE_WINDOW", c.DuplicateWindow),
		slog.Int("INGEST_REPLICAS", c.Replicas),
		slog.String("INGEST_METRICS_ADDR", c.MetricsAddr),
		slog.Int("INGEST_MAX_IN_FLIGHT", c.MaxInFlight),
		slog.Int("INGEST_MAX_EVENT_BYTES", c.MaxEventBytes),
		slog.Int("INGEST_RECENT_IDS", c.RecentIDs),
		slog.Duration("INGEST_SHUTDOWN_TIMEOUT", c.ShutdownTimeout),
		slog.String("INGEST_MIRROR_FROM", c.MirrorFrom),
		slog.Bool("INGEST_PROMOTE", c.Promote),
		slog.String("LOG_LEVEL", c.LogLevel),
	)
}
