package service

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/settings"
)

// clearEnv unsets every variable Config reads, for the test's duration.
func clearEnv(t *testing.T) {
	t.Helper()
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			if name := f.Tag.Get("envconfig"); name != "" {
				t.Setenv(name, "") // restored after the test
				os.Unsetenv(name)
			}
		}
	}
	walk(reflect.TypeFor[Config]())
}

const clusters = "eqiad=127.0.0.1:1;codfw=127.0.0.1:2"

func TestDefaultConfigIsTheEmptyEnvironment(t *testing.T) {
	clearEnv(t)
	var fromEnv Config
	if err := settings.Process(&fromEnv); err != nil {
		t.Fatal(err)
	}
	if d := DefaultConfig(); !reflect.DeepEqual(d, fromEnv) {
		t.Errorf("DefaultConfig() = %+v\nthe empty environment gives %+v", d, fromEnv)
	}

	// INGEST_KAFKA_CLUSTERS, which has no default, is the only variable
	// that must be set.
	var ve *settings.VarError
	if d := DefaultConfig(); !errors.As(d.Validate(), &ve) || ve.Var != "INGEST_KAFKA_CLUSTERS" {
		t.Errorf("DefaultConfig().Validate() = %v, want an error about INGEST_KAFKA_CLUSTERS", d.Validate())
	}
	if _, err := LoadConfig(); !errors.As(err, &ve) || ve.Var != "INGEST_KAFKA_CLUSTERS" {
		t.Errorf("LoadConfig() = %v, want an error about INGEST_KAFKA_CLUSTERS", err)
	}
	t.Setenv("INGEST_KAFKA_CLUSTERS", clusters)
	loaded, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	d := DefaultConfig()
	d.KafkaClusters = clusters
	if err := d.Validate(); err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
	if !reflect.DeepEqual(d, loaded) {
		t.Errorf("DefaultConfig() with clusters = %+v\nLoadConfig() = %+v", d, loaded)
	}
	if d.MaxInFlight != 2048 || d.RecentIDs != 100_000 || d.MetricsAddr != ":9102" || d.Stream != "EVENTSTREAMS" {
		t.Errorf("defaults not applied: %+v", d)
	}
}

func TestLogValueRedactsSecrets(t *testing.T) {
	c := DefaultConfig()
	c.KafkaSASLPassword = "hunter2"
	c.NATSURL = "nats://user:secret@h:4222"
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", slog.Any("config", c))
	if out := buf.String(); strings.Contains(out, "hunter2") || strings.Contains(out, "secret") || !strings.Contains(out, "REDACTED") {
		t.Errorf("logged: %s", out)
	}
}

// TestRunConfigurationErrors: what Run finds wrong in the configuration
// is a *settings.VarError naming the variable, before anything starts.
func TestRunConfigurationErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name    string
		set     func(*Config)
		wantVar string
	}{
		{"no clusters", func(c *Config) { c.KafkaClusters = "" }, "INGEST_KAFKA_CLUSTERS"},
		{"metrics address taken", func(c *Config) { c.MetricsAddr = busy.Addr().String() }, "INGEST_METRICS_ADDR"},
		{"catalog", func(c *Config) { c.StreamConfig = "/no/such/streams.json" }, "ES_STREAM_CONFIG"},
		{"NATS URL", func(c *Config) { c.NATSURL = "nats://[bad" }, "NATS_URL"},
		{"unknown source", func(c *Config) { c.Source = "kinesis" }, "INGEST_SOURCE"},
		{"relay without upstream", func(c *Config) { c.Source = SourceEventStreams }, "INGEST_UPSTREAM_URLS"},
		{"relay upstream not http", func(c *Config) {
			c.Source, c.UpstreamURLs = SourceEventStreams, "stream.wikimedia.org"
		}, "INGEST_UPSTREAM_URLS"},
		{"relay upstream twice", func(c *Config) {
			c.Source, c.UpstreamURLs = SourceEventStreams, "https://a.example, https://a.example/"
		}, "INGEST_UPSTREAM_URLS"},
		{"relay without User-Agent", func(c *Config) {
			c.Source, c.UpstreamURLs, c.UpstreamUserAgent = SourceEventStreams, "https://stream.wikimedia.org", " "
		}, "INGEST_UPSTREAM_USER_AGENT"},
		{"relay start", func(c *Config) {
			c.Source, c.UpstreamURLs, c.Start = SourceEventStreams, "https://stream.wikimedia.org", "yesterday"
		}, "INGEST_START"},
		{"relay checks the common variables", func(c *Config) {
			c.Source, c.UpstreamURLs, c.MaxInFlight = SourceEventStreams, "https://stream.wikimedia.org", 0
		}, "INGEST_MAX_IN_FLIGHT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			c.KafkaClusters, c.MetricsAddr = clusters, "127.0.0.1:0"
			tt.set(&c)
			log := slog.New(slog.DiscardHandler)
			err := Run(context.Background(), c, Deps{Logger: log})
			var ve *settings.VarError
			if !errors.As(err, &ve) || ve.Var != tt.wantVar {
				t.Errorf("Run: %v, want an error about %s", err, tt.wantVar)
			}
		})
	}
}

// TestLoadConfigTidiesLists: the configuration returned is the one
// validated, its lists trimmed.
func TestLoadConfigTidiesLists(t *testing.T) {
	clearEnv(t)
	t.Setenv("INGEST_KAFKA_CLUSTERS", clusters)
	t.Setenv("ES_ALLOWED_STREAMS", " recentchange , ,page-create")
	c, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.AllowedStreams, []string{"recentchange", "page-create"}) {
		t.Errorf("AllowedStreams = %q", c.AllowedStreams)
	}
}
