package main

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// histogram is a lock-free log-linear histogram of durations in
// microseconds, HDR-style: values below 64 µs are exact, above that each
// power of two is split into 32 buckets, so a reported percentile is within
// about 3% of the true value. Any number of goroutines may Record at once;
// each record is one atomic add (plus a load for the maximum).
type histogram struct {
	counts [64 * 32]atomic.Uint64
	max    atomic.Int64 // µs
	n      atomic.Uint64
}

const histSub = 5 // log2 of the sub-buckets per power of two

func histIndex(v uint64) int {
	if v < 2<<histSub {
		return int(v)
	}
	e := bits.Len64(v) - (histSub + 1)
	return e<<histSub + int(v>>uint(e))
}

// histUpper is the largest value that falls in bucket i.
func histUpper(i int) uint64 {
	if i < 2<<histSub {
		return uint64(i)
	}
	e := i>>histSub - 1
	m := uint64(i - e<<histSub)
	return (m+1)<<uint(e) - 1
}

// Record adds one duration; negative durations (clock steps) count as 0.
func (h *histogram) Record(d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	h.counts[histIndex(uint64(us))].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			return
		}
	}
}

// Count is the number of values recorded.
func (h *histogram) Count() uint64 { return h.n.Load() }

// Max is the largest value recorded.
func (h *histogram) Max() time.Duration { return time.Duration(h.max.Load()) * time.Microsecond }

// Quantile returns the upper bound of the bucket holding quantile q (0..1),
// capped at the maximum; 0 when nothing was recorded.
func (h *histogram) Quantile(q float64) time.Duration {
	total := h.n.Load()
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			v := time.Duration(histUpper(i)) * time.Microsecond
			return min(v, h.Max())
		}
	}
	return h.Max()
}
