package settings

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/catalog"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

func TestProcessAndValidate(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string // "" when valid
	}{
		{"defaults", nil, ""},
		{"spaces in lists", map[string]string{"ES_ALLOWED_STREAMS": " recentchange , ,page-create", "ES_DC_PREFIXES": "eqiad., codfw."}, ""},
		{"empty NATS server", map[string]string{"NATS_URL": "nats://a:4222,,nats://b:4222"}, "NATS_URL"},
		{"bad stream name", map[string]string{"ES_JETSTREAM_STREAM": "EVENT.STREAMS"}, "ES_JETSTREAM_STREAM"},
		{"bad prefix", map[string]string{"ES_SUBJECT_PREFIX": "a.*"}, "ES_SUBJECT_PREFIX"},
		{"prefix twice", map[string]string{"ES_DC_PREFIXES": "eqiad.,eqiad."}, "ES_DC_PREFIXES"},
		{"no prefix", map[string]string{"ES_DC_PREFIXES": " , "}, "ES_DC_PREFIXES"},
		{"missing creds file", map[string]string{"NATS_CREDS": "/no/such.creds"}, "NATS_CREDS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"NATS_URL", "NATS_CREDS", "NATS_TLS_CA", "ES_JETSTREAM_STREAM", "ES_SUBJECT_PREFIX",
				"ES_STREAM_CONFIG", "ES_ALLOWED_STREAMS", "ES_DC_PREFIXES"} {
				t.Setenv(k, tt.env[k]) // restored after the test
				if _, set := tt.env[k]; !set {
					os.Unsetenv(k)
				}
			}
			var c Common
			err := Process(&c)
			if err == nil {
				err = c.Validate()
			}
			var ve *VarError
			switch {
			case tt.wantVar == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantVar != "" && (!errors.As(err, &ve) || ve.Var != tt.wantVar):
				t.Fatalf("error %v, want one about %s", err, tt.wantVar)
			}
			if tt.name == "spaces in lists" {
				if !slices.Equal(c.AllowedStreams, []string{"recentchange", "page-create"}) || !slices.Equal(c.DCPrefixes, []string{"eqiad.", "codfw."}) {
					t.Errorf("lists not trimmed: %q %q", c.AllowedStreams, c.DCPrefixes)
				}
				cat, err := c.Catalog(context.Background())
				if err != nil || len(cat.Streams()) != 2 {
					t.Errorf("Catalog: %v, %v", cat, err)
				}
			}
		})
	}
}

func TestProcessNamesTheVariable(t *testing.T) {
	var spec struct {
		D interface{} `envconfig:"-"`
		N int         `envconfig:"SOME_NUMBER"`
	}
	t.Setenv("SOME_NUMBER", "twelve")
	err := Process(&spec)
	var ve *VarError
	if !errors.As(err, &ve) || ve.Var != "SOME_NUMBER" || !strings.Contains(err.Error(), `invalid value "twelve"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestUnknownAllowedStream(t *testing.T) {
	c := Common{DCPrefixes: []string{"eqiad."}, AllowedStreams: []string{"recentchange", "secret.internal.stream"}}
	_, err := c.Catalog(context.Background())
	var ve *VarError
	if !errors.As(err, &ve) || ve.Var != "ES_ALLOWED_STREAMS" {
		t.Fatalf("err = %v", err)
	}
}

func TestRedaction(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://user:secret@h:4222,tls://tok@h2:4222", "nats://user:REDACTED@h:4222,tls://REDACTED@h2:4222"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", slog.Any("cfg", Common{NATSURL: "nats://u:hunter2@h:1"}))
	if strings.Contains(b.String(), "hunter2") {
		t.Errorf("password logged: %s", b.String())
	}
}

// TestDefaultsMatchProcess: Defaults gives what Process gives with none of
// the variables set, so code that builds a configuration (the devstack)
// gets the documented defaults.
func TestDefaultsMatchProcess(t *testing.T) {
	type spec struct {
		Common
		D  time.Duration `envconfig:"SETTINGS_TEST_D" default:"15s"`
		N  int           `envconfig:"SETTINGS_TEST_N" default:"42"`
		B  bool          `envconfig:"SETTINGS_TEST_B" default:"true"`
		F  float64       `envconfig:"SETTINGS_TEST_F" default:"2.5"`
		S  string        `envconfig:"SETTINGS_TEST_S" default:"x"`
		NS string        `envconfig:"SETTINGS_TEST_NS"`
	}
	for _, k := range []string{"NATS_URL", "NATS_CREDS", "NATS_TLS_CA", "ES_JETSTREAM_STREAM", "ES_SUBJECT_PREFIX",
		"ES_STREAM_CONFIG", "ES_ALLOWED_STREAMS", "ES_DC_PREFIXES"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	var fromEnv, fromTags spec
	if err := Process(&fromEnv); err != nil {
		t.Fatal(err)
	}
	if err := Defaults(&fromTags); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromEnv, fromTags) {
		t.Fatalf("Defaults = %+v, Process with an empty environment = %+v", fromTags, fromEnv)
	}
	if fromTags.D != 15*time.Second || fromTags.N != 42 || !fromTags.B || fromTags.NATSURL == "" || len(fromTags.DCPrefixes) != 2 {
		t.Fatalf("defaults not applied: %+v", fromTags)
	}
}

// TestDefaultsAgreeWithLibraries: the default tags of Common are the
// defaults the libraries assume when given none (the default layout, the
// built-in catalog's datacenters).
func TestDefaultsAgreeWithLibraries(t *testing.T) {
	c := DefaultsOf[Common]()
	if c.Layout() != layout.Default() {
		t.Errorf("default layout %+v, layout.Default() %+v", c.Layout(), layout.Default())
	}
	withTags, err := catalog.Builtin(c.DCPrefixes)
	if err != nil {
		t.Fatal(err)
	}
	withNil, _ := catalog.Builtin(nil)
	if !slices.Equal(withTags.Topics(), withNil.Topics()) {
		t.Errorf("ES_DC_PREFIXES's default gives topics %v, the built-in catalog's own %v", withTags.Topics(), withNil.Topics())
	}
}
