package broker

// stateDone marks an inflight entry that was acknowledged (or dropped) but is
// still in the order ring; it is skipped and popped lazily.
const stateDone byte = 0xFF

// inflight is a session's window of QoS 1/2 messages sent and not yet
// completed, by packet id and in send order. Acks arrive mostly in order, so
// removal marks the entry done and the ring head is popped lazily; when done
// entries pile up behind an unacknowledged one the ring is compacted.
type inflight struct {
	byID  map[uint16]*QueueEntry
	order ring[*QueueEntry]
	next  uint16 // last packet id handed out
}

func (f *inflight) Len() int { return len(f.byID) }

// Get returns the entry with packet id pid, or nil.
func (f *inflight) Get(pid uint16) *QueueEntry { return f.byID[pid] }

// Add assigns e a free packet id and appends it to the window.
func (f *inflight) Add(e *QueueEntry) {
	if f.byID == nil {
		f.byID = make(map[uint16]*QueueEntry)
	}
	if e.PacketID == 0 || f.byID[e.PacketID] != nil {
		e.PacketID = f.freeID()
	}
	f.byID[e.PacketID] = e
	f.order.Push(e)
}

// Restore re-adds an entry that already has its packet id (after a restart).
func (f *inflight) Restore(e *QueueEntry) {
	if e.PacketID == 0 || (f.byID != nil && f.byID[e.PacketID] != nil) {
		e.PacketID = 0
	}
	f.Add(e)
}

func (f *inflight) freeID() uint16 {
	for {
		f.next++
		if f.next == 0 {
			f.next = 1
		}
		if f.byID[f.next] == nil {
			return f.next
		}
	}
}

// Remove takes the entry with packet id pid out of the window.
func (f *inflight) Remove(pid uint16) *QueueEntry {
	e := f.byID[pid]
	if e == nil {
		return nil
	}
	delete(f.byID, pid)
	e.State = stateDone
	for f.order.Len() > 0 && f.order.Peek().State == stateDone {
		f.order.Pop()
	}
	if f.order.Len() > 2*len(f.byID)+64 {
		f.compact() // an old entry is still unacknowledged: drop the done ones behind it
	}
	return e
}

// compact rebuilds the order ring with the live entries only, so entries
// completed behind one that stays unacknowledged (and their messages) are
// not kept. Amortised O(1) per removal.
func (f *inflight) compact() {
	var live ring[*QueueEntry]
	for i := 0; i < f.order.Len(); i++ {
		if e := f.order.At(i); e.State != stateDone {
			live.Push(e)
		}
	}
	f.order = live
}

// Each calls fn for every live entry in send order.
func (f *inflight) Each(fn func(e *QueueEntry)) {
	for i := 0; i < f.order.Len(); i++ {
		if e := f.order.At(i); e.State != stateDone {
			fn(e)
		}
	}
}

// Clear empties the window.
func (f *inflight) Clear() {
	f.byID = nil
	f.order.Clear()
}
