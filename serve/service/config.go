package service

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/serve/iplimit"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/settings"
)

// Config is serve's configuration, read from the environment; the README's
// configuration table lists the same variables and defaults. The default
// tags are the one place a default is written.
type Config struct {
	settings.Common

	Addr                string        `envconfig:"SERVE_ADDR" default:":8092"`
	Heartbeat           time.Duration `envconfig:"SERVE_HEARTBEAT" default:"15s"`
	MaxDuration         time.Duration `envconfig:"SERVE_MAX_CONNECTION_DURATION" default:"15m"`
	Retry               time.Duration `envconfig:"SERVE_RETRY" default:"2s"`
	ClientIPLimit       int           `envconfig:"SERVE_CLIENT_IP_CONNECTION_LIMIT" default:"0"`
	TrustClientIPHeader bool          `envconfig:"SERVE_TRUST_CLIENT_IP_HEADER" default:"false"`
	ClientIPLimitScope  string        `envconfig:"SERVE_CLIENT_IP_LIMIT_SCOPE" default:"process"`
	ClientIPLimitTTL    time.Duration `envconfig:"SERVE_CLIENT_IP_LIMIT_TTL" default:"30s"`
	MaxClients          int           `envconfig:"SERVE_MAX_CLIENTS" default:"50000"`
	RingSize            int           `envconfig:"SERVE_RING_SIZE" default:"65536"`
	MaxCatchUps         int           `envconfig:"SERVE_MAX_CATCHUPS" default:"256"`
	WriteTimeout        time.Duration `envconfig:"SERVE_WRITE_TIMEOUT" default:"10s"`
	ShutdownTimeout     time.Duration `envconfig:"SERVE_SHUTDOWN_TIMEOUT" default:"10s"`
	LogLevel            string        `envconfig:"LOG_LEVEL" default:"info"`
}

// The scopes of the per-IP limit (SERVE_CLIENT_IP_LIMIT_SCOPE).
const (
	ScopeProcess = "process" // each serve counts its own streams
	ScopeCluster = "cluster" // counted across the serves of the stream, in a NATS KV bucket
)

// LoadConfig reads the environment and validates it. An error names the
// variable (*settings.VarError).
func LoadConfig() (Config, error) { return settings.Load[Config]() }

// DefaultConfig is the configuration with every variable unset.
func DefaultConfig() Config { return settings.DefaultsOf[Config]() }

// Validate checks the values that can be checked without the network.
func (c *Config) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return err
	}
	if err := settings.Checks([]settings.Check{
		{Var: "SERVE_ADDR", Bad: c.Addr == "", Msg: "must not be empty"},
		{Var: "SERVE_HEARTBEAT", Bad: c.Heartbeat < 100*time.Millisecond || c.Heartbeat > 10*time.Minute, Msg: "must be between 100ms and 10m"},
		{Var: "SERVE_MAX_CONNECTION_DURATION", Bad: c.MaxDuration < 0, Msg: "must not be negative (0: no limit)"},
		{Var: "SERVE_RETRY", Bad: c.Retry < 100*time.Millisecond || c.Retry > time.Hour, Msg: "must be between 100ms and 1h"},
		{Var: "SERVE_CLIENT_IP_CONNECTION_LIMIT", Bad: c.ClientIPLimit < 0, Msg: "must not be negative (0: no limit)"},
		{Var: "SERVE_CLIENT_IP_LIMIT_SCOPE", Bad: c.ClientIPLimitScope != ScopeProcess && c.ClientIPLimitScope != ScopeCluster,
			Msg: "must be " + ScopeProcess + " or " + ScopeCluster},
		{Var: "SERVE_CLIENT_IP_CONNECTION_LIMIT", Bad: c.ClientIPLimitScope == ScopeCluster && c.ClientIPLimit > iplimit.MaxClusterLimit,
			Msg: fmt.Sprintf("must be at most %d with SERVE_CLIENT_IP_LIMIT_SCOPE=cluster", iplimit.MaxClusterLimit)},
		{Var: "SERVE_CLIENT_IP_LIMIT_TTL", Bad: c.ClientIPLimitTTL < time.Second || c.ClientIPLimitTTL > 10*time.Minute, Msg: "must be between 1s and 10m"},
		{Var: "SERVE_MAX_CLIENTS", Bad: c.MaxClients < 1, Msg: "must be at least 1"},
		{Var: "SERVE_RING_SIZE", Bad: c.RingSize < 16 || c.RingSize > 1<<24, Msg: "must be between 16 and 16777216"},
		{Var: "SERVE_MAX_CATCHUPS", Bad: c.MaxCatchUps < 1 || c.MaxCatchUps > 10000, Msg: "must be between 1 and 10000"},
		{Var: "SERVE_WRITE_TIMEOUT", Bad: c.WriteTimeout < 100*time.Millisecond, Msg: "must be at least 100ms"},
		{Var: "SERVE_SHUTDOWN_TIMEOUT", Bad: c.ShutdownTimeout <= 0, Msg: "must be positive"},
	}); err != nil {
		return err
	}
	if _, err := settings.ParseLevel(c.LogLevel); err != nil {
		return &settings.VarError{Var: "LOG_LEVEL", Err: err}
	}
	return nil
}

// LogValue is the configuration as logged at start.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("common", c.Common),
		slog.String("SERVE_ADDR", c.Addr),
		slog.Duration("SERVE_HEARTBEAT", c.Heartbeat),
		slog.Duration("SERVE_MAX_CONNECTION_DURATION", c.MaxDuration),
		slog.Duration("SERVE_RETRY", c.Retry),
		slog.Int("SERVE_CLIENT_IP_CONNECTION_LIMIT", c.ClientIPLimit),
		slog.Bool("SERVE_TRUST_CLIENT_IP_HEADER", c.TrustClientIPHeader),
		slog.String("SERVE_CLIENT_IP_LIMIT_SCOPE", c.ClientIPLimitScope),
		slog.Duration("SERVE_CLIENT_IP_LIMIT_TTL", c.ClientIPLimitTTL),
		slog.Int("SERVE_MAX_CLIENTS", c.MaxClients),
		slog.Int("SERVE_RING_SIZE", c.RingSize),
		slog.Int("SERVE_MAX_CATCHUPS", c.MaxCatchUps),
		slog.Duration("SERVE_WRITE_TIMEOUT", c.WriteTimeout),
		slog.Duration("SERVE_SHUTDOWN_TIMEOUT", c.ShutdownTimeout),
		slog.String("LOG_LEVEL", c.LogLevel),
	)
}
