package configvars_test

import (
	"testing"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/configvars"
)

type inner struct {
	A string `envconfig:"A" default:"inner"`
	B bool   `envconfig:"B"`
}

type outer struct {
	inner
	A    string   `envconfig:"A" default:"outer"`
	C    int      `envconfig:"C" default:"7"`
	D    []string `envconfig:"D"`
	skip string   `envconfig:"SKIP"` // unexported: not read
}

func TestOf(t *testing.T) {
	got := configvars.Of(&outer{skip: "x"})
	want := []configvars.Var{
		{Name: "A", Default: "outer", Tagged: true},
		{Name: "B", Default: "false"},
		{Name: "C", Default: "7", Tagged: true},
		{Name: "D", Default: ""},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("var %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// The programs' lists hold what the README's configuration table shows of
// them: the shared variables in both, each program's own in its own.
func TestPrograms(t *testing.T) {
	ingest, serve := map[string]configvars.Var{}, map[string]configvars.Var{}
	for _, v := range configvars.Ingest() {
		ingest[v.Name] = v
	}
	for _, v := range configvars.Serve() {
		serve[v.Name] = v
	}
	for _, tc := range []struct {
		vars map[string]configvars.Var
		name string
		def  string
	}{
		{ingest, "NATS_URL", "nats://127.0.0.1:4222"},
		{serve, "NATS_URL", "nats://127.0.0.1:4222"},
		{serve, "LOG_LEVEL", "info"},
		{ingest, "INGEST_KAFKA_TLS", "false"},
		{ingest, "INGEST_KAFKA_SASL_PASSWORD", ""},
		{serve, "SERVE_SHUTDOWN_TIMEOUT", "10s"},
	} {
		v, ok := tc.vars[tc.name]
		if !ok || v.Default != tc.def {
			t.Errorf("%s: got %+v (present %v), want default %q", tc.name, v, ok, tc.def)
		}
	}
	if _, ok := serve["INGEST_SOURCE"]; ok {
		t.Error("serve lists ingest's INGEST_SOURCE")
	}
	if len(ingest) < 30 || len(serve) < 20 {
		t.Errorf("ingest %d, serve %d variables: too few", len(ingest), len(serve))
	}
}
