package helmcheck_test

import (
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/lint/support"
	"sigs.k8s.io/yaml"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/configvars"
	"github.com/wikimedia-eventstreams-go/eventstreams/infra/helmcheck"
)

const (
	chartDir   = "../helm/eventstreams"
	production = chartDir + "/values-production.yaml"
	// missingNATS is helm lint's warning for the declared NATS chart that is not in
	// charts/ (it is fetched by `helm dependency build`; see the package doc).
	missingNATS = "chart directory is missing these dependencies: nats"
)

// Names of the objects rendered for release helmcheck.Release.
const (
	serveName  = "es-eventstreams-serve"
	ingestName = "es-eventstreams-ingest"
)

// fromPod are the variables the chart sets from Secrets or from the pod, not from
// config.* values: files mounted from Secrets, secretKeyRefs, the downward API.
var fromPod = map[string]map[string]bool{
	"ingest": {"NATS_CREDS": true, "NATS_TLS_CA": true, "INGEST_KAFKA_TLS_CA": true, "INGEST_INSTANCE_ID": true,
		"INGEST_KAFKA_SASL_MECHANISM": true, "INGEST_KAFKA_SASL_USERNAME": true, "INGEST_KAFKA_SASL_PASSWORD": true},
	"serve": {"NATS_CREDS": true, "NATS_TLS_CA": true},
}

// valueSets are the value sets every check renders: values.yaml alone, the production-like
// file, and each with the NATS subchart switched the other way.
var valueSets = []struct {
	name  string
	files []string
	set   []string
}{
	{"default", nil, nil},
	{"default, nats.enabled", nil, []string{"nats.enabled=true"}},
	{"production", []string{production}, nil},
	{"production, external NATS with creds and CA", []string{production}, []string{"nats.enabled=false",
		"config.common.NATS_URL=nats://nats-a:4222\\,nats://nats-b:4222", "natsAuth.credsSecret.name=nats-creds", "natsAuth.tlsCASecret.name=nats-ca"}},
}

// loadChart is the chart's own templates: the subcharts a local `helm dependency build` may
// have put in charts/ are dropped, so that the checks are the same with or without them.
func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	ch, err := helmcheck.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	ch.SetDependencies()
	return ch
}

type rendered struct {
	vals    map[string]any
	r       *helmcheck.Rendered
	deploys map[string]*appsv1.Deployment
	sets    map[string]*appsv1.StatefulSet
	svcs    map[string]*corev1.Service
	pdbs    map[string]*policyv1.PodDisruptionBudget
}

func render(t *testing.T, files, set []string) *rendered {
	t.Helper()
	vals, err := helmcheck.Values(files, set)
	if err != nil {
		t.Fatal(err)
	}
	r, err := helmcheck.Render(loadChart(t), vals)
	if err != nil {
		t.Fatal(err)
	}
	out := &rendered{vals: vals, r: r}
	if out.deploys, err = helmcheck.Decode[appsv1.Deployment](r, "Deployment"); err != nil {
		t.Fatal(err)
	}
	if out.sets, err = helmcheck.Decode[appsv1.StatefulSet](r, "StatefulSet"); err != nil {
		t.Fatal(err)
	}
	if out.svcs, err = helmcheck.Decode[corev1.Service](r, "Service"); err != nil {
		t.Fatal(err)
	}
	if out.pdbs, err = helmcheck.Decode[policyv1.PodDisruptionBudget](r, "PodDisruptionBudget"); err != nil {
		t.Fatal(err)
	}
	return out
}

// pods are the rendered pod templates by program.
func (r *rendered) pods(t *testing.T) map[string]*corev1.PodTemplateSpec {
	t.Helper()
	d, s := r.deploys[serveName], r.sets[ingestName]
	if d == nil || s == nil {
		t.Fatalf("want Deployment %s and StatefulSet %s; got %v", serveName, ingestName, keys(r.r.Manifests))
	}
	return map[string]*corev1.PodTemplateSpec{"serve": &d.Spec.Template, "ingest": &s.Spec.Template}
}

func container(t *testing.T, pod *corev1.PodTemplateSpec) *corev1.Container {
	t.Helper()
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(pod.Spec.Containers))
	}
	return &pod.Spec.Containers[0]
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// vars are the variables each program reads, from its configuration struct.
func vars() map[string][]configvars.Var {
	return map[string][]configvars.Var{"ingest": configvars.Ingest(), "serve": configvars.Serve()}
}

// effective is the value a program gets for name: the container's literal value, else the
// program's default.
func effective(t *testing.T, c *corev1.Container, program, name string) string {
	t.Helper()
	for _, e := range c.Env {
		if e.Name == name {
			if e.ValueFrom != nil {
				t.Fatalf("%s: %s is not a literal value", program, name)
			}
			return e.Value
		}
	}
	for _, v := range vars()[program] {
		if v.Name == name {
			return v.Default
		}
	}
	t.Fatalf("%s does not read %s", program, name)
	return ""
}

func mustDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestLint runs helm lint (strict: warnings count) with each value set. The one warning
// allowed, and required, is the missing NATS chart: Chart.yaml declares it and the
// repository does not hold it (the chart is linted from a copy without charts/).
func TestLint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "eventstreams")
	if err := os.CopyFS(dir, os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "charts")); err != nil {
		t.Fatal(err)
	}
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			vals, err := helmcheck.Values(vs.files, vs.set)
			if err != nil {
				t.Fatal(err)
			}
			l := action.NewLint()
			l.Strict = true
			l.Namespace = helmcheck.Namespace
			kv := helmcheck.KubeVersion
			l.KubeVersion = &kv
			res := l.Run([]string{dir}, vals)
			if len(res.Errors) == 0 {
				t.Fatal("no lint message: the missing NATS chart was not reported")
			}
			warned := false
			for _, m := range res.Messages {
				switch {
				case m.Severity < support.WarningSev:
				case m.Severity == support.WarningSev && strings.Contains(m.Err.Error(), missingNATS):
					warned = true
				default:
					t.Errorf("lint: %s", m)
				}
			}
			if !warned {
				t.Errorf("lint did not report the missing NATS chart: %v", res.Messages)
			}
		})
	}
}

// TestDependency: Chart.yaml declares the official NATS chart, pinned, behind nats.enabled;
// the repository does not hold it, so the helm CLI's check (before `helm template`) fails
// naming it until `helm dependency build`.
func TestDependency(t *testing.T) {
	ch, err := helmcheck.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	deps := ch.Metadata.Dependencies
	if len(deps) != 1 {
		t.Fatalf("dependencies: %v", deps)
	}
	d := deps[0]
	if d.Name != "nats" || d.Repository != "https://nats-io.github.io/k8s/helm/charts/" || d.Condition != "nats.enabled" ||
		!strings.HasPrefix(d.Version, "1.") || strings.ContainsAny(d.Version, "^~*xX<> ") {
		t.Errorf("nats dependency: %+v; want the official chart, a pinned 1.x version, condition nats.enabled", d)
	}
	ch.SetDependencies()
	if err := helmcheck.Missing(ch); err == nil || !strings.Contains(err.Error(), "nats") {
		t.Errorf("CheckDependencies: %v; want nats missing", err)
	}
}

// TestRender renders each value set and checks the objects: what is rendered (and that
// nothing of the NATS chart is), the environment against the programs, grace periods
// against the shutdown timeouts, selectors, ports and Secrets.
func TestRender(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			r := render(t, vs.files, vs.set)
			checkObjects(t, r)
			pods := r.pods(t)
			for program, pod := range pods {
				checkEnv(t, r, program, container(t, pod))
			}
			checkServe(t, r, pods["serve"])
			checkIngest(t, r, pods["ingest"])
			// values.yaml leaves the Kafka clusters to the operator; the NOTES say so.
			if warned, empty := strings.Contains(r.r.Notes, "INGEST_KAFKA_CLUSTERS is empty"), vs.files == nil; warned != empty {
				t.Errorf("NOTES warn of empty INGEST_KAFKA_CLUSTERS: %v, want %v:\n%s", warned, empty, r.r.Notes)
			}
		})
	}
}

func checkObjects(t *testing.T, r *rendered) {
	t.Helper()
	want := map[string]bool{"Deployment/" + serveName: true, "Service/" + serveName: true,
		"PodDisruptionBudget/" + serveName: true, "StatefulSet/" + ingestName: true, "Service/" + ingestName: true}
	for src, m := range r.r.Manifests {
		if !strings.HasPrefix(src, "eventstreams/templates/") {
			t.Errorf("%s: rendered from outside the chart's own templates", src)
		}
		var o helmcheck.Object
		if err := yaml.Unmarshal([]byte(m), &o); err != nil {
			t.Fatal(err)
		}
		id := o.Kind + "/" + o.Metadata.Name
		if !want[id] {
			t.Errorf("unexpected object %s (%s)", id, src)
		}
		delete(want, id)
	}
	for id := range want {
		t.Errorf("%s not rendered", id)
	}
}

func checkEnv(t *testing.T, r *rendered, program string, c *corev1.Container) {
	t.Helper()
	reads := configvars.Names(vars()[program])
	seen := map[string]bool{}
	for _, e := range c.Env {
		if !reads[e.Name] {
			t.Errorf("%s: %s is set but the program does not read it", program, e.Name)
		}
		if seen[e.Name] {
			t.Errorf("%s: %s is set twice", program, e.Name)
		}
		seen[e.Name] = true
		if e.ValueFrom != nil && !fromPod[program][e.Name] {
			t.Errorf("%s: %s comes from %+v, not from its value", program, e.Name, e.ValueFrom)
		}
		if strings.Contains(e.Name, "PASSWORD") && e.ValueFrom == nil {
			t.Errorf("%s: %s is a literal, not from a Secret", program, e.Name)
		}
	}
	// Every config value reaches the container, as it is (empty: not set).
	merged := map[string]any{}
	cfg := chartValues(t, r.vals)
	for _, section := range []string{"common", program} {
		for k, v := range cfg[section] {
			merged[k] = v
		}
	}
	natsEnabled := r.nats()
	for k, v := range merged {
		want := fmt.Sprint(v)
		if k == "NATS_URL" && natsEnabled {
			want = natsNodes(3)
		}
		got, set := "", false
		for _, e := range c.Env {
			if e.Name == k {
				got, set = e.Value, true
			}
		}
		if want == "" && set || want != "" && got != want {
			t.Errorf("%s: %s = %q (set %v); the value is %q", program, k, got, set, want)
		}
	}
}

// natsNodes is NATS_URL for the NATS chart's cluster of n nodes in release es.
func natsNodes(n int) string {
	urls := make([]string, n)
	for i := range urls {
		urls[i] = fmt.Sprintf("nats://es-nats-%d.es-nats-headless:4222", i)
	}
	return strings.Join(urls, ",")
}

func (r *rendered) nats() bool {
	n, _ := r.vals["nats"].(map[string]any)
	on, _ := n["enabled"].(bool)
	return on
}

// chartValues are the config sections as the chart sees them: values.yaml under the set.
func chartValues(t *testing.T, over map[string]any) map[string]map[string]any {
	t.Helper()
	base := readConfig(t, filepath.Join(chartDir, "values.yaml"))
	if c, ok := over["config"].(map[string]any); ok {
		for section, m := range c {
			for k, v := range m.(map[string]any) {
				base[section][k] = v
			}
		}
	}
	return base
}

// checkGrace checks that a pod's termination grace period is longer than
// the shutdown timeout variable its program reads.
func checkGrace(t *testing.T, program string, pod *corev1.PodTemplateSpec, c *corev1.Container, variable string) {
	t.Helper()
	shutdown := mustDuration(t, effective(t, c, program, variable))
	if g := pod.Spec.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second <= shutdown {
		t.Errorf("%s: terminationGracePeriodSeconds %s is not above %s %v", program, show(g), variable, shutdown)
	}
}

func checkServe(t *testing.T, r *rendered, pod *corev1.PodTemplateSpec) {
	t.Helper()
	c := container(t, pod)
	checkGrace(t, "serve", pod, c, "SERVE_SHUTDOWN_TIMEOUT")
	_, port, err := net.SplitHostPort(effective(t, c, "serve", "SERVE_ADDR"))
	if err != nil {
		t.Fatal(err)
	}
	podLabels := labels.Set(pod.Labels)
	ingestLabels := labels.Set(r.sets[ingestName].Spec.Template.Labels)

	svc := r.svcs[serveName]
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	if svc.Spec.Selector == nil || !sel.Matches(podLabels) || sel.Matches(ingestLabels) {
		t.Errorf("Service %s selects %v: not serve's pods %v alone", serveName, svc.Spec.Selector, pod.Labels)
	}
	if len(svc.Spec.Ports) != 1 || fmt.Sprint(containerPort(t, c, svc.Spec.Ports[0].TargetPort.String())) != port {
		t.Errorf("Service %s: ports %+v do not reach SERVE_ADDR's port %s", serveName, svc.Spec.Ports, port)
	}

	pdb := r.pdbs[serveName]
	pdbSel, err := metaSelector(pdb.Spec.Selector)
	if err != nil || !pdbSel.Matches(podLabels) || pdbSel.Matches(ingestLabels) {
		t.Errorf("PodDisruptionBudget %s selects %v (%v): not serve's pods alone", serveName, pdb.Spec.Selector, err)
	}
	if pdb.Spec.MaxUnavailable == nil && pdb.Spec.MinAvailable == nil {
		t.Error("PodDisruptionBudget: no bound")
	}
	d := r.deploys[serveName]
	if dSel, err := metaSelector(d.Spec.Selector); err != nil || !dSel.Matches(podLabels) {
		t.Errorf("Deployment selector %v does not match its pods", d.Spec.Selector)
	}

	checkProbes(t, "serve", c, "SERVE_ADDR", port, "/healthz", "/readyz")
	checkFiles(t, pod, c)
}

func checkIngest(t *testing.T, r *rendered, pod *corev1.PodTemplateSpec) {
	t.Helper()
	c := container(t, pod)
	checkGrace(t, "ingest", pod, c, "INGEST_SHUTDOWN_TIMEOUT")
	s := r.sets[ingestName]
	if s.Spec.Replicas == nil || *s.Spec.Replicas < 1 || *s.Spec.Replicas > 2 {
		t.Errorf("ingest replicas %v: want one or two", s.Spec.Replicas)
	}
	if svc := r.svcs[s.Spec.ServiceName]; svc == nil || svc.Spec.ClusterIP != corev1.ClusterIPNone ||
		!labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) {
		t.Errorf("ingest: serviceName %q is not a headless Service of its pods", s.Spec.ServiceName)
	}
	found := false
	for _, e := range c.Env {
		if e.Name == "INGEST_INSTANCE_ID" {
			found = e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name"
		}
	}
	if !found {
		t.Error("ingest: INGEST_INSTANCE_ID is not the pod's name (fieldRef metadata.name)")
	}
	_, port, err := net.SplitHostPort(effective(t, c, "ingest", "INGEST_METRICS_ADDR"))
	if err != nil {
		t.Fatal(err)
	}
	checkProbes(t, "ingest", c, "INGEST_METRICS_ADDR", port, "/metrics", "/healthz")
	// Kafka's secrets: SASL from secretKeyRef, the CA a file of the Secret's volume.
	secret := ""
	if k, ok := r.vals["ingest"].(map[string]any); ok {
		if ks, ok := k["kafkaSecret"].(map[string]any); ok {
			secret, _ = ks["name"].(string)
		}
	}
	sasl := 0
	for _, e := range c.Env {
		if strings.HasPrefix(e.Name, "INGEST_KAFKA_SASL_") {
			sasl++
			if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != secret {
				t.Errorf("ingest: %s not from Secret %q: %+v", e.Name, secret, e.ValueFrom)
			}
		}
	}
	if (secret != "") != (sasl == 3) {
		t.Errorf("ingest: %d SASL variables with kafkaSecret %q", sasl, secret)
	}
	checkFiles(t, pod, c)
	if secret != "" {
		if ca := effective(t, c, "ingest", "INGEST_KAFKA_TLS_CA"); volumeOf(t, pod, c, ca).Secret.SecretName != secret {
			t.Errorf("ingest: INGEST_KAFKA_TLS_CA %s is not from Secret %s", ca, secret)
		}
	}
}

// checkFiles: each variable naming a file (NATS_CREDS, NATS_TLS_CA, INGEST_KAFKA_TLS_CA)
// names a file of a Secret's volume, mounted read-only.
func checkFiles(t *testing.T, pod *corev1.PodTemplateSpec, c *corev1.Container) {
	t.Helper()
	for _, e := range c.Env {
		switch e.Name {
		case "NATS_CREDS", "NATS_TLS_CA", "INGEST_KAFKA_TLS_CA":
			if v := volumeOf(t, pod, c, e.Value); v.Secret == nil {
				t.Errorf("%s: %s is not in a Secret's volume", e.Name, e.Value)
			}
		}
	}
}

// volumeOf is the volume of pod mounted read-only in c that holds the file path, with the
// file among its items.
func volumeOf(t *testing.T, pod *corev1.PodTemplateSpec, c *corev1.Container, path string) corev1.Volume {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if filepath.Dir(path) != m.MountPath || !m.ReadOnly {
			continue
		}
		for _, v := range pod.Spec.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			for _, it := range v.Secret.Items {
				if it.Path == filepath.Base(path) {
					return v
				}
			}
		}
	}
	t.Fatalf("%s is no file of a read-only Secret volume", path)
	return corev1.Volume{}
}

// containerPort resolves a port name or number to the container's port.
func containerPort(t *testing.T, c *corev1.Container, port string) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == port || fmt.Sprint(p.ContainerPort) == port {
			return p.ContainerPort
		}
	}
	t.Fatalf("%s: no container port %q", c.Name, port)
	return 0
}

// TestValuesDefaults: values.yaml's config sections hold every variable the programs read
// (less those set from Secrets or the pod), each with the program's own default; every value
// is a YAML string (a number would reach the template as a float64: 1e+06); the
// production-like file sets only variables of the sections it is in.
func TestValuesDefaults(t *testing.T) {
	cfg := chartValues(t, nil)
	for program, list := range vars() {
		listed := map[string]bool{}
		for _, section := range []string{"common", program} {
			for k := range cfg[section] {
				listed[k] = true
			}
		}
		for _, v := range list {
			if fromPod[program][v.Name] {
				if listed[v.Name] {
					t.Errorf("%s: %s is set from a Secret or the pod and must not be a value", program, v.Name)
				}
				continue
			}
			if !listed[v.Name] {
				t.Errorf("values.yaml: %s (read by %s) is missing", v.Name, program)
				continue
			}
			val := cfg["common"][v.Name]
			if val == nil {
				val = cfg[program][v.Name]
			}
			s, ok := val.(string)
			if !ok {
				t.Errorf("values.yaml: %s is %T, not a string", v.Name, val)
			}
			if s != v.Default {
				t.Errorf("values.yaml: %s = %q; %s's default is %q", v.Name, s, program, v.Default)
			}
		}
		reads := configvars.Names(list)
		for k := range listed {
			if !reads[k] {
				t.Errorf("values.yaml: %s is not read by %s", k, program)
			}
		}
	}
	prod := readConfig(t, production)
	for section, m := range prod {
		for k, v := range m {
			if _, ok := cfg[section][k]; !ok {
				t.Errorf("%s: config.%s.%s is not a variable of that section", production, section, k)
			}
			if _, ok := v.(string); !ok {
				t.Errorf("%s: %s is %T, not a string", production, k, v)
			}
		}
	}
}

// TestGracePeriod: terminationGracePeriodSeconds is derived from the shutdown timeouts (whole
// seconds, rounded up, plus the margin), and a timeout the template cannot read stops the
// rendering naming the variable.
func TestGracePeriod(t *testing.T) {
	for _, tc := range []struct {
		timeout string
		want    int64 // without the margin (5 s)
	}{
		{"10s", 10}, {"1m30s", 90}, {"1500ms", 2}, {"2h", 7200}, {"1h1m1s", 3661},
	} {
		r := render(t, nil, []string{"config.serve.SERVE_SHUTDOWN_TIMEOUT=" + tc.timeout, "serve.terminationGraceMarginSeconds=5"})
		g := r.deploys[serveName].Spec.Template.Spec.TerminationGracePeriodSeconds
		d := mustDuration(t, tc.timeout)
		if g == nil || *g != tc.want+5 || *g != int64(math.Ceil(d.Seconds()))+5 {
			t.Errorf("SERVE_SHUTDOWN_TIMEOUT %s: grace %s, want %d", tc.timeout, show(g), tc.want+5)
		}
	}
	for _, bad := range []string{"1.5s", "10", "10us"} {
		vals, err := helmcheck.Values(nil, []string{"config.serve.SERVE_SHUTDOWN_TIMEOUT=" + bad})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := helmcheck.Render(loadChart(t), vals); err == nil || !strings.Contains(err.Error(), "SERVE_SHUTDOWN_TIMEOUT") {
			t.Errorf("SERVE_SHUTDOWN_TIMEOUT %s: %v; want an error naming it", bad, err)
		}
	}
}

func metaSelector(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil {
		return nil, fmt.Errorf("no selector")
	}
	return metav1.LabelSelectorAsSelector(s)
}

func show[T any](p *T) string {
	if p == nil {
		return "unset"
	}
	return fmt.Sprint(*p)
}

// checkProbes checks that program's container c has HTTP liveness and
// readiness probes on the port of its address variable addrVar (port) and
// on the paths live and ready.
func checkProbes(t *testing.T, program string, c *corev1.Container, addrVar, port, live, ready string) {
	t.Helper()
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Fatalf("%s: no HTTP %s probe", program, name)
		}
		if got := fmt.Sprint(containerPort(t, c, p.HTTPGet.Port.String())); got != port {
			t.Errorf("%s %s probe: port %s, not %s's %s", program, name, got, addrVar, port)
		}
	}
	if c.LivenessProbe.HTTPGet.Path != live || c.ReadinessProbe.HTTPGet.Path != ready {
		t.Errorf("%s probes: liveness %s, readiness %s; want %s, %s", program, c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path, live, ready)
	}
}

// readConfig reads the config sections (common, ingest, serve) of a values
// file.
func readConfig(t *testing.T, path string) map[string]map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Config map[string]map[string]any
	}
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.Config
}
