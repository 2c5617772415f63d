package service

import (
	"errors"
	"log/slog"
	"time"

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
	MaxClients          int           `envconfig:"SERVE_MAX_CLIENTS" default:"50000"`
	RingSize            int           `envconfig:"SERVE_RING_SIZE" default:"65536"`
	MaxCatchUps         int           `envconfig:"SERVE_MAX_CATCHUPS" default:"256"`
	WriteTimeout        time.Duration `envconfig:"SERVE_WRITE_TIMEOUT" default:"10s"`
	ShutdownTimeout     time.Duration `envconfig:"SERVE_SHUTDOWN_TIMEOUT" default:"10s"`
	LogLevel            string        `envconfig:"LOG_LEVEL" default:"info"`
}

// LoadConfig reads the environment and validates it. An error names the
// variable (*settings.VarError).
func LoadConfig() (Config, error) {
	var c Config
	if err := settings.Process(&c); err != nil {
		return c, err
	}
	err := c.Validate() // it also tidies lists, so it must run before c is returned
	return c, err
}

// DefaultConfig is the configuration with every variable unset.
func DefaultConfig() Config {
	var c Config
	if err := settings.Defaults(&c); err != nil {
		panic(err) // the tags are constants: a test catches a bad one
	}
	return c
}

// Validate checks the values that can be checked without the network.
func (c *Config) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return err
	}
	checks := []struct {
		name string
		bad  bool
		msg  string
	}{
		{"SERVE_ADDR", c.Addr == "", "must not be empty"},
		{"SERVE_HEARTBEAT", c.Heartbeat < 100*time.Millisecond || c.Heartbeat > 10*time.Minute, "must be between 100ms and 10m"},
		{"SERVE_MAX_CONNECTION_DURATION", c.MaxDuration < 0, "must not be negative (0: no limit)"},
		{"SERVE_RETRY", c.Retry < 100*time.Millisecond || c.Retry > time.Hour, "must be between 100ms and 1h"},
		{"SERVE_CLIENT_IP_CONNECTION_LIMIT", c.ClientIPLimit < 0, "must not be negative (0: no limit)"},
		{"SERVE_MAX_CLIENTS", c.MaxClients < 1, "must be at least 1"},
		{"SERVE_RING_SIZE", c.RingSize < 16 || c.RingSize > 1<<24, "must be between 16 and 16777216"},
		{"SERVE_MAX_CATCHUPS", c.MaxCatchUps < 1 || c.MaxCatchUps > 10000, "must be between 1 and 10000"},
		{"SERVE_WRITE_TIMEOUT", c.WriteTimeout < 100*time.Millisecond, "must be at least 100ms"},
		{"SERVE_SHUTDOWN_TIMEOUT", c.ShutdownTimeout <= 0, "must be positive"},
	}
	for _, ch := range checks {
		if ch.bad {
			return &settings.VarError{Var: ch.name, Err: errors.New(ch.msg)}
		}
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
		slog.Int("SERVE_MAX_CLIENTS", c.MaxClients),
		slog.Int("SERVE_RING_SIZE", c.RingSize),
		slog.Int("SERVE_MAX_CATCHUPS", c.MaxCatchUps),
		slog.Duration("SERVE_WRITE_TIMEOUT", c.WriteTimeout),
		slog.Duration("SERVE_SHUTDOWN_TIMEOUT", c.ShutdownTimeout),
		slog.String("LOG_LEVEL", c.LogLevel),
	)
}
