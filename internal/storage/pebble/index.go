package pebble

// index is the in-memory reference index: which message each queue entry and
// retained topic references, and how many references each message has.
type index struct {
	queue         map[string]map[uint64]uint64 // client → seq → message ID
	retained      map[string]uint64            // topic → message ID
	refs          map[uint64]int64             // message ID → references
	queueBuilt    bool
	retainedBuilt bool
}

func newIndex() *index {
	return &index{
		queue:    make(map[string]map[uint64]uint64),
		retained: make(map[string]uint64),
		refs:     make(map[uint64]int64),
	}
}

// ref adds a reference to id and reports whether it is the first.
func (x *index) ref(id uint64) bool {
	x.refs[id]++
	return x.refs[id] == 1
}

// unref drops a reference to id and reports whether it was the last.
func (x *index) unref(id uint64) bool {
	n := x.refs[id] - 1
	if n > 0 {
		x.refs[id] = n
		return false
	}
	delete(x.refs, id)
	return true
}

// setQueue records that client's entry seq references msg; it returns the
// message the entry referenced before, if any.
func (x *index) setQueue(client string, seq, msg uint64) (uint64, bool) {
	q := x.queue[client]
	if q == nil {
		q = make(map[uint64]uint64)
		x.queue[client] = q
	}
	old, had := q[seq]
	q[seq] = msg
	return old, had
}

// deleteQueue forgets client's entry seq and returns its message, if any.
func (x *index) deleteQueue(client string, seq uint64) (uint64, bool) {
	q := x.queue[client]
	old, had := q[seq]
	if had {
		delete(q, seq)
		if len(q) == 0 {
			delete(x.queue, client)
		}
	}
	return old, had
}

// deleteClient forgets every entry of client and returns their messages.
func (x *index) deleteClient(client string) map[uint64]uint64 {
	q := x.queue[client]
	delete(x.queue, client)
	return q
}

// setRetained records topic's message; it returns the previous one, if any.
func (x *index) setRetained(topic string, msg uint64) (uint64, bool) {
	old, had := x.retained[topic]
	x.retained[topic] = msg
	return old, had
}

// deleteRetained forgets topic and returns its message, if any.
func (x *index) deleteRetained(topic string) (uint64, bool) {
	old, had := x.retained[topic]
	delete(x.retained, topic)
	return old, had
}

// addQueuePart installs the queue part built by a scan.
func (x *index) addQueuePart(q map[string]map[uint64]uint64) {
	x.queue = q
	x.queueBuilt = true
	for _, entries := range q {
		for _, id := range entries {
			x.refs[id]++
		}
	}
}

// addRetainedPart installs the retained part built by a scan.
func (x *index) addRetainedPart(r map[string]uint64) {
	x.retained = r
	x.retainedBuilt = true
	for _, id := range r {
		x.refs[id]++
	}
}
