// Package helmcheck renders and lints the Helm chart in infra/helm/eventstreams with Helm's
// own Go packages, as `helm template` and `helm lint` would, and parses what it renders into
// Kubernetes API types. Its tests hold the chart to the programs (the variables they read,
// their defaults, the routes their probes ask, the ports they listen on); cmd/helmtemplate
// prints the manifests (`just helm`). No Kubernetes cluster is involved.
//
// The chart's NATS dependency (the official NATS chart) is declared but not in the
// repository: `helm dependency build` fetches it. Helm's CLI refuses to template or install
// a chart whose declared dependency is missing (action.CheckDependencies, called by the CLI
// only); the library renders the chart's own templates and skips the absent subchart, and
// helm lint reports it as a warning. Render keeps whatever the chart directory holds; the
// tests drop the subcharts so that a local `helm dependency build` does not change them.
//
// Functions here are safe for concurrent use; each call loads and renders afresh.
package helmcheck

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/releaseutil"
	"sigs.k8s.io/yaml"
)

// KubeVersion is the Kubernetes version the chart is rendered and linted for.
var KubeVersion = chartutil.KubeVersion{Version: "v1.31.0", Major: "1", Minor: "31"}

// Release and Namespace name the rendered release.
const (
	Release   = "es"
	Namespace = "eventstreams"
)

// Values merges value files and --set style assignments ("nats.enabled=true") over nothing,
// as helm's -f and --set do; the chart's values.yaml comes under them when rendering.
func Values(files []string, set []string) (map[string]any, error) {
	opts := values.Options{ValueFiles: files, Values: set}
	return opts.MergeValues(getter.Providers{})
}

// Rendered is what Render returns: the manifests, by template, and the NOTES.
type Rendered struct {
	// Manifests holds each rendered document, keyed by its source template and index
	// ("eventstreams/templates/serve.yaml#1").
	Manifests map[string]string
	Notes     string
}

// Render renders ch with vals as `helm template` would (a client-only dry-run install for
// KubeVersion), without checking that its dependencies are present.
func Render(ch *chart.Chart, vals map[string]any) (*Rendered, error) {
	cfg := &action.Configuration{Log: func(string, ...any) {}}
	inst := action.NewInstall(cfg)
	inst.DryRun = true
	inst.ClientOnly = true
	inst.Replace = true
	inst.ReleaseName = Release
	inst.Namespace = Namespace
	kv := KubeVersion
	inst.KubeVersion = &kv
	rel, err := inst.Run(ch, vals)
	if err != nil {
		return nil, err
	}
	out := &Rendered{Manifests: map[string]string{}, Notes: rel.Info.Notes}
	for _, m := range releaseutil.SplitManifests(rel.Manifest) {
		src, body := "", m
		if first, rest, ok := strings.Cut(m, "\n"); ok && strings.HasPrefix(first, "# Source: ") {
			src, body = strings.TrimPrefix(first, "# Source: "), rest
		}
		if strings.TrimSpace(body) == "" {
			continue
		}
		key := src
		for i := 0; ; i++ {
			if _, dup := out.Manifests[key]; !dup {
				break
			}
			key = fmt.Sprintf("%s#%d", src, i+1)
		}
		out.Manifests[key] = body
	}
	return out, nil
}

// Object is the kind and name of a manifest.
type Object struct {
	Kind     string
	Metadata struct {
		Name string
	}
}

// Decode parses every manifest of kind into a new value of T (a k8s.io/api type), by name.
func Decode[T any](r *Rendered, kind string) (map[string]*T, error) {
	out := map[string]*T{}
	for src, m := range r.Manifests {
		var o Object
		if err := yaml.Unmarshal([]byte(m), &o); err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		if o.Kind != kind {
			continue
		}
		v := new(T)
		if err := yaml.UnmarshalStrict([]byte(m), v); err != nil {
			return nil, fmt.Errorf("%s: %s %s: %w", src, kind, o.Metadata.Name, err)
		}
		out[o.Metadata.Name] = v
	}
	return out, nil
}

// Write writes the manifests to w, in the order of their sources, as `helm template` does.
func (r *Rendered) Write(w io.Writer) error {
	keys := make([]string, 0, len(r.Manifests))
	for k := range r.Manifests {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, err := fmt.Fprintf(w, "---\n# Source: %s\n%s\n", strings.SplitN(k, "#", 2)[0], strings.TrimRight(r.Manifests[k], "\n")); err != nil {
			return err
		}
	}
	return nil
}

// Load loads the chart at dir, with whatever its charts/ directory holds.
func Load(dir string) (*chart.Chart, error) { return loader.LoadDir(dir) }

// Missing names the dependencies that Chart.yaml declares and the chart does not hold, as
// the helm CLI checks before it templates or installs (nil: none missing).
func Missing(ch *chart.Chart) error {
	return action.CheckDependencies(ch, ch.Metadata.Dependencies)
}
