package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/mirror"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/source"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/settings"
)

// config is ingest's environment (DESIGN §5). The README's configuration
// table lists the same variables and defaults.
type config struct {
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

// options validates the configuration and turns it into the mirror's
// options. Every error names its variable.
func (c *config) options(ctx context.Context) (mirror.Options, error) {
	var zero mirror.Options
	if err := c.Common.Validate(); err != nil {
		return zero, err
	}
	clusters, err := source.ParseClusters(c.KafkaClusters)
	if err != nil {
		return zero, &settings.VarError{Var: "INGEST_KAFKA_CLUSTERS", Err: err}
	}
	start, err := source.ParseStart(c.Start)
	if err != nil {
		return zero, &settings.VarError{Var: "INGEST_START", Err: err}
	}
	sec := source.Security{TLS: c.KafkaTLS, CAFile: c.KafkaTLSCA, SASLMechanism: c.KafkaSASLMech,
		SASLUser: c.KafkaSASLUser, SASLPassword: c.KafkaSASLPassword}
	if err := sec.Validate(); err != nil {
		return zero, &settings.VarError{Var: "INGEST_KAFKA_SASL_MECHANISM", Err: err}
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
			return zero, &settings.VarError{Var: ch.name, Err: errors.New(ch.msg)}
		}
	}
	if _, err := settings.ParseLevel(c.LogLevel); err != nil {
		return zero, &settings.VarError{Var: "LOG_LEVEL", Err: err}
	}
	cat, err := c.Common.Catalog(ctx)
	if err != nil {
		return zero, err
	}
	return mirror.Options{
		Layout:   c.Layout(),
		Catalog:  cat,
		Clusters: clusters,
		Group:    source.Group{Name: c.ConsumerGroup, InstanceID: c.InstanceID, SessionTimeout: c.SessionTimeout},
		Start:    start,
		Security: sec,
		Limits: mirror.StreamLimits{MaxAge: c.MaxAge, MaxBytes: c.MaxBytes,
			DuplicateWindow: c.DuplicateWindow, Replicas: c.Replicas},
		MaxInFlight:     c.MaxInFlight,
		MaxEventBytes:   c.MaxEventBytes,
		RecentIDs:       recentIDs(c.RecentIDs),
		ShutdownTimeout: c.ShutdownTimeout,
	}, nil
}

// recentIDs maps the variable's 0 (off) to the mirror's negative.
func recentIDs(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// LogValue is the configuration as logged at start, without secrets.
func (c config) LogValue() slog.Value {
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
