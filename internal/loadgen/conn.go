package loadgen

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Conn scenario constants.
const (
	fdReserve        = 64 // descriptors kept free for everything else
	keptErrors       = 10
	closeWorkers     = 16
	settleAfterClose = time.Second // before the after-close RSS reading
)

var errConnDeadline = errors.New("connect phase over")

// opener opens and holds the idle connections of the conn scenario.
type opener struct {
	cfg      *config
	dial     *dialer
	sessions []*session
	failures atomic.Int64
	mu       sync.Mutex
	errs     []error // the first keptErrors failures
}

func newOpener(c *config) *opener {
	return &opener{cfg: c, dial: newDialer(c), sessions: make([]*session, c.count)}
}

// open connects every client with -workers dialers, at most -rate per
// second, until all are done or -duration is over. It returns the time taken.
func (o *opener) open() time.Duration {
	start := time.Now()
	deadline := start.Add(o.cfg.duration)
	pid := os.Getpid()
	_ = parallel(len(o.sessions), o.cfg.workers, func(i int) error {
		if o.cfg.rate > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(float64(i) / o.cfg.rate * float64(time.Second)))))
		}
		if time.Now().After(deadline) {
			return errConnDeadline
		}
		s, err := o.dial.connect(clientID(pid, "c", i))
		if err != nil {
			o.fail(err)
			return nil
		}
		o.sessions[i] = s
		return nil
	})
	return time.Since(start)
}

func (o *opener) fail(err error) {
	o.failures.Add(1)
	o.mu.Lock()
	if len(o.errs) < keptErrors {
		o.errs = append(o.errs, err)
	}
	o.mu.Unlock()
}

func (o *opener) connected() int {
	n := 0
	for _, s := range o.sessions {
		if s != nil {
			n++
		}
	}
	return n
}

// hold waits d, sending PINGREQ on every connection each keepalive/2.
func (o *opener) hold(d time.Duration) {
	end := time.Now().Add(d)
	every := time.Duration(o.cfg.keepalive) * time.Second / 2
	for every > 0 && time.Now().Add(every).Before(end) {
		time.Sleep(every)
		o.pingAll()
	}
	time.Sleep(time.Until(end))
}

func (o *opener) pingAll() {
	for _, s := range o.sessions {
		if s != nil {
			_ = s.conn.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = s.write(pktPingreq)
		}
	}
}

// dead counts connections the broker has closed: their read returns an
// error other than the timeout at once.
func (o *opener) dead() int {
	n := 0
	var one [1]byte
	for _, s := range o.sessions {
		if s == nil {
			continue
		}
		_ = s.conn.SetReadDeadline(time.Now().Add(time.Microsecond))
		if _, err := s.conn.Read(one[:]); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			n++
		}
	}
	return n
}

// closeAll disconnects every connection and returns the time taken.
func (o *opener) closeAll() time.Duration {
	start := time.Now()
	_ = parallel(len(o.sessions), closeWorkers, func(i int) error {
		if s := o.sessions[i]; s != nil {
			s.close()
		}
		return nil
	})
	return time.Since(start)
}

// runConn opens -c idle connections, holds them for -hold, and reports the
// connect rate and the broker's memory per connection.
func runConn(c *config, res *Result) error {
	if uint64(c.count)+fdReserve > res.FDLimit {
		return fmt.Errorf("-c %d needs more file descriptors than RLIMIT_NOFILE %d allows (raise ulimit -Hn)", c.count, res.FDLimit)
	}
	pid := res.BrokerPID
	cr := &ConnResult{Conns: c.count, Workers: c.workers, ConnectRate: c.rate, HoldS: c.hold.Seconds()}
	res.ConnResult = cr
	cr.RSSKBBefore = rssKB(pid, "VmRSS")
	o := newOpener(c)
	cpu1 := sampleCPU(pid)
	took := o.open()
	res.setCPU(cpuBetween(cpu1, sampleCPU(pid)))
	cr.Connected, cr.Failures = o.connected(), o.failures.Load()
	cr.NotTried = c.count - cr.Connected - int(cr.Failures)
	cr.ConnectS = round(took.Seconds(), 3)
	cr.ConnectPerS = round(float64(cr.Connected)/took.Seconds(), 0)
	o.hold(c.hold)
	cr.RSSKBHeld, cr.HWMKBHeld = rssKB(pid, "VmRSS"), rssKB(pid, "VmHWM")
	cr.DeadAfterHold = o.dead()
	cr.CloseS = round(o.closeAll().Seconds(), 3)
	if pid > 0 {
		time.Sleep(settleAfterClose)
		cr.RSSKBAfterClose = rssKB(pid, "VmRSS")
	}
	return o.finish(cr)
}

// finish derives the per-connection memory and the run's error.
func (o *opener) finish(cr *ConnResult) error {
	if cr.Connected > 0 && cr.RSSKBBefore != nil && cr.RSSKBHeld != nil {
		cr.RSSBytesPerConn = ptr(round(float64(*cr.RSSKBHeld-*cr.RSSKBBefore)*1024/float64(cr.Connected), 0))
	}
	if len(o.errs) > 0 {
		cr.FirstErrors = joinErrors(o.errs)
	}
	if cr.Connected == 0 {
		return fmt.Errorf("no connection succeeded: %s", cr.FirstErrors)
	}
	return nil
}
