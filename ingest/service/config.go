package service

import (
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/source"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/settings"
)

// Config is ingest's environment (README "Configuration", whose table lists
// the same variables and defaults). The default tags are the one place
// where its defaults are written.
type Config struct {
	settings.Common

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
	LogLevel          string        `envconfig:"LOG_LEVEL" default:"info"`
}

// LoadConfig reads the environment and validates it. Its errors are
// *settings.VarError, naming the variable.
func LoadConfig() (Config, error) {
	var c Config
	if err := settings.Process(&c); err != nil {
		return c, err
	}
	err := c.Validate() // before the return: it tidies c's lists
	return c, err
}

// DefaultConfig is the configuration of an empty environment, for callers
// that build one in code (the devstack, tests). It does not validate:
// INGEST_KAFKA_CLUSTERS has no default.
func DefaultConfig() Config {
	var c Config
	if err := settings.Defaults(&c); err != nil {
		panic(err) // a default tag that does not parse: a bug
	}
	return c
}

// Validate checks what can be checked without the network (it does not
// load the stream catalog). Every error is a *settings.VarError. It trims
// spaces around the items of list variables.
func (c *Config) Validate() error {
	_, err := c.kafka()
	return err
}

// kafkaSettings are the parsed Kafka variables.
type kafkaSettings struct {
	clusters []source.Cluster
	start    source.Start
	security source.Security
}

// kafka validates the configuration and parses its Kafka variables.
func (c *Config) kafka() (kafkaSettings, error) {
	var k kafkaSettings
	if err := c.Common.Validate(); err != nil {
		return k, err
	}
	var err error
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
	checks := []struct {
		name string
		bad  bool
		msg  string
	}{
		{"INGEST_CONSUMER_GROUP", strings.TrimSpace(c.ConsumerGroup) == "", "must not be empty"},
		{"INGEST_SESSION_TIMEOUT", c.SessionTimeout < 6*time.Second || c.SessionTimeout > 5*time.Minute, "must be between 6s and 5m (the brokers' default bounds)"},
		{"INGEST_MAX_AGE", c.MaxAge < 0, "must not be negative (0: no age limit)"},
		{"INGEST_MAX_BYTES", c.MaxBytes < 0, "must not be negative (0: no size limit)"},
		{"INGEST_DUPLICATE_WINDOW", c.DuplicateWindow <= 0, "must be positive"},
		{"INGEST_DUPLICATE_WINDOW", c.MaxAge > 0 && c.DuplicateWindow > c.MaxAge, "must not exceed INGEST_MAX_AGE"},
		{"INGEST_REPLICAS", c.Replicas < 1 || c.Replicas > 5, "must be between 1 and 5"},
		{"INGEST_METRICS_ADDR", c.MetricsAddr == "", "must not be empty"},
		{"INGEST_MAX_IN_FLIGHT", c.MaxInFlight < 1 || c.MaxInFlight > 1<<20, "must be between 1 and 1048576"},
		{"INGEST_MAX_EVENT_BYTES", c.MaxEventBytes < 1024 || c.MaxEventBytes > 64<<20, "must be between 1024 and 67108864"},
		{"INGEST_RECENT_IDS", c.RecentIDs < 0 || c.RecentIDs > 10_000_000, "must be between 0 (off) and 10000000"},
		{"INGEST_SHUTDOWN_TIMEOUT", c.ShutdownTimeout <= 0, "must be positive"},
	}
	for _, ch := range checks {
		if ch.bad {
			return k, &settings.VarError{Var: ch.name, Err: errors.New(ch.msg)}
		}
	}
	if _, err := settings.ParseLevel(c.LogLevel); err != nil {
		return k, &settings.VarError{Var: "LOG_LEVEL", Err: err}
	}
	return k, nil
}

// LogValue is the configuration as logged at start, without secrets.
func (c Config) LogValue() slog.Value {
	pass := ""
	if c.KafkaSASLPassword != "" {
		pass = "REDACTED"
	}
	return slog.GroupValue(
		slog.Any("common", c.Common),
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
		slog.String("LOG_LEVEL", c.LogLevel),
	)
}
