package mirror

import (
	"hash/maphash"
	"sync"
)

// recentIDs remembers the de-dup ids of the last events JetStream
// acknowledged, from any cluster. MirrorMaker delivers the other
// datacenter's copy of an event seconds after the original, so by then the
// id is here and the copy is marked for commit without being published:
// JetStream does half the work. Ids leave in the order they came, so the
// memory is bounded (about 100 bytes per id). Safe for concurrent use.
//
// The ids are held in a ring, oldest first once it is full, and found
// through an open-addressing table (linear probing) of fixed size, so that
// nothing is allocated per id. A slot holds the upper 32 bits of the id's
// hash (its tag, which also chooses its first slot) and its index in the
// ring; an id is found only when its bytes equal the ring's, so a hash
// collision never makes an id known that was not added. The ring keeps
// each id's tag too, so that forgetting the oldest reads neither its bytes
// nor its hash again.
type recentIDs struct {
	mu    sync.Mutex
	hash  func(string) uint64 // maphash; tests collide ids on purpose
	slots []uint64            // 0: empty; else hash>>32<<32 | index in ring + 1
	ring  []recentID
	n     int // ids held
	next  int // where the next id goes in ring: the oldest once full
}

func newRecentIDs(size int) *recentIDs {
	if size <= 0 {
		return nil
	}
	seed := maphash.MakeSeed()
	// At most two thirds of the slots in use keeps probe sequences short.
	slots := 4
	for slots < size+size/2 {
		slots *= 2
	}
	return &recentIDs{
		hash:  func(s string) uint64 { return maphash.String(seed, s) },
		slots: make([]uint64, slots),
		ring:  make([]recentID, size),
	}
}

// recentID is an id in the ring, with its tag.
type recentID struct {
	id  string
	tag uint64
}

// has reports whether id was acknowledged recently. A nil set knows nothing.
func (r *recentIDs) has(id string) bool {
	if r == nil {
		return false
	}
	tag := r.hash(id) >> 32
	r.mu.Lock()
	_, ok := r.find(id, tag)
	r.mu.Unlock()
	return ok
}

// add remembers id, forgetting the oldest when full.
func (r *recentIDs) add(id string) {
	if r == nil {
		return
	}
	tag := r.hash(id) >> 32
	r.mu.Lock()
	defer r.mu.Unlock()
	i, ok := r.find(id, tag)
	if ok {
		return
	}
	if r.n == len(r.ring) {
		r.remove(r.next)
		i, _ = r.find(id, tag) // the removal may have shortened id's probe sequence
	} else {
		r.n++
	}
	r.slots[i] = tag<<32 | uint64(r.next+1)
	r.ring[r.next] = recentID{id: id, tag: tag}
	r.next = (r.next + 1) % len(r.ring)
}

// find returns the slot of id, whose hash's upper 32 bits are tag, or the
// empty slot where it would go.
func (r *recentIDs) find(id string, tag uint64) (int, bool) {
	mask := len(r.slots) - 1
	for i := int(tag) & mask; ; i = (i + 1) & mask {
		s := r.slots[i]
		if s == 0 {
			return i, false
		}
		if s>>32 == tag && r.ring[uint32(s)-1].id == id {
			return i, true
		}
	}
}

// remove forgets the id at index k of the ring, closing the gap its slot
// leaves (backward-shift deletion: no tombstones).
func (r *recentIDs) remove(k int) {
	mask := len(r.slots) - 1
	i := int(r.ring[k].tag) & mask
	for uint32(r.slots[i]) != uint32(k+1) {
		i = (i + 1) & mask
	}
	r.ring[k] = recentID{}
	for j := i; ; {
		r.slots[i] = 0
		for {
			j = (j + 1) & mask
			s := r.slots[j]
			if s == 0 {
				return
			}
			// The entry at j stays unless the hole at i lies between its
			// first slot and j (cyclically).
			if home := int(s>>32) & mask; (j-home)&mask >= (j-i)&mask {
				r.slots[i] = s
				i = j
				break
			}
		}
	}
}
