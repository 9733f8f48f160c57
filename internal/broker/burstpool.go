package broker

import (
	"sync"
	"time"
)

// burstPool runs connections' read bursts on long-lived worker goroutines.
// A fresh goroutine per burst would start on a 2 KB stack and grow it to
// handle a CONNECT or a PUBLISH (growing a stack copies it and walks every
// frame: it was a third of the broker's CPU in a connect storm); a worker's
// stack grows once. Workers idle for burstWorkerIdle exit, so the pool
// shrinks back after a storm.
type burstPool struct {
	mu     sync.Mutex
	idle   []*burstWorker // LIFO: the most recently used worker has the warmest cache
	closed bool
}

type burstWorker struct {
	jobs chan burstJob
}

// burstJob is one burst to run. Its outcome (whether the connection
// ended) goes to done; a job without done is an adopted connection's first
// burst, after which the worker starts the connection's goroutine.
type burstJob struct {
	c       *client
	done    chan<- bool
	release func()
}

const burstWorkerIdle = 10 * time.Second

// run hands c's next burst to an idle worker, or to a new one.
func (p *burstPool) run(c *client, done chan<- bool) {
	p.submit(burstJob{c: c, done: done})
}

// adopt runs an adopted connection's first burst.
func (p *burstPool) adopt(c *client, release func()) {
	p.submit(burstJob{c: c, release: release})
}

func (p *burstPool) submit(j burstJob) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.jobs <- j
		return
	}
	p.mu.Unlock()
	w := &burstWorker{jobs: make(chan burstJob, 1)}
	w.jobs <- j
	go w.loop(p)
}

func (w *burstWorker) loop(p *burstPool) {
	t := time.NewTimer(burstWorkerIdle)
	defer t.Stop()
	for {
		select {
		case j, ok := <-w.jobs:
			if !ok {
				return // the pool closed
			}
			j.run()
			if !p.park(w) {
				return
			}
			t.Reset(burstWorkerIdle)
		case <-t.C:
			if p.retire(w) {
				return
			}
			t.Reset(burstWorkerIdle) // a job is on its way
		}
	}
}

func (j burstJob) run() {
	ended := j.c.runBurst()
	if j.done != nil {
		j.done <- ended
		return
	}
	go j.c.serveAdopted(ended, j.release)
}

// park returns w to the idle list; false once the pool is closed.
func (p *burstPool) park(w *burstWorker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.idle = append(p.idle, w)
	return true
}

// close stops the idle workers; busy ones stop after their burst.
func (p *burstPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, w := range p.idle {
		close(w.jobs)
	}
	p.idle = nil
}

// retire removes an idle w from the list; false if it was just handed a job.
func (p *burstPool) retire(w *burstWorker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.idle {
		if x == w {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return true
		}
	}
	return false
}
