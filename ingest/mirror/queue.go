package mirror

// queue is a FIFO of entries with a fixed capacity.
type queue struct {
	items      []*entry
	head, size int
}

func newQueue(capacity int) *queue { return &queue{items: make([]*entry, capacity)} }

func (q *queue) len() int      { return q.size }
func (q *queue) peek() *entry  { return q.items[q.head] }
func (q *queue) push(e *entry) { q.items[(q.head+q.size)%len(q.items)] = e; q.size++ }
func (q *queue) pop() {
	q.items[q.head] = nil
	q.head = (q.head + 1) % len(q.items)
	q.size--
}

// each calls fn for every entry, oldest first.
func (q *queue) each(fn func(*entry)) {
	for i := range q.size {
		fn(q.items[(q.head+i)%len(q.items)])
	}
}
