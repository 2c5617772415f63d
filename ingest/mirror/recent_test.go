package mirror

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestRecentIDs(t *testing.T) {
	r := newRecentIDs(3)
	for i := range 5 {
		r.add(strconv.Itoa(i))
	}
	r.add("4") // already there: must not evict
	for id, want := range map[string]bool{"0": false, "1": false, "2": true, "3": true, "4": true} {
		if got := r.has(id); got != want {
			t.Errorf("has(%s) = %v, want %v", id, got, want)
		}
	}
	if r.n != 3 {
		t.Errorf("%d ids held, want 3", r.n)
	}
	none := newRecentIDs(0)
	none.add("x")
	if none.has("x") {
		t.Error("a disabled set remembered an id")
	}
}

// TestRecentIDsModel checks has and add against a map with a FIFO of the
// same size (what recentIDs was before its table), on random ids, with
// real hashes and with hashes that collide on purpose: equal for many ids,
// or sending every id to one of a few slots.
func TestRecentIDsModel(t *testing.T) {
	hashes := map[string]func(string) uint64{
		"maphash": nil,
		"equal":   func(s string) uint64 { return uint64(len(s)) << 32 },
		"few slots": func(s string) uint64 {
			h := uint64(0)
			for i := 0; i < len(s); i++ {
				h = h*31 + uint64(s[i])
			}
			return (h%5)<<32 | h&(1<<32-1)
		},
	}
	for name, hash := range hashes {
		for _, size := range []int{1, 2, 3, 7, 64, 1000} {
			t.Run(fmt.Sprintf("%s/%d", name, size), func(t *testing.T) {
				r := newRecentIDs(size)
				if hash != nil {
					r.hash = hash
				}
				set, fifo := map[string]bool{}, []string{}
				rng := rand.New(rand.NewPCG(uint64(size), 1))
				for step := range 20 * size * 10 {
					id := strconv.Itoa(rng.IntN(3 * size)) // about a third remembered
					if got := r.has(id); got != set[id] {
						t.Fatalf("step %d: has(%s) = %v, want %v", step, id, got, set[id])
					}
					if rng.IntN(3) > 0 {
						r.add(id)
						if !set[id] {
							if len(fifo) == size {
								delete(set, fifo[0])
								fifo = fifo[1:]
							}
							set[id] = true
							fifo = append(fifo, id)
						}
					}
				}
				used := 0
				for _, s := range r.slots {
					if s != 0 {
						used++
					}
				}
				if r.n != len(set) || used != len(set) {
					t.Errorf("%d ids held in %d slots, want %d", r.n, used, len(set))
				}
			})
		}
	}
}

// BenchmarkRecentIDs does what ingest does with each event of both
// datacenters: has, then add once acknowledged, with every id coming twice
// (the other datacenter's copy 1,000 events later), in a full set of
// 100,000 ids (service.DefaultConfig().RecentIDs).
func BenchmarkRecentIDs(b *testing.B) {
	const size, lag = 100_000, 1000
	ids := make([]string, 4*size)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08x-8110-40b7-a82f-3c3010061a3b", i)
	}
	r := newRecentIDs(size)
	for _, id := range ids[:size] {
		r.add(id)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		n := size + i/2
		id := ids[n%len(ids)]
		if i%2 == 1 {
			id = ids[(n-lag)%len(ids)]
		}
		if !r.has(id) {
			r.add(id)
		}
		i++
	}
}
