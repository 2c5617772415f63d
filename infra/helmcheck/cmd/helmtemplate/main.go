// Command helmtemplate prints the chart's manifests as `helm template` would, with Helm's own
// packages (no helm binary needed): `go run ./infra/helmcheck/cmd/helmtemplate -f
// infra/helm/eventstreams/values-production.yaml`, or `just helm`. It renders whatever the
// chart directory holds: without `helm dependency build`, the NATS chart is absent and only
// the chart's own objects are printed (it says so on stderr).
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/wikimedia-eventstreams-go/eventstreams/infra/helmcheck"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	var files, set list
	dir := flag.String("chart", "infra/helm/eventstreams", "chart directory")
	flag.Var(&files, "f", "values file (repeatable)")
	flag.Var(&set, "set", "a value, key=value (repeatable)")
	flag.Parse()
	if err := run(*dir, files, set); err != nil {
		fmt.Fprintln(os.Stderr, "helmtemplate:", err)
		os.Exit(1)
	}
}

func run(dir string, files, set []string) error {
	ch, err := helmcheck.Load(dir)
	if err != nil {
		return err
	}
	if err := helmcheck.Missing(ch); err != nil {
		fmt.Fprintf(os.Stderr, "helmtemplate: %v: its objects are not printed (helm dependency build %s)\n", err, dir)
	}
	vals, err := helmcheck.Values(files, set)
	if err != nil {
		return err
	}
	r, err := helmcheck.Render(ch, vals)
	if err != nil {
		return err
	}
	return r.Write(os.Stdout)
}
