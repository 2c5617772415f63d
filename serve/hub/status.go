package hub

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wikimedia-eventstreams-go/eventstreams/shared/layout"
)

// statusInterval is how often the feed reads the stream's state: for
// /readyz and the metrics, and to notice a new epoch (a standby's mirror
// promoted), which restarts the feed so that new ids carry it.
const statusInterval = layout.EpochCheckInterval

// errEpochChanged ends a feed whose stream took a new epoch.
var errEpochChanged = errors.New("the stream's epoch changed (a mirror promoted)")

// Status is what the feed last saw of the stream it reads.
type Status struct {
	// Server is the NATS server this process is connected to.
	Server string `json:"nats_server"`
	// Stream is the JetStream stream's name, Epoch its epoch.
	Stream string `json:"stream"`
	Epoch  string `json:"epoch"`
	// LastSeq is the stream's last sequence, FeedSeq the last the feed has.
	LastSeq uint64 `json:"last_seq"`
	FeedSeq uint64 `json:"feed_seq"`
	// Bytes is the stream's size, MaxBytes its limit (-1: none, as
	// JetStream says): at the limit, the oldest events are dropped.
	Bytes    uint64 `json:"bytes"`
	MaxBytes int64  `json:"max_bytes"`
	// Leader and Replicas: the stream's cluster placement (empty for a
	// stream of one server).
	Leader   string          `json:"leader,omitempty"`
	Replicas []ReplicaStatus `json:"replicas,omitempty"`
	// Mirror is set when the stream is a standby datacenter's mirror.
	Mirror *MirrorStatus `json:"mirror,omitempty"`
	// Checked is when the state was read.
	Checked time.Time `json:"checked"`
}

// ReplicaStatus is one follower of the stream's leader.
type ReplicaStatus struct {
	Name    string `json:"name"`
	Current bool   `json:"current"`
	Offline bool   `json:"offline,omitempty"`
}

// MirrorStatus is a mirror's distance from its origin.
type MirrorStatus struct {
	Origin string `json:"origin"`
	// Lag is how many of the origin's messages the mirror lacks.
	Lag uint64 `json:"lag_events"`
	// ActiveAgo is how long ago it last heard from the origin.
	ActiveAgo float64 `json:"last_active_seconds"`
}

// Status returns the stream's state as last read (the zero Status before
// the feed first started).
func (h *Hub) Status() Status {
	h.mu.RLock()
	defer h.mu.RUnlock()
	s := h.status
	s.FeedSeq = h.last
	return s
}

// watch reads the stream's state every statusInterval until ctx ends, and
// returns errEpochChanged when the stream's epoch is no longer epoch.
func (h *Hub) watch(ctx context.Context, s jetstream.Stream, epoch string) error {
	t := time.NewTicker(statusInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		ictx, cancel := context.WithTimeout(ctx, statusInterval)
		info, err := s.Info(ictx)
		cancel()
		if err != nil {
			continue // the feed itself notices a lost stream or connection
		}
		h.setStatus(info)
		if layout.Epoch(info) != epoch {
			return errEpochChanged
		}
	}
}

// setStatus records info as the stream's state.
func (h *Hub) setStatus(info *jetstream.StreamInfo) {
	st := Status{Server: h.js.Conn().ConnectedServerName(), Stream: info.Config.Name, Epoch: layout.Epoch(info),
		LastSeq: info.State.LastSeq, Bytes: info.State.Bytes, MaxBytes: info.Config.MaxBytes, Checked: time.Now().UTC()}
	if c := info.Cluster; c != nil {
		st.Leader = c.Leader
		for _, r := range c.Replicas {
			st.Replicas = append(st.Replicas, ReplicaStatus{Name: r.Name, Current: r.Current, Offline: r.Offline})
		}
	}
	if m := info.Mirror; m != nil {
		st.Mirror = &MirrorStatus{Origin: m.Name, Lag: m.Lag, ActiveAgo: m.Active.Seconds()}
		if m.External != nil {
			st.Mirror.Origin += " (" + m.External.APIPrefix + ")"
		}
	}
	h.mu.Lock()
	h.status = st
	h.mu.Unlock()
}
