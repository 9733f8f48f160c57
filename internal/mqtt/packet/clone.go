package packet

import "slices"

// arena hands out copies carved from one allocation, so a deep copy costs a
// few allocations however many fields it has. Each copy has its capacity
// clipped; nil stays nil.
type arena struct{ buf []byte }

func newArena(n int) arena { return arena{buf: make([]byte, 0, n)} }

func (a *arena) copy(b []byte) []byte {
	if b == nil {
		return nil
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return a.buf[start:len(a.buf):len(a.buf)]
}

// byteFields returns pointers to the []byte properties.
func (p *Properties) byteFields() [9]*[]byte {
	return [9]*[]byte{&p.ContentType, &p.ResponseTopic, &p.CorrelationData, &p.AssignedClientID,
		&p.AuthMethod, &p.AuthData, &p.ResponseInfo, &p.ServerReference, &p.ReasonString}
}

// byteLen returns the number of bytes the []byte fields and User hold.
func (p *Properties) byteLen() int {
	n := 0
	for _, f := range p.byteFields() {
		n += len(*f)
	}
	for _, u := range p.User {
		n += len(u.Key) + len(u.Value)
	}
	return n
}

// Clone returns a deep copy of p that shares no memory with it.
func (p *Properties) Clone() Properties {
	a := newArena(p.byteLen())
	return p.cloneInto(&a)
}

func (p *Properties) cloneInto(a *arena) Properties {
	c := *p
	for _, f := range c.byteFields() {
		*f = a.copy(*f)
	}
	c.SubscriptionIDs = slices.Clone(p.SubscriptionIDs)
	if p.User != nil {
		c.User = make([]UserProperty, len(p.User))
		for i, u := range p.User {
			c.User[i] = UserProperty{Key: a.copy(u.Key), Value: a.copy(u.Value)}
		}
	}
	return c
}

// Clone returns a deep copy of p that shares no memory with it or with the
// buffer it was decoded from.
func (p *Publish) Clone() *Publish {
	a := newArena(len(p.Topic) + len(p.Payload) + p.Props.byteLen())
	c := *p
	c.Topic, c.Payload = a.copy(p.Topic), a.copy(p.Payload)
	c.Props = p.Props.cloneInto(&a)
	return &c
}

// Clone returns a deep copy of p that shares no memory with it or with the
// buffer it was decoded from.
func (p *Connect) Clone() *Connect {
	a := newArena(len(p.Password) + len(p.WillPayload) + p.Props.byteLen() + p.WillProps.byteLen())
	c := *p
	c.Password, c.WillPayload = a.copy(p.Password), a.copy(p.WillPayload)
	c.Props, c.WillProps = p.Props.cloneInto(&a), p.WillProps.cloneInto(&a)
	return &c
}
