package mirror

import (
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
	if len(r.set) != 3 {
		t.Errorf("%d ids held, want 3", len(r.set))
	}
	none := newRecentIDs(0)
	none.add("x")
	if none.has("x") {
		t.Error("a disabled set remembered an id")
	}
}
