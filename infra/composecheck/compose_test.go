package composecheck

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/configvars"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/relay"
	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/source"
)

const root = "../.."

func load(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root), cli.WithName("eventstreams"), cli.WithProfiles([]string{"relay"}))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	return p
}

var envTag = regexp.MustCompile("envconfig:\"([A-Z0-9_]+)\"")

// readVars lists the environment variables a Go file reads (its envconfig
// tags), for the producer, whose configuration is its main package's.
func readVars(t *testing.T, file string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{}
	for _, m := range envTag.FindAllStringSubmatch(string(b), -1) {
		vars[m[1]] = true
	}
	if len(vars) == 0 {
		t.Fatalf("no envconfig tags in %s", file)
	}
	return vars
}

func env(s types.ServiceConfig, key string) string {
	if v, ok := s.Environment[key]; ok && v != nil {
		return *v
	}
	return ""
}

func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%q: %v", addr, err)
	}
	return p
}

func TestComposeMatchesTheCode(t *testing.T) {
	p := load(t)
	svc := func(name string) types.ServiceConfig {
		t.Helper()
		s, err := p.GetService(name)
		if err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
		return s
	}
	ingest, serve := configvars.Names(configvars.Ingest()), configvars.Names(configvars.Serve())
	programs := map[string]map[string]bool{
		"ingest":       ingest,
		"serve-1":      serve,
		"serve-2":      serve,
		"producer":     readVars(t, "infra/producer/main.go"),
		"ingest-relay": ingest,
		"serve-relay":  serve,
	}

	t.Run("our services read every variable they are given, and are built here", func(t *testing.T) {
		for name, vars := range programs {
			s := svc(name)
			for k := range s.Environment {
				if !vars[k] {
					t.Errorf("%s: %s is not read by the program", name, k)
				}
			}
			if s.Build == nil {
				t.Errorf("%s: not built from this repository", name)
				continue
			}
			df := filepath.Join(root, s.Build.Dockerfile)
			b, err := os.ReadFile(df)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			m := regexp.MustCompile(`go build .* (\./\S+)`).FindStringSubmatch(string(b))
			if m == nil {
				t.Errorf("%s: %s builds nothing", name, df)
			} else if _, err := os.Stat(filepath.Join(root, m[1], "main.go")); err != nil {
				t.Errorf("%s: %s builds %s, which has no main.go", name, df, m[1])
			}
			if !strings.Contains(string(b), "USER ") || !strings.Contains(string(b), "CGO_ENABLED=0") {
				t.Errorf("%s: %s must build a static binary and run as a non-root user", name, df)
			}
		}
	})

	t.Run("Kafka clusters are the Kafka services, on their listener port", func(t *testing.T) {
		for _, v := range []struct{ service, key string }{{"ingest", "INGEST_KAFKA_CLUSTERS"}, {"producer", "PRODUCER_KAFKA_CLUSTERS"}} {
			clusters, err := source.ParseClusters(env(svc(v.service), v.key))
			if err != nil {
				t.Fatalf("%s %s: %v", v.service, v.key, err)
			}
			var names []string
			for _, c := range clusters {
				names = append(names, c.Name)
				for _, b := range c.Brokers {
					host, prt, _ := net.SplitHostPort(b)
					k := svc(host)
					if got := env(k, "KAFKA_ADVERTISED_LISTENERS"); got != "PLAINTEXT://"+host+":"+prt {
						t.Errorf("%s: broker %s, but %s advertises %q", v.service, b, host, got)
					}
					if !strings.Contains(env(k, "KAFKA_LISTENERS"), "PLAINTEXT://:"+prt) {
						t.Errorf("%s: broker %s, but %s listens on %q", v.service, b, host, env(k, "KAFKA_LISTENERS"))
					}
					if !slices.Contains(svc(v.service).GetDependencies(), host) {
						t.Errorf("%s does not depend on %s", v.service, host)
					}
				}
			}
			if !slices.Equal(names, []string{"eqiad", "codfw"}) {
				t.Errorf("%s: clusters %v, want eqiad and codfw", v.service, names)
			}
		}
		mm2, err := os.ReadFile(filepath.Join(root, "infra", "kafka", "mm2.properties"))
		if err != nil {
			t.Fatal(err)
		}
		for _, dc := range []string{"eqiad", "codfw"} {
			if !strings.Contains(string(mm2), dc+".bootstrap.servers = kafka-"+dc+":9092") {
				t.Errorf("mm2.properties does not reach kafka-%s:9092", dc)
			}
			if !slices.Contains(svc("mirrormaker").GetDependencies(), "kafka-"+dc) {
				t.Errorf("mirrormaker does not depend on kafka-%s", dc)
			}
		}
	})

	t.Run("the relay profile: its own stream, an upstream, serve on its own port", func(t *testing.T) {
		in, out := svc("ingest-relay"), svc("serve-relay")
		for _, s := range []types.ServiceConfig{in, out} {
			if !slices.Equal(s.Profiles, []string{"relay"}) {
				t.Errorf("%s: profiles %v, want [relay]", s.Name, s.Profiles)
			}
		}
		if env(in, "INGEST_SOURCE") != "eventstreams" {
			t.Errorf("ingest-relay: INGEST_SOURCE %q", env(in, "INGEST_SOURCE"))
		}
		if _, err := relay.ParseURLs(env(in, "INGEST_UPSTREAM_URLS")); err != nil {
			t.Errorf("ingest-relay: INGEST_UPSTREAM_URLS: %v", err)
		}
		for _, k := range []string{"ES_JETSTREAM_STREAM", "ES_SUBJECT_PREFIX", "ES_STREAM_CONFIG", "ES_ALLOWED_STREAMS", "ES_DC_PREFIXES"} {
			if env(in, k) != env(out, k) {
				t.Errorf("%s: ingest-relay %q, serve-relay %q", k, env(in, k), env(out, k))
			}
			if k == "ES_JETSTREAM_STREAM" || k == "ES_SUBJECT_PREFIX" {
				if v := env(svc("ingest"), k); v == env(in, k) {
					t.Errorf("%s %q: the relay shares the Kafka stack's stream or subjects", k, v)
				}
			}
		}
		if !slices.Contains(out.GetDependencies(), "ingest-relay") {
			t.Error("serve-relay does not depend on ingest-relay")
		}
		prt := port(t, env(out, "SERVE_ADDR"))
		published := false
		for _, pc := range out.Ports {
			published = published || pc.Published == prt && strconv.Itoa(int(pc.Target)) == prt
		}
		if !published {
			t.Errorf("serve-relay does not publish its SERVE_ADDR port %s", prt)
		}
	})

	t.Run("ports and health checks", func(t *testing.T) {
		nginx, err := os.ReadFile(filepath.Join(root, "infra", "nginx", "nginx.conf"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"serve-1", "serve-2"} {
			prt := port(t, env(svc(name), "SERVE_ADDR"))
			if !strings.Contains(string(nginx), "server "+name+":"+prt+";") {
				t.Errorf("nginx does not proxy to %s:%s", name, prt)
			}
			if hc := svc(name).HealthCheck; hc == nil || !strings.Contains(strings.Join(hc.Test, " "), "localhost:"+prt+"/readyz") {
				t.Errorf("%s: no health check on its own /readyz", name)
			}
			if !slices.Contains(svc("proxy").GetDependencies(), name) {
				t.Errorf("proxy does not depend on %s", name)
			}
		}
		if hc := svc("ingest").HealthCheck; hc == nil || !strings.Contains(strings.Join(hc.Test, " "), "localhost:"+port(t, env(svc("ingest"), "INGEST_METRICS_ADDR"))+"/healthz") {
			t.Error("ingest: no health check on INGEST_METRICS_ADDR's /healthz")
		}
		published := false
		for _, pc := range svc("proxy").Ports {
			if pc.Published == "8092" && pc.Target == 8092 {
				published = true
			}
		}
		if !published || !strings.Contains(string(nginx), "listen 8092;") {
			t.Error("the proxy does not publish localhost:8092 to nginx's listener")
		}
		for _, s := range p.Services {
			if s.HealthCheck == nil && s.Name != "proxy" && s.Name != "producer" && s.Name != "mirrormaker" {
				t.Errorf("%s has no health check", s.Name)
			}
		}
	})
}
