package service

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestDefaultConfig: the configuration built in code (the devstack's) is
// the one an empty environment gives, and it is valid.
func TestDefaultConfig(t *testing.T) {
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "SERVE_") || strings.HasPrefix(k, "ES_") || strings.HasPrefix(k, "NATS_") || k == "LOG_LEVEL" {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	fromEnv, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	if !reflect.DeepEqual(fromEnv, def) {
		t.Fatalf("DefaultConfig() = %+v\nLoadConfig() with nothing set = %+v", def, fromEnv)
	}
	if def.Addr != ":8092" || def.RingSize != 65536 || def.MaxClients != 50000 {
		t.Errorf("defaults not those documented: %+v", def)
	}
}
