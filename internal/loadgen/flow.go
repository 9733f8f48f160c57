package loadgen

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Receive buffers and the SO_RCVLOWAT defaults.
const (
	pubReadBuf      = 64 << 10
	defaultLowat    = 16 << 10
	minRoomForLowat = 64         // publisher window of 256 and more
	defaultPrefix   = "hb-bench" // as long as mqttload's prefix: same packet sizes
	setupWorkers    = 64
	drainPoll       = 20 * time.Millisecond
)

// flowPlan is what a publish/subscribe scenario connects.
type flowPlan struct {
	pubTopics, pubIDs  []string
	subFilters, subIDs []string
	fan                int  // deliveries expected per publish; 0 without subscribers
	perMessage         bool // latency: one message per write, no SO_RCVLOWAT
	countAll           bool // sub: every publish counts, stamped or not
}

// planFlow builds the topics, filters and client ids of a scenario.
func planFlow(c *config, pid int) flowPlan {
	prefix := fmt.Sprintf("%s/%d/%s", cmp.Or(c.topic, defaultPrefix), pid, c.scenario)
	var p flowPlan
	switch c.scenario {
	case scPairs:
		for i := range c.count {
			t := fmt.Sprintf("%s/%d", prefix, i)
			p.addPub(pid, t)
			p.addSub(pid, t)
		}
	case scFanin:
		for i := range c.count {
			p.addPub(pid, fmt.Sprintf("%s/%d", prefix, i))
		}
		p.addSub(pid, prefix+"/+")
	case scFanout, scLatency:
		p.addPub(pid, prefix)
		for range c.count {
			p.addSub(pid, prefix)
		}
	case scPub, scSub:
		p = planTemplated(c, pid)
	}
	p.fan = fanOf(c.scenario, len(p.subFilters))
	p.perMessage = c.scenario == scLatency
	return p
}

// planTemplated expands -t for the pub and sub scenarios.
func planTemplated(c *config, pid int) flowPlan {
	var p flowPlan
	for i := range c.count {
		if c.scenario == scPub {
			p.addPub(pid, expandTopic(cmp.Or(c.topic, defaultPrefix+"/%i"), i, clientID(pid, "p", i)))
		} else {
			p.addSub(pid, expandTopic(cmp.Or(c.topic, defaultPrefix+"/#"), i, clientID(pid, "s", i)))
		}
	}
	p.countAll = c.scenario == scSub
	return p
}

func fanOf(scenario string, subs int) int {
	switch scenario {
	case scPub, scSub:
		return 0
	case scFanout, scLatency:
		return subs
	}
	return 1
}

func (p *flowPlan) addPub(pid int, topic string) {
	p.pubIDs = append(p.pubIDs, clientID(pid, "p", len(p.pubTopics)))
	p.pubTopics = append(p.pubTopics, topic)
}

func (p *flowPlan) addSub(pid int, filter string) {
	p.subIDs = append(p.subIDs, clientID(pid, "s", len(p.subFilters)))
	p.subFilters = append(p.subFilters, filter)
}

// flow runs one publish/subscribe scenario.
type flow struct {
	cfg     *config
	plan    flowPlan
	dial    *dialer
	win     *window
	lowat   int
	maxWait time.Duration
	stop    chan struct{}

	subs []*receiver
	pubs []*publisher
	prx  []*receiver // the publishers' receivers

	mu       sync.Mutex
	sessions []*session

	receiving  bool // receivers started
	publishing bool // publishers started
}

func newFlow(c *config) *flow {
	f := &flow{cfg: c, plan: planFlow(c, os.Getpid()), dial: newDialer(c), win: newWindow(), stop: make(chan struct{})}
	f.lowat = c.lowat
	if f.lowat < 0 {
		f.lowat = autoLowat(c, f.plan)
	}
	f.maxWait = c.maxWait
	if f.maxWait < 0 {
		f.maxWait = 2 * time.Millisecond
		if c.qos > 0 {
			f.maxWait = time.Millisecond
		}
	}
	if f.lowat == 0 {
		f.maxWait = 0
	}
	return f
}

// autoLowat is the default SO_RCVLOWAT of subscribers: off for the latency
// scenario (every message counts), and at QoS 2, where each flow waits for
// a 4-byte PUBREL that would sit below the mark while a broker using Nagle's
// algorithm holds the next ones until our delayed ACK (tens of ms).
func autoLowat(c *config, p flowPlan) int {
	if p.perMessage || c.qos == 2 {
		return 0
	}
	return defaultLowat
}

// connect opens a session and remembers it for close.
func (f *flow) connect(id string) (*session, error) {
	s, err := f.dial.connect(id)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.sessions = append(f.sessions, s)
	f.mu.Unlock()
	return s, nil
}

// connectSubscribers connects and subscribes every subscriber before any
// publisher exists.
func (f *flow) connectSubscribers() error {
	f.subs = make([]*receiver, len(f.plan.subFilters))
	return parallel(len(f.subs), setupWorkers, func(i int) error {
		s, err := f.connect(f.plan.subIDs[i])
		if err != nil {
			return err
		}
		if err := s.subscribe(f.plan.subFilters[i], f.cfg.qos, f.cfg.setup); err != nil {
			return err
		}
		r := newReceiver(s, f.win, nil)
		r.countAll = f.plan.countAll
		if f.lowat > 0 {
			r.maxWait = f.maxWait
			err = setRcvLowat(s.conn, f.lowat)
		}
		f.subs[i] = r
		return err
	})
}

func (f *flow) connectPublishers() error {
	f.pubs = make([]*publisher, len(f.plan.pubTopics))
	f.prx = make([]*receiver, len(f.pubs))
	return parallel(len(f.pubs), setupWorkers, func(i int) error {
		s, err := f.connect(f.plan.pubIDs[i])
		if err != nil {
			return err
		}
		p := newPublisher(s, f.pubSpec(s, i))
		if err := checkServerLimits(s, p); err != nil {
			return err
		}
		f.pubs[i], f.prx[i] = p, newReceiver(s, f.win, p)
		return f.tunePublisher(p, f.prx[i])
	})
}

func (f *flow) pubSpec(s *session, i int) pubSpec {
	batch := f.cfg.batch
	if f.plan.perMessage {
		batch = 1 // one message per write: each gets its own stamp
	}
	return pubSpec{
		version: f.cfg.version, topic: f.plan.pubTopics[i], qos: f.cfg.qos, size: f.cfg.size,
		batchBytes: batch, rate: f.cfg.rate, grace: f.cfg.writeGrace(),
		window: min(f.cfg.inflight, int(s.ack.receiveMax)), // [MQTT-3.3.4-7]
	}
}

// checkServerLimits refuses what the broker announced it does not accept.
func checkServerLimits(s *session, p *publisher) error {
	if p.qos > s.ack.maxQoS {
		return fmt.Errorf("%w: broker's Maximum QoS is %d [MQTT-3.2.2-11]", ErrRefused, s.ack.maxQoS)
	}
	if m := s.ack.maxPacketSize; m > 0 && uint32(p.pktLen) > m {
		return fmt.Errorf("%w: PUBLISH of %d bytes exceeds the broker's Maximum Packet Size %d [MQTT-3.2.2-15]", ErrRefused, p.pktLen, m)
	}
	return nil
}

// tunePublisher lets a QoS>0 publisher's receiver wake up once per several
// acknowledgements (about minRoom of them) instead of once per PUBACK. Only
// with a large window: with a small one (a v5 Receive Maximum of 20) the
// publisher soon stops writing, and PUBACKs below the mark are held by the
// broker's Nagle algorithm until our delayed ACK.
func (f *flow) tunePublisher(p *publisher, r *receiver) error {
	if p.qos == 0 || f.lowat == 0 || p.minRoom == 1 {
		return nil
	}
	r.maxWait = f.maxWait
	return setRcvLowat(p.sess.conn, int(min(p.minRoom*4, defaultLowat)))
}

// startReceivers starts every receiver, and pingers on connections that
// may stay silent: subscribers and paced publishers.
func (f *flow) startReceivers() {
	f.receiving = true
	for _, r := range f.subs {
		go r.run(f.cfg.readBuf)
		f.startPinger(r.sess)
	}
	for i, r := range f.prx {
		go r.run(pubReadBuf)
		if f.pubs[i].rate > 0 {
			f.startPinger(r.sess)
		}
	}
}

func (f *flow) startPinger(s *session) {
	if ka := s.keepAlive(f.cfg.keepalive); ka > 0 {
		go s.pingLoop(ka/2, f.stop)
	}
}

// counts is a snapshot of the flow's counters.
type counts struct{ sent, acked, rejected, delivered int64 }

func (f *flow) snapshot() counts {
	var c counts
	for _, p := range f.pubs {
		c.sent += p.sent.Load()
		c.acked += p.acked.Load()
		c.rejected += p.rejected.Load()
	}
	for _, r := range f.subs {
		c.delivered += r.delivered.Load()
	}
	return c
}

// expected is the number of deliveries owed for c: every publish sent at
// QoS 0, every acknowledged one at QoS>0, times the fan.
func (f *flow) expected(c counts) int64 {
	if f.cfg.qos > 0 {
		return c.acked * int64(f.plan.fan)
	}
	return c.sent * int64(f.plan.fan)
}

// span is what the measured window saw.
type span struct {
	before, after    counts
	cpu              cpuUse
	seconds          float64
	rssStart, rssEnd *int64
}

// measure publishes for warmup + duration and samples the window.
func (f *flow) measure(brokerPID int) span {
	var sp span
	sp.rssStart = rssKB(brokerPID, "VmRSS")
	t0 := time.Now()
	from, endAt := t0.Add(f.cfg.warmup), t0.Add(f.cfg.warmup+f.cfg.duration)
	f.win.set(from.UnixNano(), endAt.UnixNano())
	f.publishing = true
	for _, p := range f.pubs {
		go p.run(endAt, f.stop)
	}
	time.Sleep(time.Until(from))
	sp.before = f.snapshot()
	cpu1 := sampleCPU(brokerPID)
	time.Sleep(time.Until(endAt))
	sp.after = f.snapshot()
	cpu2 := sampleCPU(brokerPID)
	sp.rssEnd = rssKB(brokerPID, "VmRSS")
	sp.cpu, sp.seconds = cpuBetween(cpu1, cpu2), cpu2.at.Sub(cpu1.at).Seconds()
	return sp
}

// drain waits, at most -drain, for the deliveries and acknowledgements
// still in flight, and gives up after a second without progress.
func (f *flow) drain() float64 {
	f.waitPublished(f.cfg.writeGrace() + 2*time.Second)
	if f.lowat > 0 {
		for _, r := range f.subs {
			_ = setRcvLowat(r.sess.conn, 1) // wake up for the tail below the mark
		}
	}
	start := time.Now()
	last, prev := start, f.snapshot()
	for time.Since(start) < f.cfg.drain && time.Since(last) < f.cfg.stall {
		c := f.snapshot()
		if f.settled(c) {
			break
		}
		if c != prev {
			prev, last = c, time.Now()
		}
		time.Sleep(drainPoll)
	}
	return time.Since(start).Seconds()
}

func (f *flow) waitPublished(limit time.Duration) {
	deadline := time.After(limit)
	for _, p := range f.pubs {
		select {
		case <-p.published:
		case <-deadline:
			return
		}
	}
}

// settled reports whether nothing more is owed.
func (f *flow) settled(c counts) bool {
	if f.cfg.qos > 0 && c.acked+c.rejected < c.sent {
		return false
	}
	return c.delivered >= f.expected(c)
}

// close stops publishers and pingers, disconnects every session and waits
// for all goroutines.
func (f *flow) close() {
	close(f.stop)
	f.mu.Lock()
	sessions := f.sessions
	f.mu.Unlock()
	for _, s := range sessions {
		s.close()
	}
	for _, r := range append(f.subs, f.prx...) {
		if f.receiving {
			<-r.done
		}
	}
	for _, p := range f.pubs {
		if f.publishing {
			<-p.done
		}
	}
}

// errs collects the errors of receivers and publishers.
func (f *flow) errs() []error {
	var errs []error
	for _, r := range f.subs {
		if r.err != nil {
			errs = append(errs, fmt.Errorf("subscriber %s: %w", r.sess.conn.LocalAddr(), r.err))
		}
	}
	for i, p := range f.pubs {
		for _, err := range []error{p.err, f.prx[i].err} {
			if err != nil {
				errs = append(errs, fmt.Errorf("publisher %d: %w", i, err))
			}
		}
	}
	return errs
}

// runFlow runs a publish/subscribe scenario.
func runFlow(c *config, res *Result) error {
	f := newFlow(c)
	if err := f.setup(); err != nil {
		f.close()
		return err
	}
	f.startReceivers()
	sp := f.measure(res.BrokerPID)
	drained := f.drain()
	f.close()
	f.fill(res, sp, drained)
	if errs := f.errs(); len(errs) > 0 {
		return errors.New(joinErrors(errs))
	}
	return nil
}

func (f *flow) setup() error {
	if err := f.connectSubscribers(); err != nil {
		return fmt.Errorf("subscriber setup: %w", err)
	}
	if err := f.connectPublishers(); err != nil {
		return fmt.Errorf("publisher setup: %w", err)
	}
	return nil
}

// fill writes the flow's figures into res.
func (f *flow) fill(res *Result, sp span, drained float64) {
	end := f.snapshot()
	fr := &FlowResult{
		Publishers: len(f.pubs), Subscribers: len(f.subs), Fan: f.plan.fan, RatePerPub: f.cfg.rate,
		SubLowat: f.lowat, SubMaxWaitUS: f.maxWait.Microseconds(),
		WarmupS: f.cfg.warmup.Seconds(), MeasuredS: round(sp.seconds, 3), DrainS: round(drained, 3),
		Sent: end.sent, Acked: end.acked, Rejected: end.rejected, Delivered: end.delivered,
		Expected: f.expected(end),
	}
	if f.cfg.qos > 0 {
		fr.Unacked = end.sent - end.acked - end.rejected
	}
	fr.Loss = fr.Expected - fr.Delivered
	if fr.Expected > 0 {
		fr.LossPct = round(100*float64(fr.Loss)/float64(fr.Expected), 3)
	}
	f.fillRates(fr, sp)
	f.fillReceivers(fr)
	f.fillPublishers(fr)
	res.FlowResult = fr
	res.setCPU(sp.cpu)
	res.BrokerRSSKBStart, res.BrokerRSSKBEnd = sp.rssStart, sp.rssEnd
}

func (f *flow) fillRates(fr *FlowResult, sp span) {
	rate := func(a, b int64) float64 {
		if sp.seconds <= 0 {
			return 0
		}
		return round(float64(b-a)/sp.seconds, 0)
	}
	fr.SentPerS = rate(sp.before.sent, sp.after.sent)
	fr.AckedPerS = rate(sp.before.acked, sp.after.acked)
	fr.DeliveredPerS = rate(sp.before.delivered, sp.after.delivered)
}

func (f *flow) fillReceivers(fr *FlowResult) {
	var h histogram
	var waits int64
	for _, r := range f.subs {
		h.merge(&r.lat)
		fr.Foreign += r.foreign.Load()
		fr.SubReads += r.reads.Load()
		waits += r.waitReads.Load()
	}
	fr.LatUS = h.summary()
	if fr.SubReads > 0 {
		fr.SubWaitReadsPct = round(100*float64(waits)/float64(fr.SubReads), 1)
	}
}

func (f *flow) fillPublishers(fr *FlowResult) {
	if len(f.pubs) == 0 {
		return
	}
	p := f.pubs[0]
	fr.BatchMsgs = p.maxMsgs
	if p.qos > 0 {
		fr.Inflight = int(p.window)
	}
	if f.cfg.version == protoV5 {
		fr.ServerReceiveMax = int(p.sess.ack.receiveMax)
	}
}

// parallel runs fn(0..n-1) on at most workers goroutines and returns the
// first error; a worker stops at its first error.
func parallel(n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, min(n, workers))
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if errs[w] = fn(i); errs[w] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
