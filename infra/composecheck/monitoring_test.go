package composecheck

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
)

// promConfig is the part of prometheus.yml the stack depends on.
type promConfig struct {
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

// grafanaDatasources and grafanaProviders are Grafana's provisioning files.
type grafanaDatasources struct {
	Datasources []struct {
		Type string `yaml:"type"`
		URL  string `yaml:"url"`
	} `yaml:"datasources"`
}

type grafanaProviders struct {
	Providers []struct {
		Type    string `yaml:"type"`
		Options struct {
			Path string `yaml:"path"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// mount is the path in the container where s mounts the repository's file
// or directory rel ("" if it does not).
func mount(t *testing.T, s types.ServiceConfig, rel string) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind && v.Source == abs {
			return v.Target
		}
	}
	return ""
}

// program is the command a service built here runs: the base name of its
// Dockerfile ("ingest", "serve"; "" for an image from elsewhere).
func program(s types.ServiceConfig) string {
	if s.Build == nil {
		return ""
	}
	return strings.TrimSuffix(filepath.Base(s.Build.Dockerfile), ".Dockerfile")
}

func TestMonitoringMatchesTheStack(t *testing.T) {
	p := load(t)
	prom, err := p.GetService("prometheus")
	if err != nil {
		t.Fatal(err)
	}
	graf, err := p.GetService("grafana")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("prometheus reads its config and the alerts where they are mounted", func(t *testing.T) {
		cfgPath := mount(t, prom, "infra/prometheus/prometheus.yml")
		if cfgPath == "" || !slices.Contains(prom.Command, "--config.file="+cfgPath) {
			t.Errorf("prometheus: prometheus.yml mounted at %q, command %v", cfgPath, prom.Command)
		}
		var cfg promConfig
		readYAML(t, filepath.Join(root, "infra", "prometheus", "prometheus.yml"), &cfg)
		alerts := mount(t, prom, "infra/prometheus/alerts.yml")
		if alerts == "" || !slices.Contains(cfg.RuleFiles, alerts) {
			t.Errorf("alerts.yml mounted at %q, rule_files %v", alerts, cfg.RuleFiles)
		}
	})

	t.Run("every ingest and serve of the stack is scraped on its metrics port", func(t *testing.T) {
		var cfg promConfig
		readYAML(t, filepath.Join(root, "infra", "prometheus", "prometheus.yml"), &cfg)
		scraped := map[string]bool{}
		for _, sc := range cfg.ScrapeConfigs {
			if !strings.HasPrefix(sc.JobName, "eventstreams") {
				t.Errorf("job %q: the alerts select jobs named eventstreams*", sc.JobName)
			}
			if sc.MetricsPath != "/metrics" {
				t.Errorf("job %s: metrics_path %q, want /metrics", sc.JobName, sc.MetricsPath)
			}
			for _, st := range sc.StaticConfigs {
				for _, target := range st.Targets {
					host, prt, err := net.SplitHostPort(target)
					if err != nil {
						t.Errorf("job %s: target %q: %v", sc.JobName, target, err)
						continue
					}
					s, err := p.GetService(host)
					if err != nil {
						t.Errorf("job %s: target %s is not a service of the stack", sc.JobName, target)
						continue
					}
					var want string
					switch program(s) {
					case "ingest":
						want = port(t, env(s, "INGEST_METRICS_ADDR"))
					case "serve":
						want = port(t, env(s, "SERVE_ADDR"))
					default:
						t.Errorf("job %s: %s runs neither ingest nor serve", sc.JobName, host)
						continue
					}
					if prt != want {
						t.Errorf("job %s: target %s, but %s serves /metrics on port %s", sc.JobName, target, host, want)
					}
					scraped[host] = true
				}
			}
		}
		for _, s := range p.Services {
			if prog := program(s); (prog == "ingest" || prog == "serve") && len(s.Profiles) == 0 && !scraped[s.Name] {
				t.Errorf("%s is not scraped", s.Name)
			}
		}
	})

	t.Run("the prometheus image is the version whose rule parser checks the alerts", func(t *testing.T) {
		mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		// Prometheus v3.x.y is the Go module v0.3xx.y.
		m := regexp.MustCompile(`github\.com/prometheus/prometheus v0\.(\d)(\d\d)\.(\d+)`).FindSubmatch(mod)
		if m == nil {
			t.Fatal("go.mod does not require github.com/prometheus/prometheus")
		}
		minor, _ := strconv.Atoi(string(m[2]))
		if want := "prom/prometheus:v" + string(m[1]) + "." + strconv.Itoa(minor) + "." + string(m[3]); prom.Image != want {
			t.Errorf("prometheus image %q, want %q as go.mod", prom.Image, want)
		}
	})

	t.Run("grafana is provisioned with the datasource and the dashboards", func(t *testing.T) {
		prov := mount(t, graf, "infra/grafana/provisioning")
		if prov != "/etc/grafana/provisioning" {
			t.Fatalf("grafana mounts infra/grafana/provisioning at %q, want /etc/grafana/provisioning", prov)
		}
		var ds grafanaDatasources
		readYAML(t, filepath.Join(root, "infra", "grafana", "provisioning", "datasources", "prometheus.yml"), &ds)
		promPort := "9090"
		if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" || ds.Datasources[0].URL != "http://prometheus:"+promPort {
			t.Errorf("datasources %+v, want one prometheus at http://prometheus:%s", ds.Datasources, promPort)
		}
		published := false
		for _, pc := range prom.Ports {
			published = published || pc.Published == promPort && strconv.Itoa(int(pc.Target)) == promPort
		}
		if !published {
			t.Errorf("prometheus does not publish its port %s", promPort)
		}
		if !slices.Contains(graf.GetDependencies(), "prometheus") {
			t.Error("grafana does not depend on prometheus")
		}
		var pr grafanaProviders
		readYAML(t, filepath.Join(root, "infra", "grafana", "provisioning", "dashboards", "eventstreams.yml"), &pr)
		dash := mount(t, graf, "infra/grafana/dashboards")
		if len(pr.Providers) != 1 || pr.Providers[0].Type != "file" || dash == "" || pr.Providers[0].Options.Path != dash {
			t.Fatalf("dashboard providers %+v, dashboards mounted at %q", pr.Providers, dash)
		}
		if _, err := os.Stat(filepath.Join(root, "infra", "grafana", "dashboards", "eventstreams.json")); err != nil {
			t.Error(err)
		}
		if home := env(graf, "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"); home != dash+"/eventstreams.json" {
			t.Errorf("grafana's home dashboard %q is not the provisioned one", home)
		}
	})
}
