package source

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseClusters(t *testing.T) {
	tests := []struct {
		in      string
		want    []Cluster
		wantErr string
	}{
		{"eqiad=k1:9092,k2:9092;codfw=k3:9093", []Cluster{{"eqiad", []string{"k1:9092", "k2:9092"}}, {"codfw", []string{"k3:9093"}}}, ""},
		{" eqiad = k1:9092 ; ", []Cluster{{"eqiad", []string{"k1:9092"}}}, ""},
		{"eqiad=[::1]:9092", []Cluster{{"eqiad", []string{"[::1]:9092"}}}, ""},
		{"", nil, "no clusters given"},
		{";", nil, "no clusters given"},
		{"k1:9092", nil, "want name=host:port"},
		{"eq iad=k1:9092", nil, "want name=host:port"},
		{"eqiad=k1", nil, "is not host:port"},
		{"eqiad=:9092", nil, "is not host:port"},
		{"eqiad=k1:0", nil, "has no valid port"},
		{"eqiad=k1:http", nil, "has no valid port"},
		{"eqiad=k1:1,", nil, "is not host:port"},
		{"a=k:1;a=k:2", nil, "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseClusters(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestParseStart(t *testing.T) {
	for in, want := range map[string]string{"": "latest", "latest": "latest", "earliest": "earliest",
		"2024-04-04T13:20:26+02:00": "2024-04-04T11:20:26Z"} {
		s, err := ParseStart(in)
		if err != nil || s.String() != want {
			t.Errorf("ParseStart(%q) = %v, %v; want %s", in, s, err, want)
		}
	}
	for _, bad := range []string{"now", "2024-04-04", "-1"} {
		if _, err := ParseStart(bad); err == nil {
			t.Errorf("ParseStart(%q) accepted", bad)
		}
	}
}

func TestSecurity(t *testing.T) {
	tests := []struct {
		s  Security
		ok bool
	}{
		{Security{}, true},
		{Security{SASLMechanism: "SCRAM-SHA-512", SASLUser: "u", SASLPassword: "p"}, true},
		{Security{SASLMechanism: "SCRAM-SHA-256", SASLUser: "u"}, false},
		{Security{SASLMechanism: "PLAIN", SASLUser: "u", SASLPassword: "p"}, false},
		{Security{SASLUser: "u"}, false},
	}
	for _, tt := range tests {
		if err := tt.s.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v: err = %v", tt.s, err)
		}
	}

	c := Cluster{Name: "eqiad", Brokers: []string{"k:9092"}}
	g := Group{Name: "g", SessionTimeout: 10 * time.Second, InstanceID: "ingest-0"}
	start, _ := ParseStart("latest")
	if _, err := ClientOptions(c, []string{"t"}, g, start, Security{CAFile: "/no/such/ca.pem"}); err == nil {
		t.Error("a missing CA file was accepted")
	}
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	if _, err := ClientOptions(c, []string{"t"}, g, start, Security{CAFile: notPEM}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("a CA file without a certificate: %v", err)
	}
	opts, err := ClientOptions(c, []string{"t"}, g, start, Security{TLS: true, SASLMechanism: "SCRAM-SHA-256", SASLUser: "u", SASLPassword: "p"})
	if err != nil || len(opts) == 0 {
		t.Errorf("TLS and SCRAM options: %v", err)
	}
}
