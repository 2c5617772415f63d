package mirror

import "sync"

// recentIDs remembers the de-dup ids of the last events JetStream
// acknowledged, from any cluster. MirrorMaker delivers the other
// datacenter's copy of an event seconds after the original, so by then the
// id is here and the copy is marked for commit without being published:
// JetStream does half the work. Ids leave in the order they came, so the
// memory is bounded (about 100 bytes per id). Safe for concurrent use.
type recentIDs struct {
	mu   sync.Mutex
	set  map[string]struct{}
	ring []string
	next int
}

func newRecentIDs(size int) *recentIDs {
	if size <= 0 {
		return nil
	}
	return &recentIDs{set: make(map[string]struct{}, size), ring: make([]string, size)}
}

// has reports whether id was acknowledged recently. A nil set knows nothing.
func (r *recentIDs) has(id string) bool {
	if r == nil {
		return false
	}
	r.mu.Lock()
	_, ok := r.set[id]
	r.mu.Unlock()
	return ok
}

// add remembers id, forgetting the oldest when full.
func (r *recentIDs) add(id string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.set[id]; ok {
		return
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next] = id
	r.set[id] = struct{}{}
	r.next = (r.next + 1) % len(r.ring)
}
