package broker

import (
	"sort"
	"testing"
)

func TestBrokerRing(t *testing.T) {
	var r ring[int]
	for i := 0; i < 10; i++ {
		r.Push(i)
	}
	r.PushFront(-1)
	if r.Len() != 11 || r.Peek() != -1 || r.At(10) != 9 {
		t.Fatalf("len %d peek %d last %d", r.Len(), r.Peek(), r.At(10))
	}
	if v := r.RemoveAt(5); v != 4 {
		t.Fatalf("RemoveAt(5) = %d, want 4", v)
	}
	var got []int
	for r.Len() > 0 {
		got = append(got, r.Pop())
	}
	want := []int{-1, 0, 1, 2, 3, 5, 6, 7, 8, 9}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

func TestBrokerInflightWindow(t *testing.T) {
	var f inflight
	f.next = 65533 // wrap around the packet id space, skipping 0 [MQTT-2.2.1-3]
	var es []*QueueEntry
	for i := 0; i < 5; i++ {
		e := &QueueEntry{Seq: uint64(i)}
		f.Add(e)
		es = append(es, e)
	}
	ids := map[uint16]bool{}
	for _, e := range es {
		if e.PacketID == 0 || ids[e.PacketID] {
			t.Fatalf("packet id %d reused or zero", e.PacketID)
		}
		ids[e.PacketID] = true
	}
	f.Remove(es[2].PacketID) // out of order
	f.Remove(es[0].PacketID)
	var seqs []uint64
	f.Each(func(e *QueueEntry) { seqs = append(seqs, e.Seq) })
	if len(seqs) != 3 || seqs[0] != 1 || seqs[1] != 3 || seqs[2] != 4 || f.Len() != 3 {
		t.Fatalf("window %v len %d, want [1 3 4]", seqs, f.Len())
	}
	e := &QueueEntry{PacketID: es[1].PacketID} // a restored entry whose id is taken
	f.Restore(e)
	if e.PacketID == es[1].PacketID {
		t.Fatalf("restored entry kept a packet id in use")
	}
}

func TestBrokerRetainIndex(t *testing.T) {
	var r retainIndex
	for _, tp := range []string{"a/b", "a/c", "a/b/c", "a", "$SYS/x", "/lead", "a//b"} {
		r.set(&Message{Topic: tp})
	}
	r.set(&Message{Topic: "a/b", Payload: []byte("new")}) // replace
	if r.len() != 7 || string(r.get("a/b").Payload) != "new" {
		t.Fatalf("len %d", r.len())
	}
	match := func(filter string) []string {
		var out []string
		r.match(filter, func(m *Message) { out = append(out, m.Topic) })
		sort.Strings(out)
		return out
	}
	cases := map[string][]string{
		"#":      {"/lead", "a", "a//b", "a/b", "a/b/c", "a/c"}, // no $SYS [MQTT-4.7.2-1]
		"a/#":    {"a", "a//b", "a/b", "a/b/c", "a/c"},          // parent level too
		"a/+":    {"a/b", "a/c"},
		"+/+":    {"/lead", "a/b", "a/c"},
		"a/+/b":  {"a//b"},
		"$SYS/#": {"$SYS/x"},
		"+/b":    {"a/b"},
	}
	for f, want := range cases {
		got := match(f)
		if len(got) != len(want) {
			t.Fatalf("match %q = %v, want %v", f, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("match %q = %v, want %v", f, got, want)
			}
		}
	}
	if !r.delete("a/b") || r.delete("a/b") || r.get("a/b") != nil || r.get("a/b/c") == nil {
		t.Fatalf("delete")
	}
}

// Overlapping subscriptions of one session merge into one delivery with the
// highest QoS and every subscription identifier [MQTT-3.3.4-2, 3.3.4-3];
// shared ones stay apart.
func TestBrokerDedupeOverlapping(t *testing.T) {
	s1, s2 := &session{id: "1"}, &session{id: "2"}
	w := &work{matches: []match{
		{s: s1, o: subOpts{qos: 0, id: 1}},
		{s: s2, o: subOpts{qos: 1}},
		{s: s1, o: subOpts{qos: 2, id: 7}},
		{s: s1, o: subOpts{qos: 1}, shared: true},
	}}
	w.dedupe()
	if len(w.matches) != 3 {
		t.Fatalf("%d matches, want 3", len(w.matches))
	}
	m := w.matches[0]
	if m.s != s1 || m.o.qos != 2 || len(m.ids) != 2 || m.ids[0] != 1 || m.ids[1] != 7 {
		t.Fatalf("merged %+v", m)
	}
	if !w.matches[2].shared {
		t.Fatalf("shared match merged away")
	}
}
