// Command heraldbench runs the load generator stand-alone, as
// `herald bench` does: heraldbench <scenario> [flags].
package main

import (
	"os"

	"github.com/herald-mqtt/herald/internal/loadgen"
)

func main() {
	os.Exit(loadgen.Main(os.Args[1:], os.Stdout, os.Stderr))
}
