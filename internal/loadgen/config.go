package loadgen

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// ErrNotLoopback is returned for a broker address outside 127.0.0.0/8 and ::1.
var ErrNotLoopback = errors.New("address is not loopback (127.0.0.0/8 or ::1)")

// ErrUsage is a command line the tool cannot run.
var ErrUsage = errors.New("usage")

// Scenario names.
const (
	scConn    = "conn"
	scPub     = "pub"
	scSub     = "sub"
	scPairs   = "pairs"
	scFanin   = "fanin"
	scFanout  = "fanout"
	scLatency = "latency"
)

// minWriteGrace is the least time a publisher's last write may block past
// the end of the publishing phase.
const minWriteGrace = 3 * time.Second

// maxRunTime bounds -duration, and -warmup, -drain and -hold each.
const maxRunTime = 10 * time.Minute

// defaultCount is -c per scenario.
var defaultCount = map[string]int{
	scConn: 10000, scPub: 1, scSub: 1, scPairs: 8, scFanin: 8, scFanout: 16, scLatency: 1,
}

// config is one parsed command line.
type config struct {
	scenario   string
	addr       string // resolved loopback ip:port, dialled by every client
	port       int
	label      string
	version    byte
	qos        byte
	size       int
	count      int
	topic      string
	rate       float64
	inflight   int
	duration   time.Duration
	warmup     time.Duration
	drain      time.Duration
	stall      time.Duration
	hold       time.Duration
	workers    int
	pidFlag    string
	username   string
	password   string
	keepalive  int
	clean      bool
	cpuprofile string
	batch      int
	readBuf    int
	lowat      int
	maxWait    time.Duration
	setup      time.Duration
}

// rawFlags are the flag values before validation.
type rawFlags struct {
	host, addr    string
	port, version int
	qos, count    int
	keepalive     int
	explicitRate  bool
}

const usageText = `usage: herald bench <scenario> [flags]
scenarios: conn | pub | sub | pairs | fanin | fanout | latency
Prints one JSON line of results on stdout and a summary on stderr.
flags:
`

// parseConfig parses args (the scenario, then flags). It returns
// flag.ErrHelp for -help, or an error wrapping ErrUsage.
func parseConfig(args []string, stderr io.Writer) (*config, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, usageText)
		return nil, fmt.Errorf("%w: missing scenario", ErrUsage)
	}
	c := &config{scenario: args[0]}
	if _, ok := defaultCount[c.scenario]; !ok {
		return nil, fmt.Errorf("%w: unknown scenario %q", ErrUsage, c.scenario)
	}
	var r rawFlags
	fs := newFlagSet(c, &r, stderr)
	if err := fs.Parse(args[1:]); err != nil {
		return nil, wrapFlagErr(err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { r.explicitRate = r.explicitRate || f.Name == "rate" })
	if err := c.finish(&r); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	return c, nil
}

func wrapFlagErr(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUsage, err)
}

// newFlagSet declares every flag on c and r.
func newFlagSet(c *config, r *rawFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("herald bench "+c.scenario, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText); fs.PrintDefaults() }
	addConnFlags(fs, c, r)
	addFlowFlags(fs, c, r)
	addToolFlags(fs, c)
	return fs
}

func addConnFlags(fs *flag.FlagSet, c *config, r *rawFlags) {
	fs.StringVar(&r.host, "h", "127.0.0.1", "broker host (loopback only)")
	fs.IntVar(&r.port, "p", 1883, "broker port")
	fs.StringVar(&r.addr, "addr", "", "broker host:port, overrides -h and -p")
	fs.IntVar(&r.version, "V", 4, "MQTT version: 4 (3.1.1) or 5")
	fs.StringVar(&c.username, "u", "", "username")
	fs.StringVar(&c.password, "P", "", "password")
	fs.IntVar(&r.keepalive, "k", 60, "keepalive seconds sent in CONNECT (0 = off)")
	fs.BoolVar(&c.clean, "clean", true, "clean session (v3.1.1) / clean start (v5)")
	fs.IntVar(&r.count, "c", 0, "clients: conn connections, pub publishers, sub subscribers, pairs pairs, fanin publishers, fanout subscribers (0 = scenario default)")
	fs.IntVar(&c.workers, "workers", 32, "conn: concurrent dialers")
	fs.DurationVar(&c.hold, "hold", 5*time.Second, "conn: how long to hold the connections")
	fs.DurationVar(&c.setup, "setup-timeout", 10*time.Second, "timeout for each connect and subscribe")
}

func addFlowFlags(fs *flag.FlagSet, c *config, r *rawFlags) {
	fs.IntVar(&r.qos, "q", 0, "QoS of publishes and subscriptions: 0, 1 or 2")
	fs.IntVar(&c.size, "size", 64, "payload bytes (>= 12 to carry the latency stamp)")
	fs.StringVar(&c.topic, "t", "", "pub: topic, sub: filter (%i = client index, %c = client id); other scenarios: topic prefix (default hb-bench)")
	fs.Float64Var(&c.rate, "rate", 0, "msgs/s per publisher, 0 = as fast as possible (latency: default 1000); conn: connects/s")
	fs.IntVar(&c.inflight, "inflight", 1024, "QoS>0: max unacknowledged publishes per publisher (capped by the v5 Receive Maximum)")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "measured time (conn: max time to open all connections)")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "time before the measured window (not counted)")
	fs.DurationVar(&c.drain, "drain", 5*time.Second, "max wait for in-flight deliveries after publishing stops")
	fs.DurationVar(&c.stall, "stall", time.Second, "the drain ends after this long without a new delivery or ack; a publisher's last write may block max(3s, this) past the end")
}

func addToolFlags(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.pidFlag, "pid", "auto", "broker process for CPU/RSS: auto (local listener on the port), a PID, or none")
	fs.StringVar(&c.label, "label", "", "free-form label copied into the result")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the generator to this file")
	fs.IntVar(&c.batch, "batch", 64<<10, "publisher write batch in bytes")
	fs.IntVar(&c.readBuf, "readbuf", 256<<10, "subscriber read buffer in bytes")
	fs.IntVar(&c.lowat, "lowat", -1, "SO_RCVLOWAT on subscriber sockets; -1 = auto (16384; off for latency and QoS 2), 0 = off")
	fs.DurationVar(&c.maxWait, "maxwait", -1, "with -lowat: longest wait before reading a tail below the mark; -1 = auto (2ms QoS 0, 1ms QoS>0)")
}

// finish validates the flags and fills derived values.
func (c *config) finish(r *rawFlags) error {
	steps := []func(*rawFlags) error{c.setProtocol, c.setAddr, c.setCounts, c.checkTimes, c.checkSizes}
	for _, step := range steps {
		if err := step(r); err != nil {
			return err
		}
	}
	return nil
}

func (c *config) setProtocol(r *rawFlags) error {
	if r.version != 4 && r.version != 5 {
		return fmt.Errorf("-V must be 4 or 5, not %d", r.version)
	}
	if r.qos < 0 || r.qos > 2 {
		return fmt.Errorf("-q must be 0, 1 or 2, not %d", r.qos)
	}
	if r.keepalive < 0 || r.keepalive > 65535 {
		return fmt.Errorf("-k must be in [0, 65535]")
	}
	if r.version == 4 && c.password != "" && c.username == "" {
		return errors.New("-P needs -u with -V 4 [MQTT-3.1.2-22]")
	}
	c.version, c.qos, c.keepalive = byte(r.version), byte(r.qos), r.keepalive
	return nil
}

func (c *config) setAddr(r *rawFlags) error {
	hostport := r.addr
	if hostport == "" {
		hostport = net.JoinHostPort(r.host, strconv.Itoa(r.port))
	}
	addr, port, err := resolveLoopback(hostport)
	if err != nil {
		return err
	}
	c.addr, c.port = addr, port
	return nil
}

// resolveLoopback resolves host:port and refuses anything but loopback.
func resolveLoopback(hostport string) (string, int, error) {
	host, portS, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", hostport, err)
	}
	port, err := strconv.Atoi(portS)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("address %q: bad port", hostport)
	}
	ip, err := lookupLoopback(host)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", hostport, err)
	}
	return net.JoinHostPort(ip.String(), portS), port, nil
}

// lookupLoopback resolves host; every address it has must be loopback.
func lookupLoopback(host string) (net.IP, error) {
	if ip := net.ParseIP(host); ip != nil {
		if !ip.IsLoopback() {
			return nil, ErrNotLoopback
		}
		return ip, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return nil, fmt.Errorf("%w: resolves to %s", ErrNotLoopback, ip)
		}
	}
	return ips[0], nil
}

func (c *config) setCounts(r *rawFlags) error {
	c.count = r.count
	if c.count == 0 {
		c.count = defaultCount[c.scenario]
	}
	if c.count < 1 {
		return fmt.Errorf("-c must be at least 1")
	}
	if c.scenario == scLatency && !r.explicitRate {
		c.rate = 1000
	}
	if c.rate < 0 || c.workers < 1 {
		return errors.New("-rate must be >= 0 and -workers >= 1")
	}
	if c.inflight < 1 || c.inflight > 65535 {
		return errors.New("-inflight must be in [1, 65535]")
	}
	return nil
}

func (c *config) checkTimes(*rawFlags) error {
	if c.duration <= 0 || c.duration > maxRunTime {
		return fmt.Errorf("-duration must be in (0, %v]", maxRunTime)
	}
	for _, d := range []time.Duration{c.warmup, c.drain, c.hold} {
		if d < 0 || d > maxRunTime {
			return fmt.Errorf("-warmup, -drain and -hold must be in [0, %v]", maxRunTime)
		}
	}
	if c.stall <= 0 || c.stall > maxRunTime {
		return fmt.Errorf("-stall must be in (0, %v]", maxRunTime)
	}
	if c.setup <= 0 || c.setup > time.Minute {
		return errors.New("-setup-timeout must be in (0, 1m]")
	}
	return nil
}

func (c *config) checkSizes(*rawFlags) error {
	if c.size < 0 || c.size > 16<<20 {
		return errors.New("-size must be in [0, 16 MiB]")
	}
	if c.batch < 1 || c.readBuf < 4096 {
		return errors.New("-batch must be >= 1 and -readbuf >= 4096")
	}
	return c.checkPID()
}

func (c *config) checkPID() error {
	switch c.pidFlag {
	case "auto", "none", "":
		return nil
	}
	if pid, err := strconv.Atoi(c.pidFlag); err != nil || pid <= 0 {
		return fmt.Errorf("-pid must be auto, none or a process id, not %q", c.pidFlag)
	}
	return nil
}

// watchdogLimit is how long a run may take before the watchdog ends it.
func (c *config) watchdogLimit() time.Duration {
	return 2*c.setup + c.warmup + c.duration + c.writeGrace() + c.drain + c.hold + 30*time.Second
}

// writeGrace is how long a publisher's last write may block past the end
// of the publishing phase: at least 3 s, longer with a longer -stall.
func (c *config) writeGrace() time.Duration {
	return max(minWriteGrace, c.stall)
}

// clientID names client i of a role ("s" subscriber, "p" publisher, "c" conn).
func clientID(pid int, role string, i int) string {
	return fmt.Sprintf("hb-%d-%s-%d", pid, role, i)
}

// expandTopic replaces %i by the client index and %c by the client id.
func expandTopic(tmpl string, i int, id string) string {
	return strings.NewReplacer("%i", strconv.Itoa(i), "%c", id).Replace(tmpl)
}
