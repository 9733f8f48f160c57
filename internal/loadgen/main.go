package loadgen

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"
)

// Exit codes of Main.
const (
	ExitOK       = 0
	ExitFailed   = 1 // the run failed; the JSON line carries "error"
	ExitUsage    = 2 // bad command line; nothing ran
	ExitWatchdog = 3 // the run overstayed its time and was ended
)

// exitProcess ends the process when the watchdog fires.
var exitProcess = os.Exit

// Main runs the tool with args (everything after "herald bench") and
// returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	c, err := parseConfig(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "herald bench: %v\n", err)
		return ExitUsage
	}
	return execute(c, &output{stdout: stdout, stderr: stderr})
}

// execute runs a parsed command line and prints its result.
func execute(c *config, out *output) int {
	res := newResult(c)
	stop, err := startProfile(c.cpuprofile)
	if err == nil {
		wd := startWatchdog(c.watchdogLimit(), out, *res)
		err = runScenario(c, res)
		wd.Stop()
		stop()
	}
	if err != nil {
		res.Error = err.Error()
	}
	out.emit(res)
	if err != nil {
		return ExitFailed
	}
	return ExitOK
}

func runScenario(c *config, res *Result) error {
	if c.scenario == scConn {
		return runConn(c, res)
	}
	return runFlow(c, res)
}

// newResult fills the fields every scenario reports.
func newResult(c *config) *Result {
	r := &Result{
		Scenario: c.scenario, Addr: c.addr, Label: c.label, Version: int(c.version),
		QoS: int(c.qos), Size: c.size, FDLimit: raiseFDLimit(),
		GoMaxProcs: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(),
	}
	r.BrokerPID = brokerPID(c)
	if r.BrokerPID > 0 {
		r.BrokerComm = procComm(r.BrokerPID)
	}
	return r
}

// brokerPID resolves -pid: auto finds the local listener on the port.
func brokerPID(c *config) int {
	switch c.pidFlag {
	case "auto":
		return findListenerPID(c.port)
	case "none", "":
		return 0
	}
	pid, _ := strconv.Atoi(c.pidFlag) // validated by parseConfig
	return pid
}

// startProfile starts a CPU profile of the generator if path is set.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// startWatchdog ends the process once limit (the run's configured time
// plus 30 s) has passed, printing base with an error first.
func startWatchdog(limit time.Duration, out *output, base Result) *time.Timer {
	return time.AfterFunc(limit, func() {
		base.Error = fmt.Sprintf("watchdog: run exceeded %v", limit)
		out.emit(&base)
		exitProcess(ExitWatchdog)
	})
}
