// The generator's random draws: weighted and uniform picks, chances,
// integers, ids (UUIDs, SHA-1s), dates and years, and the fmt helpers of
// the templates they fill.

package eventgen

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

type weighted[T any] struct {
	v T
	w float64
}

func pickWeighted[T any](g *Generator, ws []weighted[T]) T {
	total := 0.0
	for _, x := range ws {
		total += x.w
	}
	r := g.rng.Float64() * total
	for _, x := range ws {
		if r < x.w {
			return x.v
		}
		r -= x.w
	}
	return ws[len(ws)-1].v
}

func pick[T any](g *Generator, xs []T) T { return xs[g.rng.IntN(len(xs))] }

func (g *Generator) chance(p float64) bool { return g.rng.Float64() < p }

// between returns an integer in [lo, hi).
func (g *Generator) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + g.rng.Int64N(hi-lo)
}

func hash64(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// uuid returns a random (version 4) UUID.
func (g *Generator) uuid() string {
	var b [36]byte
	hi, lo := g.rng.Uint64(), g.rng.Uint64()
	hi = hi&^0xf000 | 0x4000     // version 4
	lo = lo&^(0xc<<60) | 0x8<<60 // variant 10
	x := [16]byte{}
	for i := range 8 {
		x[i] = byte(hi >> (56 - 8*i))
		x[8+i] = byte(lo >> (56 - 8*i))
	}
	j := 0
	for i, c := range x {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hexDigits[c>>4], hexDigits[c&0xf]
		j += 2
	}
	return string(b[:])
}

// sha1 returns a random base-36 SHA-1, as MediaWiki stores them.
func (g *Generator) sha1() string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	var b [31]byte
	for i := range b {
		b[i] = digits[g.rng.IntN(36)]
	}
	return string(b[:])
}

// ymd returns a random date between 2005 and 2025.
func (g *Generator) ymd() (int, int, int) {
	return 2005 + g.rng.IntN(21), 1 + g.rng.IntN(12), 1 + g.rng.IntN(28)
}

// format is fmt.Sprintf for formats that may use none of the arguments:
// formats use explicit argument indexes, which keep fmt from reporting
// unused ones.
func format(f string, args ...any) string {
	if !strings.Contains(f, "%") {
		return f
	}
	return fmt.Sprintf(f, args...)
}

func (g *Generator) year() string { return strconv.Itoa(1850 + g.rng.IntN(176)) }

// fill replaces {Y} with a year.
func (g *Generator) fill(s string) string {
	for strings.Contains(s, "{Y}") {
		s = strings.Replace(s, "{Y}", g.year(), 1)
	}
	return s
}
