package service

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wikimedia-eventstreams-go/eventstreams/ingest/standby"
	"github.com/wikimedia-eventstreams-go/eventstreams/shared/settings"
)

// standbyInterval is how often the standby reads its mirror's state.
const standbyInterval = 5 * time.Second

// validateStandby checks the variables of the standby mode
// (INGEST_MIRROR_FROM), which reads no Kafka.
func (c *Config) validateStandby() error {
	if err := c.Common.Validate(); err != nil {
		return err
	}
	return settings.Checks(append(c.streamChecks(),
		settings.Check{Var: "INGEST_MIRROR_FROM", Bad: !validDomain(c.MirrorFrom), Msg: "must be a JetStream domain: letters, digits, '-' or '_'"},
		settings.Check{Var: "INGEST_PROMOTE", Bad: c.Promote, Msg: "must not be set with INGEST_MIRROR_FROM: a standby mirrors, a promoted datacenter writes"},
	))
}

func validDomain(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// runStandby is Run in the standby mode: it keeps the local stream a
// mirror of the primary's and serves its state on /metrics and /healthz.
func runStandby(ctx context.Context, cfg Config, deps Deps, log *slog.Logger) error {
	if err := cfg.validateStandby(); err != nil {
		return err
	}
	lis := deps.MetricsListener
	if lis == nil {
		var err error
		if lis, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return &settings.VarError{Var: "INGEST_METRICS_ADDR", Err: err}
		}
		defer lis.Close()
	}
	log.Info("ingest starting as a standby: mirroring the primary's stream", slog.Any("config", cfg))
	nc := deps.NATS
	if nc == nil {
		var err error
		if nc, err = cfg.Connect("eventstreams-ingest-standby", log); err != nil {
			return err
		}
		defer nc.Close()
	}
	reg := registry(deps)
	const ns = "eventstreams_ingest"
	lag := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "mirror_lag_events",
		Help: "Messages of the primary's stream the standby's mirror does not hold yet."})
	active := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "mirror_last_active_seconds",
		Help: "Seconds since the standby's mirror last heard from the primary's stream."})
	if err := errors.Join(reg.Register(lag), reg.Register(active)); err != nil {
		return err
	}
	var mu sync.Mutex
	var last standby.Status
	report := func(s standby.Status) {
		mu.Lock()
		last = s
		mu.Unlock()
		if s.OK {
			lag.Set(float64(s.Lag))
			active.Set(s.Active.Seconds())
		} else {
			log.Warn("mirror not available", slog.String("error", s.Err.Error()))
		}
	}
	health := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		s := last
		mu.Unlock()
		body := map[string]any{"status": "ok", "mirror_from": cfg.MirrorFrom, "stream": cfg.Stream,
			"lag_events": s.Lag, "last_active_seconds": s.Active.Seconds(), "last_seq": s.LastSeq, "epoch": s.Epoch}
		w.Header().Set("Content-Type", "application/json")
		if !s.OK {
			body["status"] = "unavailable"
			if s.Err != nil {
				body["error"] = s.Err.Error()
			}
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(body)
	})
	stopMetrics := serveMetrics(lis, reg, health, log)
	err := standby.Watch(ctx, nc, cfg.Layout(), cfg.limits(), cfg.MirrorFrom, standbyInterval, report)
	stopMetrics()
	if err != nil {
		log.Error("ingest failed", slog.String("error", err.Error()))
		return err
	}
	log.Info("ingest stopped")
	return nil
}
