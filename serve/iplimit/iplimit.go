// Package iplimit counts the concurrent streams of each client IP for
// serve's per-IP limit (SERVE_CLIENT_IP_CONNECTION_LIMIT). A stream
// request takes a slot of its client IP before anything else (package api)
// and gives it back when the stream ends; beyond the limit it gets 429.
//
// Two scopes count the slots. Process (SERVE_CLIENT_IP_LIMIT_SCOPE=process)
// counts this process's streams in memory: N serve processes behind a
// balancer let a client open up to N times the limit. Cluster (=cluster)
// counts every serve's streams in a NATS KV bucket (cluster.go), so the
// limit holds whichever serve a client reaches, and the slots of a serve
// that dies expire with the bucket's TTL.
//
// A client IP is never stored: slots are keyed by a hash of its canonical
// form (an IPv4-mapped IPv6 address counts as its IPv4 address), which
// bounds what a client controls (a trusted X-Client-IP header can hold
// anything) to 16 bytes.
//
// Process and Cluster are safe for concurrent use.
package iplimit

import (
	"context"
	"crypto/sha256"
	"net/netip"
	"sync"
)

// key is the hash a client IP is counted under.
type key [16]byte

// keyOf canonicalizes ip and hashes it.
func keyOf(ip string) key {
	if a, err := netip.ParseAddr(ip); err == nil {
		ip = a.Unmap().WithZone("").String()
	}
	sum := sha256.Sum256([]byte(ip))
	return key(sum[:16])
}

// Process counts the streams of each client IP in this process.
type Process struct {
	limit int
	mu    sync.Mutex
	count map[key]int
}

// NewProcess returns a Process allowing limit streams per client IP
// (limit ≥ 1).
func NewProcess(limit int) *Process {
	return &Process{limit: max(limit, 1), count: map[key]int{}}
}

// Acquire takes a slot of ip, unless ip holds limit streams in this
// process. release gives the slot back; calls after the first do nothing.
func (p *Process) Acquire(_ context.Context, ip string) (release func(), ok bool) {
	k := keyOf(ip)
	if !p.take(k) {
		return nil, false
	}
	return sync.OnceFunc(func() { p.give(k) }), true
}

func (p *Process) take(k key) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.count[k] >= p.limit {
		return false
	}
	p.count[k]++
	return true
}

func (p *Process) give(k key) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.count[k]--; p.count[k] <= 0 {
		delete(p.count, k)
	}
}
