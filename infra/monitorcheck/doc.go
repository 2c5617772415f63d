// Package monitorcheck holds no code: its tests check the alert rules
// (infra/prometheus/alerts.yml) with Prometheus's own rule parser, evaluate
// some of them with Prometheus's query engine on synthetic series, check
// that every runbook link names a README heading, and run the built ingest
// and serve binaries to check that every metric the rules and the Grafana
// dashboard (infra/grafana) query is one they expose. A renamed metric
// fails the build instead of blanking a panel or silencing an alert.
package monitorcheck
